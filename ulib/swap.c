// Paging under revocation: the library's side of the kernel's visible
// revocation (kernel/revoke.c).
//
// The pageable region is the program's heap, [start of the heap, break),
// at most SWAP_MAXPG pages (not .data and .bss: the pager's own state
// lives there).  For each page of it the library keeps
// one word (at USWAPMAP, mapped as needed): its swap slot, whether it is
// out on the swap extent, lost, or in sync with its slot (mapped
// read-only until written, so a clean page needs no write when evicted),
// and when it came in (for FIFO).
//
//   CAUSE_REVOKE (n):   pick n victims with the policy, write the dirty
//                       ones to the swap extent, unmap and free them all
//   page fault:         a page out on swap is read back in (transparently);
//                       a lost page is a fatal error naming the address
//   CAUSE_REPOSSESS:    the kernel took pages (abort protocol): those in
//                       sync with swap are just "out"; the others are lost
//   E_NO_MEM on a fault: I am over my share: evict some of my own pages
//
// Policies (swap_policy()): SWAP_CLOCK (default; second chance on the
// hardware A bit), SWAP_FIFO (oldest page in first out), SWAP_HINT (the
// application's function names victims; the clock fills up the rest).
// Without a swap extent (swap_count 0) nothing can be saved: a revocation
// request is answered with clean pages only, and the rest is up to the
// kernel.
#include "lib.h"

#define SWAP_MAXPG   16384                 // 64 MiB of pageable data and heap
#define E_SLOT       0x00000000FFFFFFFFUL  // slot + 1 (0: none)
#define E_OUT        (1UL << 32)           // not resident: contents in the slot
#define E_LOST       (1UL << 33)           // taken by the kernel, not saved
#define E_SYNC       (1UL << 34)           // resident, identical to its slot, mapped RO
#define E_RES        (1UL << 35)           // the pager mapped it: resident unless taken
#define E_INCOMING       (1UL << 36)           // being read in: not a victim
#define E_SEQ_SHIFT  40                    // when it came in (FIFO)
#define MAP ((volatile uint64 *)USWAPMAP)

uint64 swap_start, swap_count;             // my swap extent (blocks)
static int policy = SWAP_CLOCK;
static swap_hint_t hint;
static uint64 lo, hand, seq;               // region start, clock hand, FIFO clock
static uint8 *slotused;                    // a bitmap, in the map area too
static uint64 nslots_used;
static struct swap_stats stats;
static uint64 repo_seen;                   // repossession entries already read
#define NLOST 128
static uint64 lost_elsewhere[NLOST];       // lost pages outside the region
static int nlost;
static void faults_on(void);
static int active;                         // pages have been evicted or synced

static inline uint64 region_hi(void) { return ulib_brk; }

// The map word for va (mapping the map page if need be); 0 if va is
// outside the region.  A missing map page is mapped together with every
// other one up to the break: older than most heap pages they describe, so
// that the abort protocol, which takes the newest pages first, reaches
// them last (a map page taken ends the pager).
static volatile uint64 *entry(uint64 va, int create)
{
  if (va < lo || va >= region_hi() || (va - lo) / PGSIZE >= SWAP_MAXPG)
    return 0;
  uint64 idx = (va - lo) / PGSIZE;
  uint64 mp = (USWAPMAP + idx * sizeof(uint64)) & ~(PGSIZE - 1);
  if (!(uvpt_pte(mp) & PTE_V)) {
    if (!create)
      return 0;
    uint64 last = (region_hi() - lo) / PGSIZE;
    last = last < SWAP_MAXPG ? last : SWAP_MAXPG;
    for (uint64 m = mp; m < USWAPMAP + last * sizeof(uint64); m += PGSIZE)
      if (!(uvpt_pte(m) & PTE_V) && page_map(m, PTE_R | PTE_W) < 0)
        break;
    if (!(uvpt_pte(mp) & PTE_V))
      return 0;
  }
  return &MAP[idx];
}

// The slot bitmap, mapped while memory is plentiful (at the first fault).
static int slot_alloc_init(void)
{
  uint64 va = USWAPMAP + SWAP_MAXPG * sizeof(uint64);
  if ((!(uvpt_pte(va) & PTE_V) && page_map(va, PTE_R | PTE_W) < 0) ||
      (!(uvpt_pte(va + PGSIZE) & PTE_V) && page_map(va + PGSIZE, PTE_R | PTE_W) < 0))
    return -E_NO_MEM;
  slotused = (uint8 *)va;
  return 0;
}

