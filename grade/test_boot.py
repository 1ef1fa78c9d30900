"""Lab "boot": the kernel boots, runs one program as the first env, and
that program's library OS (fork, copy-on-write, exception upcalls, demand
paging) works; the kernel kills envs that break the rules and survives
programs that attack it.

Each program is named in the boot arguments; when it exits the kernel
prints `init exited with status N` and powers QEMU off.  Tests taking
`cpus` run at CPUS=1 and CPUS=3 (see conftest.py).
"""

import collections
import re
import time

import pytest

import console
from conftest import KCHECK_KERNEL

LAB = "base"
pytestmark = pytest.mark.lab(LAB)

INIT_EXITED = r"init exited with status (-?\d+)\n"
KILLED = r"env [0-9a-f]+ killed: [^\n]*"


def expect_exit_status(con):
    """Wait for the first env to exit; return its status."""
    return int(con.expect(INIT_EXITED)[1])


# Programs that end by printing a final line and exiting with status 0.
# forbid: a regex that must never appear (the program's own failure
# reports); the boot fixture already fails on a kernel panic.
RUNS = [
    # program, lab, points, final line, forbid
    ("hello", "base", 2, r"^hello, world", None),
    ("cowtest", "cow", 4, console.ok("cowtest"), r"FAIL"),
    ("cowrace", "base", 2, console.ok("cowrace"), r"FAIL|round|unhandled"),
    ("spin", "base", 2, console.ok("spin"), None),
    ("lazytest", "upcall", 3, console.ok("lazytest"), None),
    ("faulttest", "upcall", 3, console.ok("faulttest"), None),
    ("attackpte", "upcall", 2, console.ok("attackpte"), r"BROKEN"),
    ("attackptr", "vm", 3, console.ok("attackptr"), r"BROKEN"),
    ("attackpte calls", "vm", 4, console.ok("attackpte"), r"BROKEN"),
    ("attackref", "upcall", 3, console.ok("attackref"), r"BROKEN|FAIL"),
    ("preempttest", "base", 3, console.ok("preempttest"), r"FAIL"),
    ("vmtest", "base", 3, console.ok("vmtest"), r"FAIL"),
    ("tlbtest", "base", 3, console.ok("tlbtest"), r"FAIL"),
    ("attackkern", "base", 4, console.ok("attackkern"), r"BROKEN|FAIL"),
    ("waittest", "base", 3, console.ok("waittest"), r"BROKEN|FAIL"),
]


@pytest.mark.parametrize("prog, final, forbid", [
    pytest.param(prog, final, forbid, id=prog.replace(" ", "-"),
                 marks=[pytest.mark.points(pts), pytest.mark.lab(lab)])
    for prog, lab, pts, final, forbid in RUNS])
def test_run(boot, cpus, prog, final, forbid):
    fail_on = [r"^panic:"] + ([forbid] if forbid else [])
    # the attacks run on the invariant-checking kernel (kernel/kcheck.c)
    # and end with the census: every page they used comes back
    kernel = KCHECK_KERNEL if prog.startswith("attack") else None
    if kernel:
        fail_on.append(r"^census: ")
    prog, _, args = prog.partition(" ")
    con = boot(prog, cpus=cpus, args=args, fail_on=fail_on, kernel=kernel)
    con.expect(final, timeout=60)
    status = expect_exit_status(con)
    assert status == 0, f"{prog} exited with status {status}, expected 0"
    con.poll_exit(5)        # let a panic during shutdown show up
    con.assert_no(r"^panic:", "kernel panic")


@pytest.mark.points(4)
def test_envtest(boot, cpus):
    """exofork + set_regs, exit status, directed yield, slot shares."""
    con = boot("envtest", cpus=cpus, args="onehart" if cpus == 1 else "",
               fail_on=[r"^panic:", r"FAIL"])
    con.expect(console.ok("envtest"), timeout=60)
    assert expect_exit_status(con) == 0


FORKTREE_NAMES = [""] + [format(i, f"0{n}b") for n in (1, 2, 3)
                         for i in range(2 ** n)]


