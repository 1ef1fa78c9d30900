// revoketest: visible revocation and the abort protocol.  This env plays
// the small interactive program; it forks a memory hog, lets it take
// nearly all memory, then keeps allocating: the kernel must take pages
// back from the hog.  `revoketest <mode> [hog MiB]`:
//
//   hog      the hog answers requests (ulib/swap.c, on a swap extent it is
//            given) and at the end finds every byte it wrote
//   ignore   the hog ignores requests: the abort protocol takes its pages,
//            they are listed in its repossession vector, and touching one
//            is a clear fatal error naming the address; its exception
//            stack, made its newest pages, is spared, and the page just
//            above it is taken, as is a page it owns and maps nowhere;
//            each record is checked as it arrives, and each abort leaves
//            the hog exactly at its request's target; asleep, the hog
//            hears of each abort at once
//   wrong    the hog gives back all but one page of each request (the
//            abort protocol takes the last), and tries to free a page
//            that is not its own
//   fault    the hog's revocation handler faults
//   exit     the hog exits in its revocation handler
//   late     the hog pages as in "hog" and reads everything back (clean
//            copies now on swap), then ignores requests: the abort
//            protocol takes pages whose copies are current, and they come
//            back from swap when touched
//
// A third argument picks the hog's replacement policy: clock (default),
// fifo, or hint (the hog names its own victims, oldest data first).  A
// fourth, "typed", makes the small program interactive: after each round
// it reads a line typed at the console and answers it.  At
// the end every live env's public page count is checked against the pages
// the public page records say it owns.
//
// In every mode the small program's allocations succeed, and once the hog
// is gone the free-page count is back to what it was.  Run as
// `init revoketest <mode>` (init hands over the swap area).
#include "lib.h"

#define HOG      0x10000000UL             // the hog's data, in its heap
#define SCRATCH  0x30000000UL             // the small program's pages
#define HEARD    0x20000000UL             // "ignore": a page I lend the hog, where it
                                          // counts the pages it has heard were taken
#define ROUNDS   12
#define BATCH    512

static const char *mode;
static int ctl[2], stat_pipe[2];
static volatile uint64 *hogdata;
static uint64 hogpages;

static uint64 word(uint64 page, uint64 i) { return page * 1000003UL + i * 7919UL + 1; }

static void tell(int fd, const char *what) { write(fd, what, strlen(what) + 1); }
static void hear(int fd, char *buf, int n)
{
  int i = 0;
  while (i < n - 1 && read(fd, buf + i, 1) == 1 && buf[i])
    i++;
  buf[i] = 0;
}

// ---- the hog's handlers for the bad modes ----

// "ignore" and "wrong": the request each abort ends.  Once the hog has
// grown it allocates nothing more, so its page count when it hears a
// request is its count when the request was posted, and an abort must
// bring it down to exactly that count less the pages asked (the kernel
// spares its exception stack, but takes others in their place).  The two
// latest requests are kept: a request posted just after an abort can be
// heard before that abort's notice.
struct heard {
  int valid;                               // heard once grown, and not yet ended
  int64 target;                            // my page count, less the pages asked
  uint64 count;                            // my repossession count when I heard it
};
static struct heard last, prev;
static int grown;

static void note_request(struct uframe *f)
{
  prev = last;
  last.valid = grown;
  last.target = thisenv->npages - (int64)f->tval;
  last.count = urepos[ENVX(sys_getenvid())].count;
}

static int ignore_request(struct uframe *f) { note_request(f); return 1; }

// SWAP_HINT: the hog knows its data is used in order: the oldest first.
static uint64 hint_cursor;
static int hog_hint(uint64 *vas, int n)
{
  int k = 0;
  for (uint64 tries = 0; k < n && tries < hogpages; tries++, hint_cursor++) {
    if (hint_cursor >= hogpages)
      hint_cursor = 0;
    uint64 va = (uint64)hogdata + hint_cursor * PGSIZE;
    if (uvpt_pte(va) & PTE_V)
      vas[k++] = va;
  }
  return k;
}

