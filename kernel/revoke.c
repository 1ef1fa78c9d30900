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
// its own time slices run to their end, or REVOKE_RUNS dispatches; or,
// after REVOKE_TICKS of time, being found unable to run: see
// past_deadline) loses
// pages of the kernel's choosing: user pages it owns that no other env
// maps, not pinned for DMA, not its exception stack, and never below its
// guarantee (the exception stack is spared only while a handler is
// registered, and is at most MAXXSTACK).  Each loss is recorded (virtual address, physical page,
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
  uint64 n = env_sharing();
  uint64 share = n ? pages_usable / n : pages_usable;
  share = share < GUARANTEE ? GUARANTEE : share;
  syspub.share = share;
  return share;
}

// The pages e answers for: its own, and those of its children that have
// never run (a program cannot park memory in stopped children).
static int64 usage(struct env *e)
{
  int64 n = e->npages;
  for (int i = 0; i < NENV && e->nchildren; i++)
    if (envs[i].parent == e->id && &envs[i] != e && envs[i].status == ENV_NOT_RUNNABLE &&
        envpubs[i].runs == 0)
      n += envs[i].npages;
  return n;
}

static void publish(struct env *e)
{
  envpubs[ENVX(e->id)].revoke_want = e->revoke_want;
  envpubs[ENVX(e->id)].revoke_deadline = e->revoke_want ? REVOKE_SLICES : 0;
}

// e has an upcall pending: make it hear soon.  Running elsewhere: an IPI
// makes it trap.  Runnable but not running (it may have yielded through
// the short path, which does not look for pending upcalls): the upcall is
// pushed on its saved state now.  Waiting in pct_recv (a server, idle): it
// takes the upcall now, and receives again after it (its pc goes back to
// the ecall, as pct_recv: a pct_reply_recv has replied already).  Blocked
// in a call or I/O: when it resumes.
static void tell_soon(struct env *e)
{
  wait_cancel(e);                          // asleep in mwait: it wakes
  if (e->hart < 0 && e->status == ENV_RUNNABLE && e->ipc == IPC_RECV && !e->dying) {
    e->ipc = IPC_NONE;
    e->tf.pc -= 4;
    e->tf.a7 = SYS_pct_recv;               // (its receive address is still in a5)
    wake_idle();
  }
  if (e->hart >= 0 && e->hart != mycpu()->hartid)
    sbi_send_ipi(1UL << e->hart);
  else if (e->hart < 0 && e->status == ENV_RUNNABLE && e->ipc == IPC_NONE && !e->dying)
    deliver_pending_upcalls(e);
}

// Ask e for want pages back.
static void post(struct env *e, uint64 want)
{
  e->revoke_want = want;
  e->revoke_target = usage(e) - want;
  e->revoke_slices = e->slices + REVOKE_SLICES;
  e->revoke_runs = envpubs[ENVX(e->id)].runs;
  e->revoke_time = CSR_READ(time) + REVOKE_TICKS;
  e->revoke_posted = 1;                    // an upcall to deliver
  e->upcall_pending = 1;
  publish(e);
  syspub.revocations++;
  tell_soon(e);
}

// Where e is asked to come down to: its share, or the lower mark it set
// for its cache (SYS_mem_soft), never below the guarantee.
static int64 mark(struct env *e, uint64 share)
{
  int64 m = e->mem_soft && e->mem_soft < share ? e->mem_soft : share;
  return m < GUARANTEE ? GUARANTEE : m;
}

// Has e answered (or no longer needs to: it raised its cache mark)?
static int satisfied(struct env *e)
{
  int64 u = usage(e);
  return u <= e->revoke_target || u <= GUARANTEE || (e->mem_soft && u <= mark(e, syspub.share));
}

// e gave a page back: if that answers its request, the request ends now
// (were it left standing, pages e took later would count against it and
// its old deadline would abort it).
void revoke_progress(struct env *e)
{
  if (e->revoke_want && satisfied(e)) {
    e->revoke_want = 0;
    publish(e);
  }
}

static int live(struct env *x)
{
  return (x->status == ENV_RUNNABLE || x->status == ENV_NOT_RUNNABLE) && x->pt;
}

