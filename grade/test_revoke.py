"""Lab "revoke": visible revocation and the abort protocol.  user/revoketest
is a small program that keeps allocating beside a memory hog it forks, on
a 64 MiB machine where the hog takes nearly everything; the kernel must
get pages back from the hog, by asking (the hog's library pages them out
to a swap extent) or, if the hog does not answer, by the abort protocol.
"""

import re

import pytest

import conftest
import console
from test_crash import failing_disk, superblock

LAB = "revoke"
pytestmark = pytest.mark.lab(LAB)

BASE_FAIL_ON = [r"^panic:", r"FAIL|BROKEN"]
FAIL_ON = BASE_FAIL_ON + [r"^lab revoke: .* not written yet"]

# The kernel's side (the abort protocol, and attacks on it) is this lab's
# too: its stub lets an env that does not answer keep its pages, and says
# so at boot, which fails these tests at once (instead of at a timeout).
# They do not need the library's pager, whose stub messages they ignore.
KERNEL_SIDE_FAIL_ON = BASE_FAIL_ON + [r"^lab revoke: the abort protocol .* not written yet"]


def revoketest(boot, cpus, mode, mib=56, policy="clock", fail_on=FAIL_ON, disk=None):
    con = boot("init", cpus=cpus, args=f"revoketest {mode} {mib} {policy}", mem="64M",
               fail_on=fail_on, disk=disk)
    con.expect(r"^revoketest: hog holds (\d+) pages", timeout=60)
    for r in range(12):
        con.expect(rf"^revoketest: small: round {r}: 512 pages", timeout=60)
    m = con.expect(r"^revoketest: small: done in \d+ M instructions; (\d+) requests, "
                   r"(\d+) pages repossessed", timeout=60)
    return con, int(m[1]), int(m[2])


@pytest.mark.points(4)
@pytest.mark.cpus(1)
def test_pager_choices_and_counts(boot, cpus):
    """user/pagertest calls swap_out itself on a heap of 600 pages, and
    hands the library's handler requests of its own: the clock's exact
    victims (512 second chances a call at most; pages used before each
    call never go), what each call says went, the pages written (a page
    changed after it came back goes to its own slot; an unchanged one is
    not written), a request for 65 pages answered in full, one for more
    than there is ending, and every byte coming back."""
    con = boot("init", cpus=cpus, args="pagertest", fail_on=FAIL_ON)
    m = con.expect(r"^pagertest: 600 pages; (\d+) out, (\d+) in, (\d+) written, (\d+) requests, "
                   r"(\d+) given back", timeout=60)
    assert int(m[3]) >= 600 and int(m[4]) == 2, m[0]
    con.expect(console.ok("pagertest"), timeout=30)


@pytest.mark.points(2)
@pytest.mark.cpus(1)
def test_pager_keeps_a_page_whose_write_failed(boot, cpus, tmp_path):
    """The swap area's first block fails every write: user/pagertest's
    swap_out(64) has more writes in flight than the disk's queue holds,
    waits for some in the middle, and must keep exactly the page whose
    write failed, whenever its failure was collected."""
    disk = conftest.fresh_disk(tmp_path / "swapfail.img")
    with open(disk, "rb") as f:
        swapstart = superblock(f)[9]
    con = boot("init", cpus=cpus, args="pagertest fail", fail_on=FAIL_ON,
               disk=failing_disk(tmp_path, disk, swapstart))
    con.expect(r"^pagertest: a failing write: 63 of 64 went", timeout=60)
    con.expect(console.ok("pagertest"), timeout=30)