static const char *policy = "clock";
static int typed;

// "wrong": give back all but one of the pages asked (the abort protocol
// must take the last one), and try to free someone else's page.
static uint64 wrong_top;                  // my data pages below this may still be mapped
static int wrong_request(struct uframe *f)
{
  note_request(f);
  for (uint64 k = 1; k < f->tval && wrong_top > 1;)
    if (uvpt_pte((uint64)hogdata + --wrong_top * PGSIZE) & PTE_V) {
      page_unmap((uint64)hogdata + wrong_top * PGSIZE);
      k++;
    }
  int r = sys_page_free(PPN_BASE);                          // the kernel's page: refused
  if (r != -E_PERM)
    printf("revoketest: BROKEN: freeing a page I do not own returned %d\n", r);
  return 1;
}

static int fault_request(struct uframe *f)
{
  volatile int *bad = (volatile int *)(uint64)f->cause;   // (17: an unmapped address)
  *bad = 1;                                // a fault inside the handler
  return 1;
}

static int exit_request(struct uframe *f) { exit(7); }

// "ignore": the pages of the hog's exception stack become the newest it
// owns (each replaced in place by a fresh page, so an upcall never finds
// it unmapped).  The abort protocol takes the newest pages first, and
// must spare these: the hog's handler runs on them.
#define XMARK 0x5eed5eed5eedUL
static void fresh_xstack(void)
{
  for (uint64 va = UXSTACKTOP - UXSTACKSIZE; va < UXSTACKTOP; va += PGSIZE) {
    pte_t old = uvpt_pte(va);
    int r = page_map(va, PTE_R | PTE_W);
    if (r < 0) {
      printf("revoketest: FAIL: a fresh exception stack page at %p: %s\n", (void *)va, errstr(r));
      continue;
    }
    if (old & PTE_V)
      sys_page_free(PTE_PPN(old));
  }
  *(volatile uint64 *)(UXSTACKTOP - UXSTACKSIZE) = XMARK;
}

static void xstack_spared(void)
{
  if (uvpt_pte(UXSTACKTOP) & PTE_V)
    printf("revoketest: FAIL: the abort protocol spared the page just above the exception stack\n");
  for (uint64 va = UXSTACKTOP - UXSTACKSIZE; va < UXSTACKTOP; va += PGSIZE)
    if (!(uvpt_pte(va) & PTE_V)) {
      printf("revoketest: FAIL: the abort protocol took the hog's exception stack page at %p\n",
             (void *)va);
      return;
    }
  if (*(volatile uint64 *)(UXSTACKTOP - UXSTACKSIZE) != XMARK)
    printf("revoketest: FAIL: the hog's exception stack lost what it held\n");
}

