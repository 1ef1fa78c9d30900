// User-level threads inside one env, preempted by the kernel's timer upcall.
// The kernel knows nothing of threads: it only tells the env, with a
// CAUSE_TICK upcall, that one of its time slices begins.  Which thread runs
// in that slice is decided here, round robin.  A thread that is not running
// keeps its registers in its struct thread; a switch moves them through the
// upcall frame: the handler saves the frame's registers (the interrupted
// thread's) into that thread and copies the next thread's registers into
// the frame, and upentry.S's return then resumes the next thread.  Both a
// preemption (tick) and a voluntary thread_yield (a breakpoint) switch this
// way, so every thread's saved state has one shape: a struct trapframe.
#include "lib.h"

#define NTHREAD   64                   // threads per env, the main one included
#define STACKSIZE (16 * 1024)          // a new thread's stack (malloc'd, lazily mapped)

enum { T_FREE, T_RUNNABLE, T_EXITED };

struct thread {
  struct trapframe ctx;                // its registers while another thread runs
  int state;                           // T_*
  int nopreempt;                       // thread_preempt_off() depth
  void *stack;                         // from malloc (0: the main thread's own)
  void *ret;                           // thread_exit's value, for thread_join
};

static struct thread threads[NTHREAD]; // threads[0] is main()'s thread
static int current;                    // the running thread
static int started;                    // the handlers are in, ticks are on
static int resched __attribute__((unused));   // a tick came while preemption was off
static struct thread_stats stats;

extern char thread_yield_trap[];       // the ebreak in thread_yield()

// Did this upcall interrupt another upcall handler rather than a thread?
// Then sp was on the exception stack, and the frame holds that handler's
// registers.  Switching would park the half-run handler as a thread while
// its stack and the outer frame stay on the exception stack, which is one
// per env: the next upcall in the next thread starts at the top again and
// writes over them.
__attribute__((unused))                // (in a student tree, until the handlers use it)
static int in_handler(struct uframe *f)
{
  return f->tf.sp > UXSTACKTOP - UXSTACKSIZE && f->tf.sp <= UXSTACKTOP;
}

// Switch threads through the frame f of an upcall that interrupted the
// running thread: save f's registers into the current thread, choose the
// next runnable thread round robin (the current one if no other can run),
// and load its registers into f.  When the upcall returns, the chosen
// thread runs.  If no thread is runnable (all have exited), the env exits
// with status 0.
__attribute__((unused))                // (likewise)
static void thread_switch(struct uframe *f)
{
  // BEGIN LAB sched: save f->tf in the current thread, pick the next runnable one round robin, load it into f->tf
  threads[current].ctx = f->tf;
  int next = -1;
  for (int i = 1; i <= NTHREAD; i++) {
    int t = (current + i) % NTHREAD;  // ends with current itself
    if (threads[t].state == T_RUNNABLE) {
      next = t;
      break;
    }
  }
  if (next < 0)
    exit(0);                          // the last thread has exited
  current = next;
  f->tf = threads[next].ctx;
  // END LAB sched: lab_todo("sched", "thread_switch"); exit(1);
}

// CAUSE_TICK: a time slice begins.  Preempt the running thread, unless
// the tick interrupted another upcall handler (then the next tick will do)
// or the thread turned preemption off (then it yields when it turns it on).
static int tick_upcall(struct uframe *f)
{
  stats.ticks++;
  // BEGIN LAB sched: tick_upcall: switch threads, unless the tick interrupted another handler (count it in stats.nested) or the running thread has preemption off (count stats.deferred, remember to yield later); count real switches in stats.preemptions
  if (in_handler(f)) {
    stats.nested++;
    return 1;
  }
  if (threads[current].nopreempt) {
    stats.deferred++;
    resched = 1;
    return 1;
  }
  resched = 0;
  int was = current;
  thread_switch(f);
  if (current != was)
    stats.preemptions++;
  return 1;
  // END LAB sched: return lab_todo_once("sched", "tick_upcall"), (void)f, 1;
}

// CAUSE_BREAKPOINT: thread_yield()'s ebreak (others' breakpoints are not
// ours: return 0 and let the next handler see them).
static int yield_upcall(struct uframe *f)
{
  if (f->tf.pc != (uint64)thread_yield_trap)
    return 0;
  stats.yields++;
  // BEGIN LAB sched: step over the 4-byte ebreak; unless inside another handler, switch to the next thread
  f->tf.pc += 4;
  if (!in_handler(f))
    thread_switch(f);
  return 1;
  // END LAB sched: lab_todo("sched", "thread_yield"); exit(1);
}

// The first thread_create: main() becomes thread 0, the handlers go in,
// and the kernel starts sending ticks.  0 or a negative error.
static int threads_start(void)
{
  if (started)
    return 0;
  threads[0].state = T_RUNNABLE;
  current = 0;
  set_handler(CAUSE_TICK, tick_upcall);
  set_handler(CAUSE_BREAKPOINT, yield_upcall);
  int r = sys_env_set_tick(0, 1);
  if (r < 0)
    return r;
  started = 1;
  return 0;
}

// Where a new thread starts (its pc; fn and arg arrive in a0 and a1).
static void thread_main(void *(*fn)(void *), void *arg)
{
  thread_exit(fn(arg));
}

