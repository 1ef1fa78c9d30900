// Invariant checker, built only into kernel/kernel.kcheck (make KCHECK=1).
// Every KCHECK_EVERY-th trap or system call (the short path in
// trampoline.S included), with klock held, it recounts from the page
// tables and the records what the kernel's bookkeeping claims, and panics
// with the first disagreement ("kcheck: page 0x... refs 2 but 3 PTEs map
// it"): user mappings against refs, charges against npages, the slot
// vector against nslots, pins against the disk's in-flight requests, and
// the free list against the free count.  The hooks elsewhere are under
// #ifdef KCHECK.
#include "defs.h"

// A full check reads every page record and page table (a few hundred
// thousand instructions, 100 times a system call); every 64th entry keeps
// a fuzzing run within a few times its normal time.  The free list is
// walked on every 16th check.
#define KCHECK_EVERY 64           // check on every 64th entry to the kernel, per hart
#define FREELIST_EVERY 16
#define MAXPAGES (MAXRAM / PGSIZE)

static uint32 maps[MAXPAGES];     // user leaf PTEs mapping each page, recounted
                                  // (zero between checks)
static int32 user_owned[NENV];    // user pages each env owns, by the records
static int32 pt_owned[NENV];      // page-table pages each env owns, by the records
static int32 pt_walked[NENV];     // page-table pages reached from each env's root
static int32 slots_held[NENV];    // time slices each env holds, by the slot vector
static uint32 count[NCPU];        // entries per hart since the last check
static uint64 checks;             // full checks done
static uint64 dma[64 * BLK_MAXPAGES + 32 + NENV * NET_RINGPAGES];   // pages of in-flight
                                        // disk requests and frames, and of receive rings
static int ndma;
static const char *where;         // which hook found it (for the message)
static uint64 what;               //   and the trap cause or system call

#define fail(fmt, ...) panic("kcheck: " fmt " (at %s 0x%lx)", __VA_ARGS__, where, what)

static int live(struct env *e) { return e->status == ENV_RUNNABLE || e->status == ENV_NOT_RUNNABLE; }

// A page-table page of e's tree: it must be a PG_PTABLE page e owns.
static pte_t *table(struct env *e, pte_t entry, uint64 va)
{
  uint64 ppn = PTE_PPN(entry);
  if (!page_valid(ppn))
    fail("env %x: page table for va %p at 0x%lx, outside RAM", e->id, va, ppn);
  struct pagepub *p = &pagepubs[ppn - PPN_BASE];
  if (p->kind != PG_PTABLE || p->owner != e->id)
    fail("env %x: page table for va %p is page 0x%lx of kind %d owned by %x", e->id, va, ppn,
         p->kind, p->owner);
  pt_walked[ENVX(e->id)]++;
  return ppn2kva(ppn);
}

// One leaf PTE of e at va.  A user address maps a user page (counted) or
// a device; the reserved regions map e's own page tables, read-only.
static void leaf(struct env *e, uint64 va, pte_t pte)
{
  uint64 ppn = PTE_PPN(pte);
  if (va >= UTOP) {
    if (!page_valid(ppn) || pagepubs[ppn - PPN_BASE].kind != PG_PTABLE ||
        pagepubs[ppn - PPN_BASE].owner != e->id || (pte & PTE_W))
      fail("env %x: va %p in the page-table window maps 0x%lx (pte %lx)", e->id, va, ppn, pte);
    return;
  }
  if (!(pte & PTE_U) || (pte & PTE_G))
    fail("env %x: user va %p has pte %lx (U clear or G set)", e->id, va, pte);
  if (!page_valid(ppn))
    return;                                   // device registers (dev_map)
  struct pagepub *p = &pagepubs[ppn - PPN_BASE];
  if (p->kind != PG_USER)
    fail("env %x: user va %p maps page 0x%lx of kind %d", e->id, va, ppn, p->kind);
  maps[ppn - PPN_BASE]++;
}

