// attackkern: holes in the kernel's protection found by adversarial
// testing, kept as regression tests.  Run as the first env (it needs the
// whole disk): `attackkern sched|blkcap|blkwait|slots|uvpt|all`.
//   sched    many children die while the kernel delivers their first
//            upcall: the scheduler must not recurse (it used to overflow
//            its stack and panic)
//   blkcap   a block extent passed on by a child that then exits must not
//            outlive the grant it came from
//   blkwait  with every tag finished, blk_wait's result must not look
//            like an error
//   slots    a child that takes every slot it can must not stop others
//            from being created or from getting their share
//   uvpt     a page table made while its env reads UVPT on another hart
//            must be readable there as soon as UVPD shows it
#include "lib.h"

// Children that die on their way in: a tick upcall is due at the start of
// each slice, and their exception stack is not mapped.  Each death used to
// cost the scheduler a stack frame.
static void sched_bomb(void)
{
  int made = 0, reaped = 0;
  envid_t kids[250];
  for (int round = 0; round < 4; round++) {
    int n = 0;
    for (; n < 250; n++) {
      envid_t c = sys_exofork();
      if (c < 0)
        break;
      if (c == 0)
        for (;;)                          // (never runs: the address space is empty)
          ;
      kids[n] = c;
      check(sys_env_set_upcall(c, (void (*)(void))UTEXT, 0x20000000UL, 0x20010000UL, 0, 0) == 0,
            "set_upcall for a child");
      check(sys_env_set_tick(c, 1) == 0, "env_set_tick for a child");
    }
    check(n >= 200, "round %d: only %d children", round, n);
    for (int i = 0; i < n; i++)            // all at once, then let them run
      sys_env_set_status(kids[i], ENV_RUNNABLE);
    made += n;
    for (int i = 0; i < n; i++) {
      while (uenvs[ENVX(kids[i])].status != ENV_EXITED)
        sys_yield(0);
      if (sys_env_destroy(kids[i]) == 0)
        reaped++;
    }
  }
  check(reaped == made, "reaped %d of %d", reaped, made);
  printf("attackkern: sched: %d children died on delivery\n", made);
}

// Wait for a PCT message; its first word.
static uint64 recv_word(void)
{
  struct pct_msg m;
  while (sys_pct_recv(0, &m) < 0 || m.from == 0)
    ;
  return m.w[0];
}

static void send_word(envid_t to, uint64 w)
{
  while (sys_pct_send(to, w, 0, 0, 0) == -E_NOT_WAITING)
    sys_yield(to);
}

// A grants C an extent; C grants part of it to its own child G and exits.
// G must lose it with C: it derives from C's grant.
static void blkcap_escape(void)
{
  uint64 b = usys->disk_blocks - 64;
  envid_t a = sys_getenvid();
  static char buf[PGSIZE] __attribute__((aligned(PGSIZE)));
  buf[0] = 1;                               // mapped and writable
  envid_t c = fork();
  if (c == 0) {
    recv_word();                            // A's grant is in place
    envid_t g = fork();
    if (g == 0) {
      recv_word();                          // C is gone
      buf[0] = 2;                           // (my own copy: the read needs it writable)
      int r = sys_blk_io(BLK_READ, b, buf, 1);
      send_word(a, (uint64)(int64)r);
      exit(0);
    }
    int i = sys_blk_grant(g, b, 4, BLK_R | BLK_W);
    send_word(a, ((uint64)g << 8) | (i & 0xff));
    exit(0);
  }
  int idx = sys_blk_grant(c, b, 8, BLK_R | BLK_W);
  check(idx >= 0, "grant to the child: %d", idx);
  send_word(c, 1);
  uint64 w = recv_word();
  envid_t g = w >> 8;
  check((w & 0xff) < NBLKCAP, "the child could not pass the extent on (%d)", (int)(w & 0xff));
  int status;
  check(waitenv(c, &status) == c, "wait for the child");
  send_word(g, 1);
  int64 r = (int64)recv_word();
  expect_err(r, E_PERM, "the grandchild reads with an extent derived from its dead parent's");
  // A revokes what it granted directly to a descendant that is not its
  // child: and every extent derived from it.
  envid_t d = fork();
  if (d == 0) {
    recv_word();
    buf[0] = 2;
    int r = sys_blk_io(BLK_READ, b, buf, 1);
    send_word(a, (uint64)(int64)r);
    exit(0);
  }
  int k = sys_blk_grant(d, b + 8, 8, BLK_R);
  check(k >= 0 && sys_blk_grant(d, b, 8, BLK_R) >= 0, "grants to a second child");
  int own = sys_blk_grant(d, b + 16, 1, BLK_R);
  check(own >= 0, "a third grant");
  check(sys_blk_revoke(d, own) == 0, "revoke one grant");
  expect_err(sys_blk_revoke(d, own), E_INVAL, "revoke an empty index");
  // my own extents: everything derived from them goes, mine stays
  check(sys_blk_revoke(0, 0) == 0, "revoke what was derived from my extent 0");
  send_word(d, 1);
  expect_err((int64)recv_word(), E_PERM, "a child reads after its extents were revoked");
  buf[0] = 2;
  check(sys_blk_io(BLK_READ, b, buf, 1) == 0, "I keep my own extent");
  waitenv(d, &status);
  waitenv(g, &status);
  printf("attackkern: blkcap: derived extents revoked\n");
}

static int popcount(uint64 x)
{
  int n = 0;
  for (; x; x &= x - 1)
    n++;
  return n;
}

