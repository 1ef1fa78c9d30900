// The memory export seen from the library: raw PTEs installed and read back
// through UVPT (RSW bits kept, A and D set by the hardware), page-table
// pages created on demand and charged to the env, and the public per-page
// records following mappings.
#include "lib.h"

#define FAR 0x2000000000UL                  // 128 GiB: a fresh gigabyte

int main(int argc, char **argv)
{
  int before = thisenv->npages;
  int64 ppn = sys_page_alloc(0);
  check(ppn > 0, "page_alloc: %s", errstr(ppn));
  check(upages[ppn - PPN_BASE].owner == thisenv->id && upages[ppn - PPN_BASE].kind == PG_USER &&
        upages[ppn - PPN_BASE].refs == 0, "public record of a new page");
  check(thisenv->npages == before + 1, "npages %d, expected %d", thisenv->npages, before + 1);

  // a new gigabyte needs a level-1 and a level-0 table, plus the table that
  // exposes the new level-0 table at UVPT: all charged to me
  check(!(((volatile pte_t *)UVPR)[FAR >> 30] & PTE_V), "FAR already has a level-1 table");
  pte_t pte = PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_W | PTE_RSW0 | PTE_RSW1);
  check(sys_pte_set(0, FAR, pte) == 0, "map at FAR");
  check(((volatile pte_t *)UVPR)[FAR >> 30] & PTE_V, "UVPR does not show the new level-1 table");
  check(((volatile pte_t *)UVPD)[FAR >> 21] & PTE_V, "UVPD does not show the new level-0 table");
  int tables = thisenv->npages - before - 1;
  check(tables == 3, "%d page-table pages charged for a new gigabyte, expected 3", tables);
  check(uvpt_pte(FAR) == pte, "UVPT shows %lx, installed %lx", uvpt_pte(FAR), pte);
  check(upages[ppn - PPN_BASE].refs == 1, "refs after one mapping: %d", upages[ppn - PPN_BASE].refs);

  // the hardware sets A on a read and D on a write; the library reads them
  volatile uint64 *p = (volatile uint64 *)FAR;
  (void)*p;
  check(uvpt_pte(FAR) & PTE_A, "A not set after a read");
  check(!(uvpt_pte(FAR) & PTE_D), "D set before any write");
  *p = 42;
  check(uvpt_pte(FAR) & PTE_D, "D not set after a write");
  check((uvpt_pte(FAR) & (PTE_RSW0 | PTE_RSW1)) == (PTE_RSW0 | PTE_RSW1), "RSW bits lost");

  // a second mapping of the same page shares it; changing one PTE to
  // read-only takes effect at once (the kernel flushes the TLB entry)
  check(sys_pte_set(0, FAR + PGSIZE, PPN_PTE(ppn, PTE_V | PTE_U | PTE_R)) == 0, "second mapping");
  check(upages[ppn - PPN_BASE].refs == 2, "refs after two mappings: %d", upages[ppn - PPN_BASE].refs);
  check(*(volatile uint64 *)(FAR + PGSIZE) == 42, "the alias does not show the data");
  check(sys_pte_set(0, FAR + PGSIZE, 0) == 0 && upages[ppn - PPN_BASE].refs == 1, "unmap the alias");

  // freeing a page I still map keeps it (and keeps it charged to me,
  // marked released) until the last mapping goes; then it is freed
  check(sys_page_free(ppn) == 0, "page_free");
  check(upages[ppn - PPN_BASE].owner == thisenv->id && upages[ppn - PPN_BASE].kind == PG_USER &&
        (upages[ppn - PPN_BASE].flags & PGF_RELEASED), "page vanished or uncharged while mapped");
  check(*p == 42, "data lost after page_free");
  check(sys_pte_set(0, FAR, 0) == 0, "unmap");
  check(upages[ppn - PPN_BASE].kind == PG_FREE, "page not freed by its last unmapping");
  check(thisenv->npages == before + tables, "npages %d after freeing, expected %d", thisenv->npages, before + tables);

  // a batch maps several pages in one call
  struct pte_op ops[4];
  int64 pp[4];
  for (int i = 0; i < 4; i++) {
    pp[i] = sys_page_alloc(0);
    ops[i] = (struct pte_op){ FAR + i * PGSIZE, PPN_PTE(pp[i], PTE_V | PTE_U | PTE_R | PTE_W) };
  }
  check(sys_pte_batch(0, ops, 4) == 0, "batch of 4");
  for (int i = 0; i < 4; i++) {
    *(volatile int *)(FAR + i * PGSIZE) = i;
    check(PTE_PPN(uvpt_pte(FAR + i * PGSIZE)) == (uint64)pp[i], "batch entry %d", i);
  }
  return check_report();
}
