// User-level threads (ulib/thread.c) preempted by the kernel's timer
// upcall.  One part per run, named by the argument:
//   preempt  threads that never yield all make progress (so do we)
//   mutex    a counter under a mutex, with preemptions inside the critical
//            section, ends exactly at the sum of every thread's additions
//   yield    with ticks off, thread_yield goes round robin; the
//            env_set_tick system call checks its arguments
//   join     join hands back each thread's value, in any order; bad joins
//   many     20 threads at once, twice (ids reused), each stack its own
//   nested   a tick inside another upcall handler, or while preemption is
//            off, switches nothing
//   exit     thread_exit deep in a call chain, from main(); the env ends
//            when its last thread does; main's id is not handed out again
//   limits   63 threads at most (then E_NO_MEM, and preemption still
//            works); join gives the stacks back; a reused slot preempts
//   unlock   unlocking a mutex one does not hold panics
//   race     threads that create and join threads, preempted anywhere
// No argument: all of them, in one run.
// Threads here never print or allocate: the library is not thread-safe.
#include "lib.h"

#define NSPIN 3
static volatile uint64 spins[NSPIN];
static volatile int stop, go;

static uint64 slices(uint64 n) { return n * usys->slice_ticks; }

// Spin on the clock (no yield) for n time slices.
static void spin_slices(uint64 n)
{
  uint64 t0 = rdtime();
  while (rdtime() - t0 < slices(n))
    ;
}

// thread_create, or give up at once (a missing thread would hang the join).
static int start(void *(*fn)(void *), void *arg)
{
  int t = thread_create(fn, arg);
  if (t <= 0) {
    check(0, "thread_create returned %d", t);
    exit(check_report());
  }
  return t;
}

// Load seed+k into every register but a0, s0, sp and gp (gp is the upcall
// return's), spin n times, and return how many registers changed.  Run
// in threads that get preempted: a switch must restore them all.
extern uint64 hold_regs(uint64 seed, uint64 n);
asm(".globl hold_regs\n"
    "hold_regs:\n"
    "  addi sp, sp, -128\n"
    "  sd ra, 0(sp); sd tp, 8(sp); sd s0, 16(sp); sd s1, 24(sp); sd s2, 32(sp); sd s3, 40(sp)\n"
    "  sd s4, 48(sp); sd s5, 56(sp); sd s6, 64(sp); sd s7, 72(sp); sd s8, 80(sp); sd s9, 88(sp)\n"
    "  sd s10, 96(sp); sd s11, 104(sp)\n"
    "  sd zero, 112(sp)\n"
    "  mv s0, a1\n"
    "  addi ra, a0, 1; addi tp, a0, 2; addi t0, a0, 3; addi t1, a0, 4; addi t2, a0, 5\n"
    "  addi s1, a0, 6; addi a1, a0, 7\n"
    "  addi a2, a0, 8; addi a3, a0, 9; addi a4, a0, 10; addi a5, a0, 11; addi a6, a0, 12\n"
    "  addi a7, a0, 13; addi s2, a0, 14\n"
    "  addi s3, a0, 15; addi s4, a0, 16; addi s5, a0, 17; addi s6, a0, 18; addi s7, a0, 19\n"
    "  addi s8, a0, 20; addi s9, a0, 21\n"
    "  addi s10, a0, 22; addi s11, a0, 23; addi t3, a0, 24; addi t4, a0, 25; addi t5, a0, 26; addi t6, a0, 27\n"
    "1: addi s0, s0, -1\n"
    "  bnez s0, 1b\n"
    "  addi s0, a0, 7; beq a1, s0, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 1; beq ra, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 2; beq tp, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 3; beq t0, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 4; beq t1, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 5; beq t2, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 6; beq s1, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 8; beq a2, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 9; beq a3, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 10; beq a4, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 11; beq a5, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 12; beq a6, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 13; beq a7, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 14; beq s2, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 15; beq s3, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 16; beq s4, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 17; beq s5, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 18; beq s6, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 19; beq s7, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 20; beq s8, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 21; beq s9, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 22; beq s10, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 23; beq s11, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 24; beq t3, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 25; beq t4, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 26; beq t5, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  addi a1, a0, 27; beq t6, a1, 2f; ld s0, 112(sp); addi s0, s0, 1; sd s0, 112(sp)\n2:\n"
    "  ld a0, 112(sp)\n"
    "  ld ra, 0(sp); ld tp, 8(sp); ld s0, 16(sp); ld s1, 24(sp); ld s2, 32(sp); ld s3, 40(sp)\n"
    "  ld s4, 48(sp); ld s5, 56(sp); ld s6, 64(sp); ld s7, 72(sp); ld s8, 80(sp); ld s9, 88(sp)\n"
    "  ld s10, 96(sp); ld s11, 104(sp)\n"
    "  addi sp, sp, 128\n"
    "  ret\n");

