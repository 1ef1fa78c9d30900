// Visible revocation and the abort protocol for memory (the exokernel
// paper's third mechanism).
//
// Every live env is guaranteed GUARANTEE pages and has a share of the
// usable memory (at least the guarantee).  When an allocation cannot be
// met, mem_pressure() *asks* the envs over their share to give pages back:
// a revocation request (how many pages, by when) delivered as an upcall
// (CAUSE_REVOKE, stval = pages) and shown in the env's public record.  The
// library chooses which pages to release.  Meanwhile the allocating env
// gets E_AGAIN and retries (the library yields and calls again); an env
// that is itself over its share gets E_NO_MEM and must page itself.
//
// An env that has not released enough by its deadline (REVOKE_SLICES of
// its own time slices run to their end, or else REVOKE_TICKS of time, for
// an env that yields or waits for a message meanwhile; one caught waiting
// for the disk is given more time) loses
// pages of the kernel's choosing: user pages it owns that no other env
// maps, not pinned for DMA, not its exception stack, and never below its
// guarantee.  Each loss is recorded (virtual address, physical page,
// reason) in its repossession vector, public and read-only at UREPOS, and
// it gets a CAUSE_REPOSSESS upcall (stval = pages taken).  Page-table
// pages are not taken.  A page taken is unmapped first, then freed: every
// physical page stays free, the kernel's, or owned and counted.
// All functions need klock.
#include "defs.h"

struct repovec repovecs[NENV] __attribute__((aligned(4096)));
_Static_assert(sizeof(struct repovec) == 2048, "repovec size");
_Static_assert(REPO_N >= REVOKE_CHUNK, "an abort must fit in the vector");
uint64 pages_usable;             // free pages at boot: what the envs share

// The pages each live env may count on now.
uint64 mem_share(void)
{
  uint64 n = 0;
  for (int i = 0; i < NENV; i++)
    if (envs[i].status == ENV_RUNNABLE || envs[i].status == ENV_NOT_RUNNABLE)
      n++;
  uint64 share = n ? pages_usable / n : pages_usable;
  share = share < GUARANTEE ? GUARANTEE : share;
  syspub.share = share;
  return share;
}

static void publish(struct env *e)
{
  envpubs[ENVX(e->id)].revoke_want = e->revoke_want;
  envpubs[ENVX(e->id)].revoke_deadline = e->revoke_want ? REVOKE_SLICES : 0;
}

// e has an upcall pending: make it hear soon.  Running elsewhere: an IPI
// makes it trap.  Runnable but not running (it may have yielded through
// the short path, which does not look for pending upcalls): the upcall is
// pushed on its saved state now.  Blocked in PCT or I/O: when it resumes.
static void tell_soon(struct env *e)
{
  if (e->hart >= 0 && e->hart != mycpu()->hartid)
    sbi_send_ipi(1UL << e->hart);
  else if (e->hart < 0 && e->status == ENV_RUNNABLE && e->ipc == IPC_NONE && !e->dying)
    irq_upcall_deliver(e);
}

// Ask e for want pages back.
static void post(struct env *e, uint64 want)
{
  e->revoke_want = want;
  e->revoke_target = e->npages - want;
  e->revoke_slices = e->slices + REVOKE_SLICES;
  e->revoke_time = CSR_READ(time) + REVOKE_TICKS;
  e->revoke_posted = 1;                    // an upcall to deliver
  e->upcall_pending = 1;
  publish(e);
  syspub.revocations++;
  tell_soon(e);
}

// Has e answered (or no longer needs to)?
static int satisfied(struct env *e)
{
  return e->npages <= e->revoke_target || e->npages <= GUARANTEE;
}

static void record(struct env *e, uint64 va, uint64 ppn, uint32 reason)
{
  struct repovec *v = &repovecs[ENVX(e->id)];
  struct repo *r = &v->log[v->count % REPO_N];
  r->va = va;
  r->ppn = ppn;
  r->reason = reason;
  r->seq = v->count;
  v->count++;
}

// Take one page from e for the abort protocol: unmapped, then freed.
static void take(struct env *e, uint64 va, uint64 ppn)
{
  if (va)
    pte_store(e, va, 0);                   // (shoots down stale translations)
  record(e, va, ppn, REPO_ABORT);
  page_disown(ppn);
  e->repo_taken++;
}

static int takeable(struct env *e, uint64 va, pte_t pte)
{
  uint64 ppn = PTE_PPN(pte);
  if (!(pte & PTE_V) || !page_valid(ppn))
    return 0;
  struct pagepub *p = &pagepubs[ppn - PPN_BASE];
  return p->kind == PG_USER && p->owner == e->id && p->refs == 1 && p->pins == 0 &&
         !(va >= (e->xlo & ~(PGSIZE - 1)) && va < e->xhi);
}

