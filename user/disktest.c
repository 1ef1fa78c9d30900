// Disk blocks exported by capability: data written comes back, every bad
// request is refused with its error, extents granted to a child bound what
// it may touch (and can be revoked), several envs keep requests in flight
// at once, and asynchronous requests are collected by tag.
#include "lib.h"

#define BUF  0x7800000UL                   // 8 pages for I/O
#define BUF2 0x7900000UL

static void fill(uint64 va, int n, int seed)
{
  for (int i = 0; i < n * (int)PGSIZE / 8; i++)
    ((uint64 *)va)[i] = (uint64)seed * 0x9E3779B97F4A7C15UL + i;
}

static int same(uint64 va, int n, int seed)
{
  for (int i = 0; i < n * (int)PGSIZE / 8; i++)
    if (((uint64 *)va)[i] != (uint64)seed * 0x9E3779B97F4A7C15UL + i)
      return 0;
  return 1;
}

// Write to each page: a child's pages are copy-on-write, and the kernel
// fills a disk read's pages directly, without taking write faults.
static void touch(uint64 va, int n)
{
  for (int i = 0; i < n; i++)
    *(volatile char *)(va + i * PGSIZE) = 0;
}

static volatile int disk_upcalls;
static volatile uint64 disk_mask;

static int on_disk_irq(struct uframe *f)
{
  disk_upcalls++;
  disk_mask = f->tval;
  return 1;
}

