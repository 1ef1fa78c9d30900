"""Lab fs: crash safety of the file system, which rests on the log the lab
writes (its stub writes each operation's blocks straight home; lab fs's
crash test of symbolic links is in test_fs_lab.py).
user/crashtest does file-system operations and prints "done <i>" after
each; the grader kills QEMU at varied points (at least 20 per run), then

  1. checks the killed image on the host (mkfs -c replays a committed log
     in memory, then checks every invariant) and that every operation
     reported done is there;
  2. boots the image (the file server recovers the log at mount) and
     checks the same again on the image the guest left behind.

The seed of the kill points is printed on failure; GRADE_SEED=<n> repeats
a run.
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
BSIZE = 4096
with open(os.path.join(ROOT, "ulib", "fsformat.h")) as _f:   # most blocks one operation may change
    LOGSIZE = int(re.search(r"#define LOGSIZE\s+(\d+)", _f.read())[1])
KILLS = 20


def size(i):
    return (i * 2971) % 14000


def content(i):
    return bytes(((i * 31 + j * 7) & 0xFF) for j in range(size(i)))


def fnv(data):
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def log_entry(i):
    return f"entry {i:9d}\n".encode()


def tree(image):
    r = subprocess.run([MKFS, "-t", str(image)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    out = {}
    for line in r.stdout.splitlines():
        path, typ, sz, nlink, h = line.split()
        out[path.lstrip("/")] = (int(typ), int(sz), int(nlink), int(h, 16))
    return out


def fsck(image):
    """Check the image; True if it held a committed log not yet installed."""
    r = subprocess.run([MKFS, "-c", str(image)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, f"the file system is inconsistent:\n{r.stdout}"
    return "replayed a committed log" in r.stdout


def superblock(f):
    """The superblock's 13 fields, read from the open image f."""
    f.seek(BSIZE)
    return struct.unpack("<13I", f.read(52))


def log_written(image):
    """Does the log area (after its header) hold anything?  mkfs leaves it
    zero; every committed operation writes its blocks there first."""
    with open(image, "rb") as f:
        sb = superblock(f)
        nlog, logstart = sb[4], sb[5]
        f.seek((logstart + 1) * BSIZE)
        return any(f.read((nlog - 1) * BSIZE))


def read_file(image, path):
    return subprocess.run([MKFS, "-p", str(image), "/" + path],
                          stdout=subprocess.PIPE, check=True).stdout


def check_state(image, last, original, where):
    """Every operation up to `last` (the last one reported done) must be on
    the disk; nothing the operations do not touch may change.  Operations
    after `last` may have finished too (unreported), each one whole."""
    t = tree(image)
    problems = []
    for name, attrs in original.items():
        if t.get(name) != attrs:
            problems.append(f"{name} changed: {t.get(name)} != {attrs}")
    for i in range(last + 1):
        kind = i % 5
        if kind == 0:
            if t.get(f"d{i}", (0,))[0] != 1:
                problems.append(f"directory d{i} (op {i}) missing")
        elif kind == 1:
            name = f"f{i}"
            gone = i + 3 <= last
            if gone and name in t:
                problems.append(f"{name} still there after op {i + 3} unlinked it")
            if not gone:
                # op i+3 (its unlink) may have finished unreported (its
                # "done" line still on its way to the console); then op i+2
                # finished before it, and the file lives on as l<i+2>.
                got = t.get(name)
                link = t.get(f"l{i + 2}")
                if got is None and link and link[1] == size(i) and link[3] == fnv(content(i)):
                    continue
                if not got or got[0] != 2 or got[1] != size(i) or got[3] != fnv(content(i)):
                    problems.append(f"{name} (op {i}) missing or wrong: {got}")
        elif kind == 3:
            name, src = f"l{i}", i - 2
            got = t.get(name)
            if not got or got[1] != size(src) or got[3] != fnv(content(src)):
                problems.append(f"{name} (op {i}) missing or wrong: {got}")
            elif i + 1 <= last and got[2] != 1:
                problems.append(f"{name}: nlink {got[2]} after f{src} was unlinked")
            elif i + 1 > last and got[2] not in (1, 2):
                problems.append(f"{name}: nlink {got[2]}")
    # The log: every reported entry, then possibly a few more whole ones.
    want = b"".join(log_entry(i) for i in range(last + 1) if i % 5 == 2)
    if want:
        got = read_file(image, "log") if "log" in t else b""
        extra = got[len(want):]
        if not got.startswith(want) or len(extra) % 16 or \
                any(not re.fullmatch(rb"entry +\d+\n", extra[k:k + 16])
                    for k in range(0, len(extra), 16)):
            problems.append(f"log wrong: {len(got)} bytes, want {len(want)} first")
    assert not problems, f"{where}: after op {last}:\n  " + "\n  ".join(problems[:10])


