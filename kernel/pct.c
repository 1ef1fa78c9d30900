// Protected control transfer: the fast way between envs.  A receiver waits
// in pct_recv; a caller hands it the CPU and the rest of its slice with
// three words, its env id and optionally one page, and (pct_call) waits for
// the reply.  No message buffers in the kernel, no pass over the slot
// vector: the sender's registers go straight into the receiver's.
// Interrupts for an env's devices arrive the same way (sender id 0).
#include "defs.h"

// Check the page a sender offers: word = va | permissions.  On success
// *ppn and *perm describe it (both 0 when no page is offered).
static int offered(struct env *s, uint64 word, uint64 *ppn, uint64 *perm)
{
  *ppn = *perm = 0;
  if (!word)
    return 0;
  // BEGIN LAB ipc: offered: the permissions a legal leaf's R/W/X and nothing else (-E_INVAL), va below UTOP (-E_BAD_VA), a user RAM page the sender maps there for the user with at least those permissions (-E_PERM); then *ppn and *perm
  uint64 va = word & ~(PGSIZE - 1), p = word & (PGSIZE - 1);
  uint64 rwx = p >> 1;                      // X W R
  if ((p & ~(PTE_R | PTE_W | PTE_X)) || rwx == 0 || rwx == 2 || rwx == 6)
    return -E_INVAL;
  if (va >= UTOP)
    return -E_BAD_VA;
  pte_t *pte = walk(s, va, 0);
  if (!pte || !(*pte & PTE_V) || !(*pte & PTE_U) || (p & ~*pte) || !page_valid(PTE_PPN(*pte)) ||
      pagepubs[PTE_PPN(*pte) - PPN_BASE].kind != PG_USER)
    return -E_PERM;                         // not the sender's, a device, or an upgrade
  *ppn = PTE_PPN(*pte);
  *perm = p;
  return 0;
  // END LAB ipc: LAB_TODO("ipc", "offered (a page is lent as asked)"); pte_t *pte = walk(s, (word & ~(PGSIZE - 1)) % MAXUVA, 0); if (!pte || !(*pte & PTE_V)) return -E_PERM; *ppn = PTE_PPN(*pte); *perm = word & (PTE_R | PTE_W | PTE_X); return 0;
}

static int recv_va_ok(uint64 va) { return va == 0 || ((va & (PGSIZE - 1)) == 0 && va < UTOP); }

// Hand a message to r, which is blocked (or about to be resumed): map the
// page first (the only step that can fail), then fill its registers.
static int deliver(struct env *r, uint64 a0, uint64 *w, uint64 ppn, uint64 perm, uint64 kind)
{
  if (ppn) {
    if (!r->ipc_va)
      return -E_INVAL;                      // it takes no pages
    int err = pte_store(r, r->ipc_va, PPN_PTE(ppn, perm | PTE_V | PTE_U | PTE_A | PTE_D));
    if (err < 0)
      return err;
  }
  r->tf.a0 = a0;
  r->tf.a1 = w[0];
  r->tf.a2 = w[1];
  r->tf.a3 = w[2];
  r->tf.a4 = perm;
  r->tf.a5 = kind;
  r->ipc = IPC_NONE;
  return 0;
}

// If e has interrupts it has not been told about, tell it now (e is
// resuming from pct_recv).  1 if it was told.
static int take_notify(struct env *e)
{
  if (!e->irq_notify)
    return 0;
  uint64 w[3] = { e->irq_notify, 0, 0 };
  e->irq_notify = 0;
  deliver(e, 0, w, 0, 0, PCT_SEND);
  return 1;
}

// An interrupt for e arrived: wake it if it waits in pct_recv.
void pct_notify(struct env *e)
{
  if (e->ipc == IPC_RECV)
    take_notify(e);
}

// The live env id may name (any env: a receiver accepts calls from all).
static struct env *target(struct env *e, envid_t id, int64 *err)
{
  struct env *t = env_lookup(id);
  *err = 0;
  if (!t || t->status == ENV_EXITED || t == e)
    *err = -E_BAD_ENV;
  return t;
}

// ---- the send queue: callers and senders with PCT_BLOCK wait, in FIFO
// order, for the receiver's next pct_recv (as on an L4 endpoint) ----

// BEGIN LAB ipc: the send queue: enqueue(t, s) puts s, which is blocked, at the end of t's queue (s waits as IPC_SENDQ for t) and returns 1; take_queued(r), as r enters pct_recv, hands r the first queued message that can still be delivered (its page is checked now: a sender whose offer fails runs again with the error) and returns 1 if r got one; a call's sender then waits for the reply, a send's sender runs on with 0; queue_gone(e), for a dying e, takes e out of the queue it waits in and wakes everyone queued for e with -E_BAD_ENV
static int enqueue(struct env *t, struct env *s)
{
  s->sendq_next = 0;
  if (t->sendq)
    t->sendq_tail->sendq_next = s;
  else
    t->sendq = s;
  t->sendq_tail = s;
  t->sendq_n++;
  s->ipc = IPC_SENDQ;
  s->ipc_peer = t->id;
  return 1;
}