// Walk e's user half (root entries 0..255; entry PX(2, UENVS) is the
// kernel's shared table of public records, not e's).
static void walk_env(struct env *e)
{
  pte_t *root = table(e, PPN_PTE(kpa(e->pt) >> PGSHIFT, PTE_V), 0);
  for (int i = 0; i < 256; i++) {
    pte_t r = root[i];
    if (i == PX(2, UENVS)) {
      if (PTE_PPN(r) != kpa(shared_l1) >> PGSHIFT)
        fail("env %x: root entry for the public records is %lx", e->id, r);
      continue;
    }
    if (!(r & PTE_V))
      continue;
    if (r & (PTE_R | PTE_W | PTE_X))
      fail("env %x: superpage in root entry %d: %lx", e->id, i, r);
    pte_t *l1 = table(e, r, (uint64)i << 30);
    for (int j = 0; j < 512; j++) {
      if (!(l1[j] & PTE_V))
        continue;
      uint64 va1 = ((uint64)i << 30) | ((uint64)j << 21);
      if (l1[j] & (PTE_R | PTE_W | PTE_X))
        fail("env %x: superpage at va %p: %lx", e->id, va1, l1[j]);
      pte_t *l0 = table(e, l1[j], va1);
      for (int k = 0; k < 512; k += 8) {
        if (!(l0[k] | l0[k + 1] | l0[k + 2] | l0[k + 3] | l0[k + 4] | l0[k + 5] | l0[k + 6] | l0[k + 7]))
          continue;
        for (int m = k; m < k + 8; m++)
          if (l0[m] & PTE_V)
            leaf(e, va1 | ((uint64)m << 12), l0[m]);
      }
    }
  }
}

// How many in-flight disk requests use page ppn.
static int dma_uses(uint64 ppn)
{
  int n = 0;
  for (int i = 0; i < ndma; i++)
    n += dma[i] == ppn;
  return n;
}

// Every page the device may still write is pinned once per request that
// uses it, and no other page is pinned (the records' pins).
static void check_dma(void)
{
  ndma = kcheck_disk_pages(dma, sizeof dma / sizeof dma[0]);
  ndma += kcheck_net_pages(dma + ndma, sizeof dma / sizeof dma[0] - ndma);
  for (int i = 0; i < ndma; i++) {
    uint64 ppn = dma[i];
    if (!page_valid(ppn) || pagepubs[ppn - PPN_BASE].pins != dma_uses(ppn))
      fail("page 0x%lx is in %d disk or network uses but has %d pins", ppn, dma_uses(ppn),
           page_valid(ppn) ? pagepubs[ppn - PPN_BASE].pins : -1);
  }
}

// The page records against the recount, and every page accounted for.
static void check_pages(void)
{
  uint64 kinds[4] = { 0 };
  _Static_assert(sizeof(struct pagepub) == 16, "pagepub: two words");
  for (uint64 i = 0; i < npages_total; i++) {
    struct pagepub *p = &pagepubs[i];
    uint64 *w = (uint64 *)p;
    uint32 mapped = maps[i];
    if ((w[0] | mapped) == 0 && w[1] <= PG_KERNEL) {   // the common case: a clean free or
      kinds[w[1]]++;                                   // kernel page, nobody's, unmapped
      continue;
    }
    maps[i] = 0;                              // cleared for the next check
    uint64 ppn = PPN_BASE + i;
    if (p->kind > PG_PTABLE)
      fail("page 0x%lx has kind %d", ppn, p->kind);
    kinds[p->kind]++;
    if (p->kind != PG_USER && mapped)
      fail("page 0x%lx of kind %d is mapped by %d user PTEs", ppn, p->kind, mapped);
    struct env *o = p->owner ? env_lookup(p->owner) : 0;
    if (p->owner && (!o || !live(o)))
      fail("page 0x%lx (kind %d) is owned by %x, which is not a live env", ppn, p->kind, p->owner);
    if (p->pins && p->pins != dma_uses(ppn))
      fail("page 0x%lx has %d pins but is in %d disk or network uses", ppn, p->pins, dma_uses(ppn));
    switch (p->kind) {
    case PG_FREE:
      if (p->owner || p->refs || p->pins)
        fail("free page 0x%lx has owner %x refs %d pins %d", ppn, p->owner, p->refs, p->pins);
      break;
    case PG_KERNEL:
      if (p->owner || p->refs)
        fail("kernel page 0x%lx has owner %x refs %d", ppn, p->owner, p->refs);
      break;
    case PG_PTABLE:
      if (!o)
        fail("page-table page 0x%lx has no owner", ppn);
      pt_owned[ENVX(o->id)]++;
      break;
    case PG_USER:
      if (p->refs != mapped)
        fail("page 0x%lx refs %d but %d PTEs map it", ppn, p->refs, mapped);
      if (o)
        user_owned[ENVX(o->id)]++;
      if (p->refs == 0 && p->pins == 0 && (!o || (p->flags & PGF_RELEASED)))
        fail("user page 0x%lx is held by nobody (owner %x, flags %x) but not free", ppn, p->owner,
             p->flags);
      break;
    }
  }
  if (kinds[PG_FREE] != pages_free())
    fail("%ld pages are free by their records, but the free count is %ld", kinds[PG_FREE],
         pages_free());
  if (checks % FREELIST_EVERY == 0 && kcheck_freelist_len() != pages_free())
    fail("the free list holds %ld pages, the free count is %ld", kcheck_freelist_len(),
         pages_free());
  if (kinds[0] + kinds[1] + kinds[2] + kinds[3] != npages_total)
    fail("pages by kind add up to %ld, not %ld", kinds[0] + kinds[1] + kinds[2] + kinds[3],
         npages_total);
}

