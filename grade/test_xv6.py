"""Running programs written for xv6: the behaviours such programs depend on
(README, "Running xv6 programs").  Each test here failed on the main branch
before the fix it comes with."""

import pytest

import console

LAB = "base"
pytestmark = pytest.mark.lab(LAB)


@pytest.mark.points(2)
def test_orphaned_zombies_are_reaped(boot, cpus):
    """1,000 times a child leaves an exited, unreaped child behind and
    exits: init must hear of each orphaned zombie and reap it (the env
    table filled up after about 250, and fork failed)."""
    con = boot("init", cpus=cpus, args="orphans 1000", fail_on=[console.PANIC, r"FAIL"])
    m = con.expect(r"^orphans: 1000 orphaned zombies; (\d+) envs live before, (\d+) after\n", timeout=120)
    assert int(m[2]) <= int(m[1]), con.tail()
    con.expect(console.ok("orphans"), timeout=30)


@pytest.mark.points(2)
@pytest.mark.parametrize("part", ["sharedfd", "dots", "badptr"])
def test_xv6_semantics(boot, cpus, part):
    """user/xv6sem.c, written against xv6's headers only: writes through a
    shared descriptor are never lost (the offset is claimed atomically),
    unlink of "." and ".." is refused, and calls given bad pointers return
    -1 instead of killing the caller."""
    con = boot("init", cpus=cpus, args=f"xv6sem {part}", fail_on=[console.PANIC, r"FAIL", r"unhandled"])
    con.expect(console.ok("xv6sem"), timeout=120)