// Leave every tag finished and uncollected, then collect them all.
static void blkwait_sign(void)
{
  static char pg[8][PGSIZE] __attribute__((aligned(PGSIZE)));
  uint64 b = usys->disk_blocks - 64;
  int issued = 0;
  for (int i = 0; i < 8; i++)
    pg[i][0] = 1;
  // (The host's disk finishes requests in its own time: allow it 5 s
  // without progress, however fast the yields go.)
  for (uint64 since = rdtime(); issued < 64 && rdtime() - since < 5 * usys->timebase;) {
    int t = sys_blk_io(BLK_READ | BLK_ASYNC, b + issued % 8, pg[issued % 8], 1);
    if (t >= 0) {
      issued++;
      since = rdtime();
    } else if (t == -E_BUSY) {
      sys_yield(0);                       // let some finish
    } else {
      check(0, "async read: %s", errstr(t));
      break;
    }
  }
  for (int i = 0; i < 200; i++)
    sys_yield(0);
  uint64 failed = 0, got = 0;
  while (popcount(got) < issued) {
    int64 d = sys_blk_wait(0, &failed);
    if (!check(d > 0, "blk_wait(0) with %d tags finished returned %ld", issued - popcount(got), d))
      break;
    got |= (uint64)d;
  }
  check(issued >= 63, "only %d requests could be outstanding", issued);
  printf("attackkern: blkwait: %d requests collected\n", popcount(got));
}

// A child takes every slot it may; creating envs must still work, and the
// parent must still get slots up to its share.
static void slot_hoard(void)
{
  envid_t h = fork();
  if (h == 0) {
    while (sys_slot_acquire(0) >= 0)
      ;
    for (;;)
      sys_yield(0);
  }
  while (uenvs[ENVX(h)].nslots < 2)
    sys_yield(0);
  for (int i = 0; i < 100; i++)
    sys_yield(0);
  printf("attackkern: slots: the hog holds %d slots, share %d\n", uenvs[ENVX(h)].nslots,
         (int)usys->slot_share);
  check(uenvs[ENVX(h)].nslots <= (int)usys->slot_share, "the hog holds %d slots, over its share %d",
        uenvs[ENVX(h)].nslots, (int)usys->slot_share);
  envid_t kids[200];
  int n = 0;
  for (; n < 200; n++) {
    kids[n] = sys_exofork();
    if (kids[n] == 0)
      for (;;)
        ;
    if (!check(kids[n] > 0, "exofork %d beside the hog: %s", n, errstr(kids[n])))
      break;
  }
  for (int i = 0; i < n; i++)
    sys_env_destroy(kids[i]), sys_env_destroy(kids[i]);
  int mine = 0;
  while (sys_slot_acquire(0) >= 0)
    mine++;
  check(thisenv->nslots >= (int)usys->slot_share - 1, "I got %d slots, share %d", thisenv->nslots,
        (int)usys->slot_share);
  check(uenvs[ENVX(h)].nslots <= (int)usys->slot_share, "hog over its share after mine");
  while (mine-- > 0)
    sys_slot_release(0);
  sys_env_destroy(h);
  int status;
  waitenv(h, &status);
  printf("attackkern: slots: %d exoforks beside the hog\n", n);
}

// A child reads its page tables through UVPD and UVPT on one hart while
// its parent, on another, maps pages into new 2 MiB regions of the child,
// each needing a new level-0 table.  The kernel used to link the table in
// (visible at UVPD) before mapping it at UVPT, so a read in between
// faulted and killed the child (seen once in a flake campaign, in
// attackref).  Needs several harts to show anything.
#define FRESH 0x40000000UL                 // 1 GiB up: regions nothing else uses
#define NFRESH 256
static void uvpt_race(void)
{
  volatile uint64 *shared = (volatile uint64 *)0x30000000UL;
  check(page_map((uint64)shared, PTE_R | PTE_W | PTE_SHARE) == 0, "map the shared page");
  shared[0] = 0;
  envid_t c = fork();
  if (c == 0) {
    for (uint64 k = 0; k < NFRESH; k++) {
      while (!(uvpt_pte(FRESH + k * (2UL << 20)) & PTE_V))
        ;                                  // (spin: the race is the point)
      shared[0] = k + 1;
    }
    exit(0);
  }
  check(c > 0, "fork");
  int64 ppn = sys_page_alloc(0);
  check(ppn > 0, "a page to lend");
  for (uint64 k = 0; k < NFRESH && ppn > 0; k++) {
    check(sys_pte_set(c, FRESH + k * (2UL << 20), PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_A)) == 0,
          "lend a page in region %lu", k);
    for (int i = 0; i < 1000 && shared[0] <= k; i++)
      sys_yield(c);                        // (at one hart the child must run to see it)
  }
  int status = -1;
  waitenv(c, &status);
  check(status == 0, "the child reading UVPT died (status %d) after %lu regions", status, shared[0]);
  if (ppn > 0)
    sys_page_free(ppn);
  page_unmap((uint64)shared);
}

int main(int argc, char **argv)
{
  const char *mode = argc > 1 ? argv[1] : "all";
  int all = !strcmp(mode, "all");
  if (all || !strcmp(mode, "sched"))
    sched_bomb();
  if (all || !strcmp(mode, "blkcap"))
    blkcap_escape();
  if (all || !strcmp(mode, "blkwait"))
    blkwait_sign();
  if (all || !strcmp(mode, "slots"))
    slot_hoard();
  if (all || !strcmp(mode, "uvpt"))
    uvpt_race();
  return check_report();
}
