// The CPU as a vector of time-slice slots, scheduled round robin by every
// hart.  An env owns one or more slots; a slot whose env is not runnable is
// skipped.  The timer ends a slice; a directed yield hands the rest of the
// slice to a named env without a pass over the vector.  An env that asked
// (SYS_env_set_tick) gets a CAUSE_TICK upcall when one of its slices
// begins.  Needs klock.
#include "defs.h"

static struct env *slots[NSLOT];
static int cursor;
static int slot_hi;                 // slots at or above this index are all empty
static uint64 idle_harts;           // bit h set while hart h waits in wfi

// The slots each env may count on: NSLOT divided among the envs that
// share the machine (env_sharing(); as for memory, children that never
// ran do not count), at least one.  Published in syspub.slot_share.
static int slot_share(void)
{
  int n = env_sharing();
  int share = n ? NSLOT / n : NSLOT;
  share = share < 1 ? 1 : share;
  syspub.slot_share = share;
  return share;
}

// Take one of v's slots away (the highest); its index.  Recorded in v's
// public record (nslots, slots_taken).
static int slot_take(struct env *v)
{
  int i = slot_hi - 1;
  while (slots[i] != v)
    i--;
  slots[i] = 0;
  v->nslots--;
  envpubs[ENVX(v->id)].nslots = v->nslots;
  envpubs[ENVX(v->id)].slots_taken++;
  syspub.slots_taken++;
  return i;
}

// Give e one more slot.  Its first slot is guaranteed; more only up to its
// share.  If none is free, one is revoked from the env furthest over its
// share (for a first slot, from the env holding the most: there is one
// with two, since NSLOT > NENV - 1).  A slot holds no state, so it is
// taken at once, with no request and no deadline.  The slot index, or
// -E_NO_SLOT.
int slot_acquire(struct env *e)
{
  int share = e->nslots ? slot_share() : 1;   // (exofork need not count the envs)
  if (e->nslots >= share)
    return -E_NO_SLOT;
  int i = 0;
  while (i < NSLOT && slots[i])
    i++;
  if (i == NSLOT) {
    struct env *v = 0;
    int over = e->nslots ? share : 1;    // what a victim must hold more than
    for (int k = 0; k < NENV; k++)
      if (envs[k].status != ENV_FREE && envs[k].nslots > over && (!v || envs[k].nslots > v->nslots))
        v = &envs[k];
    if (!v)
      return -E_NO_SLOT;
    i = slot_take(v);
  }
  slots[i] = e;
  if (i >= slot_hi)
    slot_hi = i + 1;
  e->nslots++;
  envpubs[ENVX(e->id)].nslots = e->nslots;
  return i;
}

// Take one slot from e; with keep_one never the last.  Without keep_one,
// take them all.  0 or -E_NO_SLOT.
int slot_release(struct env *e, int keep_one)
{
  if (keep_one && e->nslots <= 1)
    return -E_NO_SLOT;
  for (int i = slot_hi - 1; i >= 0 && e->nslots > 0; i--)
    if (slots[i] == e) {
      slots[i] = 0;
      e->nslots--;
      if (keep_one)
        break;
    }
  while (slot_hi > 0 && !slots[slot_hi - 1])
    slot_hi--;
  envpubs[ENVX(e->id)].nslots = e->nslots;
  return 0;
}

#ifdef KCHECK
// The slot vector, for kcheck.c.
struct env *const *kcheck_slots(int *n)
{
  *n = NSLOT;
  return slots;
}
#endif

void timer_next(void) { w_stimecmp(r_time() + SLICE_TICKS); }

// An idle hart's timer: the earliest deadline of an env in mwait, or at
// most IDLE_TICKS away (not none: under -icount QEMU needs a timer to jump
// to, and a value near 2^64 overflowed its timer arithmetic and spun).
void timer_idle(void)
{
  uint64 d = wait_next_deadline(), far = r_time() + IDLE_TICKS;
  w_stimecmp(d < far ? d : far);
}

// Wake harts sleeping in the idle loop: an env became runnable.
void wake_idle(void)
{
  uint64 mask = idle_harts & ~(1UL << mycpu()->hartid);
  if (mask)
    sbi_send_ipi(mask);
}

