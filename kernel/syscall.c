// System calls.  The short ones (below SYS_FIRST_SLOW) are called straight
// from trampoline.S with the user's a0-a5 as arguments and interrupts off;
// they never switch envs.  The slow ones may, and run from usertrap() with
// all registers saved.  Every argument is checked here.
#include "defs.h"

char bootargs[256];

#define ARGS uint64 a0, uint64 a1, uint64 a2, uint64 a3, uint64 a4, uint64 a5
#define UNUSED (void)a0, (void)a1, (void)a2, (void)a3, (void)a4, (void)a5
static inline struct env *cur(void) { return mycpu()->env; }

// Write a user buffer on the debug console.  The whole buffer is checked
// first: a bad one prints nothing.
static uint64 sys_cputs(ARGS)
{
  UNUSED;
  char buf[512];
  uint64 va = a0, n = a1;
  if (n > MAXCPUTS)
    return -E_INVAL;
  if (va + n < va)
    return -E_FAULT;
  acquire(&klock);
  for (uint64 p = va & ~(PGSIZE - 1); p < va + n; p += PGSIZE)
    if (!uaddr(cur(), p, PTE_R)) {
      release(&klock);
      return -E_FAULT;
    }
  release(&klock);
  while (n > 0) {
    uint64 m = n < sizeof buf ? n : sizeof buf;
    acquire(&klock);
    int r = copyin(cur(), buf, va, m);
    release(&klock);
    if (r < 0)
      return r;
    kwrite(buf, m);
    va += m;
    n -= m;
  }
  return 0;
}

static uint64 sys_getenvid(ARGS) { UNUSED; return cur()->id; }

static uint64 sys_page_alloc(ARGS)
{
  UNUSED;
  struct env *e;
  int64 r;
  acquire(&klock);
  if ((r = env_get(cur(), a0, &e)) == 0) {
    r = page_alloc(PG_USER, e);
    if (r == 0)
      r = mem_pressure(e);                 // E_AGAIN while others give pages back
  }
  release(&klock);
  return r;
}

static uint64 sys_page_free(ARGS)
{
  UNUSED;
  uint64 ppn = a0;
  struct env *o;
  int64 r = 0;
  acquire(&klock);
  // BEGIN LAB vm: sys_page_free: ppn a RAM page (else -E_INVAL), a user page owned by the caller or a descendant (else -E_PERM); then page_disown
  if (!page_valid(ppn))
    r = -E_INVAL;
  else if (pagepubs[ppn - PPN_BASE].kind != PG_USER || !pagepubs[ppn - PPN_BASE].owner ||
           env_get(cur(), pagepubs[ppn - PPN_BASE].owner, &o) < 0)
    r = -E_PERM;
  else
    page_disown(ppn);
  // END LAB vm: LAB_TODO("vm", "sys_page_free's checks (only a page's validity is)"); (void)o; if (!page_valid(ppn)) r = -E_INVAL; else page_disown(ppn);

  release(&klock);
  return r;
}

static uint64 sys_pte_set(ARGS)
{
  UNUSED;
  struct env *e;
  int64 r;
  acquire(&klock);
  if ((r = env_get(cur(), a0, &e)) == 0)
    r = pte_install(cur(), e, a1, a2, a3 ? a3 : a1);
  if (r == -E_NO_MEM && pages_free() == 0)
    r = mem_pressure(e);                   // no page-table page: E_AGAIN or E_NO_MEM
  release(&klock);
  return r;
}


// Apply n PTE updates in order; stop at the first error and return it (the
// entries before it have taken effect).
static uint64 sys_pte_batch(ARGS)
{
  UNUSED;
  struct env *e;
  int64 r;
  if (a2 > PTE_BATCH_MAX)
    return -E_INVAL;
  acquire(&klock);
  if ((r = env_get(cur(), a0, &e)) == 0) {
    for (uint64 i = 0; i < a2 && r == 0; i++) {
      struct pte_op op;
      if ((r = copyin(cur(), &op, a1 + i * sizeof op, sizeof op)) == 0)
        r = pte_install(cur(), e, op.va, op.pte, op.va);
    }
    if (r == -E_NO_MEM && pages_free() == 0)
      r = mem_pressure(e);
  }
  release(&klock);
  return r;
}

