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

// Give e one more slot.  The slot index, or -E_NO_SLOT.
int slot_acquire(struct env *e)
{
  for (int i = 0; i < NSLOT; i++)
    if (!slots[i]) {
      slots[i] = e;
      if (i >= slot_hi)
        slot_hi = i + 1;
      e->nslots++;
      envpubs[ENVX(e->id)].nslots = e->nslots;
      return i;
    }
  return -E_NO_SLOT;
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

// Run e on this hart.  Called with klock held; releases it.
void env_run(struct env *e)
{
  struct cpu *c = mycpu();
  c->env = e;
  e->hart = c->hartid;
  if (e->upcall_pending && deliver_pending_upcalls(e) < 0)
    schedule();                       // killed: its exception stack was bad
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

// Pick the next runnable env from the slot vector and run it; idle until
// there is one.  Called with klock held.
void schedule(void)
{
  struct cpu *c = mycpu();
  if (c->env)
    env_switch_away(c->env);
  for (;;) {
    for (int n = 1; n <= slot_hi; n++) {
      int i = (cursor + n) % slot_hi;
      struct env *e = slots[i];
      if (e && e->dying && e->hart < 0) {  // marked while it ran elsewhere
        env_kill(e, e->exitcode);
        continue;
      }
      if (e && e->status == ENV_RUNNABLE && e->hart < 0 && e->ipc == IPC_NONE) {
        cursor = i;
        if (e->tick_upcall) {             // a slice begins: tell its thread scheduler
          e->tick_posted = 1;
          e->upcall_pending = 1;
        }
        env_run(e);
      }
    }
    // Nothing to run: leave any env's page table and wait for an interrupt.
    idle_harts |= 1UL << c->hartid;
    CSR_WRITE(satp, c->kpt);
    sfence_vma_all();
    release(&klock);
    // wfi with interrupts still off: it returns as soon as one is pending
    // (even one that arrived before it), and only then do we take it.
    // Enabling first would lose a wakeup that came between the two.
    uint64 t0 = rdinstret_k();
    asm volatile("wfi");
    uint64 idle = rdinstret_k() - t0;
    intr_on();
    intr_off();
    acquire(&klock);
    syspub.idle_instret += idle;           // (under -icount a wait warps the clock)
    idle_harts &= ~(1UL << c->hartid);
  }
}
