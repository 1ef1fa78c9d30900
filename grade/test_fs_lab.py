"""Lab "fs": the parts of the library file system a student writes
(labs/fs.md): files past the single-indirect block (the double-indirect
block: bmap_dind, free_dind in ulib/inode.c) and symbolic links
(fs_symlink, follow_link in ulib/dir.c).  Every test here needs one of
them; the file system's other tests (the shell, persistence, usertests,
crash recovery...) are in test_fs.py and test_crash.py, in the group
"base".
"""

import os
import random
import re
import struct
import subprocess
import time

import pytest

import conftest
import console
from console import ROOT

LAB = "fs"
pytestmark = pytest.mark.lab(LAB)

MKFS = os.path.join(ROOT, "mkfs", "mkfs")

from test_crash import superblock, tree  # noqa: E402  (the host's view of an image)
from test_fs import fsck  # noqa: E402
BSIZE = 4096
NDIRECT, NINDIRECT = 11, 4096 // 4               # (ulib/fsformat.h)
T_SYMLINK = 4
MASK = (1 << 64) - 1


def fnv(data):
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & MASK
    return h


def splitmix(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def big_contents(seed, size):
    """What user/bigfile.c writes: byte i is byte i%8 of splitmix(seed + i/8)."""
    words = (size + 7) // 8
    data = struct.pack(f"<{words}Q", *(splitmix((seed + k) & MASK) for k in range(words)))
    return data[:size]


def shell(boot, cpus, **kw):
    con = boot("init", cpus=cpus, **kw)
    con.expect(r"^\$ ", timeout=30)
    return con


def halt(con):
    con.send("halt\r")
    con.wait_exit(timeout=20)


# ---- the double-indirect block ----

BIG_KIB = 9216          # 2,304 blocks: past 11 + 1024, into the 2nd indirect block under the double


@pytest.mark.points(6)
@pytest.mark.cpus(1)
def test_bigfile_across_reboot(boot, cpus, tmp_path):
    """A 9 MiB file of random bytes: written and read back, then checked on
    the host (mkfs -p, against the grader's own copy), again after a
    reboot, then truncated, rewritten and removed: fsck must find every
    block freed."""
    seed = random.randrange(1, 1 << 62)
    disk = conftest.fresh_disk(tmp_path / "big.img")
    con = boot("init", cpus=cpus, args=f"bigfile write {seed} {BIG_KIB}", disk=disk,
               fail_on=[console.PANIC, r"FAIL"])
    con.expect(console.ok("bigfile"), timeout=120)
    con.expect(r"init exited with status 0")
    con.wait_exit(timeout=20)
    fsck(disk)
    got = subprocess.run([MKFS, "-p", str(disk), "/big"], stdout=subprocess.PIPE,
                         check=True).stdout
    want = big_contents(seed, BIG_KIB * 1024)
    assert len(got) == len(want), f"/big on the disk: {len(got)} bytes, want {len(want)}"
    if got != want:
        bad = next(i for i in range(len(want)) if got[i] != want[i])
        raise AssertionError(f"/big on the disk differs first at byte {bad} (block {bad // BSIZE})")
    con = boot("init", cpus=cpus, args=f"bigfile check {seed} {BIG_KIB}", disk=disk,
               fail_on=[console.PANIC, r"FAIL"])
    con.expect(console.ok("bigfile"), timeout=180)
    con.expect(r"init exited with status 0")
    con.wait_exit(timeout=20)
    fsck(disk)                                  # (a block not freed is a leak)
    assert "big" not in tree(disk)


@pytest.mark.points(4)
@pytest.mark.cpus(1)
def test_usertests_bigfile_fulldisk(boot, cpus, tmp_path):
    """usertests' two tests that need files past 4 MiB: bigfile, and
    fulldisk (one file fills the disk; unlinking it gives the space back)."""
    disk = conftest.fresh_disk(tmp_path / "usertests.img")
    con = boot("init", cpus=cpus, args="usertests bigfile fulldisk", disk=disk)
    m = con.expect(rf"^(ALL TESTS PASSED {console.TOKEN}|SOME TESTS FAILED)", timeout=240)
    assert m[1].startswith("ALL TESTS PASSED"), "see the transcript"
    con.expect(r"init exited with status 0")
    con.wait_exit(timeout=20)
    fsck(disk)


def free_blocks(image):
    """The data blocks the image's bitmap shows free."""
    with open(image, "rb") as f:
        sb = superblock(f)
        size, bmapstart, datastart = sb[1], sb[7], sb[8]
        f.seek(bmapstart * BSIZE)
        bits = f.read((size + 7) // 8)
    return sum(1 for b in range(datastart, size) if not bits[b // 8] & (1 << (b % 8)))


def blocks_for(n):
    """The blocks a file of n data blocks takes: data and indirect blocks."""
    extra = 1 if n > NDIRECT else 0
    if n > NDIRECT + NINDIRECT:
        extra += 1 + -(-(n - NDIRECT - NINDIRECT) // NINDIRECT)
    return n + extra


@pytest.mark.points(2)
@pytest.mark.cpus(1)
def test_full_disk_at_the_double_indirect_block(boot, cpus, tmp_path):
    """A file that fills its direct and single-indirect blocks, on a disk
    made full on the host (a filler file): a write past its end needs the
    double-indirect block and an indirect block under it.  With no block
    free, and with one (the double-indirect block fits, the indirect one
    does not), it fails with E_NOSPC (`bigfile full`) and changes nothing:
    the image checks clean and keeps the same free blocks."""
    big = bytes(range(256)) * ((NDIRECT + NINDIRECT) * BSIZE // 256)
    for room in (0, 1):
        want = free_blocks(conftest.disk_with(tmp_path, {"big": big, "filler": b""}))
        n = want - room                  # the filler's data blocks: fewer for its indirect ones
        while n > 0 and want - blocks_for(n) < room:
            n -= 1
        assert want - blocks_for(n) == room, f"no filler size leaves {room} block(s) free"
        disk = conftest.disk_with(tmp_path, {"big": big, "filler": b"f" * (n * BSIZE)})
        assert free_blocks(disk) == room, f"the filled image has {free_blocks(disk)} blocks free, not {room}"
        con = boot("init", cpus=cpus, args="bigfile full", disk=disk,
                   fail_on=[console.PANIC, r"BROKEN|FAIL"])
        con.expect(console.ok("bigfile"), timeout=60)
        con.expect(r"init exited with status 0")
        con.wait_exit(timeout=20)
        fsck(disk)
        assert free_blocks(disk) == room, \
            f"with {room} block(s) free, a failed write left {free_blocks(disk)} free"


# ---- symbolic links ----

@pytest.mark.points(6)
def test_symlinktest(boot, cpus):
    """user/symlinktest.c: create, follow (absolute, relative, ..),
    dangling, loops and the depth limit, O_NOFOLLOW and readlink, unlink,
    links in the middle of a path, spawn through a link."""
    con = boot("init", cpus=cpus, args="symlinktest", fail_on=[console.PANIC, r"FAIL"])
    con.expect(console.ok("symlinktest"), timeout=60)
    con.expect(r"init exited with status 0")
    con.wait_exit(timeout=20)


@pytest.mark.points(4)
@pytest.mark.cpus(1)
def test_symlinks_in_the_shell(boot, cpus, tmp_path):
    """ln -s, ls, cat, cd and rm on links; they persist across a reboot and
    fsck (mkfs -c) accepts them."""
    disk = conftest.fresh_disk(tmp_path / "links.img")
    con = shell(boot, cpus, disk=disk)
    assert con.run("ln -s README.md r") == ""
    assert con.run("cat r | wc").split() == con.run("wc README.md").split()[:3]
    listing = {l.split()[0]: l.split() for l in con.run("ls").splitlines()}
    assert listing["r"][1] == "link" and listing["r"][-2:] == ["->", "README.md"], listing["r"]
    assert listing["r"][3] == str(len("README.md")), "a link's size is its target's length"
    assert "file exists" in con.run("ln -s x r")
    assert con.run("ln -s /nowhere dangling") == ""
    assert "no such file or directory" in con.run("cat dangling")
    assert con.run("mkdir real; ln -s /real d; echo through > d/f; cd d; cat f; cd /") == "through\n"
    assert con.run("cat real/f") == "through\n"
    assert con.run("ln -s ../real real/up; cat real/up/up/f") == "through\n"
    assert con.run("rm r") == ""
    names = {l.split()[0] for l in con.run("ls").splitlines()}
    assert "r" not in names and "README.md" in names, "rm of a link must remove only the link"
    halt(con)
    fsck(disk)
    t = tree(disk)
    assert t.get("d") == (T_SYMLINK, 5, 1, fnv(b"/real")), t.get("d")
    assert t.get("real/up", (0,))[0] == T_SYMLINK and t["real/up"][3] == fnv(b"../real")
    con = shell(boot, cpus, disk=disk)
    assert con.run("cat d/f") == "through\n"
    assert "no such file or directory" in con.run("cat dangling")
    assert con.run("rm d; rm dangling; rm real/up; cat real/f") == "through\n"
    halt(con)
    fsck(disk)
    t = tree(disk)
    assert not [p for p, a in t.items() if a[0] == T_SYMLINK], "links left after rm"


# The targets user/crashtest.c (`crashtest links`) gives its links.
def link_target(i):
    t = f"/t{i}/".encode()
    return t + bytes([ord("a") + i % 26]) * (8 + (i * 37) % 240 - len(t))


LINK_KILLS = 6


@pytest.mark.points(3)
@pytest.mark.cpus(1)
def test_symlink_crash(boot, cpus, tmp_path):
    """Making a link is one transaction: killed at varied points, the disk
    holds every link reported made, each with its whole target, and fsck
    is clean, before and after the guest's recovery."""
    seed = int(os.environ.get("GRADE_SEED", "0")) or random.randrange(1, 1 << 30)
    rng = random.Random(seed)
    original = tree(os.path.join(ROOT, "fs.img"))
    for point in range(LINK_KILLS):
        disk = conftest.fresh_disk(tmp_path / f"crash{point}.img")
        target = rng.randrange(0, 40)
        delay = rng.choice([0, rng.uniform(0, 0.02)])
        where = f"seed {seed}, kill point {point} (after link {target} + {delay * 1000:.0f} ms)"
        con = boot("init", cpus=cpus, args="crashtest links", disk=disk)
        con.expect(rf"^done {target}\n", timeout=60)
        if delay:
            time.sleep(delay)
        con.kill()
        assert "crashtest:" not in con.output, f"{where}: {con.output[-500:]}"
        last = max(int(n) for n in re.findall(r"^done (\d+)$", con.output, re.M))
        for stage in ("killed image", "after the guest recovered it"):
            if stage != "killed image":
                con = boot("init", cpus=cpus, args="echo recovered", disk=disk)
                con.expect(r"^recovered", timeout=30)
                con.wait_exit(timeout=20)
            fsck(disk)
            t = tree(disk)
            problems = [f"{n} changed" for n, a in original.items() if t.get(n) != a]
            for name, attrs in t.items():
                m = re.fullmatch(r"s(\d+)", name)
                if m:
                    want = link_target(int(m[1]))
                    if attrs != (T_SYMLINK, len(want), 1, fnv(want)):
                        problems.append(f"{name}: {attrs}, want a link to {want.decode()}")
                elif name not in original:
                    problems.append(f"{name}: not made by crashtest links")
            problems += [f"s{i} (reported done) missing" for i in range(last + 1) if f"s{i}" not in t]
            assert not problems, f"{where}, {stage}, after link {last}:\n  " + "\n  ".join(problems[:10])