static uint64 sys_env_set_upcall(ARGS)
{
  UNUSED;
  struct env *e;
  int64 r;
  uint64 entry = a1, lo = a2, hi = a3;
  // The range is checked whatever the entry (the abort protocol spares it
  // while a handler is registered, so it is capped at MAXXSTACK); 0, 0
  // means none.
  // BEGIN LAB upcall: sys_env_set_upcall's checks: the entry below UTOP; a range other than (0, 0) non-empty, 16-byte aligned, below UTOP and at most MAXXSTACK bytes (the abort protocol spares it); else -E_BAD_VA
  if (entry >= UTOP || ((lo | hi) && (lo >= hi || hi > UTOP || (lo | hi) & 15 || hi - lo > MAXXSTACK)))
    return -E_BAD_VA;
  // END LAB upcall: LAB_TODO("upcall", "sys_env_set_upcall's checks (any entry and stack are taken)");
  acquire(&klock);
  if ((r = env_get(cur(), a0, &e)) == 0) {
    e->upcall = entry;
    e->xlo = lo;
    e->xhi = hi;
    e->nocall_lo = a4;
    e->nocall_hi = a5;
    upcall_unbind(e, 0);
  }
  release(&klock);
  return r;
}

static uint64 sys_env_set_status(ARGS)
{
  UNUSED;
  struct env *e;
  int64 r;
  if (a1 != ENV_RUNNABLE && a1 != ENV_NOT_RUNNABLE)
    return -E_INVAL;
  acquire(&klock);
  if ((r = env_get(cur(), a0, &e)) == 0) {
    if (e->status == ENV_EXITED) {
      r = -E_BAD_ENV;
    } else {
      e->status = a1;
      env_publish(e);
      if (a1 == ENV_RUNNABLE)
        wake_idle();
    }
  }
  release(&klock);
  return r;
}

static uint64 sys_env_set_regs(ARGS)
{
  UNUSED;
  struct env *e;
  struct trapframe tf;
  int64 r;
  acquire(&klock);
  if ((r = env_get(cur(), a0, &e)) == 0) {
    if (e == cur() || e->hart >= 0)
      r = -E_BUSY;
    else if ((r = copyin(cur(), &tf, a1, sizeof tf)) == 0)
      e->tf = tf;
  }
  release(&klock);
  return r;
}

static uint64 sys_slot_acquire(ARGS)
{
  UNUSED;
  struct env *e;
  int64 r;
  acquire(&klock);
  if ((r = env_get(cur(), a0, &e)) == 0)
    r = slot_acquire(e);
  release(&klock);
  return r;
}

static uint64 sys_slot_release(ARGS)
{
  UNUSED;
  struct env *e;
  int64 r;
  acquire(&klock);
  if ((r = env_get(cur(), a0, &e)) == 0)
    r = slot_release(e, 1);
  release(&klock);
  return r;
}

// Destroy a descendant (it becomes ENV_EXITED with code -1) or reap an
// exited one (its record is freed).  Ending oneself is SYS_exit.
static uint64 sys_env_destroy(ARGS)
{
  UNUSED;
  struct env *e;
  int64 r;
  acquire(&klock);
  if ((r = env_get_any(cur(), a0, &e)) == 0) {
    if (e == cur())
      r = -E_INVAL;
    else if (e->status == ENV_EXITED)
      env_reap(e);
    else
      env_kill(e, -1);
  }
  release(&klock);
  return r;
}

// Power off: only for an env holding RIGHT_HALT.
static uint64 sys_halt(ARGS)
{
  UNUSED;
  if (!(cur()->rights & RIGHT_HALT))
    return -E_PERM;
  kprintf("halt: powering off\n");
  sbi_shutdown();
}

// Give a descendant some of the caller's rights.
static uint64 sys_env_grant(ARGS)
{
  UNUSED;
  struct env *e;
  int64 r;
  uint32 rights = a1;
  acquire(&klock);
  if ((r = env_get(cur(), a0, &e)) == 0) {
    if (rights & ~cur()->rights)
      r = -E_PERM;
    else {
      if ((rights & RIGHT_NET) && !(e->rights & RIGHT_NET))
        e->net_from = cur()->id;           // a link in the network's grant tree
      e->rights |= rights;
      env_publish(e);
    }
  }
  release(&klock);
  return r;
}

static uint64 sys_getbootarg(ARGS)
{
  UNUSED;
  uint64 n = strlen(bootargs);
  uint64 m = a1 < n + 1 ? a1 : n + 1;
  acquire(&klock);
  int r = copyout(cur(), a0, bootargs, m);
  release(&klock);
  return r < 0 ? (uint64)r : n;
}

// SYS_env_set_tick(envid, on): with on = 1, envid gets a CAUSE_TICK upcall
// each time one of its slices begins (delivered like the other
// asynchronous upcalls, never inside its no-upcall window); on = 0 stops
// them.  A new env starts without.
static uint64 sys_env_set_tick(ARGS)
{
  UNUSED;
  struct env *e;
  int64 r;
  if (a1 != 0 && a1 != 1)
    return -E_INVAL;
  acquire(&klock);
  if ((r = env_get(cur(), a0, &e)) == 0) {
    e->tick_upcall = a1;
    if (!a1)
      e->tick_posted = 0;
  }
  release(&klock);
  return r;
}