// "ignore" and "wrong": each CAUSE_REPOSSESS upcall, before the library's
// handler: the notice tells of as many pages as were recorded since the
// last; the abort brought me down to the target of the request it ended;
// every record new since the last is of a page of my data, the page just
// above the exception stack, or the page I own but mapped nowhere (the
// newest I own, but for the stack), at the va where I mapped it (0 for
// that one), which is unmapped now, and names a page of RAM.
static uint64 repo_checked, loose_ppn, loose_taken, aborts_checked;
static int check_repossess(struct uframe *f)
{
  volatile struct repovec *v = &urepos[ENVX(sys_getenvid())];
  uint64 before = repo_checked, count = v->count;
  if (f->tval != count - before)
    printf("revoketest: FAIL: a notice of %lu pages taken, and %lu recorded since the last\n",
           f->tval, count - before);
  struct heard *h = last.count <= before ? &last : &prev;
  if (h->valid && h->count <= before && thisenv->npages == h->target)
    aborts_checked++;
  else if (h->valid && h->count <= before)
    printf("revoketest: FAIL: an abort left me %d pages; the request it ended asked me down "
           "to %ld\n", thisenv->npages, h->target);
  h->valid = 0;
  if (last.count > before)                 // (heard before the library's handler for this
    last.valid = 0;                        // notice, which may map pages, has run)
  if (v->count - repo_checked > REPO_N) {
    printf("revoketest: FAIL: %lu pages repossessed at once, more than the vector holds\n",
           v->count - repo_checked);
    repo_checked = v->count - REPO_N;
  }
  for (; repo_checked < v->count; repo_checked++) {
    volatile struct repo *r = &v->log[repo_checked % REPO_N];
    if (loose_ppn && r->va == 0 && r->ppn == loose_ppn) {
      loose_taken++;
      continue;
    }
    int data = r->va >= (uint64)hogdata && r->va < (uint64)hogdata + hogpages * PGSIZE;
    if ((!data && r->va != UXSTACKTOP) || r->va % PGSIZE ||
        (uvpt_pte(r->va) & PTE_V) || r->ppn < PPN_BASE || r->ppn >= PPN_BASE + usys->npages) {
      printf("revoketest: FAIL: repossession %lu recorded as va %p, ppn %lx: not a page of "
             "the hog's data that is gone now\n", repo_checked, (void *)r->va, r->ppn);
      repo_checked = v->count;
      break;
    }
  }
  if (uvpt_pte(HEARD) & PTE_V)
    *(volatile uint64 *)HEARD = repo_checked;
  return 0;                                // (on to the library's handler)
}