// Start a thread running fn(arg), runnable at once (the caller goes on
// running until its slice ends or it yields).  Its id (> 0), or -E_NO_MEM
// (no free thread, or no memory for its stack).
int thread_create(void *(*fn)(void *), void *arg)
{
  int r = threads_start();
  if (r < 0)
    return r;
  // BEGIN LAB sched: a free struct thread, a stack, registers that start thread_main(fn, arg); its id
  thread_preempt_off();                // malloc and the table are not thread-safe
  int t;
  for (t = 1; t < NTHREAD && threads[t].state != T_FREE; t++)
    ;
  char *stack = t < NTHREAD ? malloc(STACKSIZE) : 0;
  if (!stack) {
    thread_preempt_on();
    return -E_NO_MEM;
  }
  struct thread *th = &threads[t];
  memset(&th->ctx, 0, sizeof th->ctx);
  th->ctx.pc = (uint64)thread_main;
  th->ctx.sp = ((uint64)stack + STACKSIZE) & ~15UL;
  th->ctx.a0 = (uint64)fn;
  th->ctx.a1 = (uint64)arg;
  th->stack = stack;
  th->ret = 0;
  th->nopreempt = 0;
  th->state = T_RUNNABLE;              // last: now a tick may switch to it
  thread_preempt_on();
  return t;
  // END LAB sched: return lab_todo("sched", "thread_create"), (void)fn, (void)arg, (void)thread_main, -E_NOSYS;
}

// Give the CPU to the next runnable thread.  An ebreak that yield_upcall
// recognises by its address; .option norvc keeps it 4 bytes long.  (Not
// inlined: the label must exist once.)
__attribute__((noinline)) void thread_yield(void)
{
  if (!started)
    return;
  asm volatile(".option push\n"
               ".option norvc\n"
               ".globl thread_yield_trap\n"
               "thread_yield_trap:\n"
               "  ebreak\n"
               ".option pop\n" ::: "memory");
}

// End the calling thread; ret is what thread_join hands over.  The env
// exits (status 0) when its last thread does.
void thread_exit(void *ret)
{
  if (!started)
    exit(0);                           // no thread was ever made: main() alone
  // BEGIN LAB sched: record ret, mark the thread exited, and switch away for good
  threads[current].ret = ret;          // (before the state: a joiner may look any time)
  threads[current].state = T_EXITED;
  thread_yield();                      // never comes back: it is not runnable
  // END LAB sched: lab_todo("sched", "thread_exit"); exit(1);
  panic("thread_exit: an exited thread ran again");
}

// Wait for thread tid to exit; store its value in *ret (if ret is not 0)
// and free it (its id may then be reused).  0, or -E_INVAL (no such
// thread, or tid is the caller).
int thread_join(int tid, void **ret)
{
  if (tid < 0 || tid >= NTHREAD || tid == current)
    return -E_INVAL;
  // BEGIN LAB sched: thread_join: wait (yielding) until tid has exited, hand over its value, free its stack and its slot; -E_INVAL if there is no such thread (or another joiner took it)
  for (;;) {
    thread_preempt_off();
    struct thread *t = &threads[tid];
    if (t->state == T_FREE) {          // (or another joiner got there first)
      thread_preempt_on();
      return -E_INVAL;
    }
    if (t->state == T_EXITED) {
      if (ret)
        *ret = t->ret;
      free(t->stack);
      t->stack = 0;
      t->state = T_FREE;
      thread_preempt_on();
      return 0;
    }
    thread_preempt_on();
    thread_yield();
  }
  // END LAB sched: return lab_todo("sched", "thread_join"), (void)ret, -E_NOSYS;
}

int thread_self(void) { return current; }

// Preemption off and on for the calling thread (they nest).  The library
// OS itself is not thread-safe: malloc, printf and the file and console
// calls share buffers, so threads that use them at the same time do it
// with preemption off or under one mutex.  A tick that comes meanwhile is
// remembered, and thread_preempt_on() yields for it.
void thread_preempt_off(void) { threads[current].nopreempt++; }

void thread_preempt_on(void)
{
  // BEGIN LAB sched: thread_preempt_on: undo one thread_preempt_off; when preemption comes back on and a tick was deferred meanwhile, yield for it
  struct thread *t = &threads[current];
  if (t->nopreempt > 0 && --t->nopreempt == 0 && resched) {
    resched = 0;
    thread_yield();
  }
  // END LAB sched: lab_todo_once("sched", "thread_preempt_on");
}

void thread_get_stats(struct thread_stats *s) { *s = stats; }

// A mutex: a ticket lock whose waiters yield.  Tickets make it fair: a
// thread that unlocks and locks again at once (it still has its slice)
// queues behind the threads already waiting, instead of taking the lock
// back every time while they yield in vain.  The threads of one env never
// run at the same time, but the atomic add keeps a preemption between
// reading and bumping the ticket harmless.
void mutex_init(struct mutex *m)
{
  m->next = m->serving = 0;
  m->owner = -1;
}

void mutex_lock(struct mutex *m)
{
  // BEGIN LAB sched: mutex_lock: a ticket lock (fair: first come, first served) whose waiters yield; record the owner
  uint32 ticket = __atomic_fetch_add(&m->next, 1, __ATOMIC_ACQUIRE);
  while (m->serving != ticket)
    thread_yield();
  m->owner = current;
  // END LAB sched: lab_todo_once("sched", "mutex_lock"), (void)m;
}

void mutex_unlock(struct mutex *m)
{
  // BEGIN LAB sched: mutex_unlock: panic unless the caller holds it; serve the next ticket
  if (m->owner != current)
    panic("mutex_unlock: thread %d does not hold it (owner %d)", current, m->owner);
  m->owner = -1;
  __atomic_store_n(&m->serving, m->serving + 1, __ATOMIC_RELEASE);
  // END LAB sched: lab_todo_once("sched", "mutex_unlock"), (void)m;
}

int mutex_held(struct mutex *m) { return m->next != m->serving; }
