// vmprinttest: map pages at the addresses given (`vmprinttest 0x123456000:rw
// 0x2340000000:r ...`), say where they went, then print the page table with
// vmprint().  The grader compares the two.
#include "lib.h"

int main(int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    char *end;
    uint64 va = strtol(argv[i], &end, 16);
    uint64 perm = 0;
    for (char *p = *end == ':' ? end + 1 : end; *p; p++)
      perm |= *p == 'r' ? PTE_R : *p == 'w' ? PTE_W : *p == 'x' ? PTE_X : 0;
    int r = page_map(va, perm);
    if (r < 0) {
      printf("vmprinttest: cannot map %s: %s\n", argv[i], errstr(r));
      return 1;
    }
    printf("vmprinttest: va %p pa %p\n", (void *)va, (void *)(PTE_PPN(uvpt_pte(va)) << PGSHIFT));
  }
  int n = 0;                                    // how many leaves there are to print
  for (uint64 va = 0; va < UTOP; va += PGSIZE) {
    if (!(((volatile pte_t *)UVPR)[va >> 30] & PTE_V)) {
      va += (1UL << 30) - PGSIZE;
      continue;
    }
    if (!(((volatile pte_t *)UVPD)[va >> 21] & PTE_V)) {
      va += (1UL << 21) - PGSIZE;
      continue;
    }
    n += (uvpt_pte(va) & PTE_V) != 0;
  }
  printf("vmprinttest: %d pages mapped\n", n);
  vmprint();
  printf("vmprinttest: done %s\n", grade_token);
  return 0;
}