// SYS_mem_soft(envid, pages): envid holds pages it can give back cheaply
// (a cache): when memory runs short it is asked for those above pages as
// if that were its share, and envs over their own share may have them.
static uint64 sys_mem_soft(ARGS)
{
  UNUSED;
  struct env *e;
  int64 r;
  if (a1 > 0x7FFFFFFF)
    return -E_INVAL;
  acquire(&klock);
  if ((r = env_get(cur(), a0, &e)) == 0) {
    e->mem_soft = a1;
    envpubs[ENVX(e->id)].mem_soft = a1;
  }
  release(&klock);
  return r;
}

static uint64 sys_nosys(ARGS) { UNUSED; return -E_NOSYS; }

uint64 (*const fast_syscalls[SYS_FIRST_SLOW])(ARGS) = {
  [SYS_cputs] = sys_cputs,
  [SYS_getenvid] = sys_getenvid,
  [SYS_page_alloc] = sys_page_alloc,
  [SYS_page_free] = sys_page_free,
  [SYS_pte_set] = sys_pte_set,
  [SYS_pte_batch] = sys_pte_batch,
  [SYS_env_set_upcall] = sys_env_set_upcall,
  [SYS_env_set_status] = sys_env_set_status,
  [SYS_env_set_regs] = sys_env_set_regs,
  [SYS_slot_acquire] = sys_slot_acquire,
  [SYS_slot_release] = sys_slot_release,
  [SYS_env_destroy] = sys_env_destroy,
  [SYS_halt] = sys_halt,
  [SYS_getbootarg] = sys_getbootarg,
  [SYS_env_grant] = sys_env_grant,
  [SYS_irq_claim] = sys_irq_claim,
  [SYS_irq_ack] = sys_irq_ack,
  [SYS_dev_map] = sys_dev_map,
  [SYS_pct_reply] = sys_pct_reply,
  [SYS_blk_grant] = sys_blk_grant,
  [SYS_blk_revoke] = sys_blk_revoke,
  [SYS_env_set_tick] = sys_env_set_tick,
  [SYS_mwake] = sys_mwake,
  [SYS_mem_soft] = sys_mem_soft,
  [SYS_net_filter] = sys_net_filter,
  [SYS_net_ring] = sys_net_ring,
  [SYS_net_send] = sys_net_send,
  [SYS_net_revoke] = sys_net_revoke,
  [28 ... SYS_FIRST_SLOW - 1] = sys_nosys,
};

// The system calls that may switch envs.  Called from usertrap() with klock
// held and e's registers saved; returns only when e should resume.
void slow_syscall(struct env *e)
{
  struct trapframe *tf = &e->tf;
  struct env *t;
  int r;
  switch (tf->a7) {
  case SYS_exofork:
    if ((r = env_alloc(e, &t)) < 0) {
      tf->a0 = r == -E_NO_MEM && pages_free() == 0 ? mem_pressure(0) : r;
      return;
    }
    t->tf = *tf;
    t->tf.a0 = 0;
    t->upcall = e->upcall;
    t->xlo = e->xlo;
    t->xhi = e->xhi;
    tf->a0 = t->id;
    return;
  case SYS_exit:
    env_kill(e, (int)tf->a0);
    schedule();
  case SYS_pct_call:
  case SYS_pct_send:
  case SYS_pct_recv:
  case SYS_pct_reply_recv:
    pct_syscall(e);
    return;
  case SYS_blk_io:
    blk_io(e);
    return;
  case SYS_blk_wait:
    blk_wait(e);
    return;
  case SYS_mwait:
    mwait(e);
    return;
  default:
    tf->a0 = -E_NOSYS;
    return;
  }
}

// SYS_yield(envid), called straight from trampoline.S: run the named env
// now, on this hart, for the rest of the slice.  If it cannot run (not
// runnable, or running on another hart), a plain yield: the next slot.
void yield_syscall(void)
{
  struct env *e = mycpu()->env;
  acquire(&klock);
#ifdef KCHECK
  kcheck_trap("system call", SYS_yield);
#endif
  e->tf.pc += 4;
  // (a dying env is not checked here: the IPI that marked it will trap it)
  envid_t target = e->tf.a0;
  e->tf.a0 = 0;
  if (target) {
    struct env *t = env_lookup(target);
    if (!t) {
      e->tf.a0 = -E_BAD_ENV;
      env_run(e);
    }
    if (t->status == ENV_RUNNABLE && t->hart < 0 && !t->dying && t->ipc == IPC_NONE) {
      env_switch_away(e);
      env_run(t);
    }
  }
  schedule();
}