// Take s off the queue of t, whose queue holds it.
static void dequeue(struct env *t, struct env *s)
{
  struct env **p = &t->sendq, *prev = 0;
  while (*p != s)
    prev = *p, p = &(*p)->sendq_next;
  *p = s->sendq_next;
  if (t->sendq_tail == s)
    t->sendq_tail = prev;
  t->sendq_n--;
  s->sendq_next = 0;
  s->ipc = IPC_NONE;
}

static int take_queued(struct env *r)
{
  while (r->sendq) {
    struct env *s = r->sendq;
    struct trapframe *tf = &s->tf;
    uint64 w[3] = { tf->a1, tf->a2, tf->a3 }, ppn, perm;
    int call = tf->a7 == SYS_pct_call;
    dequeue(r, s);
    int64 err = offered(s, tf->a4, &ppn, &perm);
    if (!err)
      err = deliver(r, s->id, w, ppn, perm, call ? PCT_CALL : PCT_SEND);
    wake_idle();
    if (err) {
      tf->a0 = err;                       // s runs again with the error
      continue;
    }
    tf->a0 = 0;
    if (call) {
      s->ipc = IPC_CALL;                  // now it waits for the reply
      s->ipc_peer = r->id;
      s->ipc_va = tf->a5;
      r->ipc_waiters++;
    }
    return 1;
  }
  return 0;
}

static void queue_gone(struct env *e)
{
  struct env *q = e->ipc == IPC_SENDQ ? env_lookup(e->ipc_peer) : 0;
  if (q)
    dequeue(q, e);                        // e no longer waits in q's queue
  if (e->sendq)
    wake_idle();
  while (e->sendq) {                      // those queued for e: it is gone
    struct env *s = e->sendq;
    dequeue(e, s);
    s->tf.a0 = -E_BAD_ENV;
  }
}
// END LAB ipc: static int enqueue(struct env *t, struct env *s) { LAB_TODO("ipc", "the send queue (PCT_BLOCK is refused with E_NOT_WAITING: the library retries)"); (void)t, (void)s; return 0; } static int take_queued(struct env *r) { (void)r; return 0; } static void queue_gone(struct env *e) { (void)e; }

// Block e in pct_recv, taking pages at va; a queued sender or a pending
// interrupt is taken at once instead (e->ipc is then IPC_NONE).  The
// caller then switches away if e still waits.
static void block_recv(struct env *e, uint64 va)
{
  e->ipc = IPC_RECV;
  e->ipc_va = va;
  uint64 at = e->tf.pc - 4;                // the ecall
  if (!take_notify(e) && !take_queued(e) && e->upcall_pending && e->upcall && !e->dying &&
      !(at >= e->nocall_lo && at < e->nocall_hi)) {
    // An upcall was posted while e was on its way here (a revocation
    // request's IPI reaches the hart after e has left it): e takes the
    // upcall first and receives again after it, as tell_soon() does for
    // an env found waiting.  Blocked instead, nobody would tell it, and
    // its deadline would pass while it waited.
    e->ipc = IPC_NONE;
    e->tf.pc -= 4;
    e->tf.a7 = SYS_pct_recv;              // (a pct_reply_recv has replied already)
    wake_idle();
  }
}

// The PCT calls that may switch envs; from slow_syscall() with klock held.
// Returns only to resume e.
void pct_syscall(struct env *e)
{
  struct trapframe *tf = &e->tf;
  uint64 w[3] = { tf->a1, tf->a2, tf->a3 }, ppn, perm;
  int64 err;
  struct env *t;
  switch (tf->a7) {
  case SYS_pct_call:
  case SYS_pct_send:
    t = target(e, tf->a0, &err);
    if (!err && tf->a7 == SYS_pct_call && !recv_va_ok(tf->a5))
      err = -E_BAD_VA;
    if (!err)
      err = offered(e, tf->a4, &ppn, &perm);
    if (!err && t->ipc != IPC_RECV && (tf->a6 & PCT_BLOCK) && enqueue(t, e))
      schedule();                           // wait for its pct_recv
    if (!err && t->ipc != IPC_RECV)
      err = -E_NOT_WAITING;
    if (!err)
      err = deliver(t, e->id, w, ppn, perm, tf->a7 == SYS_pct_call ? PCT_CALL : PCT_SEND);
    tf->a0 = err;
    if (err || tf->a7 == SYS_pct_send) {
      if (!err)
        wake_idle();
      return;
    }
    e->ipc = IPC_CALL;                      // wait for the reply, on t's time
    e->ipc_peer = t->id;
    t->ipc_waiters++;
    e->ipc_va = tf->a5;
    env_switch_away(e);
    if (t->status == ENV_RUNNABLE && !t->dying)
      env_run(t);
    schedule();
  case SYS_pct_recv:
    if (!recv_va_ok(tf->a5)) {
      tf->a0 = -E_BAD_VA;
      return;
    }
    block_recv(e, tf->a5);
    if (e->ipc == IPC_NONE)
      return;                               // an interrupt was already pending
    schedule();
  case SYS_pct_reply_recv:
    t = target(e, tf->a0, &err);
    if (!err && (t->ipc != IPC_CALL || t->ipc_peer != e->id))
      err = -E_BAD_ENV;                     // not waiting for a reply from us
    if (!err && !recv_va_ok(tf->a5))
      err = -E_BAD_VA;
    if (!err)
      err = offered(e, tf->a4, &ppn, &perm);
    if (!err)
      err = deliver(t, 0, w, ppn, perm, 0);
    if (err) {
      tf->a0 = err;
      return;
    }
    e->ipc_waiters--;
    block_recv(e, tf->a5);
    env_switch_away(e);                     // the caller runs at once
    if (t->status == ENV_RUNNABLE && !t->dying)
      env_run(t);
    schedule();
  }
}