static void hog(void)
{
  char buf[64];
  hear(ctl[0], buf, sizeof buf);           // "<swap start> <count>"
  char *p;
  uint64 start = strtol(buf, &p, 10);
  swap_attach(start, strtol(p, 0, 10));
  int saves = !strcmp(mode, "hog") || !strcmp(mode, "late");
  if (!strcmp(policy, "fifo"))
    swap_policy(SWAP_FIFO, 0);
  else if (!strcmp(policy, "hint"))
    swap_policy(SWAP_HINT, hog_hint);
  if (!strcmp(mode, "ignore"))
    set_handler(CAUSE_REVOKE, ignore_request);
  else if (!strcmp(mode, "wrong"))
    set_handler(CAUSE_REVOKE, wrong_request);
  else if (!strcmp(mode, "fault"))
    set_handler(CAUSE_REVOKE, fault_request);
  else if (!strcmp(mode, "exit"))
    set_handler(CAUSE_REVOKE, exit_request);
  if (!strcmp(mode, "ignore") || !strcmp(mode, "wrong"))
    set_handler(CAUSE_REPOSSESS, check_repossess);
  // Grow: the whole hog if it can page; else until memory is nearly gone
  // (sbrk promises no more than memory and swap could hold).
  uint64 can = mem_avail() + swap_room();
  if (!saves && hogpages > can - 64)
    hogpages = can - 64;
  hogdata = sbrk(hogpages * PGSIZE);
  uint64 n = 0;
  for (; n < hogpages; n++) {
    if (!saves && usys->nfree < 300)
      break;
    volatile uint64 *pg = hogdata + n * (PGSIZE / 8);
    for (uint64 i = 0; i < PGSIZE / 8; i += 64)
      pg[i] = word(n, i);
  }
  if (!strcmp(mode, "ignore")) {
    fresh_xstack();
    if (page_map(UXSTACKTOP, PTE_R | PTE_W) < 0)   // the page just above the exception
      printf("revoketest: FAIL: map a page at %p\n", (void *)UXSTACKTOP);   // stack: not spared
    int64 ppn = sys_page_alloc(0);         // a page I own and map nowhere: taken, va 0
    if (ppn < 0)
      printf("revoketest: FAIL: a page to map nowhere: %s\n", errstr(ppn));
    loose_ppn = ppn < 0 ? 0 : ppn;
    if (n < hogpages) {                    // and one data page newer still: the first
      hogdata[n * (PGSIZE / 8)] = word(n, 0);   // abort's first choice is taken
      n++;
    }
  }
  wrong_top = n;
  grown = 1;
  snprintf(buf, sizeof buf, "%lu", n);
  tell(stat_pipe[1], buf);
  if (!saves) {
    // Spin (use my slices) until the small program is done; the kernel's
    // requests arrive meanwhile.
    hear(ctl[0], buf, sizeof buf);
    volatile struct repovec *v = &urepos[ENVX(sys_getenvid())];
    int first = 0;                         // the oldest record kept of a page of my data
    while (first < REPO_N - 1 && (v->log[first].va < (uint64)hogdata ||
                                  v->log[first].va >= (uint64)hogdata + hogpages * PGSIZE))
      first++;
    printf("revoketest: hog: %lu pages repossessed; first at va %p\n", v->count,
           (void *)v->log[first].va);
    if (!strcmp(mode, "ignore") || !strcmp(mode, "wrong")) {
      if (thisenv->repossessed != v->count)
        printf("revoketest: FAIL: my public record says %d pages repossessed; my vector, %lu\n",
               thisenv->repossessed, v->count);
      if (repo_checked != v->count)
        printf("revoketest: FAIL: %lu repossessions, and upcalls told of %lu\n", v->count,
               repo_checked);
      printf("revoketest: hog: %lu aborts came to their requests' targets\n", aborts_checked);
    }
    if (!strcmp(mode, "ignore")) {
      if (v->count == 0)
        exit(3);
      xstack_spared();
      if (loose_taken != 1)
        printf("revoketest: FAIL: the page I owned and mapped nowhere was recorded taken %lu "
               "times\n", loose_taken);
      // the latest entries: each numbered by its place in the count, each
      // an abort (and check_repossess saw each record's page)
      for (uint64 j = v->count > REPO_N ? v->count - REPO_N : 0; j < v->count; j++)
        if (v->log[j % REPO_N].seq != (uint32)j || v->log[j % REPO_N].reason != REPO_ABORT) {
          printf("revoketest: FAIL: repossession %lu recorded as seq %u, reason %u\n", j,
                 v->log[j % REPO_N].seq, v->log[j % REPO_N].reason);
          break;
        }
      // a repossessed page: its data was never saved
      (void)*(volatile uint64 *)v->log[first].va;
      exit(4);                             // (not reached: a fatal error)
    }
    exit(0);
  }
  hear(ctl[0], buf, sizeof buf);           // the small program is done
  uint64 bad = 0;
  for (int pass = 0; pass < (!strcmp(mode, "late") ? 2 : 1); pass++) {
    for (uint64 k = 0; k < n; k++) {
      volatile uint64 *pg = hogdata + k * (PGSIZE / 8);
      for (uint64 i = 0; i < PGSIZE / 8; i += 64)
        if (pg[i] != word(k, i))
          bad++;
    }
    if (pass == 0 && !strcmp(mode, "late")) {
      // Now stop answering; spin (using my slices) while the small
      // program takes more, until it says it is done again.
      set_handler(CAUSE_REVOKE, ignore_request);
      tell(stat_pipe[1], "ready");
      hear(ctl[0], buf, sizeof buf);
      printf("revoketest: hog: %lu pages repossessed, all with copies on swap\n",
             urepos[ENVX(sys_getenvid())].count);
    }
  }
  struct swap_stats st;
  swap_get_stats(&st);
  printf("revoketest: hog: %lu pages checked, %lu bad; %lu requests, %lu pages given back, "
         "%lu out, %lu in, %lu written\n", n, bad, st.requests, st.released, st.out, st.in, st.writes);
  exit(bad ? 1 : 0);
}

