// Demand paging in the library OS: heap pages appear zeroed on first touch,
// only touched pages are mapped, the stack grows, shrinking unmaps, and an
// access past the break is a real fault.
#include "lib.h"

#define MB (1024 * 1024)

static int mapped_pages(uint64 lo, uint64 hi)
{
  int n = 0;
  for (uint64 va = lo; va < hi; va += PGSIZE)
    n += (uvpt_pte(va) & PTE_V) != 0;
  return n;
}

static int deep(int n)
{
  volatile char buf[1024];
  buf[0] = n;
  buf[1023] = n;
  return n == 0 ? 0 : deep(n - 1) + buf[0] - buf[1023];
}

int main(int argc, char **argv)
{
  uint64 cur = (uint64)sbrk(0);                           // a page-aligned break, so the
  sbrk(((cur + PGSIZE - 1) & ~(PGSIZE - 1)) - cur);         // break's own page is past it
  char *base = sbrk(16 * MB);
  check(base != (char *)-1, "sbrk(16 MiB) failed");
  uint64 lo = (uint64)base, hi = lo + 16 * MB;
  check(mapped_pages(lo, hi) == 0, "sbrk mapped pages eagerly");
  int touched = 0, zero = 1;
  for (uint64 va = lo; va < hi; va += 16 * PGSIZE, touched++) {
    zero &= *(volatile uint64 *)va == 0;
    *(volatile uint64 *)va = va;
  }
  check(zero, "a new heap page was not zero");
  check(mapped_pages(lo, hi) == touched, "%d pages mapped for %d touched", mapped_pages(lo, hi), touched);
  int same = 1;
  for (uint64 va = lo; va < hi; va += 16 * PGSIZE)
    same &= *(volatile uint64 *)va == va;
  check(same, "heap contents lost");

  check(deep(40) == 0, "deep recursion");                 // ~40 KiB of stack
  check(mapped_pages(USTACKTOP - 16 * PGSIZE, USTACKTOP) >= 10, "stack did not grow");
  // the stack's whole region, down to its lowest page
  volatile uint64 *bottom = (uint64 *)(USTACKTOP - USTACKPAGES * PGSIZE);
  check(*bottom == 0 && mapped_pages((uint64)bottom, (uint64)bottom + PGSIZE) == 1,
        "the stack region's lowest page did not appear");

  check(sbrk(-8 * MB) == base + 16 * MB, "sbrk shrink");
  check(mapped_pages(lo + 8 * MB, hi) == 0, "shrinking left pages mapped");

  // Children touch the first byte past the break, and the page just above
  // the stack's region.  No handler may take those faults: the library
  // prints "unhandled store page fault" and the child dies with status -1.
  // Those lines are expected; say so before they come.
  check((uint64)sbrk(0) == lo + 8 * MB, "the break is not where sbrk put it");
  uint64 past[2] = { lo + 8 * MB, USTACKTOP };
  const char *what[2] = { "the first byte past the break", "the page above the stack's region" };
  for (int i = 0; i < 2; i++) {
    printf("lazytest: a child now touches %s; the 'unhandled' line below is expected\n", what[i]);
    envid_t c = fork();
    if (c == 0) {
      *(volatile char *)past[i] = 1;                  // no handler takes it
      exit(0);
    }
    int status = 0;
    waitenv(c, &status);
    check(status == -1, "touching %s (%p) did not fault (status %d)", what[i], (void *)past[i], status);
  }
  return check_report();
}
