// ckpttest: checkpoints of a memory region through page protection
// (ulib/ckpt.c, lab ckpt).  Random writes against a shadow copy kept by
// hand: a rollback must give back exactly the checkpoint, a commit must
// make the current contents the new one, each written page faults once per
// epoch, reads never fault, nothing outside the region is touched, and the
// saved copies' pages all come back.
#include "lib.h"

#define PAGES 300                 // more than one batch of protection changes
#define LEN   (PAGES * PGSIZE)

static uint64 seed = 12345;
static uint64 rnd(void)
{
  seed = seed * 6364136223846793005UL + 1442695040888963407UL;
  return seed >> 33;
}

static int writable(char *r, int i) { return (uvpt_pte((uint64)r + (uint64)i * PGSIZE) & PTE_W) != 0; }

static int protected_all(char *r)
{
  for (int i = 0; i < PAGES; i++)
    if (writable(r, i))
      return 0;
  return 1;
}

// Random writes to random pages (some twice); returns how many distinct
// pages were written, and records them in hit[].
static int scribble(char *r, int nwrites, uint8 *hit)
{
  int distinct = 0;
  memset(hit, 0, PAGES);
  for (int k = 0; k < nwrites; k++) {
    int p = rnd() % PAGES, off = rnd() % PGSIZE;
    r[p * PGSIZE + off] = (char)rnd();
    if (!hit[p])
      hit[p] = 1, distinct++;
  }
  return distinct;
}

// A store-fault handler of the program's own, registered before the
// library's (so tried after it): it answers only for the page `armed`, by
// making it writable again, and counts the faults that reach it.  The
// checkpoint handler must pass on every store fault that is not its own.
// (With `fresh` set it maps a new page there instead: for a page that
// cannot be made writable.)
static volatile uint64 armed;         // (volatile: set around a store the compiler sees no fault in)
static volatile int passed, fresh;

static int mine(struct uframe *f)
{
  if (!armed || (f->tval & ~(PGSIZE - 1)) != armed)
    return 0;
  passed++;
  if (fresh)
    return page_map(armed, PTE_R | PTE_W) == 0;
  return sys_pte_set(0, armed, uvpt_pte(armed) | PTE_W) == 0;
}

// Write-protect va's page myself, then store to va: did the fault go past
// the checkpoint handler (no fault of its own counted) to mine, once?
static int passed_on(char *va)
{
  uint64 pg = (uint64)va & ~(PGSIZE - 1);
  struct ckpt_stats a, b;
  if (sys_pte_set(0, pg, uvpt_pte(pg) & ~(pte_t)PTE_W) < 0)
    return 0;
  ckpt_get_stats(&a);
  armed = pg, passed = 0;
  *(volatile char *)va ^= 0x55;
  armed = 0;
  ckpt_get_stats(&b);
  return passed == 1 && b.faults == a.faults;
}

