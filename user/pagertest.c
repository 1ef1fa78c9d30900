// pagertest: the library's pager (ulib/swap.c), checked directly.  On a
// heap of N pages this program calls swap_out itself, and hands the
// library's revocation handler requests of its own making (through
// upcall_dispatch, as an upcall would), then checks which pages went, what
// each call said went, how many pages were written to swap, and that every
// byte comes back.  Run as `init pagertest` (init hands over the swap area).
//
// `init pagertest fail` is for a disk whose swap area's first block fails
// every write: one swap_out call has more writes in flight than the disk
// queue holds (it waits for some to finish in the middle), and the page
// whose write failed, alone, must stay.
//
// The clock's choices are exact: the hand starts at the heap's start and
// keeps its place between calls; a page used since the hand last passed it
// is spared (its accessed bit cleared), at most SCAN_LIMIT (512) times per
// swap_out call; then the hand takes what it finds.
#include "lib.h"

#define N      600                         // heap pages: more than 512 second chances
#define LIMIT  512                         // the clock's SCAN_LIMIT
#define HOT    64                          // pages 0..HOT-1: used before every call

static char *heap;
static int gen[N];                         // the version each page should hold

static uint64 pva(int i) { return (uint64)heap + (uint64)i * PGSIZE; }
static int resident(int i) { return (uvpt_pte(pva(i)) & PTE_V) != 0; }
static uint64 word(int i, int k) { return (uint64)gen[i] * 7919UL + (uint64)i * 1000003UL + (uint64)k; }

static void fill(int i, int g)
{
  gen[i] = g;
  for (int k = 0; k < PGSIZE / 8; k += 61)
    ((volatile uint64 *)pva(i))[k] = word(i, k);
}

static int intact(int i)
{
  for (int k = 0; k < PGSIZE / 8; k += 61)
    if (((volatile uint64 *)pva(i))[k] != word(i, k))
      return 0;
  return 1;
}

// Every page holds what was last written to it (paging back in what is out).
static void all_intact(void)
{
  int bad = 0;
  for (int i = 0; i < N; i++)
    bad += !intact(i);
  check(bad == 0, "%d pages came back from swap wrong", bad);
}

static void touch(int i) { (void)*(volatile char *)pva(i); }

static int count_resident(void)
{
  int n = 0;
  for (int i = 0; i < N; i++)
    n += resident(i);
  return n;
}

// Exactly the pages in [a, b) and page c are out (c < 0: none).  A FAIL
// names the first page that differs.
static void expect_out(const char *when, int a, int b, int c)
{
  for (int i = 0; i < N; i++) {
    int out = (i >= a && i < b) || i == c;
    if (resident(i) == out) {
      check(0, "%s: page %d is %s, expected %s", when, i, out ? "still resident" : "out",
            out ? "out" : "resident");
      return;
    }
  }
}

static struct swap_stats st0;
static void stats_mark(void) { swap_get_stats(&st0); }

// What the library counted since stats_mark.
static uint64 written(void) { struct swap_stats s; swap_get_stats(&s); return s.writes - st0.writes; }
static uint64 released(void) { struct swap_stats s; swap_get_stats(&s); return s.released - st0.released; }

// swap_out collects every write it started before it returns: none of
// mine is left in flight or finished and uncollected.
static void none_in_flight(const char *when)
{
  uint64 f = 0;
  int64 d = sys_blk_wait(0, &f);
  check(d == -E_INVAL, "%s: writes were left in flight or uncollected (sys_blk_wait(0) returned %ld)",
        when, (long)d);
}

static int hint_page = -1;
static int hint_one(uint64 *vas, int n)
{
  if (hint_page < 0 || n < 1)
    return 0;
  vas[0] = pva(hint_page);
  return 1;
}

void upcall_dispatch(struct uframe *f);   // (ulib/upcall.c: what an upcall runs)

// The library's CAUSE_REVOKE handler, run on a request for n pages.
static void request(uint64 n)
{
  struct uframe f;
  memset(&f, 0, sizeof f);
  f.cause = CAUSE_REVOKE;
  f.tval = n;
  upcall_dispatch(&f);
}

