"""Hardening: the kernel survives a system-call fuzzer, keeps its books
straight while it runs, and loses no page.

user/fuzz.c makes rights-less children with exofork that issue random
system calls with boundary arguments (and sequences that stress env
churn, bad exception stacks, upcalls, asynchronous disk I/O and PCT).  It
runs on kernel/kernel.kcheck, which panics as soon as a page's record, an
env's charges or the slot vector disagree with the page tables
(kernel/kcheck.c).  At the end the fuzzer checks with the census that the
free page count is back to its starting value.

The seed is fixed per CPUS value so a grade does not vary from run to
run; GRADE_FUZZ_SEED=<s> tries another (a failure names the seed: replay
it with `make fuzz KCHECK=1 N=<n> SEED=<s> CPUS=<c>`).
"""

import os
import re

import pytest

import console
from conftest import KCHECK_KERNEL

LAB = "base"
pytestmark = pytest.mark.lab(LAB)

FUZZ_CALLS = 200000
SEEDS = {1: 11, 3: 33}          # per CPUS value
INIT_EXITED = r"init exited with status (-?\d+)\n"


@pytest.mark.points(6)
@pytest.mark.lab("ipc")         # (lab vm's and lab ipc's kernel stubs let any PTE in, and lend any
                                # page: the checking kernel panics)
def test_fuzz(boot, cpus):
    seed = int(os.environ.get("GRADE_FUZZ_SEED") or SEEDS.get(cpus, cpus))
    con = boot("fuzz", cpus=cpus, args=f"n={FUZZ_CALLS} seed={seed}",
               kernel=KCHECK_KERNEL, net="loop",
               fail_on=[console.PANIC, r"^fuzz: FAIL", r"^census: "])
    m = con.expect(r"^fuzz: seed (\d+)\n")
    assert int(m[1]) == seed, f"fuzz reports seed {m[1]}, was given {seed}"
    m = con.expect(rf"^fuzz: (\d+) calls, seed {seed}: OK", timeout=180)
    assert int(m[1]) >= FUZZ_CALLS, f"only {m[1]} calls made"
    # The network was fuzzed too: children with RIGHT_NET sent frames to
    # themselves through the looped-back NIC, and some reached their rings.
    net = con.output
    m = re.search(r"^fuzz: network: (\d+) frames sent, (\d+) delivered", net, re.M)
    assert m and int(m[1]) > 0 and int(m[2]) > 0, "the fuzzer's network children sent or received nothing"
    con.expect(console.ok("fuzz"))
    status = int(con.expect(INIT_EXITED)[1])
    assert status == 0, f"fuzz exited with status {status} (seed {seed})"
    con.poll_exit(5)
    con.assert_no(console.PANIC, "kernel panic")


@pytest.mark.points(2)
@pytest.mark.cpus(1)
def test_census(boot, cpus):
    """The census accounts for every page of a freshly booted system."""
    con = boot("census", cpus=cpus, kernel=KCHECK_KERNEL)
    con.expect(console.ok("census"))
    status = int(con.expect(INIT_EXITED)[1])
    assert status == 0, f"census exited with status {status}"
    out = con.output
    total = re.search(r"^census: total\s+(\d+) == RAM pages", out, re.M)
    ram = re.search(r"^census: RAM pages\s+(\d+)", out, re.M)
    assert total and ram and total[1] == ram[1], "census totals missing or not equal to RAM"
    assert "MISMATCH" not in out, "an env's npages does not match its pages"