static int64 slot_alloc(void)
{
  if (!slotused && slot_alloc_init() < 0)
    return -E_NO_MEM;
  uint64 n = swap_count < 2 * PGSIZE * 8 ? swap_count : 2 * PGSIZE * 8;
  for (uint64 s = 0; s < n; s++)
    if (!(slotused[s / 8] & (1 << (s % 8)))) {
      slotused[s / 8] |= 1 << (s % 8);
      nslots_used++;
      return s;
    }
  return -E_NOSPC;
}

// Is the copy of va on swap current (so no write is needed)?
static int in_sync(volatile uint64 *e, pte_t pte) { return (*e & E_SYNC) && !(pte & PTE_W); }

// May va go?  With every swap slot taken (each page keeps its slot while
// it is in), only a page whose copy there is current: a dirty one would
// have nowhere to go.
static int evictable(uint64 va, pte_t pte)
{
  if (!(pte & PTE_V) || (pte & (PTE_SHARE | PTE_COW)))
    return 0;
  volatile struct pagepub *p = &upages[PTE_PPN(pte) - PPN_BASE];
  if (p->owner != thisenv->id || p->refs != 1 || p->pins != 0)
    return 0;
  volatile uint64 *e;
  return swap_room() > 0 || ((e = entry(va, 0)) && in_sync(e, pte));
}

// After its contents are safe: unmap and free the page at va.
static int drop(uint64 va, volatile uint64 *e)
{
  int r = page_unmap(va);
  if (r < 0)
    return r;
  *e = (*e & E_SLOT) | E_OUT;
  stats.out++;
  active = 1;
  return 0;
}

#define SCAN_LIMIT 512                     // A bits cleared per request at most

// The next victim by the clock: pages used since the hand last passed (A
// set) get a second chance, at most SCAN_LIMIT of them per call (then the
// hand takes what it finds, so a request is answered in bounded time).
static uint64 clock_victim(int *spared)
{
  // BEGIN LAB revoke: clock_victim: advance the hand over [lo, region_hi()); skip pages not evictable; spare (clear A) recently used ones, at most SCAN_LIMIT per request
  uint64 hi = region_hi(), n = (hi - lo) / PGSIZE;
  for (uint64 step = 0; step < 2 * n + 1; step++) {
    if (hand < lo || hand >= hi)
      hand = lo;
    uint64 va = hand;
    hand += PGSIZE;
    pte_t pte = uvpt_pte(va);
    if (!evictable(va, pte))
      continue;
    if ((pte & PTE_A) && *spared < SCAN_LIMIT) {
      sys_pte_set(0, va, pte & ~PTE_A);   // used since the hand passed: spare it
      (*spared)++;
      continue;
    }
    return va;
  }
  return 0;
  // END LAB revoke: return lab_todo_once("revoke", "clock_victim"), (void)spared, 0;
}

// FIFO: the n resident pages that came in first, in one pass over the
// region (keeping the n oldest seen so far, sorted).  How many.
static int fifo_victims(uint64 *vas, int n)
{
  uint64 seqs[64];
  int k = 0;
  for (uint64 va = lo; va < region_hi(); va += PGSIZE) {
    volatile uint64 *e = entry(va, 0);
    if (!e || (*e & E_OUT))
      continue;
    uint64 s = *e >> E_SEQ_SHIFT;
    if (k == n && s >= seqs[k - 1])
      continue;
    if (!evictable(va, uvpt_pte(va)))
      continue;
    int i = k < n ? k++ : k - 1;           // drop the youngest if full
    while (i > 0 && seqs[i - 1] > s) {
      seqs[i] = seqs[i - 1];
      vas[i] = vas[i - 1];
      i--;
    }
    seqs[i] = s;
    vas[i] = va;
  }
  return k;
}

// Wait for some of the writes in busy (a mask of tags); settle the
// victims whose writes finished (who[tag] says whose write a tag is):
// ok[victim] becomes 1 if its write succeeded, 0 if it failed.  A tag
// names one write only while it is in flight (the disk hands it out
// again), so a result must be taken when it is collected.  Returns what
// is still in flight.
// BEGIN LAB revoke: settle: wait for some writes in busy, mark their victims written (ok 1) or failed (ok 0), return the tags still in flight; if the wait fails, count them all as failed
static uint64 settle(uint8 *ok, const uint8 *who, uint64 busy)
{
  uint64 failed = 0;
  int64 d = sys_blk_wait(busy, &failed);
  if (d <= 0)
    d = busy, failed = busy;               // cannot wait: they stay
  uint64 fin = (uint64)d & busy;
  for (int t = 0; fin >> t; t++)
    if ((fin >> t) & 1)
      ok[who[t]] = !((failed >> t) & 1);
  return busy & ~fin;
}
// END LAB revoke: static uint64 settle(uint8 *ok, const uint8 *who, uint64 busy) { return lab_todo_once("revoke", "settle (collecting swap writes)"), (void)ok, (void)who, busy & 0; }