// `ckpttest bench`: the first store to each page of a checkpointed region
// (the fault, the page's copy, making it writable again), for make bench.
// Here and not in user/bench.c, so that bench's own size (which the fork
// row depends on) does not change with this lab's code.
static void bench(void)
{
  char *heap = sbrk(201 * PGSIZE);
  char *r = (char *)(((uint64)heap + PGSIZE - 1) & ~(PGSIZE - 1));
  for (int i = 0; i < 200; i++)
    r[i * PGSIZE] = 1;                        // present before the checkpoint
  if (ckpt_begin(r, 200 * PGSIZE) < 0)
    return;                                   // (the lab's code is not written)
  uint64 t = rdinstret();
  for (int i = 0; i < 200; i++)
    r[i * PGSIZE] = 2;
  t = rdinstret() - t;
  printf("bench ckpt_fault %lu insn/page\n", (t + 100) / 200);
  ckpt_end();
}

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "bench") == 0) {
    bench();
    return 0;
  }
  set_handler(CAUSE_STORE_PAGE, mine);       // before ckpt_begin installs its own
  char *heap = sbrk(LEN + 3 * PGSIZE);
  check(heap != (char *)-1, "sbrk");
  char *r = (char *)(((uint64)heap + 2 * PGSIZE - 1) & ~(PGSIZE - 1));   // a page before r too
  char *want = malloc(LEN);
  uint8 *hit = malloc(PAGES);
  check(want && hit, "malloc");
  for (int i = 0; i < LEN; i++)
    r[i] = (char)(i * 7 + 3);
  r[-1] = 'b', r[LEN] = 'a';                  // the neighbours: never tracked
  memmove(want, r, LEN);

  // bad regions, and calls with none
  expect_err(ckpt_begin(r + 1, PGSIZE), E_INVAL, "an unaligned start");
  expect_err(ckpt_begin(r, 100), E_INVAL, "an unaligned length");
  expect_err(ckpt_begin(r, 0), E_INVAL, "an empty region");
  expect_err(ckpt_begin((void *)UTOP, PGSIZE), E_INVAL, "a region at UTOP");
  expect_err(ckpt_begin(r, (uint64)(CKPT_MAXPAGES + 1) * PGSIZE), E_INVAL, "a region too big");
  expect_err(ckpt_begin((void *)0x10000, PGSIZE), E_INVAL, "my read-only text");
  expect_err(ckpt_commit(), E_INVAL, "commit with no region");
  expect_err(ckpt_rollback(), E_INVAL, "rollback with no region");

  int pages0 = thisenv->npages;
  struct ckpt_stats s0, s;
  ckpt_get_stats(&s0);
  check(ckpt_begin(r, LEN) == 0, "ckpt_begin");
  expect_err(ckpt_begin(r, PGSIZE), E_BUSY, "a second region");
  check(protected_all(r), "not every page of the region is write-protected");
  check(writable(r, -1) && writable(r, PAGES), "a page next to the region was protected");

  // reads are free
  uint64 sum = 0;
  for (int i = 0; i < LEN; i += 64)
    sum += r[i];
  ckpt_get_stats(&s);
  check(s.faults == s0.faults, "reads took %lu faults", s.faults - s0.faults);

  // an epoch of writes, then rollback: exactly the checkpoint again
  int n = scribble(r, 500, hit);
  ckpt_get_stats(&s);
  check(s.faults - s0.faults == (uint64)n, "%d pages written, %lu faults", n, s.faults - s0.faults);
  int dirty_ok = 1;
  for (int i = 0; i < PAGES; i++)
    dirty_ok &= ckpt_dirty(r + i * PGSIZE) == hit[i] && writable(r, i) == hit[i];
  check(dirty_ok, "ckpt_dirty or the protection does not match the pages written");
  check(thisenv->npages >= pages0 + n, "no page held for the saved copies");
  // faults that are not the handler's: a page next to the region, and a
  // page already written in this epoch, both write-protected by me
  check(passed_on(r - 1) && passed_on(r + LEN), "a store fault next to the region was not passed on");
  int p0 = 0;
  while (!hit[p0])
    p0++;
  check(passed_on(r + p0 * PGSIZE + 5), "a store fault on a page already written was not passed on");
  r[-1] = 'B', r[LEN] = 'A';                  // neighbours change, untracked
  check(ckpt_rollback() == 0, "ckpt_rollback");
  ckpt_get_stats(&s);
  check(s.restored - s0.restored == (uint64)n && s.rollbacks - s0.rollbacks == 1 && s.commits == s0.commits,
        "one rollback of %d pages counted as %lu restored, %lu rollbacks, %lu commits", n,
        s.restored - s0.restored, s.rollbacks - s0.rollbacks, s.commits - s0.commits);
  check(memcmp(r, want, LEN) == 0, "rollback did not restore the checkpoint");
  check(r[-1] == 'B' && r[LEN] == 'A', "rollback touched a page outside the region");
  check(protected_all(r), "pages left writable after the rollback");
  // (the saved copies' page tables stay, and the stack may have grown)
  check(thisenv->npages <= pages0 + 8, "the saved copies were not given back (%d pages, was %d)",
        thisenv->npages, pages0);
  pages0 = thisenv->npages;

  // writes, commit: the new contents stay; a rollback then changes nothing
  ckpt_get_stats(&s0);
  n = scribble(r, 300, hit);
  for (int k = 0; k < 50; k++)                // the same pages again: no new faults
    for (int i = 0; i < PAGES; i++)
      if (hit[i]) {
        r[i * PGSIZE + k] ^= 1;
        break;
      }
  ckpt_get_stats(&s);
  check(s.faults - s0.faults == (uint64)n, "%d pages written, %lu faults (once per page and epoch)",
        n, s.faults - s0.faults);
  memmove(want, r, LEN);
  check(ckpt_commit() == 0, "ckpt_commit");
  check(memcmp(r, want, LEN) == 0, "commit changed the contents");
  check(protected_all(r), "pages left writable after the commit");
  check(thisenv->npages == pages0, "the saved copies were not given back after the commit");
  check(ckpt_rollback() == 0 && memcmp(r, want, LEN) == 0, "rollback right after a commit");
  ckpt_get_stats(&s);
  check(s.commits - s0.commits == 1 && s.rollbacks - s0.rollbacks == 1 && s.restored == s0.restored,
        "a commit, then a rollback of nothing: %lu commits, %lu rollbacks, %lu restored counted",
        s.commits - s0.commits, s.rollbacks - s0.rollbacks, s.restored - s0.restored);

  // several epochs in a row, each rolled back or committed at random
  ckpt_get_stats(&s0);
  uint64 commits = 0, rollbacks = 0, restored = 0;
  for (int e = 0; e < 20; e++) {
    n = scribble(r, 40, hit);
    if (rnd() % 2) {
      check(ckpt_rollback() == 0, "rollback %d", e);
      rollbacks++, restored += n;
    } else {
      check(ckpt_commit() == 0, "commit %d", e);
      commits++;
      memmove(want, r, LEN);
    }
    check(memcmp(r, want, LEN) == 0, "epoch %d: contents", e);
  }
  ckpt_get_stats(&s);
  check(s.commits - s0.commits == commits && s.rollbacks - s0.rollbacks == rollbacks &&
        s.restored - s0.restored == restored,
        "%lu commits, %lu rollbacks, %lu pages restored counted (want %lu, %lu, %lu)",
        s.commits - s0.commits, s.rollbacks - s0.rollbacks, s.restored - s0.restored,
        commits, rollbacks, restored);

  // the end: the current contents stay, every page writable, no more faults
  scribble(r, 30, hit);
  memmove(want, r, LEN);
  check(ckpt_end() == 0, "ckpt_end");
  check(memcmp(r, want, LEN) == 0, "ckpt_end changed the contents");
  int all = 1;
  for (int i = 0; i < PAGES; i++)
    all &= writable(r, i);
  check(all, "pages left protected after ckpt_end");
  ckpt_get_stats(&s0);
  scribble(r, 100, hit);
  ckpt_get_stats(&s);
  check(s.faults == s0.faults, "writes after ckpt_end faulted");
  check(thisenv->npages == pages0, "pages held after ckpt_end");

  // a region that ends where my memory ends: nothing past it is touched
  char *edge = (char *)0x38000000UL;
  check(page_map((uint64)edge, PTE_R | PTE_W) == 0 && page_map((uint64)edge + PGSIZE, PTE_R | PTE_W) == 0,
        "map two pages");
  check(ckpt_begin(edge, 2 * PGSIZE) == 0 && ckpt_end() == 0, "a region followed by an unmapped page");
  page_unmap((uint64)edge);
  page_unmap((uint64)edge + PGSIZE);

  // a region that ends exactly at UTOP is below it
  char *top = (char *)(UTOP - PGSIZE);
  check(page_map((uint64)top, PTE_R | PTE_W) == 0, "map the page below UTOP");
  top[7] = 'u';
  check(ckpt_begin(top, PGSIZE) == 0, "a region that ends at UTOP");
  top[7] = 'v';
  check(ckpt_rollback() == 0 && top[7] == 'u' && ckpt_end() == 0, "rollback of the page below UTOP");
  page_unmap((uint64)top);

  // the largest region there may be, CKPT_MAXPAGES pages, is one
  char *big = sbrk((CKPT_MAXPAGES + 1) * PGSIZE);
  check(big != (char *)-1, "sbrk for the largest region");
  big = (char *)(((uint64)big + PGSIZE - 1) & ~(PGSIZE - 1));
  check(ckpt_begin(big, (uint64)CKPT_MAXPAGES * PGSIZE) == 0, "a region of CKPT_MAXPAGES pages");
  big[(CKPT_MAXPAGES - 1) * PGSIZE] = 'z';
  check(ckpt_rollback() == 0 && big[(CKPT_MAXPAGES - 1) * PGSIZE] == 0, "rollback of its last page");
  check(ckpt_end() == 0, "ckpt_end of the largest region");
  sbrk(-(int64)(CKPT_MAXPAGES + 1) * PGSIZE);

  // a store to a page that is read-only for a reason of its own stays a
  // real fault: the handler must not take what is not its own
  check(ckpt_begin(r, LEN) == 0, "ckpt_begin again");
  envid_t c = fork();
  if (c == 0) {
    *(volatile char *)0x10000 = 0;            // my text
    exit(0);
  }
  int status = 0;
  waitenv(c, &status);
  check(status == -1, "a store to the text survived (status %d)", status);
  check(ckpt_end() == 0, "ckpt_end again");

  // A page of the region that cannot be made writable: in a child, the
  // parent's text page mapped read-only over the region's second page.  The
  // handler cannot save and unprotect it, so the store goes on to the next
  // handler, with nothing counted or kept.
  c = fork();
  if (c == 0) {
    uint64 g = 0x38000000UL;
    check(page_map(g, PTE_R | PTE_W) == 0 && page_map(g + PGSIZE, PTE_R | PTE_W) == 0, "map two pages");
    check(ckpt_begin((void *)g, 2 * PGSIZE) == 0, "ckpt_begin in the child");
    // Twice: the first time also makes the page tables the handlers' pages
    // need, so the second can count the pages held exactly.
    for (int round = 0; round < 2; round++) {
      page_unmap(g + PGSIZE);
      check(sys_pte_set_from(0, g + PGSIZE, PPN_PTE(PTE_PPN(uvpt_pte(0x10000)), PTE_V | PTE_U | PTE_R),
                             0x10000) == 0, "map my parent's text page in the region, read-only");
      ckpt_get_stats(&s0);
      int held = thisenv->npages;
      armed = g + PGSIZE, fresh = 1, passed = 0;
      *(volatile char *)(g + PGSIZE + 9) = 'q';
      armed = 0, fresh = 0;
      ckpt_get_stats(&s);
      check(passed == 1 && s.faults == s0.faults && *(volatile char *)(g + PGSIZE + 9) == 'q',
            "a store to a page the handler cannot make writable: %d faults passed on, %lu counted",
            passed, s.faults - s0.faults);
      check(round == 0 || thisenv->npages == held + 1, "%d pages held, want %d (a copy kept?)",
            thisenv->npages, held + 1);
    }
    check(ckpt_end() == 0, "ckpt_end in the child");
    exit(check_failures() ? 1 : 0);
  }
  status = -2;
  waitenv(c, &status);
  check(status == 0, "the child with a read-only page in its region: status %d", status);
  (void)sum;
  return check_report();
}
