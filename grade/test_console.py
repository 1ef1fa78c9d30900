"""Lab "driver": the console is a user-level UART driver in its own env,
fed by PLIC interrupts that the kernel exports.  The grader types at it.
"""

import re
import time

import pytest

import console

LAB = "base"
pytestmark = pytest.mark.lab(LAB)


# Line editing is lab driver's line discipline; its stub passes typed bytes
# through raw and says so at boot, which fails these tests at once.
NO_DRIVER = r"^lab driver: .* not written yet"


def start_echoin(boot, cpus):
    con = boot("echoin", cpus=cpus, fail_on=[r"^panic:", NO_DRIVER])
    con.expect(r"^echoin: type lines")
    return con


@pytest.mark.points(4)
@pytest.mark.lab("driver")
def test_typed_lines_and_editing(boot, cpus):
    con = start_echoin(boot, cpus)
    con.send("hello\r")
    con.expect(r"^echoin: got \[hello\]")
    con.send("worx\x7fld\r")               # DEL erases the x, on the screen too
    con.expect(r"worx\x08 \x08ld")
    con.expect(r"^echoin: got \[world\]")
    con.send("abc\x08\x08\x08xyz\r")       # backspace
    con.expect(r"^echoin: got \[xyz\]")
    con.send("junk\x15kept\r")             # Ctrl-U kills the line
    con.expect(r"^echoin: got \[kept\]")
    assert re.search(r"junk(\x08 \x08){4}kept\n", con.output), \
        "Ctrl-U did not erase the line on the screen (four times back, space, back, and nothing else)"
    con.send("lost\x03")                   # Ctrl-C throws the line away
    con.expect(r"\^C")
    con.send("\x7f\x08last\r")             # DEL and backspace on an empty line: nothing
    got = con.expect(r"^echoin: got \[(.*)\]\n")
    assert got[1] == "last", got[0]
    assert "lost^C\nlast\n" in con.output, \
        "Ctrl-C echoes ^C and a newline, and erasing an empty line echoes nothing"
    con.send("\x04")                       # Ctrl-D on an empty line: EOF
    m = con.expect(r"^echoin: (\d+) lines, (\d+) bytes, read returned (-?\d+)")
    assert (m[1], m[2], m[3]) == ("5", "26", "0"), m[0]
    assert "lost" not in con.output.split("^C")[-1], "Ctrl-C did not discard"
    raw = con.raw_output                   # a newline goes out as "\r\n", echoed or written
    assert b"hello\r\n" in raw and b"echoin: got [hello]\r\n" in raw, "newlines without carriage returns"
    status = int(con.expect(r"init exited with status (-?\d+)")[1])
    assert status == 0


@pytest.mark.points(3)
@pytest.mark.lab("driver")
def test_slow_reader_and_long_line(boot, cpus):
    """Lines typed while nobody reads wait in the console's input buffer
    (4096 bytes); what does not fit is dropped, never written over what is
    waiting.  A line holds at most 255 bytes.  Receive interrupts are on
    from the start: `echoin -w` prints its banner on the kernel's console
    and waits before its first read, so the console has written nothing
    when the first key arrives."""
    ticks = max(50, round(console.scaled(5) * 10))     # (typing it all takes about a second)
    con = boot("echoin", cpus=cpus, args=f"-w {ticks}", fail_on=[r"^panic:", NO_DRIVER])
    con.expect(r"^echoin: type lines, Ctrl-D to end\n")   # (whole: the echo must not mix into it)
    fill = [chr(ord("a") + i % 26) + f"{i:014d}" for i in range(256)]   # 256 x 16 bytes: 4096
    over = ["X" + f"{i:014d}" for i in range(4)]
    # A line at a time, each once the last is echoed: QEMU 7.2's console
    # multiplexer (mon:stdio) can drop bytes when its 32-byte buffer fills
    # while the UART has room, which pasting 4 KiB at once can make happen
    # on a loaded host (a whole line was seen lost that way).
    for line in fill + over:
        con.send(line + "\r")
        echo = con.expect(re.escape(line) + r"\n", timeout=10)
    assert "echoin: reading" not in con.output[:echo.start()], \
        "typed lines were echoed only after the program wrote: receive interrupts were off until then"
    con.expect(r"^echoin: reading\n")
    start = con.pos
    con.expect(r"^echoin: got ")            # (some room in the buffer again: not dropped)
    con.send("after\r")
    con.expect(r"^echoin: got \[.*after\]\n")
    got = re.findall(r"^echoin: got \[(.*)\]$", con.output[start:], re.M)
    assert got[:len(fill)] == fill, \
        f"the lines that filled the input buffer came out changed (first of {len(got)}: {got[:2]})"
    assert got[len(fill):] == ["after"], \
        f"input that did not fit was not dropped: after the buffer's lines came {got[len(fill):][:3]}"
    start = con.pos
    con.send("b" * 300 + "\r")             # a line holds 255; the rest is ignored
    first = con.expect(r"^echoin: got \[(b*)\]\n")
    con.expect(r"^echoin: got \[\]\n")       # (echoin reads at most 255: the newline comes next)
    assert len(first[1]) == 255, f"a long line kept {len(first[1])} bytes, not 255"
    assert "b" * 255 + "\n" in con.output[start:] and "b" * 256 not in con.output[start:], \
        "the bytes ignored past 255 were echoed"
    con.send("\x04")
    con.expect(r"^echoin: 259 lines, 4358 bytes, read returned 0")