static void *spinner(void *arg)
{
  int i = (int)(uint64)arg;
  while (!stop)
    spins[i]++;
  return (void *)spins[i];
}

static volatile uint64 badregs[NSPIN];

// Like spinner, with every register in use across preemptions (5000
// iterations in hold_regs per count).
static void *holder(void *arg)
{
  int i = (int)(uint64)arg;
  while (!stop) {
    badregs[i] += hold_regs(1000 * i, 5000);
    spins[i]++;
  }
  return (void *)spins[i];
}

// Three threads count without ever yielding, every register in use, while
// main spins on the clock without yielding either: only preemption lets
// them all run, and the switches must keep each one's registers.
static void test_preempt(void)
{
  int tid[NSPIN];
  for (int i = 0; i < NSPIN; i++)
    tid[i] = start(holder, (void *)(uint64)i);
  uint64 mine = 0, t0 = rdtime();
  while (rdtime() - t0 < slices(40))
    mine++;
  stop = 1;
  struct thread_stats st;
  thread_get_stats(&st);
  uint64 lo = ~0UL, hi = 0;
  for (int i = 0; i < NSPIN; i++) {
    void *v;
    check(thread_join(tid[i], &v) == 0, "join thread %d", tid[i]);
    check((uint64)v == spins[i], "thread %d returned %lu, counted %lu", tid[i], (uint64)v, spins[i]);
    lo = spins[i] < lo ? spins[i] : lo;
    hi = spins[i] > hi ? spins[i] : hi;
  }
  printf("threadtest: counts %lu %lu %lu, main %lu; %lu ticks, %lu preemptions\n", spins[0],
         spins[1], spins[2], mine, st.ticks, st.preemptions);
  check(lo > 0, "a thread that never yields starved another: not preempted");
  check(badregs[0] + badregs[1] + badregs[2] == 0, "%lu registers changed across preemptions",
        badregs[0] + badregs[1] + badregs[2]);
  check(st.preemptions >= NSPIN, "only %lu preemptions in 40 slices", st.preemptions);
  check(lo * 8 >= hi, "round robin is far from fair: counts from %lu to %lu", lo, hi);
}

#define NADD 4
static struct mutex mu;
static volatile uint64 shared;
static uint64 contended[NADD];

static uint64 t_start;

static void *adder(void *arg)
{
  int i = (int)(uint64)arg;
  uint64 n = 0;
  while (rdtime() - t_start < slices(30)) {
    if (mutex_held(&mu))
      contended[i]++;               // its holder was preempted in the critical section
    mutex_lock(&mu);
    uint64 v = shared;
    for (volatile int k = 0; k < 1000; k++) // a wide window for a tick to land in
      ;
    shared = v + 1;
    mutex_unlock(&mu);
    n++;
  }
  return (void *)n;
}

static void test_mutex(void)
{
  int tid[NADD];
  mutex_init(&mu);
  t_start = rdtime();
  for (int i = 0; i < NADD; i++)
    tid[i] = start(adder, (void *)(uint64)i);
  uint64 sum = 0, waits = 0;
  for (int i = 0; i < NADD; i++) {
    void *v;
    check(thread_join(tid[i], &v) == 0, "join thread %d", tid[i]);
    check((uint64)v > 0, "thread %d never got the mutex", tid[i]);
    sum += (uint64)v;
    waits += contended[i];
  }
  struct thread_stats st;
  thread_get_stats(&st);
  printf("threadtest: %lu additions, counter %lu; the lock was found held %lu times; %lu preemptions\n",
         sum, shared, waits, st.preemptions);
  check(shared == sum, "the counter is %lu, the threads added %lu", shared, sum);
  check(waits > 0, "no thread ever found the mutex held: no preemption inside it?");
  check(!mutex_held(&mu), "the mutex is still held");
}

#define NLOG 3
static char order[64];
static volatile int norder;

static void *logger(void *arg)
{
  while (!go)
    thread_yield();
  for (int i = 0; i < NLOG; i++) {
    order[norder++] = (char)(uint64)arg;
    thread_yield();
  }
  return 0;
}

