"""Waiting never spins: programs that wait (a long sleep, a pipe reader, a
shell waiting for its job, a console reader, clients of a file server that
waits for the disk) cost the host almost no CPU,
because envs block in the kernel (SYS_mwait, blocking PCT) and idle harts
sleep in wfi with the timer set only for the next deadline.

The grader reads QEMU's own CPU time from /proc.  The idle test needs the
shell, `sleep`, pipes and an interrupt-driven console (lab driver: a
polled console makes its readers poll); the wake-up stress test needs
pipes (lab ipc).
"""

import os
import time

import pytest

import console
from test_console import env_runs


def cpu_seconds(pid):
    """User plus system CPU time of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.points(4)
@pytest.mark.lab("driver")
def test_waiting_programs_use_no_host_cpu(boot, cpus):
    """While every program waits, QEMU uses under 0.25 s of host CPU in 5 s
    and no env runs more than a few tens of times.  The waiters: a long sleep, a
    pipe reader (wc), a shell in wait for its program, the interactive
    shell reading the console, and two shells that are clients of the file
    server (one served, one queued) while the server waits for a disk
    slowed, through QEMU's monitor, to one request a second."""
    con = boot("init", cpus=cpus)
    con.expect(r"^\$ ", timeout=30)
    con.run("echo 'sleep 1000' > job")
    con.run("sh job &")                     # a parent in wait
    con.run("sleep 1000 | wc &")
    con.run("echo 'echo x > f' > j1")       # 256 small writes: seconds of disk work
    for n in (2, 4, 8, 16, 32, 64, 128, 256):
        con.run(f"cat j{n // 2} j{n // 2} > j{n}")
    con.run("sh j256 &")
    con.run("sh j256 &")
    disk = con.drive_id()
    con.monitor(f"block_set_io_throttle {disk} 0 0 0 1 0 0")
    time.sleep(1.0)                         # let everybody reach its wait
    pid = con.proc.pid
    runs = env_runs(con)
    requests = con.disk_requests()
    before = cpu_seconds(pid)
    time.sleep(5.0)
    used = cpu_seconds(pid) - before
    requests = con.disk_requests() - requests
    after = env_runs(con)
    con.monitor(f"block_set_io_throttle {disk} 0 0 0 0 0 0")
    assert runs and after, "Ctrl-P listed no envs"
    # (the file server runs about once per disk request and client call,
    # some tens of times in 5 s, more if it writes a block per request, as
    # lab fs's stub log does; a spinning env runs thousands of times)
    busy = {e: after[e] - runs.get(e, 0) for e in after if after[e] - runs.get(e, 0) > 200}
    assert not busy, f"envs that ran while everything waited (env: times run in 5 s): {busy}"
    assert used < 0.25, f"QEMU used {used:.2f} s of host CPU in 5 s while every program waited"
    # The file server was busy with the disk all along.
    assert requests >= 3, f"the disk served {requests} requests in 5 s: the file server was not busy"
    assert con.run("echo still here", timeout=60) == "still here\n"


@pytest.mark.points(4)
@pytest.mark.lab("ipc")
def test_no_wakeup_is_lost(boot, cpus):
    """user/wakestress: three pipes with three writers and three readers
    each (every record read exactly once), readers killed while asleep on
    an empty pipe, and wakes racing with deadlines.  A lost wake-up hangs
    it (the timeout fails the test)."""
    con = boot("wakestress", cpus=cpus, fail_on=[r"^panic:", r"FAIL"])
    con.expect(r"^wakestress: 2700 records through 3 pipes", timeout=60)
    con.expect(r"^wakestress: 20 rounds of killed sleepers", timeout=60)
    con.expect(r"^wakestress: 60 rounds of wakes against deadlines", timeout=60)
    con.expect(console.ok("wakestress"), timeout=30)
