"""Group "base": the file system and spawn on malformed input (the
hardening issue).

  - host: fuzz/fsfuzz runs the file server's core (ulib/bio.c, log.c,
    inode.c, dir.c, fs.c) in a host process on 1,000 seeded corruptions of
    fs.img (bit flips, block swaps, boundary values in the superblock,
    inodes, directory entries, the log header and indirect blocks), under
    AddressSanitizer/UBSan when the host compiler has them, and mkfs -c on
    each of the same images: no crash, no hang, no block outside the image,
    no write by mkfs -c (fuzz/README.md);
  - guest: a few damaged images booted for real: the file server reports
    errors, programs get them, nothing panics or hangs;
  - user/elftest: spawn on malformed ELF files returns E_NOEXEC and leaves
    no page behind.

fsfuzz's base image adds symbolic links and a double-indirect file where
the tree has them; with lab fs's code still stubbed it does without, so
these pass in every lab's handout.
"""

import os
import re
import shutil
import struct
import subprocess

import pytest

import conftest
import console
from console import ROOT

LAB = "base"
pytestmark = pytest.mark.lab(LAB)

MKFS = os.path.join(ROOT, "mkfs", "mkfs")
SEED = 1
CASES = int(os.environ.get("FSFUZZ_CASES", "1000"))   # (make selftest runs fewer in each tree)


# ---- the host side ----

@pytest.mark.points(4)
def test_fs_survives_corrupted_images_host():
    r = subprocess.run(["make", "-s", "fuzz/fsfuzz", "fuzz/mkfs-san"], cwd=ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, "cannot build the harness:\n" + r.stdout
    env = dict(os.environ, ASAN_OPTIONS="exitcode=99:detect_leaks=0",
               UBSAN_OPTIONS="exitcode=99:print_stacktrace=1")
    cmd = [os.path.join(ROOT, "fuzz", "fsfuzz"), "-s", str(SEED), "-n", str(CASES),
           "-m", os.path.join(ROOT, "fuzz", "mkfs-san"), os.path.join(ROOT, "fs.img")]
    try:
        r = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           timeout=console.scaled(300))
    except subprocess.TimeoutExpired:
        pytest.fail(f"fsfuzz did not finish: {' '.join(cmd)}")
    tail = "\n".join(r.stdout.splitlines()[-40:])
    assert r.returncode == 0, f"{' '.join(cmd)} failed (status {r.returncode}):\n{tail}"
    assert re.search(rf"^fsfuzz: {CASES} cases from 0, seed {SEED}: all survived "
                     r"\(\d+ mounted\), mkfs -c too", r.stdout, re.M), tail


# ---- damaged images, booted ----

