"""Lab "util": programs on the library OS (sleep, pingpong, primes, find,
xargs), run from the shell.  Names, numbers and file contents are random
for each run, so only a working program prints what is expected.
"""

import random
import re
import string
import time

import pytest

import conftest
import console

pytestmark = pytest.mark.lab("util")


def shell(boot, cpus):
    con = boot("init", cpus=cpus)
    con.expect(r"^\$ ", timeout=30)
    return con


def job_statuses(con, out, jobs, timeout=30):
    """The exit statuses of background jobs (ids as the shell printed them
    at `&`), from the "[id] done, status N" lines the shell prints before
    a prompt: out so far, then empty lines typed until all are reported."""
    deadline = time.monotonic() + timeout
    while True:
        done = dict(re.findall(r"^\[([0-9a-f]{8})\] done, status (-?\d+)$", out, re.M))
        if all(j in done for j in jobs) or time.monotonic() > deadline:
            return done
        time.sleep(0.5)
        out += con.run("")


def job_id(started):
    """The id the shell printed when it started a background job."""
    return re.search(r"^\[([0-9a-f]{8})\]$", started, re.M)[1]


def expect_statuses(con, commands):
    """Run each (command, status) as a background job, one at a time (a
    job that prints while the next command is typed would garble the
    echo the console waits for); each must exit with its status."""
    for cmd, status in commands:
        started = con.run(cmd + " &")
        job = job_id(started)
        got = job_statuses(con, started, [job]).get(job)
        assert got == str(status), f"`{cmd}`: exit status {got}, want {status}\n{started}"


def word(n=6):
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n))


@pytest.mark.points(2)
@pytest.mark.cpus(1)
def test_sleep(boot, cpus):
    con = shell(boot, cpus)
    t0 = time.monotonic()
    out = con.run("sleep 6")
    took = time.monotonic() - t0
    assert out == "", f"sleep printed {out!r}"
    assert took >= 0.5, f"sleep 6 (0.6 s) returned after {took:.2f} s"
    assert con.run("sleep > /s.out") == "usage: sleep ticks\n"
    assert con.run("cat /s.out") == "", "sleep printed its usage on its standard output"
    con.send("halt\r")
    con.wait_exit(timeout=20)
    con = boot("init", cpus=cpus, args="sleep")
    status = int(con.expect(r"init exited with status (-?\d+)", timeout=30)[1])
    assert status == 1, f"sleep without a number exited with status {status}, want 1"


@pytest.mark.points(3)
def test_pingpong(boot, cpus):
    con = shell(boot, cpus)
    n = random.randrange(0, 127) * 2 + 1           # (odd; without a number: 'x', 120)
    for arg, sent in ((str(n), n), ("", ord("x"))):
        out = con.run(f"pingpong {arg}".strip())
        ping = re.search(r"^([0-9a-f]{8}): received ping (\d+)$", out, re.M)
        pong = re.search(r"^([0-9a-f]{8}): received pong (\d+)$", out, re.M)
        assert ping and pong, f"pingpong {arg} printed:\n{out}"
        assert ping[1] != pong[1], "ping and pong printed by the same env"
        assert int(ping[2]) == sent and int(pong[2]) == sent + 1, \
            f"sent {sent}: the child got {ping[2]}, the parent got back {pong[2]} (want {sent + 1})"
        assert out.index("ping") < out.index("pong")
    con.send("halt\r")
    con.wait_exit(timeout=20)
    con = boot("init", cpus=cpus, args="pingpong 7")   # its exit status: the child's, 0
    status = int(con.expect(r"init exited with status (-?\d+)", timeout=30)[1])
    assert status == 0, f"pingpong 7 exited with status {status}"


def primes_upto(n):
    return [p for p in range(2, n + 1) if all(p % d for d in range(2, p))]