@pytest.mark.points(10)
def test_crash_recovery(boot, cpus, tmp_path):
    seed = int(os.environ.get("GRADE_SEED", "0")) or random.randrange(1, 1 << 30)
    rng = random.Random(seed)
    fresh = os.path.join(ROOT, "fs.img")
    original = tree(fresh)
    replays = 0
    for point in range(KILLS):
        disk = conftest.fresh_disk(tmp_path / f"crash{point}.img")
        target = rng.randrange(0, 70)
        delay = rng.choice([0, 0, rng.uniform(0, 0.03)])
        where = f"seed {seed}, kill point {point} (after op {target} + {delay * 1000:.0f} ms)"
        con = boot("init", cpus=cpus, args="crashtest", disk=disk)
        con.expect(rf"^done {target}\n", timeout=60)
        if delay:
            time.sleep(delay)
        con.kill()
        done = [int(n) for n in re.findall(r"^done (\d+)$", con.output, re.M)]
        assert "crashtest:" not in con.output, f"{where}: {con.output[-500:]}"
        last = max(done)
        assert log_written(disk), f"{where}: nothing was ever written to the log"
        replays += fsck(disk)
        check_state(disk, last, original, where + ", killed image")
        con = boot("init", cpus=cpus, args="echo recovered", disk=disk)
        con.expect(r"^recovered", timeout=30)
        con.wait_exit(timeout=20)
        assert not fsck(disk), f"{where}: the guest did not install the committed log at mount"
        check_state(disk, last, original, where + ", after the guest recovered it")
    print(f"{KILLS} kills, {replays} with a committed log to replay (seed {seed})")


