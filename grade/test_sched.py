"""Lab "sched": user-level threads in one env (ulib/thread.c), preempted by
the kernel's timer upcall (CAUSE_TICK at the start of each time slice).
Each test boots `threadtest <part>` as the first env; the program checks
itself and the grader also reads what it printed.  The parts that depend
on preemption run at CPUS=1 and CPUS=3 (the env moves between harts).
"""

import re

import pytest

import console

LAB = "sched"
pytestmark = pytest.mark.lab(LAB)

INIT_EXITED = r"init exited with status (-?\d+)\n"
FORBID = r"FAIL|BROKEN|unhandled|killed|^lab sched: .*not written yet|panic"


def printed(con, regex, why):
    """Assert that the program printed a line (earlier in the transcript)."""
    assert re.search(regex, con.output, re.M), f"{why}: no /{regex}/ in the output"


def run_part(boot, cpus, part, timeout=30):
    """Boot threadtest <part>; wait for its pass line and status 0."""
    con = boot("threadtest", cpus=cpus, args=part, fail_on=[r"^panic:", FORBID])
    con.expect(console.ok("threadtest"), timeout=timeout)
    status = int(con.expect(INIT_EXITED)[1])
    assert status == 0, f"threadtest {part} exited with status {status}"
    return con


@pytest.mark.points(4)
def test_threads_preempted(boot, cpus):
    """Threads that never yield all progress; registers survive switches."""
    con = run_part(boot, cpus, "preempt")
    m = re.search(r"^threadtest: counts (\d+) (\d+) (\d+),", con.output, re.M)
    assert m and min(int(x) for x in m.groups()) > 0, "a spinning thread starved the others"


@pytest.mark.points(4)
def test_mutex_counter(boot, cpus):
    """A mutex-protected counter ends at the exact total under preemption."""
    con = run_part(boot, cpus, "mutex")
    m = re.search(r"^threadtest: (\d+) additions, counter (\d+)", con.output, re.M)
    assert m and m[1] == m[2], "the counter lost updates"


@pytest.mark.cpus(1)
@pytest.mark.points(3)
def test_yield_round_robin(boot, cpus):
    """thread_yield goes round robin; env_set_tick checks its arguments."""
    con = run_part(boot, cpus, "yield")
    printed(con, r"^threadtest: yield order ABCABCABC$", "not round robin")


@pytest.mark.cpus(1)
@pytest.mark.points(3)
def test_join_values(boot, cpus):
    """thread_join returns each thread's value; bad joins fail."""
    run_part(boot, cpus, "join")


@pytest.mark.cpus(1)
@pytest.mark.points(3)
def test_many_threads(boot, cpus):
    """20 threads at once, twice; every stack is private."""
    con = run_part(boot, cpus, "many")
    printed(con, r"^threadtest: 20 threads, twice$", "the threads did not all run")


@pytest.mark.cpus(1)
@pytest.mark.points(3)
def test_no_switch_in_handler(boot, cpus):
    """Ticks inside another upcall handler, or with preemption off, switch nothing."""
    run_part(boot, cpus, "nested")


@pytest.mark.cpus(1)
@pytest.mark.points(2)
def test_thread_exit(boot, cpus):
    """thread_exit from deep calls and from main; the last thread ends the env."""
    con = run_part(boot, cpus, "exit")
    printed(con, r"^threadtest: the child said: ok ", "the child's threads did not report")


@pytest.mark.cpus(1)
@pytest.mark.points(3)
def test_thread_limits(boot, cpus):
    """63 threads at most, then -E_NO_MEM (and main is still preempted);
    join gives every stack back to the heap; a thread in the slot of one
    that ended with preemption off is preempted."""
    con = run_part(boot, cpus, "limits")
    assert "a reused slot preempts" in con.output


@pytest.mark.cpus(1)
@pytest.mark.points(2)
def test_mutex_unlock_not_held(boot, cpus):
    """Unlocking a mutex one does not hold (a second unlock) panics: the
    env stops with a panic (its message is the implementation's)."""
    con = run_part(boot, cpus, "unlock")
    assert "an unlock by a thread not holding the mutex stops the env" in con.output


@pytest.mark.points(3)
def test_create_join_race(boot, cpus):
    """Four threads create and join threads of their own for 500 slices,
    preempted anywhere (inside thread_create and thread_join too): every
    child runs its own function with its own argument."""
    con = run_part(boot, cpus, "race", timeout=60)
    printed(con, r"^threadtest: \d+ creates and joins by 4 threads", "no summary")