@pytest.mark.points(4)
def test_primes(boot, cpus):
    con = shell(boot, cpus)
    for n in (random.choice(primes_upto(89)[11:]), None):   # (a prime from 37 up; none: 35)
        out = con.run(f"primes {n or ''}".strip(), timeout=60)
        got = [int(p) for p in re.findall(r"^prime (\d+)$", out, re.M)]
        assert got == primes_upto(n or 35), f"primes {n or ''} printed {got}"
        assert out.endswith("primes: done\n"), f"primes {n or ''} printed:\n{out}"
    started = con.run("primes 10 > /p.out &")
    job = job_id(started)
    status = job_statuses(con, started, [job]).get(job)
    assert status == "0", f"primes 10's exit status: {status}"
    time.sleep(1)                                  # (a stage that went on past its end)
    con.run("")
    assert "panic" not in con.output, f"a stage panicked:\n{con.output[-600:]}"
    before = census_envs(con)                      # every stage has ended
    con.run("primes 40", timeout=60)
    after = census_envs(con)
    assert len(after) <= len(before), \
        f"after primes, {len(after) - len(before)} more env(s): " + ", ".join(sorted(after - before))


def census_envs(con):
    """The envs `census` lists (census itself among them), as "id status"."""
    out = con.run("census", timeout=30)
    return set(re.findall(r"^census: ([0-9a-f]{8}  \S+)", out, re.M))


@pytest.mark.points(4)
def test_find(boot, cpus):
    con = shell(boot, cpus)
    top, target, other = word(), word(5), word(7)
    paths = [f"/{top}/{target}", f"/{top}/a/{target}", f"/{top}/a/b/{target}"]
    con.run(f"mkdir /{top}; mkdir /{top}/a; mkdir /{top}/a/b; mkdir /{top}/c")
    con.run(f"echo x > {paths[0]}; echo y > {paths[2]}; echo z > /{top}/c/{other}")
    con.run(f"mkdir {paths[1]}")                 # a directory matches too
    out = con.run(f"find /{top} {target}")
    assert sorted(out.split()) == sorted(paths), f"find printed:\n{out}"
    assert con.run(f"find /{top} {word(8)}") == ""
    con.run(f"find /{top}/nothing-here {target} > /find.out")   # an error goes to stderr
    assert con.run("cat /find.out") == "", "find printed its error on its standard output"
    out = con.run(f"cd /{top}/a; find . {target}")
    assert sorted(out.split()) == sorted([f"./{target}", f"./b/{target}"]), f"find . printed:\n{out}"


DIRSIZ, MAXPATH, NFD, MAXARG = 30, 256, 32, 32     # (ulib/fsformat.h, ulib/lib.h)


