// Traps: interrupts and exceptions from user mode, and the upcalls that
// hand exceptions to the env's own handler on its exception stack.
#include "defs.h"

void kerneltrap(void);

// Per-hart trap set-up: vector, enabled interrupts, first timer tick, and
// user access to the cycle, time and instret counters.
void trapinit_hart(void)
{
  mycpu()->kvec = (uint64)kernelvec;
  mycpu()->uvec = (uint64)uservec;
  CSR_WRITE(stvec, kernelvec);
  CSR_WRITE(scounteren, 7);
  // Floating-point and vector state is off (the firmware may leave it on):
  // the kernel does not save those registers, so user FP instructions trap.
  CSR_CLEAR(sstatus, SSTATUS_FS | SSTATUS_VS);
  CSR_SET(sie, SIE_SSIE | SIE_STIE);
  plicinit_hart();
  timer_next();
}

static const char *cause_name(uint64 cause)
{
  static const char *names[NCAUSE] = {
    [CAUSE_MISALIGNED_FETCH] = "misaligned fetch",
    [CAUSE_FETCH_ACCESS] = "fetch access fault",
    [CAUSE_ILLEGAL] = "illegal instruction",
    [CAUSE_BREAKPOINT] = "breakpoint",
    [CAUSE_MISALIGNED_LOAD] = "misaligned load",
    [CAUSE_LOAD_ACCESS] = "load access fault",
    [CAUSE_MISALIGNED_STORE] = "misaligned store",
    [CAUSE_STORE_ACCESS] = "store access fault",
    [CAUSE_USER_ECALL] = "ecall",
    [CAUSE_FETCH_PAGE] = "instruction page fault",
    [CAUSE_LOAD_PAGE] = "load page fault",
    [CAUSE_STORE_PAGE] = "store page fault",
    [CAUSE_IRQ] = "interrupt upcall",
    [CAUSE_REVOKE] = "revocation request",
    [CAUSE_REPOSSESS] = "repossession notice",
    [CAUSE_TICK] = "timer tick",
  };
  return cause < NCAUSE && names[cause] ? names[cause] : "unknown exception";
}

static void kill_for(struct env *e, uint64 cause, uint64 tval, const char *why)
{
  kprintf("env %08x killed: %s at va %p, pc %p: %s\n", e->id, cause_name(cause), tval,
          e->tf.pc, why);
  env_kill(e, -1);
}

// Push an upcall frame for an exception onto e's exception stack and make
// e resume at its upcall entry.  If it has no handler, or the frame cannot
// be written, e is killed instead.  Needs klock.
void upcall_deliver(struct env *e, uint64 cause, uint64 tval)
{
  if (!e->upcall) {
    kill_for(e, cause, tval, "no handler");
    return;
  }
  // BEGIN LAB upcall: upcall_deliver: place a struct uframe (e's registers, cause, tval) on e's exception stack [xlo, xhi), below the interrupted handler's sp if e is already on it, 16-byte aligned; kill (kill_for, "bad exception stack (...)") if it does not fit or cannot be written; bind the short path for a first-level frame that lies in one page; resume e at its entry with sp and a0 the frame
  uint64 sp = e->tf.sp;
  uint64 top = (sp > e->xlo && sp <= e->xhi) ? sp : e->xhi;   // nested: below sp
  uint64 f = (top - sizeof(struct uframe)) & ~15UL;
  if (f < e->xlo || f > top) {
    kill_for(e, cause, tval, "bad exception stack (overflow)");
    return;
  }
  struct uframe *kf = uaddr(e, f, PTE_W);
  if (!kf || ((f + sizeof *kf - 1) & ~(PGSIZE - 1)) != (f & ~(PGSIZE - 1))) {
    // not mapped, or the frame straddles two pages: the general copy
    struct uframe frame = { .tf = e->tf, .cause = cause, .tval = tval };
    if (copyout(e, f, &frame, sizeof frame) < 0) {
      kill_for(e, cause, tval, "bad exception stack (not mapped writable)");
      return;
    }
  } else {
    kf->tf = e->tf;
    kf->cause = cause;
    kf->tval = tval;
    if (top == e->xhi) {            // bind: the next first-level fault takes the short path
      e->xframe_kva = (uint64)kf;
      e->xframe_va = f;
    }
  }
  e->tf.sp = f;
  e->tf.a0 = f;
  e->tf.pc = e->upcall;
  // END LAB upcall: LAB_TODO("upcall", "upcall_deliver (an env that faults is killed)"); kill_for(e, cause, tval, "upcall delivery is not written yet");
}