// Call fn on every valid user leaf PTE of x; stop early when fn returns 1.
static void walk_user(struct env *x, int (*fn)(struct env *, uint64, pte_t *, void *), void *arg)
{
  for (uint64 g = 0; g < (UTOP >> 30); g++) {
    pte_t l2 = x->pt[g];
    if (!(l2 & PTE_V) || (l2 & (PTE_R | PTE_W | PTE_X)))
      continue;
    pagetable_t l1 = ppn2kva(PTE_PPN(l2));
    for (uint64 m = 0; m < 512; m++) {
      if (!(l1[m] & PTE_V) || (l1[m] & (PTE_R | PTE_W | PTE_X)))
        continue;
      pagetable_t l0 = ppn2kva(PTE_PPN(l1[m]));
      for (uint64 k = 0; k < 512; k++)
        if ((l0[k] & PTE_V) && page_valid(PTE_PPN(l0[k])) &&
            fn(x, (g << 30) | (m << 21) | (k << 12), &l0[k], arg))
          return;
    }
  }
}

// ---- pages a dead env left mapped in others go to an env that maps them ----

static int adopt_leaf(struct env *x, uint64 va, pte_t *slot, void *arg)
{
  uint64 ppn = PTE_PPN(*slot);
  (void)va, (void)arg;
  if (pagepubs[ppn - PPN_BASE].owner == 0 && pagepubs[ppn - PPN_BASE].kind == PG_USER)
    page_adopt(x, ppn);
  return 0;
}

static void adopt_orphans(void)
{
  orphans_maybe = 0;
  for (int i = 0; i < NENV; i++)
    if (live(&envs[i]))
      walk_user(&envs[i], adopt_leaf, 0);
}

// ---- the abort protocol ----

// BEGIN LAB revoke: the abort protocol: abort_protocol(e) brings e (its own pages and those of its children that never ran) down to its target, never below GUARANTEE; it takes unpinned pages it owns, most recently allocated first, unmaps each from every env that maps it (sharing does not shield a page; the exception stack of a registered handler is spared, and other pages are taken in its place), frees it, records each (va where e mapped it, ppn, REPO_ABORT) in e's repossession vector, ends the request, and posts a CAUSE_REPOSSESS upcall saying how many went
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

// Take one page from e for the abort protocol (already unmapped
// everywhere): record it and free it.
static void take(struct env *e, uint64 va, uint64 ppn)
{
  record(e, va, ppn, REPO_ABORT);
  page_disown(ppn);
  e->repo_taken++;
}

struct victims {
  struct env *e;
  int n;
  uint64 va[REVOKE_CHUNK];                 // where e itself mapped each (0: not)
  uint64 ppn[REVOKE_CHUNK];
};

static int victim_leaf(struct env *x, uint64 va, pte_t *slot, void *arg)
{
  struct victims *v = arg;
  uint64 ppn = PTE_PPN(*slot);
  if (!(pflags[ppn - PPN_BASE] & PF_VICTIM))
    return 0;
  if (x == v->e)
    for (int i = 0; i < v->n; i++)
      if (v->ppn[i] == ppn)
        v->va[i] = va;
  pte_store(x, va, 0);                     // every mapping goes, with shootdown
  return 0;
}

// Is ppn a page of o's exception stack, which its handler needs to hear
// the notice (so the abort protocol spares it)?
static int on_xstack(struct env *o, uint64 ppn)
{
  for (uint64 va = o->xlo & ~(PGSIZE - 1); o->upcall && va < o->xhi; va += PGSIZE) {
    pte_t *p = walk(o, va, 0);
    if (p && (*p & PTE_V) && PTE_PPN(*p) == ppn)
      return 1;
  }
  return 0;
}

// The abort protocol: e did not comply in time.  The kernel's choice: the
// pages e allocated most recently (the head of its owned list), which
// spares a program's old text, data and stack in favour of what it grew
// last.  A page other envs map too is unmapped from all of them (found by
// walking their page tables): sharing a page does not shield it.
// Take up to need pages owned by o (e itself, or a child of e that never
// ran), recording them in o's vector.
static void abort_take(struct env *o, int64 need)
{
  struct victims v = { o, 0, { 0 }, { 0 } };
  for (int32 i = o->owned, next; i >= 0 && need > 0 && v.n < REVOKE_CHUNK; i = next) {
    next = pnext[i];
    if (pagepubs[i].pins || on_xstack(o, PPN_BASE + i))
      continue;                            // (others are taken in their place)
    need--;
    if (pagepubs[i].refs == 0) {
      take(o, 0, PPN_BASE + i);            // owned, mapped nowhere
      continue;
    }
    pflags[i] |= PF_VICTIM;
    v.ppn[v.n++] = PPN_BASE + i;
  }
  if (v.n) {
    walk_user(o, victim_leaf, &v);
    for (int i = 0; i < NENV; i++)
      if (&envs[i] != o && live(&envs[i]))
        walk_user(&envs[i], victim_leaf, &v);
  }
  for (int i = 0; i < v.n; i++) {
    int32 k = v.ppn[i] - PPN_BASE;
    int chosen = pflags[k] & PF_VICTIM;
    pflags[k] &= ~PF_VICTIM;
    if (chosen && pagepubs[k].owner == o->id && pagepubs[k].refs == 0 && pagepubs[k].pins == 0)
      take(o, v.va[i], v.ppn[i]);
  }
}