// Each env's charges and slices against the recounts.
static void check_envs(void)
{
  int n;
  struct env *const *slots = kcheck_slots(&n);
  for (int i = 0; i < n; i++) {
    struct env *e = slots[i];
    if (!e)
      continue;
    if (e < envs || e >= envs + NENV || !live(e))
      fail("time slice %d belongs to env %x, status %d", i, e->id, e->status);
    slots_held[e - envs]++;
  }
  for (int i = 0; i < NENV; i++) {
    struct env *e = &envs[i];
    if (e->status == ENV_FREE)
      continue;
    if (!live(e)) {
      if (e->pt || e->npages || e->nslots)
        fail("exited env %x still has pt %p, %d pages, %d slices", e->id, e->pt, e->npages,
             e->nslots);
      continue;
    }
    if (e->npages != user_owned[i] + pt_owned[i])
      fail("env %x npages %d but owns %d user and %d page-table pages", e->id, e->npages,
           user_owned[i], pt_owned[i]);
    if (pt_owned[i] != pt_walked[i])
      fail("env %x owns %d page-table pages but %d are in its tree", e->id, pt_owned[i],
           pt_walked[i]);
    if (envpubs[i].npages != e->npages || envpubs[i].nslots != e->nslots)
      fail("env %x public record says %d pages %d slices, not %d and %d", e->id,
           envpubs[i].npages, envpubs[i].nslots, e->npages, e->nslots);
    if (e->nslots != slots_held[i])
      fail("env %x nslots %d but holds %d slices", e->id, e->nslots, slots_held[i]);
  }
}

// Check everything now.  Needs klock.
void kcheck_all(const char *hook, uint64 why)
{
  where = hook;
  what = why;
  checks++;
  // (maps[] is all zero here: check_pages() clears what the walk counted)
  memset(user_owned, 0, sizeof user_owned);
  memset(pt_owned, 0, sizeof pt_owned);
  memset(pt_walked, 0, sizeof pt_walked);
  memset(slots_held, 0, sizeof slots_held);
  for (int i = 0; i < NENV; i++)
    if (live(&envs[i]) && envs[i].pt)
      walk_env(&envs[i]);
  check_dma();
  check_pages();
  check_envs();
}

// A trap on this hart (klock held): every KCHECK_EVERY-th one is checked.
// hook and why name it in a failure message ("system call", 35).
void kcheck_trap(const char *hook, uint64 why)
{
  if (++count[mycpu()->hartid] % KCHECK_EVERY == 0)
    kcheck_all(hook, why);
}

// The short system-call path, after the call (trampoline.S; no lock held).
void kcheck_fast(uint64 nr)
{
  if (++count[mycpu()->hartid] % KCHECK_EVERY)
    return;
  acquire(&klock);
  kcheck_all("short system call", nr);
  release(&klock);
}