// Evict up to n (at most 64) of my pages: choose them by the policy, write
// the dirty ones to swap (several requests in flight), then unmap and free
// them all.  How many went.
int swap_out(int n)
{
  uint64 vas[64];
  int nv = 0, spared = 0;
  if (n > 64)
    n = 64;
  if (policy == SWAP_HINT && hint)
    for (int k = hint(vas, n), i = 0; i < k; i++) {
      uint64 va = vas[i] & ~(PGSIZE - 1);
      if (evictable(va, uvpt_pte(va)) && entry(va, 1))
        vas[nv++] = va;
    }
  if (policy == SWAP_FIFO && nv == 0)
    nv = fifo_victims(vas, n);
  for (int tries = 0; nv < n && tries < 4 * n + 16; tries++) {
    uint64 va = clock_victim(&spared);
    if (!va || !entry(va, 1))
      break;
    if (*entry(va, 1) & E_INCOMING)
      continue;
    int dup = 0;
    for (int i = 0; i < nv; i++)
      dup |= vas[i] == va;
    if (dup)
      break;                               // the hand came round: nothing more
    vas[nv++] = va;
  }
  // BEGIN LAB revoke: swap_out: write the victims that are not in sync to their swap slots (asynchronous, several in flight), wait, then drop each one whose write succeeded; return how many went
  uint64 busy = 0;
  uint8 ok[64], who[64];                   // each victim: 1 once it may go (in sync, or written)
  for (int i = 0; i < nv; i++) {
    volatile uint64 *e = entry(vas[i], 1);
    ok[i] = in_sync(e, uvpt_pte(vas[i]));
    if (ok[i])
      continue;
    int64 slot = !swap_count ? -E_NOSPC : (*e & E_SLOT) ? (int64)(*e & E_SLOT) - 1 : slot_alloc();
    if (slot < 0)
      continue;                            // nowhere to keep it: it stays
    *e = (*e & ~E_SLOT) | (uint64)(slot + 1);
    int64 tag;
    while ((tag = sys_blk_io(BLK_WRITE | BLK_ASYNC, swap_start + slot, (void *)vas[i], 1)) == -E_BUSY && busy)
      busy = settle(ok, who, busy);
    if (tag < 0)
      continue;
    busy |= 1UL << tag;
    who[tag] = i;                          // (its ok stays 0 until settle says written)
    stats.writes++;
  }
  while (busy)
    busy = settle(ok, who, busy);
  int done = 0;
  for (int i = 0; i < nv; i++)
    if (ok[i] == 1 && drop(vas[i], entry(vas[i], 1)) == 0)
      done++;
  return done;
  // END LAB revoke: return lab_todo_once("revoke", "swap_out (writing victims to swap)"), (void)in_sync, (void)drop, (void)slot_alloc, (void)settle, 0;
}

// Map a fresh page at va, making room among my own pages if I am over my
// share.
static int map_page(uint64 va)
{
  int r;
  for (int tries = 0; (r = page_map(va, PTE_R | PTE_W)) == -E_NO_MEM && tries < 8; tries++)
    if (swap_out(16) == 0)
      break;
  return r;
}

static void fatal_lost(uint64 va, uint64 pc)
{
  printf("env %08x: the page at va %p was taken by the kernel (abort protocol) and not saved; "
         "pc %p\n", sys_getenvid(), (void *)va, (void *)pc);
  exit(-1);
}