static void abort_protocol(struct env *e)
{
  uint64 before = e->repo_taken;
  int64 floor = e->revoke_target > GUARANTEE ? e->revoke_target : GUARANTEE;
  for (int i = 0; i < NENV && usage(e) > floor; i++)     // its stopped children's first
    if (envs[i].parent == e->id && &envs[i] != e && envs[i].status == ENV_NOT_RUNNABLE &&
        envpubs[i].runs == 0)
      abort_take(&envs[i], usage(e) - floor);
  int64 need = usage(e) - floor, own = e->npages - GUARANTEE;
  if (need > 0 && own > 0)
    abort_take(e, need < own ? need : own);   // never below its guarantee
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
// END LAB revoke: static void abort_protocol(struct env *e) { LAB_TODO("revoke", "the abort protocol (an env that does not answer keeps its pages)"); e->revoke_want = 0; publish(e); }

// Has e had its chance to answer its request?  Its own slices run out, or
// enough dispatches (it hears of the request at its first), count whatever
// the host does.  Time counts only if e is found unable to run (blocked in
// a call, a receive or a wait, or stopped: it could sit there for ever),
// not while it waits for what only the kernel can give: the disk, or free
// pages (a timed wait on usys->nfree, the library's wait in E_AGAIN: it
// wakes every few ms, so its dispatches still count), and not while it is
// ready and waits for a hart, which on a loaded host can be long and is
// not e's doing.  (A file server in the middle of a request, waiting for a
// page, was aborted after 1 s of such waiting and died of the page taken.)
static int past_deadline(struct env *e, uint64 now)
{
  if (e->slices >= e->revoke_slices ||
      (uint32)envpubs[ENVX(e->id)].runs - (uint32)e->revoke_runs >= REVOKE_RUNS)
    return 1;
  int ready = e->status == ENV_RUNNABLE && e->ipc == IPC_NONE;
  int for_memory = e->ipc == IPC_WAIT && e->wait_deadline && e->wait_key == kpa(&syspub.nfree);
  return now >= e->revoke_time && !ready && !for_memory && e->ipc != IPC_IO;
}

// An allocation for caller failed for want of free pages.  Ask, or take,
// pages from the envs over their share, or over the lower mark they set
// themselves for a cache (SYS_mem_soft).  -E_AGAIN if memory is being
// reclaimed (try again soon), -E_NO_MEM if not.  A caller over its own
// share must page itself: only pages others hold above their soft mark
// (below their share) may come to it.
int64 mem_pressure(struct env *caller)
{
  if (orphans_maybe)
    adopt_orphans();                       // charge them before judging shares
  uint64 share = mem_share(), now = CSR_READ(time);
  int reclaiming = 0, soft = 0;
  for (int i = 0; i < NENV; i++) {
    struct env *e = &envs[i];
    if ((e->status != ENV_RUNNABLE && e->status != ENV_NOT_RUNNABLE) || e == caller || e->dying)
      continue;
    int64 u = usage(e);
    if (e->revoke_want) {
      revoke_progress(e);                  // it answered,
      if (e->revoke_want && past_deadline(e, now)) {
        // (said on the console: which deadline passed, and where e was,
        // so that an abort nobody expected can be understood afterwards)
        kprintf("revoke: env %x did not give back %d pages in time (%s; ipc %d): the abort protocol takes them\n",
                e->id, (int)e->revoke_want,
                e->slices >= e->revoke_slices ? "its slices ran out" :
                (uint32)envpubs[ENVX(e->id)].runs - (uint32)e->revoke_runs >= REVOKE_RUNS ?
                "it was dispatched 256 times" : "1 s passed while it could not run",
                e->ipc);
        abort_protocol(e);                 // or is made to
      }
      reclaiming = 1;                      // (it answered, was made to, or still has time)
      soft |= u <= (int64)share;
    } else if (u > mark(e, share)) {
      uint64 over = u - mark(e, share);
      post(e, over < REVOKE_CHUNK ? over : REVOKE_CHUNK);
      reclaiming = 1;
      soft |= u <= (int64)share;
    }
  }
  if (caller && caller->npages >= share && !soft)
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
  int ask = e->revoke_posted && e->status == ENV_RUNNABLE && !e->dying && e->revoke_want;
  e->revoke_posted = 0;
  if (ask)
    upcall_deliver(e, CAUSE_REVOKE, e->revoke_want);
}