@pytest.mark.points(2)
@pytest.mark.lab("driver")
def test_ctrl_d_ends_a_partial_line(boot, cpus):
    con = start_echoin(boot, cpus)
    con.send("part\x04")                   # Ctrl-D with text: the line ends
    con.expect(r"echoin: got \[part\]")       # (after the echoed "part")
    con.send("\x04")
    con.expect(r"^echoin: 1 lines, 4 bytes, read returned 0")


@pytest.mark.points(2)
@pytest.mark.lab("driver")
def test_end_of_input_ends_one_read(boot, cpus):
    """Ctrl-D ends the read it answers, and only that one: the shell, the
    next reader, waits for new input (twice, so that a driver that forgets
    the end of input only after some other read is caught too)."""
    con = boot("init", cpus=cpus, fail_on=[r"^panic:", NO_DRIVER])
    con.expect(r"^\$ ", timeout=30)
    for i in range(2):
        con.send("echoin\r")
        con.expect(r"^echoin: type lines")
        con.send("\x04")
        con.expect(r"^echoin: 0 lines, 0 bytes, read returned 0")
        con.expect(r"^\$ ", timeout=30)
        time.sleep(0.5)                     # (a shell given a second end of input exits)
        assert "init exited" not in con.output, "the shell read an end of input nobody typed"
        assert "echo-ok" in con.run(f"echo echo-ok{i}"), con.tail()


@pytest.mark.points(2)
@pytest.mark.lab("driver")
def test_ctrl_p_lists_envs(boot, cpus):
    con = start_echoin(boot, cpus)
    con.send("\x10")
    con.expect(r"^[0-9a-f]{8} parent 00000000 runnable")    # init
    con.expect(r"^[0-9a-f]{8} parent [0-9a-f]{8} +runnable +pages")
    con.send("\x04")
    con.expect(r"read returned 0")


@pytest.mark.points(3)
@pytest.mark.lab("upcall")         # (an interrupt delivered as an upcall)
def test_interrupt_as_upcall(boot, cpus):
    """A driver that claims the UART with IRQ_UPCALL gets a typed key as an
    upcall in the middle of its computation, which goes on intact."""
    con = boot("irqupcall", cpus=cpus, fail_on=[r"^panic:", r"FAIL"])
    con.expect(r"^irqupcall: computing; type a key")
    con.send("k")
    con.expect(r"^irqupcall: got 'k' by \d+ upcall", timeout=60)
    con.expect(console.ok("irqupcall"))


@pytest.mark.points(3)
def test_several_readers(boot, cpus):
    """Two envs wait for input at once: each gets one whole line; a reader
    killed while waiting takes no input with it."""
    con = boot("consreaders", cpus=cpus, fail_on=[r"^panic:", r"FAIL"])
    con.expect(r"^consreaders: two readers waiting")
    con.send("one\r")
    first = con.expect(r"^consreaders: reader ([0-9a-f]+) got \[(\w*)\]")
    con.send("two\r")
    second = con.expect(r"^consreaders: reader ([0-9a-f]+) got \[(\w*)\]")
    assert {first[2], second[2]} == {"one", "two"}, (first[0], second[0])
    assert first[1] != second[1], "one reader got both lines"
    con.expect(r"^consreaders: type a line for the parent")
    con.send("three\r")
    con.expect(r"^consreaders: parent got \[three\]")
    con.expect(console.ok("consreaders"))