// The env stops running on this hart (its registers are already saved).
void env_switch_away(struct env *e)
{
  e->hart = -1;
  envpubs[ENVX(e->id)].hart = -1;
  mycpu()->env = 0;
}

// Resume e on this hart, delivering its pending upcalls first.  Called
// with klock held; releases it and does not return, unless the delivery
// killed e (its exception stack was unusable): then it returns, klock
// still held, and the caller picks another env.
static inline __attribute__((always_inline)) void env_resume(struct env *e)
{
  struct cpu *c = mycpu();
  c->env = e;
  e->hart = c->hartid;
  if (e->upcall_pending && deliver_pending_upcalls(e) < 0) {
    if (c->env == e)
      env_switch_away(e);
    return;
  }
  struct envpub *p = &envpubs[ENVX(e->id)];
  p->hart = e->hart;
  p->runs++;
  if (CSR_READ(satp) != e->satp) {
    CSR_WRITE(satp, e->satp);
    sfence_vma_all();
  }
  release(&klock);
  CSR_CLEAR(sstatus, SSTATUS_SPP);        // return to user mode
  CSR_SET(sstatus, SSTATUS_SPIE);         // with interrupts on
  userret(&e->tf);
}

// Run e on this hart, or, if it dies on its way in, the next env.
// Called with klock held; releases it.
void env_run(struct env *e)
{
  env_resume(e);
  schedule();
}

// Pick the next runnable env from the slot vector and run it; idle until
// there is one.  Reached through schedule() (trampoline.S), which restarts
// this hart's kernel stack, so however many envs die on their way in, the
// stack does not grow: the loop moves on to the next one.  Called with
// klock held.
// The next runnable env after the cursor in the slot vector, or 0.  Envs
// marked dying while they ran elsewhere are finished off on the way.
static struct env *pick(void)
{
  for (int n = 1; n <= slot_hi; n++) {
    int i = (cursor + n) % slot_hi;
    struct env *e = slots[i];
    if (e && e->dying && e->hart < 0) {    // marked while it ran elsewhere
      env_kill(e, e->exitcode);
      continue;
    }
    if (e && e->status == ENV_RUNNABLE && e->hart < 0 && e->ipc == IPC_NONE) {
      cursor = i;
      return e;
    }
  }
  return 0;
}

void scheduler(void)
{
  struct cpu *c = mycpu();
  uint64 idle_since = 0;                  // instret when this hart found nothing to run
  if (c->env)
    env_switch_away(c->env);
  for (;;) {
    struct env *e = pick();
    if (e) {
      if (idle_since)                     // the whole idle stretch, see below
        syspub.idle_instret += rdinstret_k() - idle_since;
      if (e->tick_upcall) {               // a slice begins: tell its thread scheduler
        e->tick_posted = 1;
        e->upcall_pending = 1;
      }
      env_resume(e);                      // returns only if e died on its way in
      continue;
    }
    // Nothing to run: leave any env's page table and wait for an interrupt,
    // with the timer set for the earliest deadline only (none: no tick).
    // Under -icount a wfi warps the clock to that deadline, and while the
    // disk works in real time the hart may wake and sleep again many
    // times, more on a loaded host; so everything from here until an env
    // runs (the wfi jumps and the wake-ups, interrupts included) counts
    // as idle, and benchmarks do not depend on host load.
    if (!idle_since)
      idle_since = rdinstret_k();
    idle_harts |= 1UL << c->hartid;
    timer_idle();
    CSR_WRITE(satp, c->kpt);
    sfence_vma_all();
    release(&klock);
    // wfi with interrupts still off: it returns as soon as one is pending
    // (even one that arrived before it), and only then do we take it.
    // Enabling first would lose a wakeup that came between the two.
    uint64 t0 = rdinstret_k();
    asm volatile("wfi");
    uint64 slept = rdinstret_k() - t0;
    intr_on();
    intr_off();
    acquire(&klock);
    syspub.wfi_instret += slept;
    idle_harts &= ~(1UL << c->hartid);
    timer_next();                          // a slice for whatever runs next
  }
}
