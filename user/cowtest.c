// Copy-on-write fork: parent and child see private copies after writes,
// pages stay shared until written (seen in the public per-page records),
// repeated fork/exit/wait gives every page back, and a sparse address
// space (pages alone in their group of eight, tables alone in theirs, more
// pages than one batch) forks whole.
#include "lib.h"

static volatile int global = 1;
static volatile char page[PGSIZE] __attribute__((aligned(PGSIZE))) = { 7 };

static uint64 ppn_of(volatile void *p) { return PTE_PPN(uvpt_pte((uint64)p & ~(PGSIZE - 1))); }

// Free pages, counted in the public per-page records (and checked against
// the kernel's own count).
static int count_free(void)
{
  int n = 0;
  for (uint64 i = 0; i < usys->npages; i++)
    n += upages[i].kind == PG_FREE;
  check(n == (int)usys->nfree, "%d pages marked free, the kernel counts %d", n, (int)usys->nfree);
  return n;
}

// Fork a child that runs fn and exits with its failure count; wait for it.
static int in_child(int (*fn)(void))
{
  envid_t c = fork();
  if (c < 0)
    return check(0, "fork: %s", errstr(c));
  if (c == 0)
    exit(fn());
  int status = -2;
  waitenv(c, &status);
  return status;
}

static uint64 parent_ppn;

static int child_private(void)
{
  global = 2;
  page[0] = 9;
  int ok = check(global == 2 && page[0] == 9, "child does not see its own writes");
  return !ok;
}

static int child_shared(void)
{
  pte_t pte = uvpt_pte((uint64)page);
  int bad = 0;
  bad += !check(PTE_PPN(pte) == parent_ppn, "child's page is not the parent's before a write");
  bad += !check((pte & PTE_COW) && !(pte & PTE_W), "shared page is not read-only COW (pte %lx)", pte);
  bad += !check(upages[parent_ppn - PPN_BASE].refs >= 2, "shared page has %d refs",
                upages[parent_ppn - PPN_BASE].refs);
  bad += !check(page[0] == 7, "child reads %d, not the parent's 7", page[0]);
  page[1] = 1;                                  // now it must be copied
  pte = uvpt_pte((uint64)page);
  bad += !check(PTE_PPN(pte) != parent_ppn && (pte & PTE_W) && !(pte & PTE_COW),
                "after a write the child still shares the page (pte %lx)", pte);
  bad += !check(page[0] == 7 && page[1] == 1, "copy lost the contents");
  return bad;
}

static int child_stack(void)
{
  volatile int local[100];
  for (int i = 0; i < 100; i++)
    local[i] = -i;
  return local[99] != -99;
}

static char *heapbuf;
static int child_heap(void)
{
  for (int i = 0; i < 10000; i++)
    heapbuf[i] = 'c';
  return heapbuf[9999] != 'c';
}

// A sparse address space: in each of eight groups of eight pages one page,
// at a different place in its group; the same with 2 MiB regions (one
// page table each); and MANY consecutive writable pages, more than fork
// updates in one batch.  The child must find every one, and its writes
// must not reach the parent.
#define SPARSE  0x20000000UL               // (below UXSTACKTOP: fork takes nothing above)
#define SPARSE2 0x28000000UL               // (16 MiB aligned: a group of eight tables)
#define MANY    0x31000000UL
#define NMANY   200
static uint64 sparse_va(int i)
{
  int k = i % 8;
  if (i < 8)
    return SPARSE + (uint64)(k * 8 + k) * PGSIZE;
  if (i < 16)
    return SPARSE2 + (uint64)(k * 8 + k) * (2UL << 20);
  return MANY + (uint64)(i - 16) * PGSIZE;
}
static uint64 sparse_word(int i) { return sparse_va(i) * 3 + 1; }

static int child_sparse(void)
{
  int bad = 0;
  for (int i = 0; i < 16 + NMANY; i++) {
    volatile uint64 *w = (volatile uint64 *)sparse_va(i);
    if (!(uvpt_pte((uint64)w) & PTE_V) || *w != sparse_word(i))
      bad++;
    else
      *w = 0;
  }
  if (bad)
    printf("cowtest: the child lacks %d of %d sparse pages\n", bad, 16 + NMANY);
  return bad;
}

static void sparse(void)
{
  for (int i = 0; i < 16 + NMANY; i++) {
    if (page_map(sparse_va(i), PTE_R | PTE_W) < 0) {
      check(0, "map sparse page %d", i);
      return;
    }
    *(volatile uint64 *)sparse_va(i) = sparse_word(i);
  }
  check(in_child(child_sparse) == 0, "a sparse address space forked");
  int bad = 0;
  for (int i = 0; i < 16 + NMANY; i++) {
    bad += *(volatile uint64 *)sparse_va(i) != sparse_word(i);
    page_unmap(sparse_va(i));
  }
  check(bad == 0, "the child's writes reached %d of the parent's sparse pages", bad);
}

int main(int argc, char **argv)
{
  volatile int local[100];
  for (int i = 0; i < 100; i++)
    local[i] = i;
  heapbuf = malloc(10000);
  memset(heapbuf, 'p', 10000);
  page[0] = 7;

  check(in_child(child_private) == 0, "child private writes");
  check(global == 1 && page[0] == 7, "parent sees the child's writes (global %d, page %d)", global, page[0]);

  parent_ppn = ppn_of(page);
  check(in_child(child_shared) == 0, "sharing until written");
  check(page[0] == 7 && page[1] == 0, "parent's page changed by the child");
  check(upages[parent_ppn - PPN_BASE].refs == 1 || ppn_of(page) != parent_ppn,
        "refs not dropped after the child exited");

  check(in_child(child_stack) == 0, "child stack");
  check(local[99] == 99, "parent stack changed by the child");
  check(in_child(child_heap) == 0, "child heap");
  check(heapbuf[0] == 'p' && heapbuf[9999] == 'p', "parent heap changed by the child");

  // Leaks: after a warm-up, 20 fork/exit/wait cycles must give every page back.
  in_child(child_private);
  int before = count_free();
  for (int i = 0; i < 20; i++)
    if (in_child(child_private) != 0)
      check(0, "child %d failed", i);
  int after = count_free();
  check(after == before, "20 forks leaked %d pages", before - after);
  printf("cowtest: %d pages free before and %d after 20 forks\n", before, after);
  sparse();
  return check_report();
}
