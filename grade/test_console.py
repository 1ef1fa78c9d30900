"""Lab "driver": the console is a user-level UART driver in its own env,
fed by PLIC interrupts that the kernel exports.  The grader types at it.
"""

import re
import time

import pytest

import console

LAB = "base"
pytestmark = pytest.mark.lab(LAB)


# Line editing is lab driver's line discipline; its stub passes typed bytes
# through raw and says so at boot, which fails these tests at once.
NO_DRIVER = r"^lab driver: .* not written yet"


def start_echoin(boot, cpus):
    con = boot("echoin", cpus=cpus, fail_on=[r"^panic:", NO_DRIVER])
    con.expect(r"^echoin: type lines")
    return con


@pytest.mark.points(4)
@pytest.mark.lab("driver")
def test_typed_lines_and_editing(boot, cpus):
    con = start_echoin(boot, cpus)
    con.send("hello\r")
    con.expect(r"^echoin: got \[hello\]")
    con.send("worx\x7fld\r")               # DEL erases the x, on the screen too
    con.expect(r"worx\x08 \x08ld")
    con.expect(r"^echoin: got \[world\]")
    con.send("abc\x08\x08\x08xyz\r")       # backspace
    con.expect(r"^echoin: got \[xyz\]")
    con.send("junk\x15kept\r")             # Ctrl-U kills the line
    con.expect(r"^echoin: got \[kept\]")
    con.send("lost\x03")                   # Ctrl-C throws the line away
    con.expect(r"\^C")
    con.send("last\r")
    con.expect(r"^echoin: got \[last\]")
    con.send("\x04")                       # Ctrl-D on an empty line: EOF
    m = con.expect(r"^echoin: (\d+) lines, (\d+) bytes, read returned (-?\d+)")
    assert (m[1], m[2], m[3]) == ("5", "26", "0"), m[0]
    assert "lost" not in con.output.split("^C")[-1], "Ctrl-C did not discard"
    status = int(con.expect(r"init exited with status (-?\d+)")[1])
    assert status == 0


@pytest.mark.points(2)
@pytest.mark.lab("driver")
def test_ctrl_d_ends_a_partial_line(boot, cpus):
    con = start_echoin(boot, cpus)
    con.send("part\x04")                   # Ctrl-D with text: the line ends
    con.expect(r"echoin: got \[part\]")       # (after the echoed "part")
    con.send("\x04")
    con.expect(r"^echoin: 1 lines, 4 bytes, read returned 0")


@pytest.mark.points(2)
@pytest.mark.lab("driver")
def test_end_of_input_ends_one_read(boot, cpus):
    """Ctrl-D ends the read it answers, and only that one: the shell, the
    next reader, waits for new input (twice, so that a driver that forgets
    the end of input only after some other read is caught too)."""
    con = boot("init", cpus=cpus, fail_on=[r"^panic:", NO_DRIVER])
    con.expect(r"^\$ ", timeout=30)
    for i in range(2):
        con.send("echoin\r")
        con.expect(r"^echoin: type lines")
        con.send("\x04")
        con.expect(r"^echoin: 0 lines, 0 bytes, read returned 0")
        con.expect(r"^\$ ", timeout=30)
        time.sleep(0.5)                     # (a shell given a second end of input exits)
        assert "init exited" not in con.output, "the shell read an end of input nobody typed"
        assert "echo-ok" in con.run(f"echo echo-ok{i}"), con.tail()


@pytest.mark.points(2)
@pytest.mark.lab("driver")
def test_ctrl_p_lists_envs(boot, cpus):
    con = start_echoin(boot, cpus)
    con.send("\x10")
    con.expect(r"^[0-9a-f]{8} parent 00000000 runnable")    # init
    con.expect(r"^[0-9a-f]{8} parent [0-9a-f]{8} +runnable +pages")
    con.send("\x04")
    con.expect(r"read returned 0")


@pytest.mark.points(3)
@pytest.mark.lab("upcall")         # (an interrupt delivered as an upcall)
def test_interrupt_as_upcall(boot, cpus):
    """A driver that claims the UART with IRQ_UPCALL gets a typed key as an
    upcall in the middle of its computation, which goes on intact."""
    con = boot("irqupcall", cpus=cpus, fail_on=[r"^panic:", r"FAIL"])
    con.expect(r"^irqupcall: computing; type a key")
    con.send("k")
    con.expect(r"^irqupcall: got 'k' by \d+ upcall", timeout=60)
    con.expect(console.ok("irqupcall"))


@pytest.mark.points(3)
def test_several_readers(boot, cpus):
    """Two envs wait for input at once: each gets one whole line; a reader
    killed while waiting takes no input with it."""
    con = boot("consreaders", cpus=cpus, fail_on=[r"^panic:", r"FAIL"])
    con.expect(r"^consreaders: two readers waiting")
    con.send("one\r")
    first = con.expect(r"^consreaders: reader ([0-9a-f]+) got \[(\w*)\]")
    con.send("two\r")
    second = con.expect(r"^consreaders: reader ([0-9a-f]+) got \[(\w*)\]")
    assert {first[2], second[2]} == {"one", "two"}, (first[0], second[0])
    assert first[1] != second[1], "one reader got both lines"
    con.expect(r"^consreaders: type a line for the parent")
    con.send("three\r")
    con.expect(r"^consreaders: parent got \[three\]")
    con.expect(console.ok("consreaders"))


def env_runs(con):
    """Ctrl-P's list: {env id: runs}."""
    start = len(con.output)
    con.send("\x10")
    time.sleep(0.5)
    text = con.output[start:]
    return {e: int(r) for e, r in re.findall(r"^([0-9a-f]{8}) parent .* runs (\d+)$", text, re.M)}


@pytest.mark.points(5)
@pytest.mark.lab("driver")
def test_idle_console_uses_no_cpu(boot, cpus):
    """With the shell waiting for a line, nothing runs: the console driver
    sleeps until the UART interrupts (a polling driver runs all the time)."""
    con = boot("init", cpus=cpus)
    con.expect(r"^\$ ", timeout=30)
    time.sleep(0.5)
    before = env_runs(con)
    time.sleep(1.0)
    after = env_runs(con)
    assert before and after, "Ctrl-P listed no envs"
    busy = {e: after[e] - before.get(e, 0) for e in after if after[e] - before.get(e, 0) > 10}
    assert not busy, f"envs that ran while the console was idle (env: times run in 1.5 s): {busy}"
    assert con.run("echo still here") == "still here\n"
