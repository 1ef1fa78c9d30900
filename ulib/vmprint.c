// vmprint: print my own page table, read through the page-table windows
// the kernel maps read-only into every env (UVPR: the root level, UVPD: the
// middle level, UVPT: the leaves; see kernel/memlayout.h).  No system call.
#include "lib.h"

// Print the permission letters of a leaf: r w x (or -), then "cow" for a
// copy-on-write page and "share" for a page fork shares as it is.
static void perms(pte_t pte)
{
  printf("%c%c%c%s%s", pte & PTE_R ? 'r' : '-', pte & PTE_W ? 'w' : '-', pte & PTE_X ? 'x' : '-',
         pte & PTE_COW ? " cow" : "", pte & PTE_SHARE ? " share" : "");
}

// One line per valid entry below UTOP, indented by level:
//
//   page table of env 00001001
//    0: pte 0x20001c01 pa 0x80007000
//    .. 0: pte 0x20002001 pa 0x80008000
//    .. .. 16: va 0x10000 pa 0x80123000 r-x
//
// The leaf lines give the virtual address the entry maps.
void vmprint(void)
{
  // BEGIN LAB vm: vmprint: walk UVPR, UVPD and UVPT below UTOP and print every valid entry (format above)
  const volatile pte_t *vpr = (const volatile pte_t *)UVPR;
  const volatile pte_t *vpd = (const volatile pte_t *)UVPD;
  const volatile pte_t *vpt = (const volatile pte_t *)UVPT;
  printf("page table of env %08x\n", sys_getenvid());
  for (uint64 g = 0; g < (UTOP >> 30); g++) {
    if (!(vpr[g] & PTE_V))
      continue;
    printf(" %d: pte %p pa %p\n", (int)g, (void *)vpr[g], (void *)(PTE_PPN(vpr[g]) << PGSHIFT));
    for (uint64 m = g << 9; m < (g + 1) << 9; m++) {
      if (!(vpd[m] & PTE_V))
        continue;
      printf(" .. %d: pte %p pa %p\n", (int)(m & 511), (void *)vpd[m], (void *)(PTE_PPN(vpd[m]) << PGSHIFT));
      for (uint64 p = m << 9; p < (m + 1) << 9; p++) {
        pte_t pte = vpt[p];
        if (!(pte & PTE_V))
          continue;
        printf(" .. .. %d: va %p pa %p ", (int)(p & 511), (void *)(p << PGSHIFT),
               (void *)(PTE_PPN(pte) << PGSHIFT));
        perms(pte);
        printf("\n");
      }
    }
  }
  // END LAB vm: lab_todo("vm", "vmprint"), (void)perms;
}