@pytest.mark.points(4)
@pytest.mark.cpus(1)
def test_find_edges(boot, cpus):
    """find's errors go to standard error, one line each, and the walk goes
    on: a directory that is not there, a path that would not fit in
    MAXPATH bytes (one that just fits is found); a file given as the
    directory prints nothing; names of DIRSIZ bytes; "/" and a trailing
    slash add no second slash; more directories than a program may hold
    open at once.  Then find's exit status: 1 for a usage error, 0
    otherwise."""
    con = shell(boot, cpus)
    top = word()
    con.run(f"mkdir /{top}")
    assert con.run("find > /u.out") == "usage: find dir name\n"
    assert con.run("cat /u.out") == "", "find printed its usage on its standard output"
    out = con.run(f"find /{top}/none x > /f.out")
    assert re.fullmatch(rf"find: /{top}/none: [a-z ]+\n", out), f"find printed:\n{out}"
    assert con.run("cat /f.out") == ""
    assert con.run("find /README.md README.md") == "", "find of a file, not a directory"
    # (a file whose bytes read as a directory entry naming what is sought)
    sought = word(DIRSIZ)
    con.run(f"echo xx{sought} > /{top}.f")
    assert con.run(f"find /{top}.f {sought}") == "", "find read a file as a directory"
    # names of DIRSIZ bytes, and no doubled slash
    full = word(DIRSIZ)
    con.run(f"echo q > /{top}/{full}; echo q > /{full[:12]}")
    assert con.run(f"find /{top} {full}") == f"/{top}/{full}\n"
    assert con.run(f"find /{top} {full[:-1]}") == ""
    assert con.run(f"find / {full[:12]}") == f"/{full[:12]}\n"
    assert con.run(f"find /{top}/ {full}") == f"/{top}/{full}\n"
    # a directory at depth, so that its files' paths need 255 bytes (they
    # fit, with the NUL) and 256 (they do not)
    deep = f"/{top}"
    while len(deep) < 240:
        deep += "/" + word(min(DIRSIZ, 240 - len(deep) - 1))
        con.run(f"mkdir {deep}")
    fits, over = word(MAXPATH - 2 - len(deep)), word(MAXPATH - 1 - len(deep))
    con.run(f"cd {deep}")                       # (a console line holds 255 bytes)
    con.run(f"echo a > {fits}; echo b > {over}; cd /")
    too_long = f"find: {deep}/{over}: path too long\n"
    out = con.run(f"find /{top} {fits} > /g.out")
    assert out == too_long, f"find's errors, walking past a path too long, were:\n{out}"
    assert con.run("cat /g.out") == f"{deep}/{fits}\n", "find of a path of MAXPATH-1 bytes"
    out = con.run(f"find /{top} {over} > /g.out")
    assert out == too_long and con.run("cat /g.out") == "", f"find printed {out!r}"
    # more directories than open descriptors, the match in the last one
    many = f"/{top}/m"
    con.run(f"mkdir {many}")
    for i in range(0, NFD + 8, 10):
        con.run("; ".join(f"mkdir {many}/{k:02d}" for k in range(i, i + 10)))
    con.run(f"echo z > {many}/{NFD + 7:02d}/{fits}")
    out = con.run(f"find {many} {fits}")
    assert out == f"{many}/{NFD + 7:02d}/{fits}\n", f"find over {NFD + 10} directories printed:\n{out}"
    con.send("halt\r")
    con.wait_exit(timeout=20)
    for args, status in (("", 1), ("/ README.md", 0)):
        con = boot("init", cpus=cpus, args=f"find {args}".strip())
        got = int(con.expect(r"init exited with status (-?\d+)", timeout=30)[1])
        assert got == status, f"`find {args}`: exit status {got}, want {status}\n{con.output[-300:]}"


@pytest.mark.points(4)
def test_xargs(boot, cpus):
    con = shell(boot, cpus)
    f, tag = word(), word()
    # (words of several lengths, longest line first: a line must not keep
    # the end of a longer one before it)
    lines = sorted((" ".join(word(random.randrange(1, 9)) for _ in range(random.randrange(1, 4)))
                    for _ in range(4)), key=len, reverse=True)
    con.run(f"echo {lines[0]} > /{f}")
    for line in lines[1:]:
        con.run(f"echo {line} >> /{f}")
    out = con.run(f"xargs echo {tag} < /{f}")
    assert out.splitlines() == [f"{tag} {line}" for line in lines], f"xargs printed:\n{out}"
    # an empty line runs the command with no more arguments, and goes on
    con.run(f"echo {lines[0]} > /{f}.gap; echo >> /{f}.gap; echo {lines[1]} >> /{f}.gap")
    out = con.run(f"xargs echo {tag} < /{f}.gap")
    assert out.splitlines() == [f"{tag} {lines[0]}", tag, f"{tag} {lines[1]}"], \
        f"xargs echo {tag} over a file with an empty line printed:\n{out}"
    # a command that reads its arguments as file names (no pipe: pipes
    # come with a later lab)
    con.run(f"echo /{f} > /{f}.list")
    out = con.run(f"xargs wc < /{f}.list")
    assert out.split()[:3] == ["4", str(sum(len(l.split()) for l in lines)),
                               str(sum(len(l) + 1 for l in lines))], f"xargs wc printed:\n{out}"
    # a command named by a path with a slash is taken as it is (relative to
    # the working directory); a bare name is looked up in "/"
    d = word()
    con.run(f"mkdir /{d}; cat /echo > /{d}/e")
    out = con.run(f"cd /{d}; xargs ./e {tag} < /{f}; xargs echo {tag} < /{f}")
    assert out.splitlines() == [f"{tag} {line}" for line in lines] * 2, \
        f"xargs ./e (in /{d}, a copy of echo), then xargs echo, printed:\n{out}"
    # errors on standard error; the exit status (a background job's, which
    # the shell reports) is 1 after any failure, else 0
    con.run("cd /")
    assert con.run("xargs > /x.out") == "usage: xargs command [args...]\n"
    out = con.run(f"xargs nosuch{tag} < /{f} > /x.out")
    assert re.fullmatch(rf"xargs: nosuch{tag}: [a-z ]+\n", out), f"xargs of a missing command printed:\n{out}"
    assert con.run("cat /x.out") == "", "xargs printed its errors on its standard output"
    con.run(f"echo /{f} > /{f}.bad; echo /nosuch{tag} >> /{f}.bad")
    expect_statuses(con, ((f"xargs echo {tag} < /{f} > /x1.out", 0), (f"xargs nosuch{tag} < /{f}", 1),
                          (f"xargs wc < /{f}.bad > /x2.out", 1), ("xargs", 1)))


