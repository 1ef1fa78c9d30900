// Physical pages.  Every page of RAM has a public record (owner, number of
// user mappings, kind) that user code can read at UPAGES, and kernel-private
// list links: free pages form the free list, and each env's allocated user
// pages form its owned list so destroying an env is linear in what it owns.
// A user page lives while it has an owner or is mapped somewhere.
// All functions here require klock.
#include "defs.h"

#define MAXPAGES (MAXRAM / PGSIZE)

struct pagepub pagepubs[MAXPAGES] __attribute__((aligned(4096)));
struct syspub syspub __attribute__((aligned(4096)));
int32 pnext[MAXPAGES];
static int32 pprev[MAXPAGES];
uint8 pflags[MAXPAGES];            // PF_* for page-table pages
static int32 freehead = -1;
int orphans_maybe;                 // a dead env left pages that others still map
static uint64 nfree;
static int32 syspub_ppn;           // the page of syspub, less PPN_BASE
uint64 npages_total, ram_end;
extern char kernel_end[];

int page_valid(uint64 ppn) { return ppn >= PPN_BASE && ppn < (ram_end >> PGSHIFT); }
uint64 pages_free(void) { return nfree; }

static void freelist_push(int32 i)
{
  pagepubs[i].kind = PG_FREE;
  pagepubs[i].owner = 0;
  pagepubs[i].refs = 0;
  pagepubs[i].pins = 0;
  pagepubs[i].flags = 0;
  pnext[i] = freehead;
  freehead = i;
  syspub.nfree = ++nfree;
  if (__builtin_expect(pflags[syspub_ppn] & PF_WAITED, 0))   // envs waiting for memory
    wait_page_event(PPN_BASE + syspub_ppn);
}

// Set up the records: every page from the end of the kernel to the end of
// RAM is free, except the device tree.
void pageinit(uint64 ramsize)
{
  if (ramsize > MAXRAM)
    ramsize = MAXRAM;
  ram_end = RAMBASE + ramsize;
  syspub_ppn = (kpa(&syspub) >> PGSHIFT) - PPN_BASE;
  npages_total = ramsize / PGSIZE;
  syspub.npages = npages_total;
  syspub.slice_ticks = SLICE_TICKS;
  syspub.timebase = 10000000;          // QEMU virt: 10 MHz
  for (uint64 i = 0; i < npages_total; i++)
    pagepubs[i].kind = PG_KERNEL;
  uint64 first = (kpa(kernel_end) + PGSIZE - 1) & ~(PGSIZE - 1);
  uint64 fdt_lo = fdt_pa & ~(PGSIZE - 1), fdt_hi = fdt_pa + fdt_size;
  for (uint64 pa = ram_end - PGSIZE; pa >= first; pa -= PGSIZE) {
    if (pa + PGSIZE > fdt_lo && pa < fdt_hi)
      continue;
    freelist_push((pa >> PGSHIFT) - PPN_BASE);
  }
}

// Allocate a zeroed page of the given kind charged to owner (which may be
// 0 for the kernel).  User pages join the owner's list.  Returns the PPN,
// or 0 when memory is exhausted.
uint64 page_alloc(int kind, struct env *owner)
{
  if (freehead < 0)
    return 0;
  int32 i = freehead;
  freehead = pnext[i];
  syspub.nfree = --nfree;
  uint64 ppn = PPN_BASE + i;
  memset(ppn2kva(ppn), 0, PGSIZE);
  pagepubs[i].kind = kind;
  pagepubs[i].refs = 0;
  pagepubs[i].owner = owner ? owner->id : 0;
  if (owner) {
    owner->npages++;
    envpubs[ENVX(owner->id)].npages = owner->npages;
    if (kind == PG_USER) {
      pprev[i] = -1;
      pnext[i] = owner->owned;
      if (owner->owned >= 0)
        pprev[owner->owned] = i;
      owner->owned = i;
    } else if (kind == PG_PTABLE) {
      pflags[i] = 0;
      pnext[i] = owner->ptlist;
      owner->ptlist = i;
    }
  }
  return ppn;
}

// Return a page to the free list.  A page-table page (kind PG_PTABLE) is
// uncharged from its owner here.
void page_release(uint64 ppn)
{
  int32 i = ppn - PPN_BASE;
  if (pagepubs[i].kind == PG_PTABLE && pagepubs[i].owner) {
    struct env *e = env_lookup(pagepubs[i].owner);
    if (e) {
      e->npages--;
      envpubs[ENVX(e->id)].npages = e->npages;
    }
  }
  freelist_push(i);
}