@pytest.mark.points(3)
@pytest.mark.lab("driver")
def test_readers_wait_in_line(boot, cpus):
    """The driver's readers' queue: three envs wait at the console at once
    and each gets one whole line, in a page that is then its alone (the
    console keeps no view of it); a reader killed while it waits takes no
    input with it."""
    con = boot("consreaders", cpus=cpus, args="3", fail_on=[r"^panic:", r"FAIL", NO_DRIVER])
    con.expect(r"^consreaders: 3 readers waiting")
    got = {}
    for word in ("one", "two", "three"):
        con.send(word + "\r")
        m = con.expect(r"^consreaders: reader ([0-9a-f]+) got \[(\w*)\]", timeout=10)
        assert m[1] not in got, f"reader {m[1]} got two lines: {got[m[1]]!r} and {m[2]!r}"
        got[m[1]] = m[2]
    assert sorted(got.values()) == ["one", "three", "two"], got
    con.expect(r"^consreaders: type a line for the parent")
    con.send("four\r")
    con.expect(r"^consreaders: parent got \[four\]")
    con.expect(console.ok("consreaders"))


def env_runs(con):
    """Ctrl-P's list: {env id: runs}."""
    start = len(con.output)
    con.send("\x10")
    time.sleep(0.5)
    text = con.output[start:]
    return {e: int(r) for e, r in re.findall(r"^([0-9a-f]{8}) parent .* runs (\d+)$", text, re.M)}


@pytest.mark.points(5)
@pytest.mark.lab("driver")
def test_idle_console_uses_no_cpu(boot, cpus):
    """With the shell waiting for a line, nothing runs: the console driver
    sleeps until the UART interrupts (a polling driver runs all the time)."""
    con = boot("init", cpus=cpus)
    con.expect(r"^\$ ", timeout=30)
    time.sleep(0.5)
    before = env_runs(con)
    time.sleep(1.0)
    after = env_runs(con)
    assert before and after, "Ctrl-P listed no envs"
    busy = {e: after[e] - before.get(e, 0) for e in after if after[e] - before.get(e, 0) > 10}
    assert not busy, f"envs that ran while the console was idle (env: times run in 1.5 s): {busy}"
    assert con.run("echo still here") == "still here\n"


@pytest.mark.points(3)
@pytest.mark.lab("driver")
def test_output_to_a_slow_terminal(boot, cpus):
    """The grader stops reading QEMU's output, and `consflood` writes more
    than the way to the grader holds (QEMU's pipe): the UART stays busy and
    some 600 bytes wait in the console's output ring (it must hold at least
    1 KiB).  The write returns
    at once all the same (the console does not wait for the UART), and when
    the grader reads again the rest comes out by itself, every byte, in
    order (the transmit interrupt moves it; nobody types or writes)."""
    con = boot("consflood", cpus=cpus, fail_on=[r"^panic:", NO_DRIVER])
    con.expect(r"^consflood: ready")
    n = con.output_capacity() + 512       # (+ n / 1024 "\r"s: some 600 bytes)
    pause = console.scaled(2.5)           # (the write itself takes some 0.2 s)
    con.pause_reading()
    con.send(f"{n}\r")
    time.sleep(pause)
    con.resume_reading()
    start = con.pos
    m = con.expect(r"^consflood: wrote (-?\d+) bytes in (\d+) ms\n", timeout=10)
    assert int(m[1]) == n, m[0]
    assert int(m[2]) < pause * 1000 * 0.8, \
        f"the write took {m[2]} ms: it waited for the terminal (the console waited for the UART)"
    lines = re.findall(r"^consflood (\d{6}) 0{1006}$", con.output[start:m.start()], re.M)
    assert lines == [f"{i:06d}" for i in range(n // 1024)], \
        f"lines lost or out of order: {len(lines)} of {n // 1024} came out whole"
    tail = f"consflood {n // 1024:06d} ".ljust(n % 1024, "0")      # a line's first n % 1024 bytes
    assert re.search(rf"^{tail}\n", con.output[start:m.end()], re.M), \
        "the last bytes of the write were lost"
    con.send("\x04")
    con.expect(r"init exited with status 0")
