// sbrktest: the heap.  sbrk moves the break and returns the old one; new
// memory reads as zeros and is writable; exactly the pages below the
// break are mapped; impossible requests fail and change nothing; a growth
// that runs out of memory leaves nothing mapped; malloc works on top of it.
#include "lib.h"

extern char end[];

// Is the page at va mapped?
static int mapped(uint64 va) { return (uvpt_pte(va) & PTE_V) != 0; }

int main(int argc, char **argv)
{
  char *b0 = sbrk(0);
  check(b0 != (char *)-1, "sbrk(0) failed");
  if ((uint64)b0 & (PGSIZE - 1))                   // (a page-aligned break from here on)
    sbrk(PGSIZE - ((uint64)b0 & (PGSIZE - 1)));
  b0 = sbrk(0);
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
  // (with demand paging, pages are mapped when touched, as all were now)
  check(mapped((uint64)b0 + 10 * PGSIZE) && !mapped((uint64)b0 + 11 * PGSIZE),
        "the heap's pages are not exactly those up to the break");

  uint64 gone = ((uint64)b0 + 5 * PGSIZE + PGSIZE - 1) & ~(PGSIZE - 1);
  check(sbrk(-(5 * PGSIZE + 100)) == b0 + 10 * PGSIZE + 100, "shrinking returned the wrong break");
  check(!mapped(gone) && !mapped(gone + PGSIZE), "a page above the new break is still mapped");
  check(mapped(gone - PGSIZE), "a page below the new break was unmapped");
  check(sbrk(0) == b0 + 5 * PGSIZE, "the break after shrinking");
  // refused requests change nothing: not even page tables (in npages)
  int32 held = thisenv->npages;
  check(sbrk((int64)1 << 40) == (char *)-1, "a 1 TiB heap was granted");
  check(sbrk(0) == b0 + 5 * PGSIZE, "a failed sbrk moved the break");
  check(sbrk(-(int64)(100 * PGSIZE)) == (char *)-1, "shrinking below the heap's start was allowed");
  check(sbrk(0) == b0 + 5 * PGSIZE, "a failed shrink moved the break");
  check(sbrk(-(int64)((uint64)b0 + 5 * PGSIZE - ((uint64)end - 1))) == (char *)-1,
        "shrinking to just below the heap's start was allowed");
  check(sbrk(0) == b0 + 5 * PGSIZE && mapped((uint64)b0), "a failed shrink moved the break");
  check(thisenv->npages == held, "refused sbrks changed my page count (%d, was %d)", thisenv->npages,
        held);
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

  // More than the machine's memory (but below HEAPMAX): the growth fails,
  // part way (what was mapped is unmapped again) or at once, and the
  // memory is there for the next request.
  char *brk = sbrk(0);
  uint64 top = ((uint64)brk + PGSIZE - 1) & ~(PGSIZE - 1), big = (usys->npages + 1024) * PGSIZE;
  check(sbrk(big) == (char *)-1, "a heap larger than memory was granted");
  check(sbrk(0) == brk, "a failed growth moved the break");
  int left = 0;
  for (uint64 va = top; va < top + big; va += PGSIZE)
    left += mapped(va);
  check(left == 0, "%d pages of a failed growth are still mapped", left);
  check(sbrk(64 * PGSIZE) == brk, "growing after a failed growth");
  check(sbrk(-(int64)(64 * PGSIZE)) == brk + 64 * PGSIZE, "shrinking back");
  return check_report();
}