@pytest.mark.points(3)
def test_forktree(boot, cpus):
    con = boot("forktree", cpus=cpus)
    con.expect(console.ok("forktree"), timeout=60)
    status = expect_exit_status(con)
    lines = re.findall(r"^([0-9a-f]+): I am '([01]*)'$", con.output, re.M)
    count = collections.Counter(name for _, name in lines)
    missing = [n for n in FORKTREE_NAMES if count[n] == 0]
    repeated = [n for n in FORKTREE_NAMES if count[n] > 1]
    extra = [n for n in count if n not in FORKTREE_NAMES]
    assert not (missing or repeated or extra), (
        f"forktree names: missing {missing}, repeated {repeated}, "
        f"unexpected {extra}")
    envids = {envid for envid, _ in lines}
    assert len(envids) == len(lines), f"envids not distinct: {sorted(envids)}"
    assert status == 0, f"forktree exited with status {status}, expected 0"


@pytest.mark.parametrize("prog, cause", [
    pytest.param("faultnohandler", r"page fault|no handler",
                 id="faultnohandler", marks=pytest.mark.points(2)),
    pytest.param("faultbadstack", r"bad exception stack",
                 id="faultbadstack", marks=[pytest.mark.points(2), pytest.mark.lab("upcall")]),
    pytest.param("faultbadstack deep", r"bad exception stack \(overflow\)",
                 id="faultbadstack-deep", marks=[pytest.mark.points(1), pytest.mark.lab("upcall")]),
    pytest.param("faultbadstack ro", r"bad exception stack",
                 id="faultbadstack-ro", marks=[pytest.mark.points(1), pytest.mark.lab("upcall")]),
    # the kill must be for the breakpoint itself: a kernel that wrote the
    # frame to the stale page would die later, on the handler's own fault
    pytest.param("faultbadstack unmap", r"breakpoint at .*bad exception stack",
                 id="faultbadstack-unmap", marks=[pytest.mark.points(2), pytest.mark.lab("upcall")]),
])
def test_killed(boot, cpus, prog, cause):
    """The kernel kills an env whose fault it cannot deliver."""
    prog, _, args = prog.partition(" ")
    con = boot(prog, cpus=cpus, args=args)
    con.expect(rf"{KILLED}({cause})")
    status = expect_exit_status(con)
    assert status != 0, f"{prog} was killed but init exited with status 0"
    con.poll_exit(5)        # let a panic during shutdown show up
    con.assert_no(r"^panic:", "kernel panic")
    # one kill, one reason: a kernel that went on after killing (and wrote
    # the frame anyway, or killed again for another reason) prints two
    kills = re.findall(KILLED, con.output)
    assert len(kills) == 1, f"{prog}: {len(kills)} kill lines, expected one: {kills}"


@pytest.mark.points(2)
@pytest.mark.cpus(1, 3)
def test_kernel_stack_guard_page(boot, cpus):
    """Boot argument `kstackoverflow`: the kernel recurses on its own stack
    until it reaches the guard page below it; that must end in a clear
    panic, not in silently overwritten memory."""
    con = boot("kstackoverflow", cpus=cpus, fail_on=())
    con.expect(r"^kstackoverflow: recursing on hart \d+", timeout=30)
    con.expect(r"^panic: kernel stack overflow on hart \d+: scause f ", timeout=30)


@pytest.mark.points(2)
def test_halt(boot, cpus):
    """halt powers QEMU off cleanly (SBI system reset)."""
    con = boot("halt", cpus=cpus)
    con.wait_exit(timeout=30)
    con.assert_no(r"^init exited", "halt returned instead of powering off")
    assert con.returncode == 0, f"QEMU exit status {con.returncode}, expected 0"


@pytest.mark.points(2)
@pytest.mark.cpus(2, 4)
def test_other_hart_counts(boot, cpus):
    """CPUS=N works for N other than 1 and 3: all harts start, forks run."""
    con = boot("forktree", cpus=cpus)
    m = con.expect(r"^exokernel: (\d+) harts")
    assert int(m[1]) == cpus, f"banner says {m[1]} harts, QEMU has {cpus}"
    con.expect(console.ok("forktree"), timeout=60)
    assert expect_exit_status(con) == 0


@pytest.mark.points(4)
def test_memory_from_device_tree(boot):
    """The RAM size comes from the device tree, not a constant: 192 MiB more
    RAM gives exactly 192 MiB more free pages."""
    free = {}
    for mib in (64, 256):
        con = boot("forktree", cpus=1, mem=f"{mib}M")
        m = con.expect(r"^exokernel: \d+ harts, (\d+) MiB RAM, (\d+) pages free")
        assert int(m[1]) == mib, f"banner says {m[1]} MiB, QEMU has {mib}"
        free[mib] = int(m[2])
        con.expect(console.ok("forktree"), timeout=60)
    assert free[256] - free[64] == 192 * 256, f"free pages: {free}"