@pytest.mark.points(3)
@pytest.mark.cpus(1)
def test_recovery_installs_every_logged_block(boot, cpus, tmp_path):
    """A committed log written on the host (a full one: LOGSIZE free
    blocks with new contents) is installed whole at mount: every block,
    the first and the last included, reaches its home, and the header is
    cleared, before any operation runs: a mkdir afterwards works, and a
    first operation that fails (an open of a missing program: its
    transaction is thrown out of the cache) cannot take the recovered
    blocks with it; and the recovered blocks are not left to the first
    request (init's open of a program, which changes nothing) to commit
    again: the file server's count of commits (`crashtest commits`) is
    what it is after a mount with no log.
    (The crash test above meets a committed log only when a kill lands
    between commit and install.)"""
    con = boot("init", cpus=cpus, args="crashtest commits")
    clean = con.expect(r"^commits (-?\d+)$", timeout=30)[1]
    con.wait_exit(timeout=20)
    for command, made in (("mkdir afterlog", True), ("nosuchprogram", False),
                          ("crashtest commits", False)):
        disk = conftest.fresh_disk(tmp_path / "committed.img")
        with open(disk, "r+b") as f:
            sb = superblock(f)
            size, nlog, logstart, bmapstart, datastart = sb[1], sb[4], sb[5], sb[7], sb[8]
            homes = []
            for b in range(size - 1, datastart, -1):        # free data blocks, from the end
                f.seek(bmapstart * BSIZE + b // 8)
                if not f.read(1)[0] & (1 << (b % 8)):
                    homes.append(b)
                if len(homes) == LOGSIZE:
                    break
            assert len(homes) == LOGSIZE and nlog > LOGSIZE, "the fresh image has no room for the test"
            data = [bytes([0x41 + i]) * 4000 + struct.pack("<Q", b) * 12 for i, b in enumerate(homes)]
            for i, d in enumerate(data):
                f.seek((logstart + 1 + i) * BSIZE)
                f.write(d)
            f.seek(logstart * BSIZE)
            f.write(struct.pack(f"<{1 + LOGSIZE}I", len(homes), *homes))
        assert fsck(disk), "mkfs -c does not see the committed log"
        con = boot("init", cpus=cpus, args=command, disk=disk)
        con.expect(r"recovered %d blocks from the log" % LOGSIZE, timeout=30)
        con.wait_exit(timeout=20)
        where = f"after recovery and `{command}`"
        if command == "crashtest commits":
            got = re.search(r"^commits (-?\d+)$", con.output, re.M)
            assert got and got[1] == clean, (
                f"{where}: the file server counts {got and got[1]} commits, and {clean} after a "
                f"mount with no log: did a request that changed nothing commit the recovered "
                f"blocks again?")
        if made:
            assert tree(disk).get("afterlog", (0,))[0] == 1, (
                f"{where}: no directory afterlog; is the log still holding the recovered "
                f"blocks?\n" + con.output[-300:])
        with open(disk, "rb") as f:
            f.seek(logstart * BSIZE)
            assert struct.unpack("<I", f.read(4))[0] == 0, f"{where}: the log header was not cleared"
            for i, (b, d) in enumerate(zip(homes, data)):
                f.seek(b * BSIZE)
                assert f.read(BSIZE) == d, \
                    f"{where}: logged block {i} of {LOGSIZE} (home {b}) was not installed"
        assert not fsck(disk)


def failing_disk(tmp_path, disk, block, io="write"):
    """disk, seen through QEMU's blkdebug driver: every write (or read) of
    block fails (an I/O error, which virtio-blk reports to the guest)."""
    conf = tmp_path / f"fail-{io}-{block}.conf"
    event = {"write": "pwritev", "read": "read_aio"}[io]
    conf.write_text(f'[inject-error]\nevent = "{event}"\nerrno = "5"\n'
                    f'sector = "{block * BSIZE // 512}"\n')
    return f"blkdebug:{conf}:{disk}"


@pytest.mark.points(3)
@pytest.mark.cpus(1)
def test_failing_disk(boot, cpus, tmp_path):
    """A disk that fails writes.  Before the commit point (the log's first
    slot fails): every changing operation fails with E_IO and leaves no
    trace, on the disk or in later reads (`crashtest diskfail` checks the
    reads).  After it (the bitmap's home fails while installing a mkdir):
    the file server stops rather than go on with a disk that is behind its
    log, and the next mount installs the committed operation, or, while
    the disk still fails, refuses to mount.  A log header that cannot be
    read is not a file system either."""
    disk = conftest.fresh_disk(tmp_path / "failing.img")
    with open(disk, "rb") as f:
        sb = superblock(f)
    logstart, bmapstart = sb[5], sb[7]
    before = tree(disk)
    con = boot("init", cpus=cpus, args="crashtest diskfail", disk=failing_disk(tmp_path, disk, logstart + 1),
               fail_on=[console.PANIC, r"BROKEN|FAIL"])
    con.expect(console.ok("crashtest"), timeout=30)
    con.wait_exit(timeout=20)
    assert not fsck(disk), "a committed log after operations that all failed before their commit"
    assert tree(disk) == before, "operations that failed changed the disk"

    con = boot("init", cpus=cpus, args="mkdir y", disk=failing_disk(tmp_path, disk, bmapstart))
    con.expect(r"the disk failed after a commit", timeout=30)
    con.kill()
    assert fsck(disk), "no committed log on the disk after the install failed"
    for io, block in (("write", bmapstart), ("read", logstart)):
        con = boot("init", cpus=cpus, args="echo mounted", disk=failing_disk(tmp_path, disk, block, io))
        con.expect(r"init: no file system: disk error", timeout=30)
        con.wait_exit(timeout=20)
        assert not re.search(r"^mounted", con.output, re.M), "a mount went on past a disk error"
    con = boot("init", cpus=cpus, args="echo recovered", disk=disk)
    con.expect(r"^recovered", timeout=30)
    con.wait_exit(timeout=20)
    assert not fsck(disk) and tree(disk).get("y", (0,))[0] == 1, \
        "the next mount did not install the committed mkdir"


@pytest.mark.points(2)
@pytest.mark.cpus(1)
def test_one_block_operation_is_durable(boot, cpus, tmp_path):
    """An operation that logs a single block (16 bytes rewritten in place:
    the size does not change, so the inode is not written) is on the disk
    when it returns, as a bigger one is: `crashtest overwrite` reports
    each rewrite done, and the machine is killed after a few.  It is
    logged like any other (its block is in the log's first slot): a
    write-through that skips the log is durable but not atomic."""
    disk = conftest.fresh_disk(tmp_path / "overwrite.img")
    con = boot("init", cpus=cpus, args="crashtest overwrite", disk=disk)
    con.expect(r"^done 3\n", timeout=60)
    con.kill()
    assert "crashtest:" not in con.output, con.output[-500:]
    last = max(int(n) for n in re.findall(r"^done (\d+)$", con.output, re.M))
    with open(disk, "rb") as f:                 # write-ahead: the block went
        f.seek((superblock(f)[5] + 1) * BSIZE)  # through the log's first slot
        slot = f.read(16)
    assert re.fullmatch(rb"overwrite +\d+\n", slot), (
        f"the log's first slot begins {slot!r}: a one-block operation must be "
        f"logged too (written to the log before its home)")
    fsck(disk)
    got = read_file(disk, "README.md")[:16]
    ok = [f"overwrite {i:5d}\n".encode() for i in range(last, last + 2)]
    assert got in ok, (f"README.md begins {got!r} after \"done {last}\": "
                       f"a one-block operation was not on the disk when it returned")