int main(int argc, char **argv)
{
  uint64 nblocks = usys->disk_blocks;
  check(nblocks >= 1024, "disk of %lu blocks", nblocks);
  for (int i = 0; i < 8; i++) {
    page_map(BUF + i * PGSIZE, PTE_R | PTE_W);
    page_map(BUF2 + i * PGSIZE, PTE_R | PTE_W);
  }
  fill(BUF, 8, 1);
  check(sys_blk_io(BLK_WRITE, 10, (void *)BUF, 8) == 0, "write 8 blocks");
  check(sys_blk_io(BLK_READ, 10, (void *)BUF2, 8) == 0, "read them back");
  check(same(BUF2, 8, 1), "blocks read back differ");
  check(sys_blk_io(BLK_WRITE, nblocks - 1, (void *)BUF, 1) == 0, "write the last block");

  expect_err(sys_blk_io(BLK_READ, nblocks, (void *)BUF, 1), E_BAD_BLOCK, "read past the end");
  expect_err(sys_blk_io(BLK_READ, nblocks - 1, (void *)BUF, 2), E_BAD_BLOCK, "read across the end");
  expect_err(sys_blk_io(BLK_READ, -1UL, (void *)BUF, 1), E_BAD_BLOCK, "read block 2^64-1");
  expect_err(sys_blk_io(BLK_READ, 0, (void *)BUF, 0), E_INVAL, "read 0 blocks");
  expect_err(sys_blk_io(BLK_READ, 0, (void *)BUF, BLK_MAXPAGES + 1), E_INVAL, "read too many blocks");
  expect_err(sys_blk_io(7, 0, (void *)BUF, 1), E_INVAL, "operation 7");
  expect_err(sys_blk_io(BLK_READ, 0, (void *)(BUF + 8), 1), E_BAD_VA, "unaligned buffer");
  expect_err(sys_blk_io(BLK_READ, 0, (void *)(KERNBASE + KERNLOAD), 1), E_BAD_VA, "buffer in the kernel");
  expect_err(sys_blk_io(BLK_READ, 0, (void *)0x7a00000UL, 1), E_FAULT, "unmapped buffer");
  expect_err(sys_blk_io(BLK_READ, 0, (void *)UTEXT, 1), E_FAULT, "read the disk over my text");
  expect_err(sys_blk_io(BLK_READ, 0, (void *)UENVS, 1), E_BAD_VA, "read the disk over UENVS");
  expect_err(sys_blk_io(BLK_READ, 0, (void *)(BUF + 7 * PGSIZE), 2), E_FAULT, "buffer running off its pages");

  // a child gets a read-only extent [100, 110); it says on a pipe when it
  // is ready to see it revoked
  int ready[2];
  pipe(ready);
  envid_t c = fork();
  if (c == 0) {
    touch(BUF, 8);
    while (sys_blk_io(BLK_READ, 100, (void *)BUF, 1) == -E_PERM)
      sys_yield(0);                         // until the parent's grant arrives
    expect_err(sys_blk_io(BLK_READ, 200, (void *)BUF, 1), E_PERM, "read outside my extent");
    check(sys_blk_io(BLK_READ, 100, (void *)BUF, 8) == 0, "read inside my extent");
    expect_err(sys_blk_io(BLK_READ, 105, (void *)BUF, 8), E_PERM, "read across my extent's end");
    expect_err(sys_blk_io(BLK_WRITE, 100, (void *)BUF, 1), E_PERM, "write a read-only extent");
    expect_err(sys_blk_grant(0, 100, 5, BLK_R), E_BAD_ENV, "grant myself");
    int seen[2];
    pipe(seen);
    envid_t g = fork();
    if (g == 0) {                           // reads until the revoke reaches it too
      touch(BUF, 1);
      while (sys_blk_io(BLK_READ, 102, (void *)BUF, 1) == -E_PERM)
        sys_yield(0);                       // (its grant arrives)
      write(seen[1], "g", 1);               // only now may the revoke come
      uint64 t0 = rdtime();
      int64 e;
      while ((e = sys_blk_io(BLK_READ, 102, (void *)BUF, 1)) == 0 && rdtime() - t0 < 50000000UL)
        sys_yield(0);
      exit(e == -E_PERM ? 0 : 1);
    }
    expect_err(sys_blk_grant(g, 100, 20, BLK_R), E_PERM, "grant more than I hold");
    expect_err(sys_blk_grant(g, 100, 5, BLK_R | BLK_W), E_PERM, "grant more rights than I hold");
    check(sys_blk_grant(g, 102, 3, BLK_R) >= 0, "grant a sub-extent");
    char gb;
    read(seen[0], &gb, 1);                  // the grandchild has used its grant
    touch(BUF, 1);                          // (copy-on-write again after the fork)
    write(ready[1], "r", 1);
    uint64 t0 = rdtime();
    while (rdtime() - t0 < 50000000UL && sys_blk_io(BLK_READ, 100, (void *)BUF, 1) == 0)
      sys_yield(0);                         // until the parent revokes (5 s at most)
    expect_err(sys_blk_io(BLK_READ, 100, (void *)BUF, 1), E_PERM, "read after the revoke");
    int gs = -1;
    waitenv(g, &gs);
    check(gs == 0, "the revoke did not reach the grandchild's sub-extent");
    exit(check_failures());
  }
  expect_err(sys_blk_grant(c, nblocks, 1, BLK_R), E_PERM, "grant past the end of the disk");
  expect_err(sys_blk_grant(c, 0, 0, BLK_R), E_INVAL, "grant nothing");
  expect_err(sys_blk_grant(c, 0, 1, 4), E_INVAL, "grant unknown rights");
  int idx = sys_blk_grant(c, 100, 10, BLK_R);
  check(idx >= 0, "grant: %s", errstr(idx));
  char byte;
  check(read(ready[0], &byte, 1) == 1, "the child's signal");
  expect_err(sys_blk_revoke(c, NBLKCAP), E_INVAL, "revoke index NBLKCAP");
  check(sys_blk_revoke(c, idx) == 0, "revoke");
  int status = -1;
  waitenv(c, &status);
  check(status == 0, "child's checks (%d)", status);

  // four envs with requests in flight together, each on its own blocks
  // (a new env holds no extent until its parent grants one)
  for (int k = 0; k < 4; k++) {
    envid_t w = fork();
    if (w == 0) {
      int bad = 0;
      touch(BUF2, 4);
      while (sys_blk_io(BLK_READ, 1000 + 8 * k, (void *)BUF2, 1) == -E_PERM)
        sys_yield(0);
      for (int r = 0; r < 20; r++) {
        fill(BUF, 4, 100 * k + r);
        if (sys_blk_io(BLK_WRITE, 1000 + 8 * k, (void *)BUF, 4) < 0 ||
            sys_blk_io(BLK_READ, 1000 + 8 * k, (void *)BUF2, 4) < 0 || !same(BUF2, 4, 100 * k + r))
          bad++;
      }
      exit(bad);
    }
    check(sys_blk_grant(w, 1000 + 8 * k, 8, BLK_R | BLK_W) >= 0, "grant to writer %d", k);
  }
  int bad = 0;
  while (wait(&status) >= 0)
    bad += status;
  check(bad == 0, "%d concurrent rounds went wrong", bad);

  // asynchronous requests: several in flight from one env, collected by tag
  uint64 tags = 0, failed = 0;
  for (int k = 0; k < 4; k++) {
    fill(BUF + 2 * k * PGSIZE, 2, 50 + k);
    int64 t = sys_blk_io(BLK_WRITE | BLK_ASYNC, 2000 + 2 * k, (void *)(BUF + 2 * k * PGSIZE), 2);
    check(t >= 0 && t < 64, "asynchronous write %d: %ld", k, t);
    tags |= 1UL << t;
  }
  uint64 got = 0;
  while (got != tags) {
    int64 d = sys_blk_wait(tags & ~got, &failed);
    if (!check(d > 0 && !(d & ~tags) && failed == 0, "blk_wait: %lx (failed %lx)", d, failed))
      break;
    got |= d;
  }
  expect_err(sys_blk_wait(0, 0), E_INVAL, "wait with nothing outstanding");
  memset((void *)BUF2, 0, 8 * PGSIZE);
  int64 t = sys_blk_io(BLK_READ | BLK_ASYNC, 2000, (void *)BUF2, 8);
  check(t >= 0 && sys_blk_wait(1UL << t, &failed) == (int64)(1UL << t), "asynchronous read");
  for (int k = 0; k < 4; k++)
    check(same(BUF2 + 2 * k * PGSIZE, 2, 50 + k), "asynchronous data %d", k);

  // completion by upcall: claim IRQ_DISK with IRQ_UPCALL, start a read,
  // keep computing; the upcall says the request is done, blk_wait collects
  check(sys_irq_claim(IRQ_DISK, IRQ_UPCALL) == 0, "claim IRQ_DISK");
  set_handler(CAUSE_IRQ, on_disk_irq);
  memset((void *)BUF2, 0, 8 * PGSIZE);
  disk_upcalls = 0;
  t = sys_blk_io(BLK_READ | BLK_ASYNC, 2000, (void *)BUF2, 8);
  uint64 spins = 0, t0 = rdtime();
  while (!disk_upcalls && rdtime() - t0 < 100000000UL)   // 10 s: no system call in here
    spins++;
  check(disk_upcalls >= 1 && (disk_mask & (1U << IRQ_DISK)), "no completion upcall (%d, mask %lx)",
        disk_upcalls, disk_mask);
  check(t >= 0 && sys_blk_wait(1UL << t, &failed) == (int64)(1UL << t) && failed == 0,
        "collect the request the upcall announced");
  check(same(BUF2, 2, 50), "data read with completion by upcall");
  // completion by PCT: a request finishing while I wait in pct_recv wakes me
  // with a message from the kernel (sender 0)
  sys_irq_claim(IRQ_DISK, 0);
  t = sys_blk_io(BLK_READ | BLK_ASYNC, 2000, (void *)BUF2, 8);
  struct pct_msg m;
  int64 from = sys_pct_recv(0, &m);
  check(from == 0 && (m.w[0] & (1U << IRQ_DISK)), "completion by PCT: from %ld mask %lx", from, m.w[0]);
  check(sys_blk_wait(1UL << t, &failed) == (int64)(1UL << t), "collect after the PCT");

  // a page the disk is writing cannot be made copy-on-write meanwhile
  t = sys_blk_io(BLK_READ | BLK_ASYNC, 2000, (void *)BUF2, 8);
  pte_t pte = uvpt_pte(BUF2);
  int64 down = sys_pte_set(0, BUF2, (pte & ~PTE_W) | PTE_COW);
  check(down == -E_BUSY || (down == 0 && upages[PTE_PPN(pte) - PPN_BASE].pins == 0),
        "downgrading a page under DMA: %ld", down);
  sys_blk_wait(1UL << t, 0);
  if (down == 0)
    sys_pte_set(0, BUF2, pte);

  // envs destroyed in the middle of their I/O: their pages stay pinned
  // until the device is done, then go back; nothing is lost
  uint64 free0 = usys->nfree;
  for (int round = 0; round < 20; round++) {
    envid_t v = fork();
    if (v == 0) {
      touch(BUF, 8);
      for (;;)
        sys_blk_io(BLK_READ, 0, (void *)BUF, 8);
    }
    sys_blk_grant(v, 0, 8, BLK_R);
    for (int i = 0; i < round % 5; i++)
      sys_yield(0);
    sys_env_destroy(v);
    waitenv(v, 0);
  }
  // A destroyed env's last requests may still be in the device (its pages
  // pinned until then): wait for them, by time, not by a count of yields
  // (a loaded host can take a while to complete them).
  for (uint64 t0 = rdtime(); usys->nfree != free0 && rdtime() - t0 < 5 * usys->timebase;)
    sys_yield(0);
  check(usys->nfree == free0, "destroying envs during I/O lost %ld pages", (long)(free0 - usys->nfree));
  return check_report();
}
