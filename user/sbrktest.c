// sbrktest: the heap.  sbrk moves the break and returns the old one; new
// memory reads as zeros and is writable; shrinking unmaps; impossible
// requests fail and leave the break alone; malloc works on top of it.
#include "lib.h"

int main(int argc, char **argv)
{
  char *b0 = sbrk(0);
  check(b0 != (char *)-1, "sbrk(0) failed");
  char *old = sbrk(10 * PGSIZE + 100);
  check(old == b0, "sbrk returned %p, not the old break %p", old, b0);
  check(sbrk(0) == b0 + 10 * PGSIZE + 100, "the break did not move by the amount asked");
  int zero = 1;
  for (int i = 0; i < 10 * PGSIZE + 100; i += 97)
    zero &= b0[i] == 0;
  check(zero, "new heap memory is not zeroed");
  for (int i = 0; i < 10 * PGSIZE + 100; i++)
    b0[i] = (char)i;
  int same = 1;
  for (int i = 0; i < 10 * PGSIZE + 100; i++)
    same &= b0[i] == (char)i;
  check(same, "heap memory does not keep what was written");

  uint64 gone = ((uint64)b0 + 5 * PGSIZE + PGSIZE - 1) & ~(PGSIZE - 1);
  check(sbrk(-(5 * PGSIZE + 100)) == b0 + 10 * PGSIZE + 100, "shrinking returned the wrong break");
  check(!(uvpt_pte(gone + PGSIZE) & PTE_V), "a page above the new break is still mapped");
  check(sbrk(0) == b0 + 5 * PGSIZE, "the break after shrinking");
  check(sbrk((int64)1 << 40) == (char *)-1, "a 1 TiB heap was granted");
  check(sbrk(0) == b0 + 5 * PGSIZE, "a failed sbrk moved the break");
  check(sbrk(-(int64)(100 * PGSIZE)) == (char *)-1, "shrinking below the heap's start was allowed");
  check(sbrk(0) == b0 + 5 * PGSIZE, "a failed shrink moved the break");
  sbrk(-(5 * PGSIZE));
  check(sbrk(0) == b0, "the break did not come back to its start");

  char *p = malloc(1 << 20);                   // 1 MiB
  check(p != 0, "malloc(1 MiB) failed");
  if (p) {
    memset(p, 'm', 1 << 20);
    check(p[0] == 'm' && p[(1 << 20) - 1] == 'm', "malloc'd memory");
    free(p);
    char *q = malloc(1 << 19);
    check(q != 0, "malloc after free");
    free(q);
  }
  return check_report();
}
