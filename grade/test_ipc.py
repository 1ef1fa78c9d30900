"""Lab "ipc": protected control transfer, RPC, pipes and file descriptors
in the library OS.  Each program runs as the first env (with the console
env beside it) and checks itself; the grader also checks the output.
"""

import re

import pytest

import console

LAB = "base"
pytestmark = pytest.mark.lab(LAB)

INIT_EXITED = r"init exited with status (-?\d+)\n"


def finish(con, final, timeout=60):
    con.expect(final, timeout=timeout)
    status = int(con.expect(INIT_EXITED)[1])
    assert status == 0, f"exited with status {status}"


@pytest.mark.parametrize("prog, final, forbid", [
    pytest.param("pcttest", console.ok("pcttest"), r"BROKEN|FAIL", id="pcttest",
                 marks=[pytest.mark.points(5), pytest.mark.lab("ipc")]),   # (its page-grant attacks)
    pytest.param("pctqueue", console.ok("pctqueue"), r"FAIL", id="pctqueue",
                 marks=[pytest.mark.points(4), pytest.mark.lab("ipc")]),   # (the kernel's send queue)
    pytest.param("rpc", console.ok("rpc"), r"FAIL", id="rpc",
                 marks=[pytest.mark.points(3), pytest.mark.lab("ipc")]),
    pytest.param("pipetest", console.ok("pipetest"), r"BROKEN|FAIL", id="pipetest",
                 marks=[pytest.mark.points(5), pytest.mark.lab("ipc")]),
])
def test_ipc_program(boot, cpus, prog, final, forbid):
    con = boot(prog, cpus=cpus, fail_on=[r"^panic:", forbid, r"unhandled"])
    finish(con, final)


@pytest.mark.points(3)
def test_output_from_several_envs(boot, cpus):
    """Lines printed at once by several envs come out whole and in order."""
    con = boot("multiprint", cpus=cpus)
    con.expect(r"^multiprint: done", timeout=60)
    line = re.compile(r"^multiprint child (\d) line (\d\d): the quick brown fox "
                      r"jumps over the lazy dog (\d+)$")
    seen = {k: [] for k in range(4)}
    for text in con.output.splitlines():
        if text.startswith("multiprint child"):
            m = line.match(text)
            assert m, f"a line came out mangled: {text!r}"
            k, i, tag = int(m[1]), int(m[2]), int(m[3])
            assert tag == k * 1000 + i, f"line mixes two envs: {text!r}"
            seen[k].append(i)
    for k, lines in seen.items():
        assert lines == list(range(40)), f"child {k}: lines {lines}"
    finish(con, r"")


@pytest.mark.points(3)
@pytest.mark.lab("driver")         # (steals the interrupt the driver claims)
def test_attack_devices(boot, cpus):
    con = boot("attackdev", cpus=cpus, fail_on=[r"^panic:", r"BROKEN|FAIL"])
    finish(con, console.ok("attackdev"))


@pytest.mark.points(2)
@pytest.mark.cpus(1)
@pytest.mark.lab("ipc")
def test_fast_path_after_a_queue(boot, cpus):
    """A server whose send queue has emptied answers on the kernel's fast
    path again: its round trips cost what they did before callers queued
    (counted in instructions, under -icount)."""
    con = boot("pctqueue", cpus=cpus, args="fast", icount=True,
               fail_on=[r"^panic:", r"FAIL", r"unhandled"])
    finish(con, console.ok("pctqueue"))