static void test_yield(void)
{
  int tid[3];
  for (int i = 0; i < 3; i++)
    tid[i] = start(logger, (void *)(uint64)('A' + i));
  check(sys_env_set_tick(0, 0) == 0, "env_set_tick(me, 0)");
  struct thread_stats before, after;
  thread_get_stats(&before);
  go = 1;
  for (int i = 0; i < 3; i++)
    check(thread_join(tid[i], 0) == 0, "join thread %d", tid[i]);
  thread_get_stats(&after);
  order[norder] = 0;
  printf("threadtest: yield order %s\n", order);
  check(strcmp(order, "ABCABCABC") == 0, "yields went %s, not round robin ABCABCABC", order);
  check(after.ticks == before.ticks, "%lu ticks came after env_set_tick(me, 0)", after.ticks - before.ticks);
  check(after.yields > before.yields, "thread_yield never reached the breakpoint handler");

  // The system call's argument checks.
  expect_err(sys_env_set_tick(0, 2), E_INVAL, "env_set_tick(me, 2)");
  expect_err(sys_env_set_tick(0, -1), E_INVAL, "env_set_tick(me, -1)");
  expect_err(sys_env_set_tick(0x7ffff, 1), E_BAD_ENV, "env_set_tick(no such env, 1)");
  envid_t me = sys_getenvid();
  envid_t child = fork();
  if (child == 0) {                       // not my parent: refused
    exit(sys_env_set_tick(me, 1) == -E_BAD_ENV && sys_env_set_tick(0, 1) == 0 ? 0 : 1);
  }
  check(child > 0, "fork: %d", child);
  int status = -1;
  waitenv(child, &status);
  check(status == 0, "a child could set its parent's ticks (or not its own)");
  check(sys_env_set_tick(0, 1) == 0, "env_set_tick(me, 1)");
}

#define NJOIN 5
static int selves[NJOIN];

static void *square(void *arg)
{
  uint64 x = (uint64)arg;
  selves[x] = thread_self();
  for (int i = 0; i < 10 * (int)x; i++)
    thread_yield();
  return (void *)(x * x + 7);
}

static void test_join(void)
{
  int tid[NJOIN];
  check(thread_self() == 0, "main is thread %d, not 0", thread_self());
  for (int i = 0; i < NJOIN; i++)
    tid[i] = start(square, (void *)(uint64)i);
  for (int i = NJOIN - 1; i >= 0; i--) {  // the last one finishes last: waits here
    void *v = (void *)1;
    check(thread_join(tid[i], &v) == 0, "join thread %d", tid[i]);
    check((uint64)v == (uint64)(i * i + 7), "thread %d returned %lu, not %d", tid[i], (uint64)v,
          i * i + 7);
    check(selves[i] == tid[i], "thread %d says it is %d", tid[i], selves[i]);
  }
  expect_err(thread_join(tid[0], 0), E_INVAL, "joining a thread twice");
  expect_err(thread_join(0, 0), E_INVAL, "joining myself");
  expect_err(thread_join(-1, 0), E_INVAL, "thread_join(-1)");
  expect_err(thread_join(1000, 0), E_INVAL, "thread_join(1000)");
}

#define NMANY 20
static volatile int running;

// Fill a stack buffer with a pattern, yield and get preempted a while,
// check the pattern: every thread has a stack of its own.
static void *worker(void *arg)
{
  uint64 x = (uint64)arg;
  uint64 buf[128];
  running++;                             // (threads of one env never run at once)
  for (int i = 0; i < 128; i++)
    buf[i] = x * 1000 + i;
  uint64 t0 = rdtime();
  int rounds = 0;
  while (rounds < 3 || rdtime() - t0 < slices(2)) {
    thread_yield();
    rounds++;
  }
  int bad = 0;
  for (int i = 0; i < 128; i++)
    bad += buf[i] != x * 1000 + i;
  if (x % 2)
    thread_exit((void *)(x + (bad ? 1000000 : 0)));
  return (void *)(x + (bad ? 1000000 : 0));
}

static void test_many(void)
{
  for (int round = 0; round < 2; round++) {
    int tid[NMANY];
    running = 0;
    for (int i = 0; i < NMANY; i++)
      tid[i] = start(worker, (void *)(uint64)(round * 100 + i));
    for (int i = 0; i < NMANY; i++) {
      void *v;
      check(thread_join(tid[i], &v) == 0, "join thread %d", tid[i]);
      check((uint64)v == (uint64)(round * 100 + i), "thread %d returned %lu (>= 1000000: its stack changed)",
            tid[i], (uint64)v);
    }
    check(running == NMANY, "%d threads ran, not %d", running, NMANY);
  }
  printf("threadtest: %d threads, twice\n", NMANY);
}