// May t be run on this hart right now (the rest of the slice goes to it)?
static inline int runs_now(struct env *t)
{
  return t->status == ENV_RUNNABLE && !t->dying && t->ipc == IPC_NONE;
}

// pct_call and pct_reply_recv, straight from trampoline.S.  The common case
// (registers only, the peer waiting, runnable) is handled here in a few
// dozen instructions; everything else goes the general way.
void pct_fast(void)
{
  struct env *e = mycpu()->env, *t;
  struct trapframe *tf = &e->tf;
  acquire(&klock);
#ifdef KCHECK
  kcheck_trap("system call", tf->a7);
#endif
  tf->pc += 4;
  if ((tf->a4 | tf->a5 | e->irq_notify | e->sendq_n) == 0 && (t = env_lookup(tf->a0)) != 0 && t != e) {
    if (tf->a7 == SYS_pct_call && t->ipc == IPC_RECV) {
      t->tf.a0 = e->id;
      e->ipc = IPC_CALL;
      e->ipc_peer = t->id;
      e->ipc_va = 0;
      t->ipc_waiters++;
      t->tf.a5 = PCT_CALL;
    } else if (tf->a7 == SYS_pct_reply_recv && t->ipc == IPC_CALL && t->ipc_peer == e->id &&
               !e->upcall_pending) {      // (an upcall to take first: block_recv)
      t->tf.a0 = 0;
      e->ipc = IPC_RECV;
      e->ipc_va = 0;
      e->ipc_waiters--;
      t->tf.a5 = 0;
    } else {
      goto general;
    }
    t->tf.a1 = tf->a1;
    t->tf.a2 = tf->a2;
    t->tf.a3 = tf->a3;
    t->tf.a4 = 0;
    t->ipc = IPC_NONE;
    env_switch_away(e);
    if (runs_now(t))
      env_run(t);
    schedule();
  }
general:
  pct_syscall(e);
  env_run(e);
}

// SYS_pct_reply(caller, w1, w2, w3, page): answer a caller and go on.
uint64 sys_pct_reply(uint64 a0, uint64 a1, uint64 a2, uint64 a3, uint64 a4, uint64 a5)
{
  (void)a5;
  struct env *e = mycpu()->env, *t;
  uint64 w[3] = { a1, a2, a3 }, ppn, perm;
  int64 err;
  acquire(&klock);
  t = target(e, a0, &err);
  if (!err && (t->ipc != IPC_CALL || t->ipc_peer != e->id))
    err = -E_BAD_ENV;
  if (!err)
    err = offered(e, a4, &ppn, &perm);
  if (!err)
    err = deliver(t, 0, w, ppn, perm, 0);
  if (!err) {
    e->ipc_waiters--;
    wake_idle();
  }
  release(&klock);
  return err;
}

// e is going away: every env waiting for a reply from it, or queued to
// call or send to it, gets -E_BAD_ENV.
void pct_env_gone(struct env *e)
{
  struct env *server = e->ipc == IPC_CALL ? env_lookup(e->ipc_peer) : 0;
  if (server)
    server->ipc_waiters--;                  // e no longer waits for it
  queue_gone(e);
  for (int i = 0; i < NENV && e->ipc_waiters > 0; i++) {
    struct env *c = &envs[i];
    if (c->status != ENV_FREE && c->ipc == IPC_CALL && c->ipc_peer == e->id) {
      c->tf.a0 = -E_BAD_ENV;
      c->ipc = IPC_NONE;
      e->ipc_waiters--;
      wake_idle();
    }
  }
  e->ipc = IPC_NONE;
}