// Deliver pending asynchronous upcalls to e (a slice's tick, an
// interrupt, a revocation request, a repossession notice), which is about
// to run, unless e is in its no-upcall window (the last instructions of
// the library's resume code); then they wait for the next time e is
// resumed.  Needs klock.  0 if e may run, -1 if the delivery killed it.
int deliver_pending_upcalls(struct env *e)
{
  uint64 pc = e->tf.pc;
  if (pc >= e->nocall_lo && pc < e->nocall_hi)
    return 0;
  e->upcall_pending = 0;
  // The tick goes first: the frames pushed after it nest inside it and
  // run first, so its own frame holds the code the slice interrupted (a
  // thread, not another handler).  No entry: nobody to tell.
  if (e->tick_posted) {
    e->tick_posted = 0;
    if (e->upcall)
      upcall_deliver(e, CAUSE_TICK, 0);
  }
  if (e->status != ENV_RUNNABLE)
    return -1;                            // the tick's delivery killed it
  if (e->irq_notify && e->irq_upcall && e->upcall) {
    uint64 mask = e->irq_notify;
    e->irq_notify = 0;
    upcall_deliver(e, CAUSE_IRQ, mask);
  }
  // Revocation requests and repossession notices (revoke.c): each upcall
  // frame nests inside the one before, so all are handled in turn.
  if (e->status == ENV_RUNNABLE && e->upcall && (e->revoke_posted || e->repo_posted))
    revoke_deliver(e);
  return e->status == ENV_RUNNABLE && !e->dying && e->hart >= 0 ? 0 : -1;
}

// Forget the cached frame binding if va is the page it lives on (the PTE
// there is changing) or if va is 0 (the upcall registration changed).
// Needs klock, which the short path in trampoline.S also takes.
void upcall_unbind(struct env *e, uint64 va)
{
  if (va == 0 || (e->xframe_va & ~(PGSIZE - 1)) == va)
    e->xframe_kva = e->xframe_va = 0;
}