// A breakpoint handler that runs for several slices: the ticks that come
// meanwhile nest inside it and must not switch threads.
extern char nest_bp[];
__attribute__((noinline)) static void breakpoint(void)
{
  asm volatile(".option push\n.option norvc\n.globl nest_bp\nnest_bp: ebreak\n.option pop" ::: "memory");
}

static int slow_handler(struct uframe *f)
{
  if (f->tf.pc != (uint64)nest_bp)
    return 0;
  uint64 before[NSPIN];
  for (int i = 0; i < NSPIN; i++)
    before[i] = spins[i];
  int self = thread_self();
  spin_slices(10);
  int moved = 0;
  for (int i = 0; i < NSPIN; i++)
    moved += spins[i] != before[i];
  check(moved == 0, "%d threads ran while an upcall handler ran", moved);
  check(thread_self() == self, "the handler came back as thread %d, not %d", thread_self(), self);
  f->tf.pc += 4;
  return 1;
}

static void test_nested(void)
{
  int tid[NSPIN];
  for (int i = 0; i < NSPIN; i++)
    tid[i] = start(spinner, (void *)(uint64)i);
  spin_slices(4);                        // let them all start
  struct thread_stats s0, s1, s2;
  set_handler(CAUSE_BREAKPOINT, slow_handler);
  thread_get_stats(&s0);
  breakpoint();
  thread_get_stats(&s1);
  check(s1.nested - s0.nested >= 2, "only %lu ticks arrived inside the handler in 10 slices",
        s1.nested - s0.nested);

  // Preemption off: the ticks are held back, and the yield comes at _on.
  thread_preempt_off();
  uint64 before[NSPIN];
  for (int i = 0; i < NSPIN; i++)
    before[i] = spins[i];
  spin_slices(10);
  int moved = 0;
  for (int i = 0; i < NSPIN; i++)
    moved += spins[i] != before[i];
  thread_get_stats(&s2);
  check(moved == 0, "%d threads ran while preemption was off", moved);
  check(s2.deferred > s1.deferred, "no tick was held back while preemption was off");
  check(s2.preemptions == s1.preemptions, "preempted while preemption was off");
  thread_preempt_on();                   // yields now
  moved = 0;
  for (int i = 0; i < NSPIN; i++)
    moved += spins[i] != before[i];
  check(moved == NSPIN, "preemption back on, yet only %d threads ran", moved);
  stop = 1;
  for (int i = 0; i < NSPIN; i++)
    check(thread_join(tid[i], 0) == 0, "join thread %d", tid[i]);
  printf("threadtest: %lu ticks inside a handler, %lu held back\n", s1.nested - s0.nested,
         s2.deferred - s1.deferred);
}

static int exitfd;
static int t_deep;

static volatile uint64 depth;

// thread_exit from n calls down; returns only if thread_exit did.
__attribute__((noinline)) static uint64 dive(uint64 n)
{
  depth++;
  if (n > 0)
    return dive(n - 1) + 1;
  if (depth > 0)                         // (always: keeps gcc from calling it endless)
    thread_exit((void *)99);
  return 0;
}

static void *deep(void *arg)
{
  dive((uint64)arg);
  write(exitfd, "deep returned\n", 14);  // thread_exit came back
  return (void *)1;
}

// Waits for deep() and for main() (which exits first), reports on the pipe.
static void *seven(void *arg) { (void)arg; return (void *)7; }

static void *watcher(void *arg)
{
  void *a = 0, *b = 0, *c = 0;
  int ra = thread_join(t_deep, &a);
  int rb = thread_join(0, &b);
  int tc = thread_create(seven, 0);      // (slot 0 is free now, but 0 is not a new id)
  int rc = tc > 0 ? thread_join(tc, &c) : tc;
  char msg[80];
  int n = snprintf(msg, sizeof msg, "%s %d %lu %d %lu %d %lu\n", ra == 0 && (uint64)a == 99 &&
                   rb == 0 && (uint64)b == 42 && tc > 0 && rc == 0 && (uint64)c == 7 ? "ok" : "bad",
                   ra, (uint64)a, rb, (uint64)b, tc, (uint64)c);
  write(exitfd, msg, n);
  return 0;                              // the last thread: the env exits, status 0
}

