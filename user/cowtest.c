// Copy-on-write fork: parent and child see private copies after writes,
// pages stay shared until written (seen in the public per-page records),
// a write to a page nobody else maps takes it over in place, repeated
// fork/exit/wait gives every page back, a sparse address space (pages
// alone in their group of eight, tables alone in theirs, more pages than
// one batch) forks whole, read-only and PTE_SHARE pages pass as they are,
// the exception stack is not shared, and the child gets nothing the
// parent does not map.
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
  // The copy is private: mine, and mapped once (a second mapping, left
  // behind by the copying, would keep it alive after I unmap it).
  volatile struct pagepub *cp = &upages[PTE_PPN(pte) - PPN_BASE];
  bad += !check(cp->refs == 1 && cp->owner == sys_getenvid(),
                "the child's copy has %d mappings, owner %x", cp->refs, cp->owner);
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

// Pages fork passes on as they are: a read-only page (not marked
// copy-on-write: a write to it stays a real fault) and a PTE_SHARE page
// (one page, writable in both).
#define RO_VA    0x21000000UL
#define SHARE_VA 0x21001000UL
#define FLAGS    (PTE_R | PTE_W | PTE_X | PTE_COW | PTE_SHARE)
static pte_t ro_pte, share_pte;

static int child_as_is(void)
{
  int bad = 0;
  pte_t ro = uvpt_pte(RO_VA), sh = uvpt_pte(SHARE_VA);
  bad += !check(PTE_PPN(ro) == PTE_PPN(ro_pte) && (ro & FLAGS) == PTE_R,
                "the child's read-only page is not the parent's as it is (pte %lx)", ro);
  bad += !check(PTE_PPN(sh) == PTE_PPN(share_pte) && (sh & FLAGS) == (PTE_R | PTE_W | PTE_SHARE),
                "the child's PTE_SHARE page is not the parent's, writable (pte %lx)", sh);
  // Not yet written here: a writable entry must come with A and D set
  // (Sv39 hardware may fault on a clear D bit instead of setting it).
  bad += !check((sh & (PTE_A | PTE_D)) == (PTE_A | PTE_D) && (ro & PTE_A),
                "an entry fork installed lacks A, or D while writable (pte %lx, %lx)", ro, sh);
  *(volatile uint64 *)SHARE_VA = 0x5ea;
  return bad;
}

// 0 if the pages could not be mapped (the later parts use them).
static int as_is(void)
{
  if (page_map(RO_VA, PTE_R) < 0 || page_map(SHARE_VA, PTE_R | PTE_W | PTE_SHARE) < 0)
    return check(0, "map the read-only and shared pages");
  ro_pte = uvpt_pte(RO_VA);
  share_pte = uvpt_pte(SHARE_VA);
  check(in_child(child_as_is) == 0, "read-only and shared pages forked as they are");
  check(*(volatile uint64 *)SHARE_VA == 0x5ea, "the child's write to a PTE_SHARE page is not seen");
  check(uvpt_pte(RO_VA) == ro_pte && (uvpt_pte(SHARE_VA) & FLAGS) == (share_pte & FLAGS),
        "fork changed the parent's read-only or shared page");
  return 1;
}

// The exception stack is not shared: after fork the parent's is still its
// own, writable, and the child's (if mapped) is another page.  All of it
// mapped first (the library maps only the top page until it is needed).
static uint64 xstack_ppn;
#define XLOW (UXSTACKTOP - UXSTACKSIZE)

static int child_xstack(void)
{
  pte_t x = uvpt_pte(XLOW);
  return !check(!(x & PTE_V) || PTE_PPN(x) != xstack_ppn,
                "the child maps the parent's exception stack (pte %lx)", x);
}

static void xstack(void)
{
  if (upcall_stack_grow() < 0) {
    check(0, "upcall_stack_grow");
    return;
  }
  xstack_ppn = PTE_PPN(uvpt_pte(XLOW));
  check(in_child(child_xstack) == 0, "the child's exception stack");
  pte_t x = uvpt_pte(XLOW);
  check(PTE_PPN(x) == xstack_ppn && (x & PTE_W) && !(x & PTE_COW),
        "fork changed the parent's exception stack (pte %lx)", x);
}

// A page far up (gigabyte 200, with nothing mapped from gigabyte 1 up to
// it): fork, which passes on nothing at or above the exception stack,
// must still walk past it.
#define HIGH 0x3200000000UL