// Page faults in the region (and lost pages anywhere).
static int swap_fault(struct uframe *f)
{
  uint64 va = f->tval & ~(PGSIZE - 1);
  for (int i = 0; i < nlost; i++)
    if (lost_elsewhere[i] == va)
      fatal_lost(va, f->tf.pc);
  if (va >= USWAPMAP && va < USWAPMAP + SWAP_MAXPG * sizeof(uint64) + 2 * PGSIZE)
    return 0;
  volatile uint64 *e = entry(va, 1);
  if (!e || f->cause == CAUSE_FETCH_PAGE)
    return 0;
  pte_t pte = uvpt_pte(va);
  if (*e & E_LOST)
    fatal_lost(va, f->tf.pc);
  if ((*e & E_RES) && !(pte & PTE_V)) {
    // I did not evict it: the kernel took it (whether or not its notice
    // reached me).  Its copy on swap is good only if it was in sync.
    if (!(*e & E_SYNC) || !(*e & E_SLOT))
      fatal_lost(va, f->tf.pc);
    *e = (*e & E_SLOT) | E_OUT;
  }
  if ((pte & PTE_V) && (*e & E_SYNC) && f->cause == CAUSE_STORE_PAGE && !(pte & (PTE_W | PTE_COW))) {
    *e &= ~E_SYNC;                         // first write since it came in: dirty
    return sys_pte_set(0, va, pte | PTE_W | PTE_D) == 0;
  }
  if (pte & PTE_V)
    return 0;                              // not mine to handle (copy-on-write, ...)
  int out = (*e & E_OUT) != 0;
  if ((!slotused && swap_count && slot_alloc_init() < 0) || map_page(va) < 0) {
    if (!out)
      return 0;                            // (mem.c may still find a page)
    // Never fall through to demand-zero for a page that is on swap.
    printf("env %08x: no memory to bring va %p back from swap\n", sys_getenvid(), (void *)va);
    exit(-1);
  }
  if (out) {                               // bring it back
    uint64 slot = (*e & E_SLOT) - 1;
    *e |= E_INCOMING;                          // not a victim while it comes in
    int r = sys_blk_io(BLK_READ, swap_start + slot, (void *)va, 1);
    pte = uvpt_pte(va);
    if (r < 0 && (pte & PTE_V)) {
      printf("env %08x: cannot read va %p back from swap: %s\n", sys_getenvid(), (void *)va, errstr(r));
      exit(-1);
    }
    *e &= ~E_INCOMING;
    if (!(pte & PTE_V))
      return 1;                            // taken meanwhile: the slot is still good; again
    sys_pte_set(0, va, pte & ~(PTE_W | PTE_D | PTE_A));   // clean until written
    active = 1;
    *e = (*e & E_SLOT) | E_SYNC;
    stats.in++;
  } else
    *e &= E_SLOT;                          // a new page (demand zero)
  *e |= E_RES | ++seq << E_SEQ_SHIFT;
  return 1;
}

// The kernel asks for pages back.
static int on_revoke(struct uframe *f)
{
  stats.requests++;
  // BEGIN LAB revoke: on_revoke: give back f->tval pages with swap_out (at most 64 a call) until done or nothing more goes

  for (uint64 left = f->tval; left > 0;) {
    int got = swap_out(left);
    if (got <= 0)
      break;
    stats.released += got;
    left -= got < (int)left ? (uint64)got : left;
  }
  // END LAB revoke: lab_todo_once("revoke", "on_revoke"), (void)f;
  return 1;
}

// The kernel took pages: note which can come back from swap.
static int on_repossess(struct uframe *f)
{
  faults_on();
  volatile struct repovec *v = &urepos[ENVX(sys_getenvid())];
  uint64 count = v->count;
  if (count - repo_seen > REPO_N)
    repo_seen = count - REPO_N;            // (older entries were overwritten)
  for (; repo_seen < count; repo_seen++) {
    uint64 va = v->log[repo_seen % REPO_N].va;
    stats.repossessed++;
    if (!va)
      continue;
    if (va >= USWAPMAP && va < USWAPMAP + SWAP_MAXPG * sizeof(uint64) + 2 * PGSIZE) {
      printf("env %08x: the kernel took my swap map (va %p): cannot page any more\n",
             sys_getenvid(), (void *)va);
      exit(-1);
    }
    volatile uint64 *e = entry(va, 1);
    if (e && (*e & E_INCOMING) && (*e & E_SLOT))
      *e = (*e & E_SLOT) | E_OUT | E_INCOMING; // coming in: the slot still has it
    else if (e && (*e & E_SYNC) && (*e & E_SLOT))
      *e = (*e & E_SLOT) | E_OUT;          // its copy on swap is current
    else if (e)
      *e = E_LOST;
    else if (nlost < NLOST)
      lost_elsewhere[nlost++] = va;
    else
      fatal_lost(va, f->tf.pc);
  }
  return 1;
}

void swap_policy(int p, swap_hint_t h)
{
  policy = p;
  hint = h;
}

void swap_get_stats(struct swap_stats *s)
{
  *s = stats;
  s->slots = nslots_used;
}

// Before a fork: bring every page back in and make it plainly writable,
// so that fork's copy-on-write sees ordinary pages (the child has no swap
// extent and starts with no paging state).
void swap_before_fork(void)
{
  if (!active)
    return;
  for (uint64 va = lo; va < region_hi(); va += PGSIZE) {
    volatile uint64 *e = entry(va, 0);
    if (!e)
      continue;
    if (*e & E_OUT)
      (void)*(volatile char *)va;          // fault it in
    pte_t pte = uvpt_pte(va);
    if ((*e & E_SYNC) && (pte & PTE_V) && !(pte & PTE_W)) {
      sys_pte_set(0, va, pte | PTE_W | PTE_D);
      *e &= ~E_SYNC;
    }
  }
}