#define OFFSET(type, field, value) \
  _Static_assert(__builtin_offsetof(struct type, field) == value, "asm.h: " #value)
OFFSET(cpu, kstack, CPU_KSTACK);
OFFSET(cpu, usp, CPU_USP);
OFFSET(cpu, ura, CPU_URA);
OFFSET(cpu, env, CPU_ENV);
OFFSET(cpu, hartid, CPU_HARTID);
OFFSET(cpu, scratch, CPU_SCRATCH);
OFFSET(cpu, kvec, CPU_KVEC);
OFFSET(cpu, uvec, CPU_UVEC);
OFFSET(cpu, stamp, CPU_STAMP);
OFFSET(cpu, kscratch, CPU_KSCRATCH);
_Static_assert(KSTACKSIZE == 16384, "entry.S: boot stacks are 16 KiB");
OFFSET(env, upcall, ENV_UPCALL);
OFFSET(env, xlo, ENV_XLO);
OFFSET(env, xhi, ENV_XHI);
OFFSET(env, xframe_kva, ENV_XKVA);
OFFSET(env, xframe_va, ENV_XVA);
OFFSET(env, id, ENV_ID);
OFFSET(env, status, ENV_STATUS);
OFFSET(env, hart, ENV_HART);
OFFSET(env, dying, ENV_DYING);
OFFSET(env, pt, ENV_PT);
OFFSET(env, ipc, ENV_IPC);
OFFSET(env, ipc_peer, ENV_PEER);
OFFSET(env, ipc_va, ENV_IPCVA);
OFFSET(env, irq_notify, ENV_NOTIFY);
OFFSET(env, sendq_n, ENV_SENDQN);
_Static_assert(ENV_SENDQN == ENV_NOTIFY + 4, "trampoline.S loads both in one ld");
OFFSET(env, ipc_waiters, ENV_WAITERS);
OFFSET(env, satp, ENV_SATP);
OFFSET(envpub, hart, PUB_HART);
OFFSET(envpub, runs, PUB_RUNS);
_Static_assert(sizeof(struct env) == 1 << ENV_SHIFT, "asm.h: ENV_SHIFT");
_Static_assert(sizeof(struct envpub) == 1 << PUB_SHIFT, "asm.h: PUB_SHIFT");
_Static_assert(__builtin_offsetof(struct spinlock, locked) == 0, "trampoline.S: klock");

// Every trap from user mode except the short system calls comes here, with
// the user registers saved in the env.  Never returns: resumes this env or
// schedules another.
void usertrap(void)
{
  struct cpu *c = mycpu();
  struct env *e = c->env;
  uint64 cause = CSR_READ(scause), tval = CSR_READ(stval);
  acquire(&klock);
#ifdef KCHECK
  if (cause == CAUSE_USER_ECALL)
    kcheck_trap("system call", e->tf.a7);
  else
    kcheck_trap("trap with scause", cause);
#endif
  if (e->dying) {
    env_kill(e, e->exitcode);
    schedule();
  }
  if (cause & SCAUSE_INTR) {
    uint64 irq = cause & ~SCAUSE_INTR;
    if (irq == IRQ_S_TIMER) {
      timer_next();
      wait_expire();                      // deadlines of envs asleep in mwait
      e->slices++;                        // a slice used up (revocation deadlines)
      schedule();
    }
    if (irq == IRQ_S_SOFT)
      CSR_CLEAR(sip, SIE_SSIE);
    if (irq == IRQ_S_EXT) {
      struct env *o = plic_intr();
      if (o && o != e) {                  // the device's owner runs at once
        env_switch_away(e);
        env_run(o);
      }
    }
    env_run(e);
  }
  if (cause == CAUSE_USER_ECALL) {
    e->tf.pc += 4;
    slow_syscall(e);              // returns only to resume e
    env_run(e);
  }
  upcall_deliver(e, cause, tval);
  if (e->status != ENV_RUNNABLE || c->env != e)
    schedule();
  env_run(e);
}

// kernelvec found sp outside this hart's kernel stack: it overflowed into
// the guard page below (or sp is garbage).
void kstack_overflowed(void)
{
  panic("kernel stack overflow on hart %d: scause %lx sepc %p stval %p", (int)mycpu()->hartid,
        CSR_READ(scause), CSR_READ(sepc), CSR_READ(stval));
}

// Traps in S-mode: only interrupts while idle are expected.
void kerneltrap(void)
{
  uint64 cause = CSR_READ(scause);
  if (cause == (SCAUSE_INTR | IRQ_S_TIMER)) {   // idle: a deadline came
    acquire(&klock);
    wait_expire();
    timer_idle();                         // (the scheduler sets the next one too)
    release(&klock);
    return;
  }
  if (cause == (SCAUSE_INTR | IRQ_S_SOFT)) {
    CSR_CLEAR(sip, SIE_SSIE);
    return;
  }
  if (cause == (SCAUSE_INTR | IRQ_S_EXT)) {   // idle: the scheduler will find the owner
    mycpu()->stamp = rdinstret_k();
    acquire(&klock);
    plic_intr();
    release(&klock);
    return;
  }
  panic("kernel trap on hart %d: scause %lx sepc %p stval %p", (int)mycpu()->hartid, cause,
        CSR_READ(sepc), CSR_READ(stval));
}
