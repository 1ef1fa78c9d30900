"""Talk to a kernel booted under QEMU.

`Console` starts one QEMU process, collects everything it prints (the
transcript) on a reader thread, and lets a test wait for output with
`expect`, type input with `send`, and wait for QEMU to power off with
`wait_exit`.  Every failure raises `ConsoleError`, an AssertionError whose
message shows the transcript around the failure, so pytest reports it like
any failed assert.

How QEMU is started is decided by `qemu_command()`: it asks the Makefile
(`make qemu-cmd CPUS=<n>`) once per distinct setting and caches the answer.
GRADE_QEMU_CMD (a command line with an optional `{cpus}` placeholder)
replaces the Makefile, which is handy while bringing up a new kernel.

All timeouts are in seconds before scaling: each is multiplied by the float
in GRADE_TIMEOUT_SCALE (default 1) for slow machines.
"""

import codecs
import fcntl
import os
import re
import secrets
import select
import shlex
import shutil
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The run token: a random string made once per grading run.  The boot
# fixture passes it to the guest as the last boot argument ("token=<hex>"),
# ulib hands it to every program it spawns, and test programs print it in
# their pass line (ulib/check.c).  A pass line printed by anything that did
# not receive this run's token does not match.
TOKEN = secrets.token_hex(6)


def ok(prog):
    """The regex of prog's pass line: `<prog>: all OK <token>`."""
    return rf"^{re.escape(prog)}: all OK {TOKEN}\b"


DEFAULT_TIMEOUT = 30     # expect() and wait_exit() when no timeout is given
TAIL_LINES = 60          # transcript lines shown when something fails
PANIC = r"^panic:"       # a kernel panic; every boot fails fast on it


class ConsoleError(AssertionError):
    """A console expectation failed; the message carries the transcript."""


def timeout_scale():
    raw = os.environ.get("GRADE_TIMEOUT_SCALE", "").strip() or "1"
    try:
        scale = float(raw)
    except ValueError:
        raise ValueError(f"GRADE_TIMEOUT_SCALE={raw!r} is not a number")
    if scale <= 0:
        raise ValueError(f"GRADE_TIMEOUT_SCALE={raw!r} must be positive")
    return scale


def scaled(seconds):
    return seconds * timeout_scale()


# ---- how to start QEMU ----

_qemu_cmds = {}          # (cpus, icount) -> argv list, or a BootError to re-raise


class BootError(AssertionError):
    """QEMU could not be started (no command, make failed, ...)."""


def qemu_command(cpus, icount=False):
    """The QEMU argv (without -append) for this many harts, cached."""
    key = (cpus, bool(icount))
    if key not in _qemu_cmds:
        try:
            _qemu_cmds[key] = _ask_for_qemu_command(cpus, icount)
        except BootError as e:
            _qemu_cmds[key] = e
    cmd = _qemu_cmds[key]
    if isinstance(cmd, BootError):
        raise BootError(str(cmd))
    return list(cmd)


def _ask_for_qemu_command(cpus, icount):
    template = os.environ.get("GRADE_QEMU_CMD", "").strip()
    if template:
        return shlex.split(template.replace("{cpus}", str(cpus)))

    make = os.environ.get("GRADE_MAKE", "make")
    argv = [make, "-s", "--no-print-directory", "qemu-cmd", f"CPUS={cpus}"]
    if icount:
        argv.append("ICOUNT=1")
    # We are often run from inside `make grade`: drop the parent make's
    # flags (its jobserver pipes are not ours) and our own CPUS/ICOUNT.
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "CPUS", "ICOUNT")}
    what = " ".join(argv)
    try:
        r = subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=scaled(600))
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BootError(f"`{what}` could not run: {e}")
    if r.returncode != 0:
        raise BootError(f"`{what}` failed (status {r.returncode}):\n"
                        f"{r.stdout}{r.stderr}".rstrip())
    # The command is the last line that mentions qemu; anything before it
    # (say, a build that make decided to do first) is ignored.
    lines = [l for l in r.stdout.splitlines() if "qemu" in l]
    if not lines:
        raise BootError(f"`{what}` printed no QEMU command:\n{r.stdout}".rstrip())
    return shlex.split(lines[-1])