@pytest.mark.points(5)
def test_hog_pages_out_and_small_env_keeps_working(boot, cpus):
    con, requests, taken = revoketest(boot, cpus, "hog")
    assert requests >= 1, "the kernel never asked the hog for pages"
    assert taken == 0, "the hog answered, yet the abort protocol took pages"
    m = con.expect(r"^revoketest: hog: (\d+) pages checked, (\d+) bad; (\d+) requests, "
                   r"(\d+) pages given back, (\d+) out, (\d+) in, (\d+) written", timeout=120)
    checked, bad, hreq, given, out, back = (int(m[i]) for i in range(1, 7))
    assert checked == 14336 and bad == 0, m[0]
    assert hreq >= 1 and given >= 64 and back >= given, m[0]
    con.expect(console.ok("revoketest"), timeout=60)
    con.expect(r"init exited with status 0")


@pytest.mark.points(5)
def test_abort_protocol_takes_pages_from_a_hog_that_ignores(boot, cpus):
    con, requests, taken = revoketest(boot, cpus, "ignore", fail_on=KERNEL_SIDE_FAIL_ON)
    assert requests >= 1 and taken >= 64, (requests, taken)
    m = con.expect(r"^revoketest: hog: (\d+) pages repossessed; first at va (0x[0-9a-f]+)\n",
                   timeout=60)
    assert int(m[1]) == taken, "the repossession vector and the kernel's count differ"
    va = m[2]
    aborts_came_to_their_targets(con)
    # touching a page the kernel took (never saved): a clear fatal error
    con.expect(rf"the page at va {va} was taken by the kernel \(abort protocol\) and not saved",
               timeout=60)
    con.expect(r"^revoketest: the hog exited with status -1")
    con.expect(console.ok("revoketest"), timeout=60)     # includes: no page lost


def aborts_came_to_their_targets(con):
    """The hog ("ignore", "wrong") checks each abort of a request it heard
    once grown: the abort must leave it exactly the pages the request asked
    it down to.  Some must have been checked."""
    m = con.expect(r"^revoketest: hog: (\d+) aborts came to their requests' targets", timeout=60)
    assert int(m[1]) >= 1, f"{m[0]}: no abort was checked"


@pytest.mark.points(2)
@pytest.mark.parametrize("mode,status", [("wrong", 0), ("fault", -1), ("exit", 7)])
def test_misbehaving_revocation_handlers_leak_nothing(boot, cpus, mode, status):
    """"wrong" gives back all but one page of each request: the abort
    protocol must take exactly the last one."""
    con, requests, taken = revoketest(boot, cpus, mode, fail_on=KERNEL_SIDE_FAIL_ON)
    assert requests >= 1
    if mode == "wrong":
        aborts_came_to_their_targets(con)
    con.expect(rf"^revoketest: the hog exited with status {status}", timeout=60)
    con.expect(console.ok("revoketest"), timeout=60)     # free pages back to the start


@pytest.mark.points(3)
@pytest.mark.cpus(1)
@pytest.mark.parametrize("policy", ["fifo", "hint"])
def test_other_replacement_policies(boot, cpus, policy):
    con, requests, taken = revoketest(boot, cpus, "hog", policy=policy)
    assert requests >= 1 and taken == 0, (requests, taken)
    m = con.expect(r"^revoketest: hog: (\d+) pages checked, (\d+) bad", timeout=120)
    assert m[1] == "14336" and m[2] == "0", m[0]
    con.expect(console.ok("revoketest"), timeout=60)


@pytest.mark.points(4)
def test_pages_taken_by_force_come_back_from_swap(boot, cpus):
    """The hog pages, reads everything back (its copies on swap are then
    current), then ignores requests: the pages the abort protocol takes
    come back from swap, whether or not the notices reached it in time."""
    con, requests, taken = revoketest(boot, cpus, "late")
    m = con.expect(r"^revoketest: small: phase 2: (\d+) pages; (\d+) taken from the hog", timeout=60)
    assert int(m[2]) >= 64, m[0]
    m = con.expect(r"^revoketest: hog: (\d+) pages checked, (\d+) bad; (\d+) requests, "
                   r"(\d+) pages given back, (\d+) out, (\d+) in", timeout=120)
    assert m[1] == "14336" and m[2] == "0", m[0]
    con.expect(console.ok("revoketest"), timeout=60)