// In a new child of fork: no extent, no paging state of its own yet (its
// copy of the map is dropped: every page it has is resident and plain).
void swap_after_fork_child(void)
{
  // (Only what is set is written: a write to a page shared copy-on-write
  // with the parent costs a page copy, and fork is hot.)
  if (swap_count)
    swap_start = swap_count = 0;
  if (!active && !slotused && !nslots_used)
    return;
  for (uint64 va = USWAPMAP; va < USWAPMAP + SWAP_MAXPG * sizeof(uint64) + 2 * PGSIZE; va += PGSIZE)
    if (uvpt_pte(va) & PTE_V)
      page_unmap(va);
  slotused = 0;
  nslots_used = 0;
  active = 0;
  memset(&stats, 0, sizeof stats);
}

// Make the pager's own variables this env's private pages now.  After a
// fork they sit on pages shared copy-on-write with the parent, and the
// pager's first write to one would need a page copy: under memory pressure,
// in the middle of answering a revocation request, that copy could only be
// had by paging, which writes them again (a recursion that overflowed the
// exception stack once the variables' layout changed).
static void pager_private(void)
{
  volatile uint64 *words[] = { &swap_start, &swap_count, &lo, &hand, &seq, &nslots_used, &repo_seen,
                               &lost_elsewhere[0], &lost_elsewhere[NLOST - 1],
                               (volatile uint64 *)&stats, (volatile uint64 *)&hint };
  for (uint64 i = 0; i < sizeof words / sizeof words[0]; i++)
    *words[i] = *words[i];
  volatile int *ints[] = { &policy, &nlost, &active };
  for (uint64 i = 0; i < sizeof ints / sizeof ints[0]; i++)
    *ints[i] = *ints[i];
  volatile uint8 **p = (volatile uint8 **)&slotused;
  *p = *p;
}

// The page-fault handlers, registered once there is paging to do (a swap
// extent, or pages the kernel took): they run before the library's
// demand-zero and copy-on-write handler.
static void faults_on(void)
{
  static int on;
  pager_private();
  // The pager nests upcalls: all of the exception stack must be mapped.
  // (Checked each time, not only the first: a child forked after this ran
  // inherits `on` but has a fresh exception stack of one page.)
  if (!(uvpt_pte(UXSTACKTOP - UXSTACKSIZE) & PTE_V))
    upcall_stack_grow();
  if (on)
    return;
  on = 1;
  set_handler(CAUSE_LOAD_PAGE, swap_fault);
  set_handler(CAUSE_STORE_PAGE, swap_fault);
  set_handler(CAUSE_FETCH_PAGE, swap_fault);
}

// The heap shrank (sbrk): its pages in [from, to) are gone.  Forget them
// (their map words and swap slots), so that when the heap grows back they start as
// new pages, not as pages the kernel took.
void swap_heap_shrunk(uint64 from, uint64 to)
{
  for (uint64 va = from < lo ? lo : from; va < to && (va - lo) / PGSIZE < SWAP_MAXPG; va += PGSIZE) {
    uint64 idx = (va - lo) / PGSIZE;
    if (!(uvpt_pte((USWAPMAP + idx * sizeof(uint64)) & ~(PGSIZE - 1)) & PTE_V))
      continue;                            // (no map page: nothing recorded)
    uint64 w = MAP[idx];
    if ((w & E_SLOT) && slotused) {
      uint64 s = (w & E_SLOT) - 1;
      slotused[s / 8] &= ~(1 << (s % 8));
      nslots_used--;
    }
    MAP[idx] = 0;
  }
}

// Heap pages my swap extent could still hold (sbrk may promise those too).
uint64 swap_room(void)
{
  uint64 slots = swap_count < 2 * PGSIZE * 8 ? swap_count : 2 * PGSIZE * 8;   // (slot_alloc_init)
  return slots > nslots_used ? slots - nslots_used : 0;
}

// Page on the extent [start, start+count) (a block capability I hold).
void swap_attach(uint64 start, uint64 count)
{
  swap_start = start;
  swap_count = count;
  if (count)
    faults_on();
}

// Start answering revocation requests (libmain calls this).
void swap_init(void)
{
  lo = ulib_brk;                           // the heap (mem_init started it): never the pager's own data
  hand = lo;
  set_handler(CAUSE_REVOKE, on_revoke);
  set_handler(CAUSE_REPOSSESS, on_repossess);
}