def _deathsig_prefix():
    # Ask Linux to kill QEMU if the grader dies without cleaning up
    # (killed by CI, say).  setpriv is in util-linux; skip it if absent.
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return []
    try:
        r = subprocess.run([setpriv, "--pdeathsig", "KILL", "true"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return []
    return [setpriv, "--pdeathsig", "KILL", "--"] if r.returncode == 0 else []


_deathsig = None
_live = set()            # every Console whose QEMU may still be running
_live_lock = threading.Lock()


def kill_all():
    """Kill every QEMU this process started that is still running."""
    with _live_lock:
        consoles = list(_live)
    for c in consoles:
        c.kill()


# ---- the console ----

class Console:
    """One running QEMU and its transcript.

    expect(regex, timeout)  wait for regex in output not yet matched; returns
                            the re.Match (indices into .output); moves the
                            cursor past the match
    send(text)              type text on the console (stdin of QEMU)
    wait_exit(timeout)      wait until QEMU powers off; returns .output
    poll_exit(timeout)      same, but returns True/False instead of failing
    assert_no(regex)        fail if regex occurs anywhere in .output
    output                  the transcript so far ("\\r" removed)
    raw_output              the same as bytes, "\\r" kept
    pause_reading()         stop reading QEMU's output until resume_reading()
    returncode              QEMU's exit status, None while running
    kill()                  stop QEMU now (the boot fixture does this for you)

    Regexes are strings compiled with re.MULTILINE (so ^ and $ work per
    line) or compiled patterns.  Output arrives in pieces, so a pattern
    that ends in an open-ended part (`\\d+` at the very end) can match a
    line that is still being printed: end such patterns with `\\n`.
    """

    def __init__(self, argv, name="qemu", fail_on=(PANIC,), cwd=ROOT):
        global _deathsig
        if _deathsig is None:
            _deathsig = _deathsig_prefix()
        self.name = name
        self.argv = list(argv)
        self.pos = 0                     # expect() searches from here
        self.started = time.monotonic()
        if isinstance(fail_on, (str, re.Pattern)):
            fail_on = [fail_on]
        self._fail_on = [_compile(p) for p in (fail_on or ())]
        self._text = ""
        self._raw = b""                  # the bytes as QEMU wrote them ("\r" kept)
        self._eof = False
        self._hold = self._held = False  # pause_reading()
        self._cond = threading.Condition()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        try:
            self.proc = subprocess.Popen(
                _deathsig + self.argv, cwd=cwd,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            raise BootError(f"cannot start QEMU ({e}): {shlex.join(self.argv)}")
        with _live_lock:
            _live.add(self)
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name=f"console-{name}")
        self._reader.start()

    def __repr__(self):
        return f"<Console {self.name} pid={self.proc.pid}>"

    # -- reading --

    def _read(self):
        fd = self.proc.stdout.fileno()
        poller = select.poll()           # (select() fails on descriptors past 1023)
        poller.register(fd, select.POLLIN)
        while True:
            with self._cond:
                while self._hold:                # pause_reading(): read nothing
                    self._held = True
                    self._cond.notify_all()
                    self._cond.wait()
                self._held = False
            try:
                # (a bounded wait, so that a pause never finds a read in
                # progress that would take some of what QEMU writes next)
                if not poller.poll(50):
                    continue
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            text = self._decoder.decode(data, final=not data).replace("\r", "")
            with self._cond:
                self._text += text
                self._raw += data
                if not data:
                    self._eof = True
                self._cond.notify_all()
            if not data:
                return

    @property
    def output(self):
        with self._cond:
            return self._text

    @property
    def raw_output(self):
        """The transcript as bytes, exactly as QEMU wrote them (with the
        "\r"s that .output drops)."""
        with self._cond:
            return self._raw

    @property
    def returncode(self):
        return self.proc.poll()

    # -- waiting --

    def expect(self, regex, timeout=None):
        pat = _compile(regex)
        limit = scaled(DEFAULT_TIMEOUT if timeout is None else timeout)
        deadline = time.monotonic() + limit
        with self._cond:
            while True:
                m = pat.search(self._text, self.pos)
                self._check_fail_on()
                if m:
                    self.pos = m.end()
                    return m
                if self._eof:
                    status = self._reap()
                    self._fail(f"QEMU exited ({_status_text(status)}) before "
                               f"/{pat.pattern}/ appeared")
                left = deadline - time.monotonic()
                if left <= 0:
                    self._fail(f"timed out after {limit:g}s waiting for "
                               f"/{pat.pattern}/")
                self._cond.wait(left)

    def poll_exit(self, timeout=None):
        """Wait up to timeout for QEMU to exit by itself; True if it did."""
        limit = scaled(DEFAULT_TIMEOUT if timeout is None else timeout)
        deadline = time.monotonic() + limit
        with self._cond:
            while not self._eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        # stdout closed: QEMU is exiting; give it a moment to be reaped.
        try:
            self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
        self._reader.join(1)
        return True

    def wait_exit(self, timeout=None):
        """Wait for QEMU to power off by itself; returns the transcript."""
        limit = scaled(DEFAULT_TIMEOUT if timeout is None else timeout)
        if not self.poll_exit(timeout):
            with self._cond:
                self._fail(f"QEMU did not power off within {limit:g}s")
        with self._cond:
            self._check_fail_on()
            return self._text

    def assert_no(self, regex, what=None):
        """Fail if regex matches anywhere in the transcript so far."""
        pat = _compile(regex)
        with self._cond:
            m = pat.search(self._text)
            if m:
                self._fail(f"{what or 'unexpected output'}: /{pat.pattern}/ "
                           f"matched {m.group(0)!r}", at=m.start())

    def _check_fail_on(self):
        # called with self._cond held
        for pat in self._fail_on:
            m = pat.search(self._text)
            if m:
                self._settle()      # collect the rest of, say, a panic
                self._fail(f"/{pat.pattern}/ appeared", at=m.start())

    def _settle(self, quiet=0.5, limit=3.0):
        """Wait (self._cond held) until output pauses for `quiet` seconds,
        QEMU exits, or `limit` seconds pass."""
        deadline = time.monotonic() + limit
        while not self._eof:
            size = len(self._text)
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(min(quiet, left))
            if len(self._text) == size:
                return

    # -- a terminal that stops reading --

    def pause_reading(self):
        """Stop reading QEMU's output (returns once the reader is parked).
        What QEMU writes fills the pipe, output_capacity() bytes; then the
        UART's writes fail and it reports its transmit side busy, as a
        real UART does when the terminal is slow."""
        with self._cond:
            self._hold = True
            while not self._held and not self._eof:
                self._cond.wait(1)

    def resume_reading(self):
        with self._cond:
            self._hold = False
            self._cond.notify_all()

    def output_capacity(self):
        """How many bytes QEMU's output pipe holds while we do not read."""
        return fcntl.fcntl(self.proc.stdout.fileno(), fcntl.F_GETPIPE_SZ)

    # -- writing --

    def send(self, text):
        """Type text on the console.  Ctrl-A (QEMU's escape key) is doubled
        so that it reaches the guest instead of QEMU's monitor."""
        if self.proc.poll() is not None:
            with self._cond:
                self._fail(f"cannot send {text!r}: QEMU has exited "
                           f"({_status_text(self.proc.returncode)})")
        data = text.replace("\x01", "\x01\x01").encode()
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            with self._cond:
                self._fail(f"cannot send {text!r}: QEMU closed its input")

    def monitor(self, command, answer=r"\(qemu\) ", timeout=10):
        """Give QEMU's monitor one command (Ctrl-A c switches the console
        to the monitor and back), e.g. "block_set_io_throttle x0 0 0 0 1 0 0"
        to slow the disk to one request a second.  Waits for the regex
        answer after the command line and returns the re.Match.  Does not
        move expect()'s cursor."""
        self.send("")                        # (fails if QEMU has exited)
        start = len(self._text)
        pat = _compile(r"(?s)" + re.escape(command) + r".*?" + answer)
        self.proc.stdin.write(b"\x01c" + command.encode() + b"\r\x01c")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = pat.search(self._text, start)
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    self._fail(f"QEMU's monitor did not answer {command!r} with /{answer}/", at=start)
                self._cond.wait(min(0.2, left))

    def disk_requests(self):
        """How many requests the disk has served (reads plus writes), from
        the monitor's info blockstats."""
        m = self.monitor("info blockstats",
                         rf"^{re.escape(self.drive_id())}: .*?rd_operations=(\d+) wr_operations=(\d+)")
        return int(m.group(1)) + int(m.group(2))

    def drive_id(self):
        """The id of the disk's -drive (for monitor commands)."""
        for arg in self.argv:
            m = re.search(r"(?:^|,)id=([^,]+)", arg)
            if m and "file=" in arg:
                return m.group(1)
        raise AssertionError(f"no -drive with an id in {self.argv}")

    # -- the shell --

    def run(self, cmd, timeout=None):
        """At the shell's prompt (already printed), type cmd and return what
        the shell and the command printed before the next prompt."""
        self.send(cmd + "\r")
        self.expect(re.escape(cmd) + r"\n", timeout)      # the console's echo
        start = self.pos
        m = self.expect(r"^\$ ", timeout)
        with self._cond:
            return self._text[start:m.start()]

    # -- benchmarks --

    def check_bench(self, targets):
        """Every `bench <name> <n> insn/...` line printed so far, checked
        against targets (name: upper bound): none missing, none over."""
        with self._cond:
            got = {name: int(n) for name, n in
                   re.findall(r"^bench (\w+) (\d+) insn/", self._text, re.M)}
        missing = [b for b in targets if b not in got]
        assert not missing, f"benchmarks missing from the output: {missing}"
        over = {b: (got[b], t) for b, t in targets.items() if got[b] > t}
        assert not over, f"over target (measured, target): {over}"

    # -- stopping --

    def _reap(self):
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        """Stop QEMU (if running) and release its pipes.  Idempotent."""
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.resume_reading()            # (a test that failed while paused)
        self._reader.join(2)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        with _live_lock:
            _live.discard(self)

    # -- reporting --

    def tail(self, lines=TAIL_LINES):
        """The last lines of the transcript, indented for a report."""
        with self._cond:
            return _excerpt(self._text, len(self._text), lines, 0)

    def _fail(self, message, at=None):
        # called with self._cond held
        t = time.monotonic() - self.started
        if at is None:
            where = "the end"
            body = _excerpt(self._text, len(self._text), TAIL_LINES, 0)
        else:
            where = "around the match, marked >>"
            body = _excerpt(self._text, at, TAIL_LINES // 2, TAIL_LINES // 4)
        raise ConsoleError(f"{self.name}: {message} (at {t:.1f}s)\n"
                           f"QEMU: {shlex.join(self.argv)}\n"
                           f"console transcript ({where}):\n{body}")


def _compile(regex):
    if isinstance(regex, re.Pattern):
        return regex
    return re.compile(regex, re.MULTILINE)


def _status_text(status):
    if status is None:
        return "still running"
    if status < 0:
        return f"killed by signal {-status}"
    return f"status {status}"


def _banner_lines(text):
    """How many lines OpenSBI's banner takes at the start of text: they
    end with the "Boot HART ..." block.  0 if there is no banner."""
    head = text[:16384]
    if "OpenSBI" not in head:
        return 0
    ends = [m.end() for m in re.finditer(r"^Boot HART [^\n]*\n", head, re.M)]
    if not ends:
        return 0
    end = ends[-1]
    if text.startswith("\n", end):       # and the blank line after it
        end += 1
    return text.count("\n", 0, end)


def _excerpt(text, at, before, after):
    """Lines of text around offset at: `before` lines up to and including
    the line holding `at`, and `after` lines following it.  That line is
    marked with >> when after > 0."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        return "    (no output)"
    idx = min(text.count("\n", 0, at), len(lines) - 1)
    lo = max(0, idx - before + 1)
    hi = min(len(lines), idx + 1 + after)
    out = []
    banner = _banner_lines(text)
    if lo < banner <= idx:
        out.append(f"    ... ({banner} lines of firmware banner)")
        lo = banner
    elif lo > 0:
        out.append(f"    ... ({lo} earlier lines)")
    for i in range(lo, hi):
        mark = ">> " if after and i == idx else "   "
        out.append(f" {mark}{lines[i]}")
    if hi < len(lines):
        out.append(f"    ... ({len(lines) - hi} later lines)")
    return "\n".join(out)