// Read fd until end of file (or buf is full) and end the text with a 0:
// how a parent collects what a child wrote down a pipe.  The byte count.
static int read_to_end(int fd, char *buf, int size)
{
  int n = 0, r;
  while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
    n += r;
  buf[n] = 0;
  return n;
}

static void test_exit(void)
{
  int fds[2];
  check(pipe(fds) == 0, "pipe");
  envid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    exitfd = fds[1];
    t_deep = start(deep, (void *)5);
    start(watcher, 0);
    thread_exit((void *)42);             // main() ends; the others go on
    exit(3);                             // (not reached)
  }
  close(fds[1]);
  check(child > 0, "fork: %d", child);
  char buf[96];
  int n = read_to_end(fds[0], buf, sizeof buf);
  int status = -1;
  waitenv(child, &status);
  printf("threadtest: the child said: %s", n ? buf : "nothing\n");
  check(strncmp(buf, "ok ", 3) == 0, "thread_exit and join across main's exit: %s", n ? buf : "no report");
  check(status == 0, "the child exited with %d, not 0 (after its last thread ended)", status);
}

// The table's limits.  Slots 1..NTHREAD-1 (63) are handed out, then
// -E_NO_MEM, after which preemption still works; stacks go back to the
// heap at join; a new thread starts with preemption on even in the slot of
// one that exited with it off.
#define NTSLOT 63
static volatile int parked_out;

static void *parked(void *arg)
{
  while (!go)
    thread_yield();
  parked_out++;
  return arg;
}

static void *exits_unpreemptible(void *arg)
{
  thread_preempt_off();                  // and never on again: the thread ends so
  return arg;
}

static void test_limits(void)
{
  uint64 heap0 = 0;
  for (int round = 0; round < 3; round++) {
    int tid[NTSLOT + 1], n = 0, r = 0;
    uint64 seen = 0;
    go = 0;
    parked_out = 0;
    while (n <= NTSLOT && (r = thread_create(parked, (void *)(uint64)(n + 1))) > 0) {
      check(r <= NTSLOT && !(seen & (1UL << r)), "thread_create gave id %d (ids %lx so far)", r, seen);
      seen |= 1UL << (r & 63);
      tid[n++] = r;
    }
    check(n == NTSLOT && r == -E_NO_MEM, "round %d: %d threads, then %d (want %d, then E_NO_MEM)",
          round, n, r, NTSLOT);
    go = 1;
    spin_slices(6);                        // no yield: only a preemption lets them out
    check(parked_out > 0, "after thread_create failed, main was never preempted");
    for (int i = 0; i < n; i++) {
      void *v;
      check(thread_join(tid[i], &v) == 0 && (uint64)v == (uint64)(i + 1), "join %d", tid[i]);
    }
    if (check_failures())
      return;
    uint64 top = (uint64)sbrk(0);
    if (round == 0)
      heap0 = top;
    else
      check(top == heap0, "round %d: the heap grew by %lu bytes: joined threads' stacks were not freed",
            round, top - heap0);
  }
  // Every slot but one taken, so that the next two threads share it
  // (whichever free slot an implementation picks first).
  int tid[NTSLOT], n = 0;
  go = 0;
  while (n < NTSLOT - 1 && (tid[n] = thread_create(parked, 0)) > 0)
    n++;
  check(n == NTSLOT - 1, "only %d parked threads", n);
  int t = start(exits_unpreemptible, 0);
  check(thread_join(t, 0) == 0, "join %d", t);
  check(thread_join(t, 0) == -E_INVAL, "a join of a free slot");   // (and preemption stays on)
  stop = 0;
  spins[0] = 0;
  int t2 = start(spinner, 0);              // the only free slot: t's
  check(t2 == t, "the slot was not reused: %d, then %d", t, t2);
  spin_slices(4);                          // it runs, and must be preempted for us to go on
  stop = 1;
  check(spins[0] > 0 && thread_join(t2, 0) == 0, "the spinner in a reused slot");
  go = 1;
  for (int i = 0; i < n; i++)
    check(thread_join(tid[i], 0) == 0, "join parked %d", tid[i]);
  // Alone now: thread_preempt_on yields only for a tick it held back.
  struct thread_stats s1, s2;
  thread_get_stats(&s1);
  uint64 t0 = rdtime();
  while (rdtime() - t0 < slices(16)) {    // ticks come as often with preemption off as on
    thread_preempt_off();
    for (uint64 t1 = rdtime(); rdtime() - t1 < usys->slice_ticks / 3;)
      ;
    thread_preempt_on();
    for (uint64 t1 = rdtime(); rdtime() - t1 < usys->slice_ticks / 3;)
      ;
  }
  thread_get_stats(&s2);
  check(s2.deferred > s1.deferred && s2.yields - s1.yields == s2.deferred - s1.deferred,
        "%lu ticks, %lu held back, and thread_preempt_on yielded %lu times", s2.ticks - s1.ticks,
        s2.deferred - s1.deferred, s2.yields - s1.yields);
  printf("threadtest: %d threads at most, three times; a reused slot preempts\n", NTSLOT);
}