int main(int argc, char **argv)
{
  if (!swap_count) {
    printf("pagertest: no swap extent: run as `init pagertest`\n");
    return 2;
  }
  int got;
  char *b = sbrk(0);
  check(((uint64)b & (PGSIZE - 1)) == 0, "the heap does not start on a page boundary");
  heap = sbrk(N * PGSIZE);
  check(heap == b, "sbrk");
  for (int i = 0; i < N; i++)
    fill(i, 1);
  if (argc > 1 && !strcmp(argv[1], "fail")) {
    stats_mark();
    got = swap_out(64);                    // pages 512-575; 512 gets slot 0 (its write fails)
    check(got == 63, "swap_out(64) with one write failing said %d went, expected 63", got);
    expect_out("swap_out(64) with the first slot's write failing (pages 513-575 go)",
               LIMIT + 1, LIMIT + 64, -1);
    check(written() == 64, "swap_out(64) of dirty pages: %lu pages written, expected 64", written());
    none_in_flight("swap_out(64)");
    all_intact();
    printf("pagertest: a failing write: %d of 64 went\n", got);
    return check_report();
  }

  // A page of mine just above the heap: not pageable, so the hand never
  // stops there (it goes from the heap's last page to its first).
  uint64 above = (uint64)heap + N * PGSIZE;
  check(page_map(above, PTE_R | PTE_W) == 0, "a page above the heap");
  *(volatile uint64 *)above = 0xab0e;

  // 1. Every page was used: the clock spares LIMIT of them, then takes the next.
  stats_mark();
  got = swap_out(1);
  check(got == 1, "swap_out(1) with %d pages in said %d went", N, got);
  expect_out("all used, swap_out(1) (the hand spares 512, then takes page 512)", LIMIT, LIMIT, LIMIT);
  check(written() == 1, "swap_out(1) of a dirty page: %lu pages written, expected 1", written());

  // 2. The first HOT pages are used again; the rest were passed over (their
  // second chance is spent): the hand goes on past the end, spares the hot
  // pages, and takes the cold ones after them.
  for (int i = 0; i < HOT; i++)
    touch(i);
  stats_mark();
  got = swap_out(32);
  check(got == 32, "swap_out(32) said %d went", got);
  expect_out("hot pages used, swap_out(32) (the hand spares them, then takes pages 64-95)",
             HOT, HOT + 32, LIMIT);
  check(written() == 32, "swap_out(32) of dirty pages: %lu pages written, expected 32", written());
  none_in_flight("swap_out(32), more writes than the disk's queue holds");

  // 3. Rounds: the hot pages are used before each call, and never go.
  for (int r = 1; r <= 4; r++) {
    for (int i = 0; i < HOT; i++)
      touch(i);
    got = swap_out(32);
    check(got == 32, "round %d: swap_out(32) said %d went", r, got);
    expect_out("a round of hot pages used, then swap_out(32) (the next 32 cold pages go)",
               HOT, HOT + 32 * (r + 1), LIMIT);
  }

  // 4. A page paged back in and changed is written to the slot it has, not
  // to another page's; a page paged in and not changed needs no write.
  swap_policy(SWAP_HINT, hint_one);
  check(intact(HOT), "page %d, read back from swap, is not what was written", HOT);
  fill(HOT, 2);
  hint_page = HOT;
  stats_mark();
  got = swap_out(1);
  check(got == 1 && !resident(HOT), "swap_out(1) of a changed page: said %d went", got);
  check(written() == 1, "a page changed since it came back: %lu pages written, expected 1", written());
  check(intact(HOT + 1), "page %d's copy on swap was overwritten (by page %d's?)", HOT + 1, HOT);
  hint_page = HOT + 1;
  stats_mark();
  got = swap_out(1);
  check(got == 1 && !resident(HOT + 1), "swap_out(1) of a page in sync: said %d went", got);
  check(written() == 0, "a page unchanged since it came back from swap: %lu pages written, "
        "expected none", written());
  check(intact(HOT), "page %d (changed, paged out again) came back wrong", HOT);
  swap_policy(SWAP_CLOCK, 0);
  hint_page = -1;

  // 5. The library's handler: a request for more than one call gives back
  // (64 pages at most a call) is answered in full.
  int before = count_resident();
  stats_mark();
  request(65);
  check(released() == 65, "a request for 65 pages: %lu given back", released());
  check(count_resident() == before - 65, "a request for 65 pages: %d pages went",
        before - count_resident());

  // 6. A request for more than there is: everything goes, and the handler
  // returns (a call that frees nothing ends it).
  before = count_resident();
  stats_mark();
  request(N + 100);
  check(count_resident() == 0, "a request for more than I have: %d of my pages stayed",
        count_resident());
  check(released() >= (uint64)before, "a request for more than I have: %lu given back, "
        "%d of my pages went", released(), before);

  check((uvpt_pte(above) & PTE_V) && *(volatile uint64 *)above == 0xab0e,
        "the page just above the heap (not pageable) was paged out or changed");

  // 7. Every byte comes back.
  all_intact();
  struct swap_stats s;
  swap_get_stats(&s);
  printf("pagertest: %d pages; %lu out, %lu in, %lu written, %lu requests, %lu given back\n",
         N, s.out, s.in, s.writes, s.requests, s.released);
  return check_report();
}