// Take page-table page ppn off e's list (it is about to be released).
void pt_unlink(struct env *e, uint64 ppn)
{
  int32 i = ppn - PPN_BASE;
  for (int32 *p = &e->ptlist; *p >= 0; p = &pnext[*p])
    if (*p == i) {
      *p = pnext[i];
      return;
    }
}

static void page_idle(uint64 ppn);

// One more user mapping of ppn.  0, or -E_NO_MEM if the count is full.
int page_ref(uint64 ppn)
{
  struct pagepub *p = &pagepubs[ppn - PPN_BASE];
  if (p->refs == 0xFFFFFFFFU)
    return -E_NO_MEM;
  p->refs++;
  return 0;
}

// One user mapping of ppn went away; free the page if nothing holds it.
void page_unref(uint64 ppn)
{
  struct pagepub *p = &pagepubs[ppn - PPN_BASE];
  if (p->refs == 0)
    panic("page_unref %lx: no refs", ppn);
  if (--p->refs == 0)
    page_idle(ppn);
  else if (__builtin_expect(pflags[ppn - PPN_BASE] & PF_WAITED, 0))
    wait_page_event(ppn);                  // its waiters see who is left
}

// The device is going to use ppn: it stays until page_unpin, whatever
// happens to its mappings and its owner.
void page_pin(uint64 ppn) { pagepubs[ppn - PPN_BASE].pins++; }

void page_unpin(uint64 ppn)
{
  struct pagepub *p = &pagepubs[ppn - PPN_BASE];
  if (--p->pins == 0)
    page_idle(ppn);
}

// Uncharge ppn from its owner (off its owned list).
static void uncharge(int32 i)
{
  struct pagepub *p = &pagepubs[i];
  struct env *e = p->owner ? env_lookup(p->owner) : 0;
  if (e) {
    if (pprev[i] >= 0)
      pnext[pprev[i]] = pnext[i];
    else
      e->owned = pnext[i];
    if (pnext[i] >= 0)
      pprev[pnext[i]] = pprev[i];
    e->npages--;
    envpubs[ENVX(e->id)].npages = e->npages;
    if (e->revoke_want)
      revoke_progress(e);
  }
  p->owner = 0;
  p->flags = 0;
}

// The owner gives up its hold on a user page.  A page nobody maps (and the
// disk does not use) is freed now; one still mapped stays charged to its
// owner, marked released, until its last mapping goes: freeing a page does
// not make memory that is still in use anybody's free memory.
void page_disown(uint64 ppn)
{
  int32 i = ppn - PPN_BASE;
  struct pagepub *p = &pagepubs[i];
  if (p->refs == 0 && p->pins == 0) {
    uncharge(i);
    page_release(ppn);
  } else if (p->owner)
    p->flags |= PGF_RELEASED;
}

// A user page lost its last mapping or pin: free it if its owner let go.
static void page_idle(uint64 ppn)
{
  struct pagepub *p = &pagepubs[ppn - PPN_BASE];
  if (p->refs || p->pins || p->kind != PG_USER)
    return;
  if (p->owner == 0 || (p->flags & PGF_RELEASED)) {
    uncharge(ppn - PPN_BASE);
    page_release(ppn);
  }
}

// e, the only env that maps ownerless user page ppn, takes it over: it is
// charged for it from now on (so every page in use is owned and counted),
// until it unmaps it (then it is freed, as it would have been).
void page_adopt(struct env *e, uint64 ppn)
{
  int32 i = ppn - PPN_BASE;
  struct pagepub *p = &pagepubs[i];
  if (p->owner || p->kind != PG_USER)
    return;
  p->owner = e->id;
  p->flags = PGF_RELEASED;                 // charged while mapped, freed at the last unmap
  pprev[i] = -1;
  pnext[i] = e->owned;
  if (e->owned >= 0)
    pprev[e->owned] = i;
  e->owned = i;
  e->npages++;
  envpubs[ENVX(e->id)].npages = e->npages;
}

// Drop env e's hold on every page it owns (when e is destroyed; its own
// mappings are gone already).  A page another env still maps stays,
// ownerless, until it is unmapped; under memory pressure such pages are
// charged to an env that maps them (revoke.c), so memory in use cannot
// hide from revocation (exits are frequent, pressure is not).
void page_disown_all(struct env *e)
{
  while (e->owned >= 0) {
    int32 i = e->owned;
    uncharge(i);
    if (pagepubs[i].refs == 0 && pagepubs[i].pins == 0)
      page_release(PPN_BASE + i);
    else
      orphans_maybe = 1;
  }
}

#ifdef KCHECK
// The length of the free list (kcheck.c compares it with the free count).
uint64 kcheck_freelist_len(void)
{
  uint64 n = 0;
  for (int32 i = freehead; i >= 0 && n <= npages_total; i = pnext[i])
    n++;
  return n;
}
#endif