// Four threads create and join threads of their own for 500 slices, while
// ticks preempt them anywhere: inside thread_create and thread_join too,
// which must work with preemption off (the table and malloc are shared).
// Each checks that its child ran its own function with its own argument.
#define NRACE 4
static volatile uint64 race_bad[NRACE], race_done[NRACE];

static void *echo(void *arg) { return arg; }

static void *creator(void *arg)
{
  uint64 k = (uint64)arg;
  while (!stop) {
    uint64 want = k << 32 | race_done[k];
    int t = thread_create(echo, (void *)want);
    void *v = 0;
    if (t <= 0 || thread_join(t, &v) != 0 || (uint64)v != want)
      race_bad[k]++;
    race_done[k]++;
  }
  return 0;
}

static void test_race(void)
{
  int tid[NRACE];
  for (int k = 0; k < NRACE; k++)
    tid[k] = start(creator, (void *)(uint64)k);
  uint64 t0 = rdtime();
  while (rdtime() - t0 < slices(500))
    thread_yield();                      // (the ticks should land in the creators' code)
  stop = 1;
  uint64 bad = 0, done = 0;
  for (int k = 0; k < NRACE; k++) {
    check(thread_join(tid[k], 0) == 0, "join creator %d", tid[k]);
    bad += race_bad[k];
    done += race_done[k];
  }
  struct thread_stats st;
  thread_get_stats(&st);
  printf("threadtest: %lu creates and joins by %d threads, %lu preemptions\n", done, NRACE,
         st.preemptions);
  check(bad == 0, "%lu of %lu creates and joins went wrong under preemption", bad, done);
  check(done >= 100, "only %lu creates and joins", done);
}

// Unlocking a mutex one does not hold (here: once more after unlocking
// it) is a panic with a message, in a child whose standard error we read.
static void test_unlock(void)
{
  int fds[2];
  if (!check(pipe(fds) == 0, "pipe"))
    return;
  envid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    close(2);
    dup(fds[1]);
    close(fds[1]);
    struct mutex m;
    mutex_init(&m);
    mutex_lock(&m);
    mutex_unlock(&m);
    mutex_unlock(&m);                    // not held any more
    exit(0);
  }
  close(fds[1]);
  char buf[160];
  read_to_end(fds[0], buf, sizeof buf);
  close(fds[0]);
  int status = 0;
  waitenv(child, &status);
  int panicked = 0;                      // (panic's own words: any message will do)
  for (int i = 0; buf[i] && !panicked; i++)
    panicked = strncmp(buf + i, "user panic in env", 17) == 0;
  check(status != 0 && panicked,
        "a second mutex_unlock: status %d, and it said \"%s\" (want a panic)", status, buf);
  printf("threadtest: an unlock by a thread not holding the mutex stops the env\n");
}

int main(int argc, char **argv)
{
  static const struct { const char *name; void (*fn)(void); } parts[] = {
    { "exit", test_exit },               // first: it forks before any thread exists
    { "preempt", test_preempt }, { "mutex", test_mutex }, { "yield", test_yield },
    { "join", test_join }, { "many", test_many }, { "nested", test_nested },
    { "limits", test_limits }, { "unlock", test_unlock }, { "race", test_race },
  };
  int ran = 0;
  for (int i = 0; i < (int)(sizeof parts / sizeof parts[0]); i++)
    if (argc < 2 || strcmp(argv[1], parts[i].name) == 0) {
      stop = go = 0;
      for (int k = 0; k < NSPIN; k++)
        spins[k] = 0;
      parts[i].fn();
      ran++;
    }
  if (!ran) {
    printf("usage: threadtest [preempt|mutex|yield|join|many|nested|exit|limits|unlock|race]\n");
    return 1;
  }
  return check_report();
}