@pytest.mark.points(6)
@pytest.mark.cpus(1)
@pytest.mark.parametrize("mode", ["free", "shield", "xstack", "children", "noentry",
                                  # (these two share the hog's pages through copy-on-write
                                  # fork, and report through pipes)
                                  "orphan", "fork"])
def test_memory_cannot_be_shielded_from_revocation(boot, cpus, mode):
    """user/revattack: a hog plays a trick to keep its memory; a small
    program must still get 1,024 pages."""
    con = boot("init", cpus=cpus, args=f"revattack {mode}", mem="64M",
               fail_on=[r"^panic:", r"^revattack: fork copied"] + KERNEL_SIDE_FAIL_ON[2:])
    if mode in ("orphan", "fork"):
        con.expect(r"^revattack: fork shares my pages", timeout=60)
    m = con.expect(r"^revattack: small got (\d+) pages", timeout=90)
    assert m[1] == "1024", con.tail()
    con.expect(r"init exited with status 0", timeout=60)


@pytest.mark.points(3)
def test_small_env_stays_interactive_beside_the_hog(boot, cpus):
    """The small program reads a typed line after each round: it answers
    every one while the hog is being paged."""
    con = boot("init", cpus=cpus, args="revoketest hog 56 clock typed", mem="64M", fail_on=FAIL_ON)
    con.expect(r"^revoketest: hog holds (\d+) pages", timeout=60)
    for r in range(12):
        con.expect(rf"^revoketest: small: round {r}: 512 pages", timeout=60)
        con.send(f"line {r}\r")
        con.expect(rf"^revoketest: small: you typed \[line {r}\]", timeout=30)
    m = con.expect(r"^revoketest: small: done in \d+ M instructions; (\d+) requests", timeout=60)
    assert int(m[1]) >= 1
    con.expect(r"^revoketest: hog: 14336 pages checked, 0 bad", timeout=120)
    con.expect(console.ok("revoketest"), timeout=60)


@pytest.mark.points(3)
@pytest.mark.cpus(3)
def test_requests_reach_a_server_entering_pct_recv(boot, cpus):
    """user/revrace: a server that keeps entering pct_recv, sent messages
    from one hart and revocation requests from another, hears every
    request (one posted while it was on its way into pct_recv used to be
    lost, and the abort protocol took its pages)."""
    con = boot("init", cpus=cpus, args="revrace 100", mem="64M", fail_on=KERNEL_SIDE_FAIL_ON)
    m = con.expect(r"^revrace: (\d+) rounds in \d+ ms; (\d+) requests answered, (\d+) messages; "
                   r"slowest round \d+ ms; (\d+) pages repossessed", timeout=240)
    assert int(m[4]) == 0, con.tail()
    assert int(m[2]) >= 100 and int(m[3]) >= 100, "the race was not exercised"
    con.expect(console.ok("revrace"), timeout=60)


@pytest.mark.points(3)
@pytest.mark.cpus(1)
def test_a_failing_swap_write_loses_nothing(boot, cpus, tmp_path):
    """The swap area's first blocks fail every write (QEMU's blkdebug): a
    page whose copy did not reach the swap area must stay where it is, so
    the hog, paging on the blocks that work, finds every byte it wrote."""
    disk = conftest.fresh_disk(tmp_path / "swapfail.img")
    with open(disk, "rb") as f:
        swapstart = superblock(f)[9]
    con, requests, taken = revoketest(boot, cpus, "hog", disk=failing_disk(tmp_path, disk, swapstart))
    assert requests >= 1 and taken == 0, (requests, taken)
    m = con.expect(r"^revoketest: hog: (\d+) pages checked, (\d+) bad", timeout=120)
    assert m[1] == "14336" and m[2] == "0", m[0]
    con.expect(console.ok("revoketest"), timeout=60)