// "ignore": once the hog lost pages, it hears so soon, even asleep (in
// its pipe read): the kernel wakes it for the notice.  (I give it the CPU
// meanwhile.)
static uint64 seen_taken;
static void hog_heard(envid_t h)
{
  uint64 taken = uenvs[ENVX(h)].repossessed;
  if (taken == seen_taken)
    return;
  seen_taken = taken;
  volatile uint64 *heard = (volatile uint64 *)HEARD;
  for (uint64 t = rdtime(); *heard < taken && rdtime() - t < usys->timebase / 2;)
    sys_yield(0);
  if (*heard < taken)
    printf("revoketest: FAIL: 0.5 s after the abort protocol took %lu pages from the hog, it "
           "had heard of %lu\n", taken, *heard);
}

// The pages of the file server and the console: both grow with use (the
// cache; the console's first writes to its own copy-on-write pages), and
// neither growth is a leak.
static uint64 server_pages(void)
{
  uint64 n = 0;
  if (fs_env && uenvs[ENVX(fs_env)].id == fs_env)
    n += uenvs[ENVX(fs_env)].npages;
  if (cons_env && uenvs[ENVX(cons_env)].id == cons_env)
    n += uenvs[ENVX(cons_env)].npages;
  return n;
}

int main(int argc, char **argv)
{
  mode = argc > 1 ? argv[1] : "hog";
  hogpages = (argc > 2 ? atoi(argv[2]) : 56) * 256;
  if (argc > 3)
    policy = argv[3];
  typed = argc > 4 && !strcmp(argv[4], "typed");
  int pages = !strcmp(mode, "hog") || !strcmp(mode, "late");
  if (strcmp(mode, "hog") && strcmp(mode, "late") && strcmp(mode, "ignore") && strcmp(mode, "wrong") &&
      strcmp(mode, "fault") && strcmp(mode, "exit")) {
    printf("usage: revoketest hog|ignore|wrong|fault|exit [MiB [clock|fifo|hint]]\n");
    return 2;
  }
  // Warm up what this env keeps anyway (stack, the console's I/O page, the
  // page tables under SCRATCH), so the count at the end can be exact.
  volatile char deep[32768];
  for (uint64 i = 0; i < sizeof deep; i += PGSIZE)
    deep[i] = 0;
  printf("revoketest: %s\n", mode);
  page_map(SCRATCH, PTE_R | PTE_W);
  page_unmap(SCRATCH);
  pipe(ctl);
  close(ctl[0]), close(ctl[1]);
  // (The file server's cache may give pages back meanwhile, when memory
  // runs short: count its pages with the free ones.)
  uint64 free0 = usys->nfree + server_pages(), mine0 = thisenv->npages;
  pipe(ctl);
  pipe(stat_pipe);
  envid_t h = fork();
  if (h < 0)
    panic("fork: %s", errstr(h));
  if (h == 0)
    hog();
  if (!strcmp(mode, "ignore")) {
    check(page_map(HEARD, PTE_R | PTE_W) == 0, "a page to lend the hog");
    check(sys_pte_set(h, HEARD, PPN_PTE(PTE_PPN(uvpt_pte(HEARD)), PTE_V | PTE_U | PTE_R | PTE_W |
                                        PTE_A | PTE_D)) == 0, "lend the hog a page");
  }
  char buf[64];
  if (pages && swap_count)
    check(sys_blk_grant(h, swap_start, swap_count, BLK_R | BLK_W) >= 0, "grant the swap extent");
  snprintf(buf, sizeof buf, "%lu %lu", pages ? swap_start : 0, pages ? swap_count : 0);
  tell(ctl[1], buf);
  hear(stat_pipe[0], buf, sizeof buf);
  printf("revoketest: hog holds %s pages; %lu free\n", buf, usys->nfree);

  // The small interactive program: rounds of allocating, using and freeing.
  uint64 t0 = rdinstret();
  for (int round = 0; round < ROUNDS; round++) {
    int got = 0;
    for (int i = 0; i < BATCH; i++) {
      int r = page_map(SCRATCH + i * PGSIZE, PTE_R | PTE_W);
      if (r < 0) {
        printf("revoketest: FAIL: round %d: page %d: %s\n", round, i, errstr(r));
        break;
      }
      *(volatile uint64 *)(SCRATCH + i * PGSIZE) = round * 1000 + i;
      got++;
      if (!strcmp(mode, "ignore"))
        hog_heard(h);
    }
    for (int i = 0; i < got; i++) {
      check(*(volatile uint64 *)(SCRATCH + i * PGSIZE) == (uint64)(round * 1000 + i), "scratch");
      page_unmap(SCRATCH + i * PGSIZE);
    }
    printf("revoketest: small: round %d: %d pages\n", round, got);
    if (typed) {
      char line[64];
      int n = read(0, line, sizeof line - 1);
      line[n > 0 ? n : 0] = 0;
      if (n > 0 && line[n - 1] == '\n')
        line[n - 1] = 0;
      printf("revoketest: small: you typed [%s]\n", line);
    }
    if (got < BATCH)
      break;
  }
  printf("revoketest: small: done in %lu M instructions; %lu requests, %lu pages repossessed\n",
         (rdinstret() - t0) >> 20, usys->revocations, usys->repossessions);
  tell(ctl[1], "done");
  if (!strcmp(mode, "late")) {
    hear(stat_pipe[0], buf, sizeof buf);   // the hog has read everything back
    uint64 want = usys->nfree + 128, got = 0, taken0 = usys->repossessions;
    for (; got < want && got < 4 * BATCH; got++)
      if (page_map(SCRATCH + got * PGSIZE, PTE_R | PTE_W) < 0)
        break;
    check(got == want, "phase 2: %lu of %lu pages", got, want);
    check(usys->repossessions > taken0, "phase 2: the abort protocol took nothing");
    for (uint64 i = 0; i < got; i++)
      page_unmap(SCRATCH + i * PGSIZE);
    printf("revoketest: small: phase 2: %lu pages; %lu taken from the hog\n", got,
           usys->repossessions - taken0);
    tell(ctl[1], "done");
  }
  int status = -1;
  waitenv(h, &status);
  int want = pages ? 0 : !strcmp(mode, "ignore") ? -1 : !strcmp(mode, "exit") ? 7
           : !strcmp(mode, "fault") ? -1 : 0;
  check(status == want, "the hog's exit status %d, expected %d", status, want);
  close(ctl[0]), close(ctl[1]), close(stat_pipe[0]), close(stat_pipe[1]);
  // (This line also makes the console let go of the last page the hog
  // sent it, which it keeps mapped until its next message.)
  printf("revoketest: the hog exited with status %d\n", status);
  // Everything the hog had is back (allow the kernel a moment to finish
  // any disk write it still has in flight).
  // (Pages this env itself took meanwhile, a deeper stack say, are not
  // leaks: count them.)
  uint64 now = 0;
  for (uint64 t = rdtime(); rdtime() - t < 5 * usys->timebase; sys_yield(0))
    if ((now = usys->nfree + server_pages() + thisenv->npages - mine0) == free0)
      break;
  check(now == free0, "free pages %lu (+%ld of mine, +%lu the servers'), at the start %lu",
        usys->nfree, (long)(thisenv->npages - mine0), server_pages(), free0);
  // Every page an env is charged for is one the page records say it owns.
  int wrong = 0;
  for (int i = 0; i < NENV; i++) {
    volatile struct envpub *e = &uenvs[i];
    if (e->status != ENV_RUNNABLE && e->status != ENV_NOT_RUNNABLE)
      continue;
    int64 owned = 0;
    for (uint64 p = 0; p < usys->npages; p++)
      owned += upages[p].owner == e->id && (upages[p].kind == PG_USER || upages[p].kind == PG_PTABLE);
    if (owned != e->npages) {
      printf("revoketest: env %08x: charged %d pages, owns %ld\n", e->id, e->npages, owned);
      wrong++;
    }
  }
  check(wrong == 0, "%d envs' page counts do not match the page records", wrong);
  return check_report();
}