# The targets of make bench, checked under -icount (exact and repeatable):
# a change that makes a path slower than its target fails here.  Each lab
# checks the rows of its own code (user/bench.c runs one group per lab).
BENCH_TARGETS = {
    "base": {"null_syscall": 60, "yield_roundtrip": 400, "pct_roundtrip": 300},
    "upcall": {"upcall_roundtrip": 250, "pgfault_demand_zero": 2500},
    "cow": {"cow_fork_exit_wait": 50000},
    "ckpt": {"ckpt_fault": 4000},
    "ipc": {"pipe_roundtrip": 1500, "pipe_throughput": 3000},
    "idle": {"idle_insn_per_s": 50000},
}


@pytest.mark.cpus(1)
@pytest.mark.parametrize("group", [
    pytest.param(g, id=g, marks=[pytest.mark.lab("base" if g == "idle" else g),
                                 pytest.mark.points(3)])
    for g in BENCH_TARGETS])
def test_bench_targets(boot, cpus, group):
    prog, args = ("ckpttest", "bench") if group == "ckpt" else ("bench", group)
    con = boot(prog, cpus=cpus, args=args, icount=True,
               fail_on=[r"^panic:", r"FAIL"])
    expect_exit_status(con)
    con.check_bench(BENCH_TARGETS[group])


@pytest.mark.points(3)
@pytest.mark.cpus(1)
@pytest.mark.lab("driver")
def test_bench_irq(boot, cpus):
    """A key press reaches the console driver's handler in under 400
    instructions (the driver idle, waiting for the interrupt)."""
    con = boot("bench", cpus=cpus, args="irq", icount=True,
               fail_on=[r"^panic:", r"FAIL"])
    con.expect(r"type a line for irq_to_user", timeout=120)
    time.sleep(0.5)                       # one key at a time: the driver is idle
    con.send("x")
    time.sleep(0.5)
    con.send("\r")
    m = con.expect(r"^bench irq_to_user (\d+) insn/interrupt", timeout=60)
    assert int(m[1]) > 0, "no interrupt reached the console driver (it polls?)"
    con.check_bench({"irq_to_user": 400})


def _stackcheck(tmp_path, source):
    """Compile one kernel-like C file as the Makefile compiles the kernel
    and run tools/stackcheck.py on it; (exit status, stderr)."""
    import subprocess
    prefix = subprocess.run(["tools/deps.sh", "toolprefix"], cwd=console.ROOT,
                            capture_output=True, text=True).stdout.strip()
    (tmp_path / "k.c").write_text(source)
    obj = tmp_path / "k.o"
    subprocess.run([prefix + "gcc", "-O2", "-mcmodel=medany", "-ffreestanding", "-nostdlib",
                    "-fcallgraph-info=su", "-c", "-o", str(obj), str(tmp_path / "k.c")],
                   check=True, cwd=tmp_path)
    r = subprocess.run(["python3", "tools/stackcheck.py", prefix + "objdump", str(obj)],
                       cwd=console.ROOT, capture_output=True, text=True)
    return r.returncode, r.stderr


@pytest.mark.points(1)
@pytest.mark.cpus(1)
def test_stackcheck_refuses_recursion_and_big_frames(tmp_path, cpus):
    """The build's stack-depth check (tools/stackcheck.py) must fail on a
    call cycle and on a chain deeper than the kernel stack; the kernel
    itself passes it (the build runs it: kernel/stackcheck.txt)."""
    rc, err = _stackcheck(tmp_path, """
        __attribute__((noinline)) int g(int);
        __attribute__((noinline)) int f(int x) { return x ? g(x - 1) + 1 : 0; }
        __attribute__((noinline)) int g(int x) { return f(x) * 2; }
        volatile int sink;
        void usertrap(void) { sink = f(sink); }""")
    assert rc != 0 and "recursion: " in err and " -> " in err, err
    rc, err = _stackcheck(tmp_path, """
        __attribute__((noinline)) void use(volatile char *p) { p[0] = 1; }
        void usertrap(void) { volatile char big[20000]; use(big); }""")
    assert rc != 0 and "the kernel stack may need" in err, err
    with open(f"{console.ROOT}/kernel/stackcheck.txt") as f:
        assert re.match(r"stackcheck: deepest kernel stack \d+ bytes", f.read())
