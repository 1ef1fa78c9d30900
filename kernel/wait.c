// Blocking on memory and on time: the mechanism behind every wait in the
// library OS (pipes, locks, wait, sleep).  An env sleeps in the kernel
// until a 64-bit word it maps changes (a futex-like pair keyed by the
// physical word, so envs that share the page meet there), until a
// deadline, until an upcall is posted to it, or until its word's page
// loses a mapping or (a public record) is changed by the kernel: the
// other end of a pipe is gone, a child exited, pages were freed.
// Wake-ups may be spurious:
// the library re-reads the word.  The kernel keeps no policy here: which
// word, when to wake and how long to wait are the library's.
// All functions need klock.
#include "defs.h"

#define NWAITQ 64                       // hash buckets of waiters, by page

static struct env *waitq[NWAITQ];       // each a list through wait_next
static uint64 next_deadline = ~0UL;     // the earliest deadline of a waiter (time CSR)

// The bucket of a word: by its page, so that the waiters on a page (the
// words of a pipe; the records of 64 envs) are all in one bucket.
static inline int bucket(uint64 key) { return ((key >> PGSHIFT) ^ (key >> 18)) % NWAITQ; }

// The key of user word va in e (its physical address), or 0 if it is not
// a readable, 8-byte aligned word of e's RAM.
static uint64 word_key(struct env *e, uint64 va, uint64 **kword)
{
  if (va & 7)
    return 0;
  uint64 *k = uaddr(e, va, PTE_R);
  if (!k)
    return 0;
  if (kword)
    *kword = k;
  return KPA(k);
}

// Take waiting env e off its bucket and make it runnable with result r.
static void unblock(struct env *e, int64 r)
{
  for (struct env **p = &waitq[bucket(e->wait_key)]; *p; p = &(*p)->wait_next)
    if (*p == e) {
      *p = e->wait_next;
      break;
    }
  e->wait_next = 0;
  e->ipc = IPC_NONE;
  e->tf.a0 = r;
}

// SYS_mwait(va, expected, deadline, refs): if the word at va still holds
// expected, sleep until SYS_mwake on that word, until the time CSR reaches
// deadline (0: no deadline), until an upcall is posted to e, or until the
// word's page loses a mapping.  refs (0: not checked) is the number of
// mappings the caller saw in the page's public record when it decided to
// sleep; if it has changed, that wake-up has already happened (a pipe's
// other end closed between the look and the call), so do not sleep.
// Result: 0 when woken (perhaps spuriously), -E_AGAIN if the word (or the
// count) differs already, -E_TIMEOUT at the deadline.  From slow_syscall;
// returns only to resume e.
void mwait(struct env *e)
{
  struct trapframe *tf = &e->tf;
  uint64 *k, deadline = tf->a2;
  uint64 key = word_key(e, tf->a0, &k);
  if (!key) {
    tf->a0 = tf->a0 & 7 ? -E_INVAL : -E_FAULT;
    return;
  }
  if (*k != tf->a1 || (tf->a3 && pagepubs[(key >> PGSHIFT) - PPN_BASE].refs != tf->a3)) {
    tf->a0 = -E_AGAIN;
    return;
  }
  if (deadline && deadline <= r_time()) {
    tf->a0 = -E_TIMEOUT;
    return;
  }
  if (e->upcall_pending || e->dying) {   // let the upcall run first
    tf->a0 = 0;
    return;
  }
  pflags[(key >> PGSHIFT) - PPN_BASE] |= PF_WAITED;   // see wait_page_event()
  e->wait_key = key;
  e->wait_deadline = deadline;
  e->wait_next = waitq[bucket(key)];
  waitq[bucket(key)] = e;
  if (deadline && deadline < next_deadline)
    next_deadline = deadline;
  e->ipc = IPC_WAIT;
  schedule();
}

// Wake up to n (0: all) envs asleep on the word at physical address key.
static int64 wake_key(uint64 key, uint64 n)
{
  int64 woken = 0;
  for (struct env *w = waitq[bucket(key)], *next; w && (n == 0 || (uint64)woken < n); w = next) {
    next = w->wait_next;
    if (w->wait_key == key) {
      unblock(w, 0);
      woken++;
    }
  }
  if (woken)
    wake_idle();
  return woken;
}

// SYS_mwake(va, n): wake up to n envs (n 0: all) sleeping on the word at
// va; the number woken.  A short system call: the woken run when a hart
// is free (idle harts are woken).
uint64 sys_mwake(uint64 va, uint64 n, uint64 a2, uint64 a3, uint64 a4, uint64 a5)
{
  (void)a2, (void)a3, (void)a4, (void)a5;
  struct env *e = mycpu()->env;
  int64 woken;
  acquire(&klock);
  uint64 key = word_key(e, va, 0);
  if (!key) {
    release(&klock);
    return va & 7 ? -E_INVAL : -E_FAULT;
  }
  woken = wake_key(key, n);
  release(&klock);
  return woken;
}

// The kernel changed the word at physical address pa (a receive slot):
// wake every env asleep on it.
void wait_wake_pa(uint64 pa) { wake_key(pa, 0); }

// An upcall was posted to e, or it is going away: if it sleeps in mwait,
// it wakes now (result 0).
void wait_cancel(struct env *e)
{
  if (e->ipc == IPC_WAIT) {
    unblock(e, 0);
    wake_idle();
  }
}

// The timer fired: wake the waiters whose deadline has passed, with
// -E_TIMEOUT.  Cheap unless the earliest deadline has come.
void wait_expire(void)
{
  uint64 now = r_time();
  if (now < next_deadline)
    return;
  next_deadline = ~0UL;
  int woke = 0;
  for (int i = 0; i < NENV; i++) {
    struct env *e = &envs[i];
    if (e->status == ENV_FREE || e->ipc != IPC_WAIT || !e->wait_deadline)
      continue;
    if (e->wait_deadline <= now) {
      unblock(e, -E_TIMEOUT);
      woke = 1;
    } else if (e->wait_deadline < next_deadline)
      next_deadline = e->wait_deadline;
  }
  if (woke)
    wake_idle();
}

// Something happened to page ppn that its waiters may be waiting for: it
// lost a mapping (a pipe's other end closed or died, a lock's holder
// died), or it is a public record the kernel changed (usys->nfree, an
// env's child_exits).  Wake every env asleep on a word of it (they
// re-check: a spurious wake-up is allowed).  Called when PF_WAITED is set.
void wait_page_event(uint64 ppn)
{
  int woke = 0;
  for (struct env *w = waitq[bucket(ppn << PGSHIFT)], *next; w; w = next) {
    next = w->wait_next;
    if (w->wait_key >> PGSHIFT == ppn) {
      unblock(w, 0);
      woke = 1;
    }
  }
  pflags[ppn - PPN_BASE] &= ~PF_WAITED;
  if (woke)
    wake_idle();
}

// When an idle hart must look again: the earliest deadline (~0: none).
uint64 wait_next_deadline(void) { return next_deadline; }