// The abort protocol: e did not comply in time.  The kernel's choice: the
// pages e allocated most recently (the head of its owned list), which
// spares a program's old text, data and stack in favour of what it grew
// last; unmapped ones need no walk, mapped ones are found in one walk of
// its page table.
static void abort_protocol(struct env *e)
{
  uint64 before = e->repo_taken;
  int64 need = e->npages - (e->revoke_target > GUARANTEE ? e->revoke_target : GUARANTEE);
  int64 chosen = 0;
  for (int32 i = e->owned, next; i >= 0 && chosen < need; i = next) {
    next = pnext[i];
    if (pagepubs[i].pins)
      continue;
    if (pagepubs[i].refs == 0) {
      take(e, 0, PPN_BASE + i);            // owned, mapped nowhere
      need--;
    } else if (pagepubs[i].refs == 1) {
      pflags[i] |= PF_VICTIM;
      chosen++;
    }
  }
  for (uint64 g = 0; g < (UTOP >> 30) && chosen > 0; g++) {
    pte_t l2 = e->pt[g];
    if (!(l2 & PTE_V) || (l2 & (PTE_R | PTE_W | PTE_X)))
      continue;
    pagetable_t l1 = ppn2kva(PTE_PPN(l2));
    for (uint64 m = 0; m < 512 && chosen > 0; m++) {
      if (!(l1[m] & PTE_V) || (l1[m] & (PTE_R | PTE_W | PTE_X)))
        continue;
      pagetable_t l0 = ppn2kva(PTE_PPN(l1[m]));
      for (uint64 k = 0; k < 512 && chosen > 0; k++) {
        uint64 va = (g << 30) | (m << 21) | (k << 12), ppn = PTE_PPN(l0[k]);
        if (!(l0[k] & PTE_V) || !page_valid(ppn) || !(pflags[ppn - PPN_BASE] & PF_VICTIM))
          continue;
        pflags[ppn - PPN_BASE] &= ~PF_VICTIM;
        chosen--;
        if (takeable(e, va, l0[k]))
          take(e, va, ppn);
      }
    }
  }
  for (int32 i = e->owned; i >= 0 && chosen > 0; i = pnext[i])
    if (pflags[i] & PF_VICTIM) {           // mapped by another env, not by e
      pflags[i] &= ~PF_VICTIM;
      chosen--;
    }
  uint64 taken = e->repo_taken - before;
  envpubs[ENVX(e->id)].repossessed = e->repo_taken;
  syspub.repossessions += taken;
  e->revoke_want = 0;
  publish(e);
  if (taken) {
    e->repo_posted += taken;               // a repossession upcall to deliver
    e->upcall_pending = 1;
    tell_soon(e);
  }
}

// An allocation for caller failed for want of free pages.  Ask, or take,
// pages from the envs over their share.  -E_AGAIN if memory is being reclaimed (try again soon),
// -E_NO_MEM if not (or caller is over its own share).
int64 mem_pressure(struct env *caller)
{
  uint64 share = mem_share(), now = CSR_READ(time);
  int reclaiming = 0;
  for (int i = 0; i < NENV; i++) {
    struct env *e = &envs[i];
    if ((e->status != ENV_RUNNABLE && e->status != ENV_NOT_RUNNABLE) || e == caller || e->dying)
      continue;
    if (e->revoke_want) {
      if (satisfied(e)) {
        e->revoke_want = 0;                // it answered
        publish(e);
        reclaiming = 1;
      } else if (e->slices >= e->revoke_slices || (now >= e->revoke_time && e->ipc != IPC_IO)) {
        abort_protocol(e);
        reclaiming = 1;
      } else
        reclaiming = 1;                    // still has time
    } else if (e->npages > share) {
      uint64 over = e->npages - share;
      post(e, over < REVOKE_CHUNK ? over : REVOKE_CHUNK);
      reclaiming = 1;
    }
  }
  if (caller && caller->npages >= share)
    return -E_NO_MEM;                      // page yourself
  return reclaiming ? -E_AGAIN : -E_NO_MEM;
}

// Deliver e's pending revocation and repossession upcalls (e is about to
// run, outside its no-upcall window).  Needs klock.
void revoke_deliver(struct env *e)
{
  if (e->repo_posted) {
    uint64 n = e->repo_posted;
    e->repo_posted = 0;
    upcall_deliver(e, CAUSE_REPOSSESS, n);
  }
  if (e->revoke_posted && e->status == ENV_RUNNABLE && !e->dying && e->revoke_want) {
    e->revoke_posted = 0;
    upcall_deliver(e, CAUSE_REVOKE, e->revoke_want);
  }
  e->revoke_posted = 0;
}
