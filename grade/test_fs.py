"""Group "base": the library file system behind a file-server env, spawn,
the shell and the utilities, as a whole system.  No lab's stub touches
what these tests need, so they pass in every lab's handout; lab "fs"'s own
tests (files past the single-indirect block, symbolic links) are in
test_fs_lab.py.  Most tests boot init (which starts the console and file
servers and the shell) and type at the `$ ` prompt as a student would;
each boot gets its own copy of fs.img.
"""

import glob
import os
import re
import subprocess

import pytest

import console

from console import ROOT

LAB = "base"
pytestmark = pytest.mark.lab(LAB)

MKFS = os.path.join(ROOT, "mkfs", "mkfs")


def shell(boot, cpus, **kw):
    con = boot("init", cpus=cpus, **kw)
    con.expect(r"^\$ ", timeout=30)
    return con


def fsck(image):
    """Check a disk image on the host; returns mkfs -c's report."""
    r = subprocess.run([MKFS, "-c", str(image)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, f"fsck found errors:\n{r.stdout}"
    return r.stdout


def halt(con):
    con.send("halt\r")
    con.wait_exit(timeout=20)


@pytest.mark.points(3)
def test_boots_to_prompt_and_runs_programs(boot, cpus):
    con = shell(boot, cpus)
    assert con.run("echo hello from the shell") == "hello from the shell\n"
    programs = sorted(os.path.basename(p)[:-2] for p in glob.glob(os.path.join(ROOT, "user", "*.c")))
    listing = con.run("ls /")
    names = {line.split()[0] for line in listing.splitlines() if line.strip()}
    missing = [p for p in programs if p not in names]
    assert not missing, f"programs missing from /: {missing}"
    assert "README.md" in names
    out = con.run("nosuchprogram arg")
    assert "nosuchprogram: no such file or directory" in out


@pytest.mark.points(4)
@pytest.mark.lab("ipc")         # (pipes)
def test_pipelines(boot, cpus):
    con = shell(boot, cpus)
    assert con.run("echo a b c | wc").split() == ["1", "3", "6"]
    with open(os.path.join(ROOT, "README.md"), "rb") as f:
        readme = f.read().decode()
    lines = [l for l in readme.split("\n") if "exokernel" in l]
    want = [str(len(lines)), str(sum(len(l.split()) for l in lines)),
            str(sum(len(l) + 1 for l in lines))]
    assert con.run("cat README.md | grep exokernel | wc").split() == want
    assert con.run("grep exokernel < README.md | cat | cat | wc").split() == want
    # ; runs one after the other
    assert con.run("echo one; echo two ; echo three") == "one\ntwo\nthree\n"


@pytest.mark.points(4)
@pytest.mark.lab("ipc")         # (a pipe at the end)
def test_redirection(boot, cpus):
    con = shell(boot, cpus)
    assert con.run("echo first > f") == ""
    assert con.run("echo second >> f") == ""
    assert con.run("cat f") == "first\nsecond\n"
    assert con.run("wc < f").split() == ["2", "2", "13"]
    assert con.run("echo replaced > f; cat f") == "replaced\n"
    assert con.run("cat < nosuch").strip() == "sh: nosuch: no such file or directory"
    # a stage that cannot start still ends its pipe: the next one sees EOF
    assert con.run("cat < nosuch | wc").split()[-3:] == ["0", "0", "0"]
    # output of a pipeline's last stage to a file
    con.run("ls | grep README > g")
    assert con.run("cat g").startswith("README.md")


@pytest.mark.points(4)
def test_directories_and_links(boot, cpus):
    con = shell(boot, cpus)
    assert con.run("mkdir d") == ""
    assert "file exists" in con.run("mkdir d")
    assert con.run("cd d; echo x > f; ln f g") == ""
    listing = {l.split()[0]: l.split() for l in con.run("ls").splitlines()}
    assert set(listing) == {".", "..", "f", "g"}, listing
    assert listing["f"][2] == listing["g"][2], "a link must name the same inode"
    assert con.run("rm f; cat g") == "x\n"
    assert con.run("cat ../d/./g") == "x\n"
    assert con.run("cd ..") == ""
    assert "directory not empty" in con.run("rm d")
    assert con.run("rm d/g; rm d") == ""
    assert "no such file or directory" in con.run("ls d")
    assert "no such file or directory" in con.run("cd nowhere")
    long = "n" * 40
    assert "file name too long" in con.run(f"echo x > {long}")
    assert "not a directory" in con.run("cat README.md/x")


@pytest.mark.points(3)
@pytest.mark.lab("util")         # (runs sleep)
def test_background_jobs_and_kill(boot, cpus):
    con = shell(boot, cpus)
    out = con.run("sleep 10000 &")
    m = re.search(r"\[([0-9a-f]{8})\]", out)
    assert m, out
    job = m[1]
    assert con.run("echo still interactive") == "still interactive\n"
    out = con.run(f"kill {job}")
    assert "kill:" not in out, out
    out += con.run("echo x")               # (reaped before one of the prompts)
    assert re.search(rf"\[{job}\] done", out), "the shell did not reap the killed job"
    assert "bad environment" in con.run(f"kill {job}")
    out = con.run("kill 0")
    assert "kill:" in out


@pytest.mark.points(3)
@pytest.mark.cpus(1)
def test_files_persist_across_boots(boot, tmp_path):
    disk = tmp_path / "persist.img"
    import conftest
    conftest.fresh_disk(disk)
    con = shell(boot, 1, disk=disk)
    con.run("mkdir keep; echo saved across a reboot > keep/note")
    halt(con)
    fsck(disk)
    con = shell(boot, 1, disk=disk)
    assert con.run("cat keep/note") == "saved across a reboot\n"
    con.run("rm keep/note; rm keep")
    halt(con)
    report = fsck(disk)
    out = subprocess.run([MKFS, "-l", str(disk), "/"], stdout=subprocess.PIPE, text=True).stdout
    assert "keep" not in out, report


# Every usertests test but bigfile and fulldisk, which need files past the
# single-indirect block (lab fs: test_fs_lab.py runs them).
USERTESTS_BASE = "badargs dirs manyfiles unlinkopen concurrent spawnexec libos"


@pytest.mark.points(10)
@pytest.mark.lab("ipc")         # (pipes, sbrk, fork: nearly everything)
def test_usertests(boot, cpus, tmp_path):
    import conftest
    disk = conftest.fresh_disk(tmp_path / "usertests.img")
    con = boot("init", cpus=cpus, args=f"usertests {USERTESTS_BASE}", disk=disk)
    m = con.expect(rf"^(ALL TESTS PASSED {console.TOKEN}|SOME TESTS FAILED)", timeout=240)
    assert m[1].startswith("ALL TESTS PASSED"), "see the transcript"
    con.expect(r"init exited with status 0")
    con.wait_exit(timeout=20)
    fsck(disk)


# The file-system rows of make bench, checked under -icount.
FS_BENCH_TARGETS = {
    "fs_create": 500000,
    "fs_write": 50000,
    "fs_read": 3000,
    "spawn_wait": 200000,
}


@pytest.mark.points(3)
@pytest.mark.cpus(1)
def test_fs_bench_targets(boot, cpus):
    con = boot("init", cpus=cpus, args="fsbench", icount=True,
               fail_on=[r"^panic:", r"FAIL"])
    con.expect(r"^bench spawn_wait \d+ insn/", timeout=120)
    con.check_bench(FS_BENCH_TARGETS)


@pytest.mark.points(3)
@pytest.mark.lab("ipc")         # (pipes, sbrk)
def test_xv6_programs_run_unchanged(boot, cpus):
    """user/xv6test.c includes only xv6's headers and checks xv6's semantics."""
    con = boot("init", cpus=cpus, args="xv6test", fail_on=[r"^panic:", r"FAIL"])
    con.expect(console.ok("xv6test"), timeout=60)
    con.expect(r"init exited with status 0")


@pytest.mark.points(2)
def test_attack_file_server(boot, cpus):
    con = boot("init", cpus=cpus, args="attackfs", fail_on=[r"^panic:", r"BROKEN|FAIL"])
    con.expect(console.ok("attackfs"), timeout=60)
    con.expect(r"init exited with status 0")


# ---- a damaged disk ----

import struct

BSIZE = 4096


class Image:
    """Just enough of the on-disk format (ulib/fsformat.h) to damage it."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = bytearray(f.read())
        (self.magic, self.size, self.nblocks, self.ninodes, self.nlog,
         self.logstart, self.inodestart, self.bmapstart,
         self.datastart) = struct.unpack_from("<9I", self.data, BSIZE)

    def inode_off(self, inum):
        return self.inodestart * BSIZE + inum * 64

    def addrs(self, inum):
        return list(struct.unpack_from("<13I", self.data, self.inode_off(inum) + 12))

    def set_addr(self, inum, i, value):
        struct.pack_into("<I", self.data, self.inode_off(inum) + 12 + 4 * i, value)

    def lookup(self, name):
        """The inode number of a name in the root directory (direct blocks)."""
        size = struct.unpack_from("<I", self.data, self.inode_off(1) + 8)[0]
        for off in range(0, size, 32):
            b = self.addrs(1)[off // BSIZE]
            inum, raw = struct.unpack_from("<H30s", self.data, b * BSIZE + off % BSIZE)
            if inum and raw.rstrip(b"\0").decode() == name:
                return inum, b * BSIZE + off % BSIZE
        raise KeyError(name)

    def save(self):
        with open(self.path, "wb") as f:
            f.write(self.data)


@pytest.mark.points(3)
def test_corrupt_file_system(boot, cpus, tmp_path):
    import conftest
    disk = conftest.fresh_disk(tmp_path / "bad.img")
    img = Image(disk)
    readme, _ = img.lookup("README.md")
    img.set_addr(readme, 0, 0x7FFFFFFF)            # a block far past the disk
    wc, _ = img.lookup("wc")
    img.set_addr(wc, 1, img.logstart)              # a data block in the log
    _, ent = img.lookup("ln")
    struct.pack_into("<H", img.data, ent, 60000)   # an entry naming no inode
    img.save()
    con = shell(boot, cpus, disk=disk)
    assert "file system corrupt" in con.run("cat README.md")
    assert "file system corrupt" in con.run("wc wc")
    assert "file system corrupt" in con.run("ln")
    assert con.run("echo the rest still works") == "the rest still works\n"
    assert "README.md" in con.run("ls")
    assert con.run("echo fresh > new; cat new") == "fresh\n"
    halt(con)


@pytest.mark.points(1)
@pytest.mark.cpus(1)
def test_disk_without_a_file_system(boot, cpus, tmp_path):
    disk = tmp_path / "blank.img"
    with open(disk, "wb") as f:
        f.truncate(32 << 20)
    con = boot("init", cpus=cpus, disk=disk)
    con.expect(r"init: no file system: file system corrupt")
    con.expect(r"init exited with status 1")
    con.wait_exit(timeout=20)