@pytest.mark.points(3)
@pytest.mark.cpus(1)
def test_lines_from_the_host(boot, cpus, tmp_path):
    """Input made on the host: xargs runs a line of 511 bytes and refuses
    one of 512 (its buffer) and one with a word more than MAXARG arguments
    hold, each with a message on standard error, and goes on; a last line
    without a newline, of one byte too, still runs; find refuses a
    starting path of MAXPATH bytes, on standard error, with status 1."""
    tag = word(4)
    words = [word(20) for _ in range(24)]
    fit = " ".join(words + [word(7)])                         # 511 bytes
    long = " ".join(words + [word(8)])                        # 512
    most = " ".join(word(3) for _ in range(MAXARG - 2))      # echo, tag and these: MAXARG
    more = most + " " + word(3)
    assert len(fit) == 511 and len(long) == 512
    lines = [fit, long, most, more, tag, word(1)]
    start = "/" + "d" * (MAXPATH - 1)                        # MAXPATH bytes
    many = " ".join(word(2) for _ in range(3 * MAXARG))       # far more words than fit
    files = {"lines": "\n".join(lines).encode(),              # (no newline at the end)
             "long": f"{tag}\n{long}\n{tag}\n".encode(),     # (one line that does not fit,
             "many": f"{tag}\n{many}\n{tag}\n".encode(),     #  each kind alone)
             "findarg": f"{start} x\n{start[:-1]} x\n".encode()}
    con = boot("init", cpus=cpus, disk=conftest.disk_with(tmp_path, files))
    con.expect(r"^\$ ", timeout=30)
    out = con.run(f"xargs echo {tag} < /lines > /out")
    assert out == (f"xargs: a line of 512 bytes or more: not run\n"
                   f"xargs: more than {MAXARG} arguments: not run\n"), \
        f"xargs over lines of 511 and 512 bytes, of {MAXARG} and {MAXARG + 1} arguments, " \
        f"printed on standard error:\n{out}"
    out = con.run("cat /out")
    want = [f"{tag} {lines[i]}" for i in (0, 2, 4, 5)]
    assert out.splitlines() == want, \
        f"xargs echo {tag} printed (want the lines of 511 bytes and {MAXARG} arguments, " \
        f"then the two last, which have no newline between or after them):\n{out}"
    out = con.run("xargs find < /findarg > /out")
    assert out.splitlines()[0] == f"find: {start}: path too long", \
        f"find given a path of MAXPATH bytes printed on standard error:\n{out}"
    assert "path too long" not in "".join(out.splitlines()[1:]), \
        f"find refused a path of MAXPATH-1 bytes:\n{out}"
    assert con.run("cat /out") == "", "find printed its error on standard output"
    expect_statuses(con, (("xargs find < /findarg", 1), (f"xargs echo {tag} < /long > /out1", 1),
                          (f"xargs echo {tag} < /many > /out2", 1)))
    for out_file in ("/out1", "/out2"):
        out = con.run(f"cat {out_file}")
        assert out == f"{tag} {tag}\n" * 2, \
            f"xargs echo {tag} over a line that does not fit between two lines `{tag}` printed:\n{out}"