class Image:
    """A copy of fs.img to damage: the superblock, inodes and the root
    directory's entries, by name."""

    def __init__(self, path):
        self.path = path
        self.f = open(path, "r+b")
        self.sb = list(struct.unpack("<13I", self.read(4096, 52)))
        self.inodestart = self.sb[6]

    def read(self, off, n):
        self.f.seek(off)
        return self.f.read(n)

    def write(self, off, data):
        self.f.seek(off)
        self.f.write(data)

    def inode_off(self, inum):
        return (self.inodestart + inum // 64) * 4096 + (inum % 64) * 64

    def inode(self, inum):
        return list(struct.unpack("<hhhhI13I", self.read(self.inode_off(inum), 64)))

    def set_inode(self, inum, fields):
        self.write(self.inode_off(inum), struct.pack("<hhhhI13I", *fields))

    def root_entries(self):
        """{name: (inum, byte offset of the entry on the disk)}"""
        root = self.inode(1)
        out = {}
        for off in range(0, root[4], 32):
            block = root[5 + off // 4096]
            at = block * 4096 + off % 4096
            inum, name = struct.unpack("<H30s", self.read(at, 32))
            if inum:
                out[name.rstrip(b"\0").decode()] = (inum, at)
        return out

    def close(self):
        self.f.close()


def damaged(tmp_path, name, damage):
    path = conftest.fresh_disk(tmp_path / name)
    img = Image(path)
    damage(img)
    img.close()
    # mkfs -c must report the damage (status 1, or 2: cannot check), not crash.
    r = subprocess.run([MKFS, "-c", str(path)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    assert r.returncode in (1, 2), f"mkfs -c on the {name} image: status {r.returncode}\n{r.stdout}"
    return path


def damage_files(img):
    ents = img.root_entries()
    # README.md: a block pointer past the end of the disk.
    ino = img.inode(ents["README.md"][0])
    ino[5] = 0xFFFFFFF0
    img.set_inode(ents["README.md"][0], ino)
    # primes: a huge size over holes.
    ino = img.inode(ents["primes"][0])
    ino[4] = 0xFFFFFFFF
    img.set_inode(ents["primes"][0], ino)
    # pingpong: a symbolic link of 0 bytes; sleep: an inode of type 77.
    # (The shell's own programs, cat, wc, ls, echo, halt, stay whole.)
    ino = img.inode(ents["pingpong"][0])
    ino[0], ino[4] = 4, 0
    img.set_inode(ents["pingpong"][0], ino)
    ino = img.inode(ents["sleep"][0])
    ino[0] = 77
    img.set_inode(ents["sleep"][0], ino)
    # usertests (over 11 blocks): its indirect block is an inode block.
    ino = img.inode(ents["usertests"][0])
    ino[5 + 11] = img.inodestart
    img.set_inode(ents["usertests"][0], ino)
    # A directory loop: "spin" now names "/" itself.
    img.write(ents["spin"][1], struct.pack("<H", 1))


@pytest.mark.points(2)
@pytest.mark.lab("fs")                  # (one damaged file is a symbolic link)
def test_fs_damaged_files_booted(boot, tmp_path):
    con = boot("init", disk=damaged(tmp_path, "files.img", damage_files))
    con.expect(r"^\$ ", timeout=30)
    out = con.run("cat README.md", timeout=20)
    assert "file system corrupt" in out, out
    out = con.run("wc primes", timeout=20)
    assert "file system corrupt" in out, out
    out = con.run("wc pingpong", timeout=20)          # a link of 0 bytes
    assert "file system corrupt" in out, out
    con.run("wc sleep", timeout=20)                  # (type 77: anything but a hang)
    out = con.run("wc usertests", timeout=20)
    assert "file system corrupt" in out, out
    out = con.run("ls /spin/spin/spin", timeout=20)
    assert "README.md" in out, out
    assert con.run("echo still serving", timeout=20) == "still serving\n"
    out = con.run("ls /", timeout=20)
    assert "cat" in out
    con.send("halt\r")
    con.wait_exit(timeout=20)


def bad_superblock(img):
    img.sb[6] = 0x7FFFFFF0                       # inodestart
    img.write(4096, struct.pack("<13I", *img.sb))


def garbage_log(img):
    img.write(img.sb[5] * 4096, struct.pack("<5I", 4, 0xFFFFFFFF, 1, 0, 12345))


def log_past_the_end(img):
    img.write(img.sb[5] * 4096, struct.pack("<2I", 1, img.sb[1]))   # the block just past it


@pytest.mark.points(2)
@pytest.mark.parametrize("kind", [
    pytest.param(bad_superblock, id="bad_superblock"),
    # (recovery checks the log header: lab fs's code)
    pytest.param(garbage_log, id="garbage_log", marks=pytest.mark.lab("fs")),
    pytest.param(log_past_the_end, id="log_past_the_end", marks=pytest.mark.lab("fs"))])
def test_fs_unmountable_image_booted(boot, tmp_path, kind):
    """The server refuses to mount; init says why and ends; no panic."""
    con = boot("init", disk=damaged(tmp_path, kind.__name__ + ".img", kind))
    con.expect(r"init: no file system: file system corrupt", timeout=30)
    con.expect(r"init exited with status", timeout=30)


# ---- malformed ELF files ----

@pytest.mark.points(3)
def test_spawn_refuses_malformed_elf(boot):
    con = boot("init", args="elftest")
    con.expect(console.ok("elftest"), timeout=60)
    con.assert_no(r"FAIL|BROKEN")