static void high(void)
{
  if (page_map(HIGH, PTE_R | PTE_W) < 0) {
    check(0, "map a page in gigabyte 200");
    return;
  }
  *(volatile uint64 *)HIGH = 200;
  check(in_child(child_private) == 0, "fork with a page in gigabyte 200");
  check(*(volatile uint64 *)HIGH == 200, "the page in gigabyte 200 changed");
  page_unmap(HIGH);
}

// The child gets nothing the parent does not map, whatever fork's stack
// held before: the stack is first filled with a legal PTE update for an
// unmapped address (a writable mapping of a page of mine).
#define PROBE 0x21100000UL
static struct pte_op junk_op;

__attribute__((noinline)) static void junk_stack(void)
{
  volatile struct pte_op junk[512];          // 8 KiB: below any fork's frames
  for (int i = 0; i < 512; i++) {
    junk[i].va = junk_op.va;
    junk[i].pte = junk_op.pte;
  }
  asm volatile("" : : "r"(junk) : "memory");   // (the stores are the point)
}

__attribute__((noinline)) static void fork_over_junk(void)
{
  junk_op = (struct pte_op){ PROBE, PPN_PTE(PTE_PPN(uvpt_pte(RO_VA)), PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D) };
  junk_stack();
  envid_t c = fork();                         // (same stack depth as junk_stack)
  if (c < 0) {
    check(0, "fork: %s", errstr(c));
    return;
  }
  if (c == 0)
    exit(uvpt_pte(PROBE) != 0);
  int status = -2;
  waitenv(c, &status);
  check(status == 0, "the child maps an address the parent does not (status %d)", status);
  check(uvpt_pte(PROBE) == 0, "fork mapped an address in the parent (pte %lx)", uvpt_pte(PROBE));
}

// A page whose owner has exited, mapped by one env alone, is nobody's:
// that env's write takes it over in place (no new page).  The child makes
// the page and forks a grandchild, then exits; the grandchild reports
// through a PTE_SHARE page.
#define ORPHAN 0x21002000UL

static int child_orphan(void)
{
  volatile uint64 *res = (volatile uint64 *)SHARE_VA, *w = (volatile uint64 *)ORPHAN;
  if (page_map(ORPHAN, PTE_R | PTE_W) < 0)
    return 1;
  *w = 42;
  uint64 ppn = PTE_PPN(uvpt_pte(ORPHAN));
  volatile struct pagepub *pg = &upages[ppn - PPN_BASE];
  envid_t g = fork();
  if (g != 0)
    return g < 0;                             // I exit: the page is the grandchild's alone
  for (uint64 t0 = rdtime(); !(pg->owner == 0 && pg->refs == 1) &&
       rdtime() - t0 < 5 * usys->timebase;)    // (up to 5 s for the exit)
    sys_yield(0);
  int bad = !check(pg->owner == 0 && pg->refs == 1, "the exited child's page: owner %x, %d refs",
                   pg->owner, pg->refs);
  *w = 43;
  pte_t pte = uvpt_pte(ORPHAN);
  bad += !check(PTE_PPN(pte) == ppn && (pte & PTE_W) && !(pte & PTE_COW) && *w == 43,
                "a write to a page nobody owns and only I map copied it (pte %lx)", pte);
  *res = 1 + bad;
  exit(bad);
}

static void orphan(void)
{
  volatile uint64 *res = (volatile uint64 *)SHARE_VA;
  *res = 0;
  check(in_child(child_orphan) == 0, "the child that leaves a page behind");
  for (uint64 t0 = rdtime(); *res == 0 && rdtime() - t0 < 5 * usys->timebase;)
    sys_yield(0);
  check(*res == 1, "the grandchild's write to its inherited page (result %d)", (int)*res);
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
  // The child is gone: my write takes my page back in place, no copy.
  page[2] = 2;
  pte_t pte = uvpt_pte((uint64)page);
  check(PTE_PPN(pte) == parent_ppn && (pte & PTE_W) && !(pte & PTE_COW) && page[0] == 7,
        "a write to my copy-on-write page that nobody else maps copied it (pte %lx)", pte);

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
  int mapped = as_is();
  xstack();
  high();
  if (mapped) {
    fork_over_junk();
    orphan();
  }
  return check_report();
}
