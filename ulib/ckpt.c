// Checkpoints of a memory region through page protection: an application
// of user-level faults (Appel and Li, ASPLOS 1991), which an exokernel lets
// a library build with no help from the kernel.
//
// ckpt_begin(lo, len) takes the region's current contents as the
// checkpoint and write-protects every page of it.  The first store to a
// page in an epoch is a store page fault: the handler saves the page's
// contents (a copy in a page of its own, at UCKPT + index * PGSIZE), makes
// the page writable again and lets the store go on.  Later stores to it run
// at full speed.  ckpt_commit() makes the current contents the checkpoint
// (the copies go, the written pages are protected again); ckpt_rollback()
// puts every written page back as it was at the checkpoint.  Only the
// pages written since the checkpoint cost anything.
//
// The kernel's part is the PTE permission bits, the fault upcall and the
// dirty bits' visibility: all of it already exported.  One region per env.
// The region must be private memory (no copy-on-write or shared pages):
// call ckpt_end() before fork.
#include "lib.h"

enum { C_CLEAN, C_DIRTY };              // a tracked page: protected / written, saved

static uint64 lo, npages;               // the region (npages 0: none)
static uint8 state[CKPT_MAXPAGES];
static struct ckpt_stats stats;
static struct pte_op ops[256];          // protection changes, applied in batches
static int nops;
static int handler_in __attribute__((unused));   // (unused in a student tree until ckpt_begin is written)

static int flush(void)
{
  int r = nops ? sys_pte_batch(0, ops, nops) : 0;
  nops = 0;
  return r;
}

// Queue va's PTE with W cleared (protect) or set (unprotect); every other
// bit stays as it is.
static int queue(uint64 va, int writable)
{
  pte_t pte = uvpt_pte(va);
  ops[nops++] = (struct pte_op){ va, writable ? pte | PTE_W : pte & ~(pte_t)PTE_W };
  return nops == (int)(sizeof ops / sizeof ops[0]) ? flush() : 0;
}

static uint64 saved(uint64 i) { return UCKPT + i * PGSIZE; }

// A store to a protected page of the region: save it, then let it write.
__attribute__((unused))                // (in a student tree, until ckpt_begin installs it)
static int ckpt_fault(struct uframe *f)
{
  // BEGIN LAB ckpt: ckpt_fault: a store fault on a page of the region that is still clean: copy its contents to its saved page, mark it dirty, make it writable again; 1 if handled, 0 if not ours (another page, or a page already dirty: a real fault)
  uint64 va = f->tval & ~(PGSIZE - 1);
  if (!npages || va < lo || va >= lo + npages * PGSIZE)
    return 0;
  uint64 i = (va - lo) / PGSIZE;
  if (state[i] != C_CLEAN || !(uvpt_pte(va) & PTE_V))
    return 0;
  if (page_map(saved(i), PTE_R | PTE_W) < 0)
    return 0;                           // no page for the copy: the store stays a fault
  memmove((void *)saved(i), (void *)va, PGSIZE);
  if (sys_pte_set(0, va, uvpt_pte(va) | PTE_W) < 0) {
    page_unmap(saved(i));
    return 0;
  }
  state[i] = C_DIRTY;
  stats.faults++;
  return 1;
  // END LAB ckpt: return lab_todo_once("ckpt", "ckpt_fault"), (void)f, (void)saved, 0;
}

// Start tracking [start, start + len): page-aligned, at most CKPT_MAXPAGES
// pages of private memory.  Its contents now are the first checkpoint.
// 0, -E_INVAL (bad region, or shared or copy-on-write pages in it),
// -E_BUSY (a region is tracked already), or the error of a page table
// update.
int ckpt_begin(void *start, uint64 len)
{
  // BEGIN LAB ckpt: ckpt_begin: check the region (-E_BUSY, -E_INVAL); make every page present (read it) and private; install the handler once; every page clean and write-protected
  uint64 a = (uint64)start;
  if (npages)
    return -E_BUSY;
  if ((a | len) & (PGSIZE - 1) || len == 0 || len / PGSIZE > CKPT_MAXPAGES || a + len < a ||
      a + len > UTOP)
    return -E_INVAL;
  for (uint64 va = a; va < a + len; va += PGSIZE) {
    (void)*(volatile char *)va;         // present (a demand-zero page appears)
    pte_t pte = uvpt_pte(va);
    if (!(pte & PTE_V) || !(pte & PTE_W) || (pte & (PTE_COW | PTE_SHARE)))
      return -E_INVAL;
  }
  if (!handler_in) {
    set_handler(CAUSE_STORE_PAGE, ckpt_fault);
    handler_in = 1;
  }
  lo = a;
  npages = len / PGSIZE;
  for (uint64 i = 0; i < npages; i++) {
    state[i] = C_CLEAN;
    int r = queue(lo + i * PGSIZE, 0);
    if (r < 0)
      return r;
  }
  return flush();
  // END LAB ckpt: return lab_todo("ckpt", "ckpt_begin"), (void)start, (void)len, (void)queue, -E_NOSYS;
}

// End an epoch: for each dirty page, put the saved copy back (rollback)
// or not (commit), drop the copy and protect the page again.
static int end_epoch(int rollback)
{
  // BEGIN LAB ckpt: end_epoch: for every dirty page: copy the saved contents back if rolling back, free the saved page, mark it clean and queue its protection; apply the queue; count the pages in stats
  if (!npages)
    return -E_INVAL;
  for (uint64 i = 0; i < npages; i++) {
    if (state[i] != C_DIRTY)
      continue;
    if (rollback) {
      memmove((void *)(lo + i * PGSIZE), (void *)saved(i), PGSIZE);
      stats.restored++;
    }
    page_unmap(saved(i));
    state[i] = C_CLEAN;
    int r = queue(lo + i * PGSIZE, 0);
    if (r < 0)
      return r;
  }
  if (rollback)
    stats.rollbacks++;
  else
    stats.commits++;
  return flush();
  // END LAB ckpt: return lab_todo("ckpt", rollback ? "ckpt_rollback" : "ckpt_commit"), -E_NOSYS;
}

// The current contents become the checkpoint.  0 or an error.
int ckpt_commit(void) { return end_epoch(0); }

// Every page written since the checkpoint gets its contents back.
int ckpt_rollback(void) { return end_epoch(1); }

// Stop tracking: the current contents stay, every page is writable again.
int ckpt_end(void)
{
  // BEGIN LAB ckpt: ckpt_end: commit, then make every page of the region writable again and forget the region
  int r = ckpt_commit();
  if (r < 0)
    return r;
  for (uint64 i = 0; i < npages; i++)
    if ((r = queue(lo + i * PGSIZE, 1)) < 0)
      return r;
  npages = 0;
  return flush();
  // END LAB ckpt: return lab_todo("ckpt", "ckpt_end"), -E_NOSYS;
}

void ckpt_get_stats(struct ckpt_stats *s) { *s = stats; }

// Is the page at va tracked and written since the checkpoint?
int ckpt_dirty(void *va)
{
  uint64 a = (uint64)va & ~(PGSIZE - 1);
  return npages && a >= lo && a < lo + npages * PGSIZE && state[(a - lo) / PGSIZE] == C_DIRTY;
}
