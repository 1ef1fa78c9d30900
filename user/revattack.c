// revattack: ways an env might hold memory the revocation mechanism
// cannot get back (found in review; kept as regression tests).  `revattack
// free|shield|xstack|orphan|children|fork`.  The main env forks a hog that
// fills memory (no swap, ignoring requests), plays its trick, then the
// main env must still get 1024 pages:
//   free      the hog "frees" pages it still maps (they stay charged to it)
//   shield    a stopped child maps all the hog's pages too (shared pages
//             are unmapped everywhere by the abort protocol)
//   xstack    the hog declares its whole address space its exception stack
//             (refused: at most MAXXSTACK)
//   orphan    the hog forks and exits (its pages go to the child mapping them)
//   children  the hog parks pages in 200 stopped children (charged to it)
//   fork      a plain copy-on-write fork shares everything
//   noentry   the hog removes its handler but names its whole address
//             space as its exception stack (a range that used to go
//             unchecked with entry 0, and was spared by the abort protocol)
#include "lib.h"

#define SCRATCH 0x30000000UL
static int ctl[2], st[2];
static const char *mode;
extern void upcall_entry(void);
extern char upcall_restore_start[], upcall_restore_end[];
static int ignore(struct uframe *f) { return 1; }

static void hog(void)
{
  char buf[64];
  set_handler(CAUSE_REVOKE, ignore);
  if (!strcmp(mode, "xstack") || !strcmp(mode, "ptables"))
    expect_err(sys_env_set_upcall(0, upcall_entry, 16, UXSTACKTOP, (uint64)upcall_restore_start,
                                  (uint64)upcall_restore_end), E_BAD_VA, "an exception stack of nearly 1 GiB");
  if (!strcmp(mode, "children")) {     // my memory charged to 200 children that never run
    envid_t kids[200];
    int nk = 0;
    for (; nk < 200; nk++)
      if ((kids[nk] = sys_exofork()) <= 0)
        break;
    printf("hog: %d kids\n", nk);
    uint64 va = 0x20000000UL, n = 0;
    for (int k = 0; k < nk && usys->nfree > 300; k++)
      for (int j = 0; j < 71 && usys->nfree > 300; j++, n++, va += PGSIZE) {
        int64 ppn = sys_page_alloc(kids[k]);
        if (ppn < 0) break;
        check(sys_pte_set(0, va, PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D)) == 0, "map");
        *(volatile char *)va = 1;
      }
    snprintf(buf, sizeof buf, "%lu %d (%d kids)", n, thisenv->npages, nk);
    write(st[1], buf, strlen(buf) + 1);
    read(ctl[0], buf, 1);
    printf("revattack: hog: npages %d, repossessed %d\n", thisenv->npages, thisenv->repossessed);
    exit(0);
  }
  if (!strcmp(mode, "ptables")) {      // memory held as page-table pages
    int64 ppn = sys_page_alloc(0);
    uint64 n = 0;
    for (uint64 va = 0x100000000UL; usys->nfree > 300; va += 1UL << 21, n++)
      if (sys_pte_set(0, va, PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_A)) < 0)
        break;
    snprintf(buf, sizeof buf, "%lu %d", n, thisenv->npages);
    write(st[1], buf, strlen(buf) + 1);
    read(ctl[0], buf, 1);
    printf("revattack: hog: npages %d, repossessed %d\n", thisenv->npages, thisenv->repossessed);
    exit(0);
  }
  uint64 max = mem_avail() < 20000 ? mem_avail() - 64 : 20000;   // (sbrk checks)
  volatile char *d = sbrk(max * PGSIZE);
  uint64 n = 0;
  for (; n < max && usys->nfree > 300; n++)
    d[n * PGSIZE] = 1;
  if (!strcmp(mode, "free"))
    for (uint64 k = 0; k < n; k++)
      sys_page_free(PTE_PPN(uvpt_pte((uint64)d + k * PGSIZE)));
  if (!strcmp(mode, "shield")) {       // a child that never runs maps all my pages too
    envid_t c = sys_exofork();
    if (c == 0)
      for (;;)
        ;
    for (uint64 va = 0; va < UXSTACKTOP - UXSTACKSIZE; va += PGSIZE) {
      if (!(((volatile pte_t *)UVPD)[va >> 21] & PTE_V)) {
        va += (1UL << 21) - PGSIZE;
        continue;
      }
      pte_t pte = uvpt_pte(va);
      if ((pte & PTE_V) && PTE_PPN(pte) - PPN_BASE < usys->npages)
        { int r = sys_pte_set_from(c, va, pte & ~(PTE_RSW0 | PTE_RSW1), va); if (r) printf("share %p: %d\n", (void *)va, r); }
    }
  }
  if (!strcmp(mode, "fork") || !strcmp(mode, "orphan")) {
    envid_t c = fork();
    if (c == 0) {                       // the child just sits there
      for (;;)
        sys_pct_recv(0, &(struct pct_msg){0});
    }
    // The trick needs copy-on-write fork (lab cow): a fork that copies
    // shares nothing to shield.
    pte_t first = uvpt_pte((uint64)d);
    printf("revattack: fork %s my pages\n",
           (first & PTE_V) && upages[PTE_PPN(first) - PPN_BASE].refs >= 2 ? "shares" : "copied");
    if (!strcmp(mode, "orphan")) {
      snprintf(buf, sizeof buf, "%lu %d", n, c);
      write(st[1], buf, strlen(buf) + 1);
      exit(0);                          // the child keeps my pages, charged to nobody
    }
  }
  snprintf(buf, sizeof buf, "%lu %d", n, thisenv->npages);
  if (!strcmp(mode, "noentry") && sys_env_set_upcall(0, 0, 0, UTOP, 0, 0) < 0)
    sys_env_set_upcall(0, 0, UXSTACKTOP - MAXXSTACK, UXSTACKTOP, 0, 0);
  write(st[1], buf, strlen(buf) + 1);
  read(ctl[0], buf, 1);
  uint64 bad = 0;
  for (uint64 k = 0; k < n; k++)
    bad += d[k * PGSIZE] != 1;
  printf("revattack: hog: %lu bad, npages %d, repossessed %d\n", bad, thisenv->npages,
         thisenv->repossessed);
  exit(0);
}

int main(int argc, char **argv)
{
  mode = argc > 1 ? argv[1] : "free";
  pipe(ctl);
  pipe(st);
  envid_t h = fork();
  if (h == 0)
    hog();
  char buf[64];
  int i = 0;
  while (i < 63 && read(st[0], buf + i, 1) == 1 && buf[i])
    i++;
  buf[i] = 0;
  printf("revattack: %s: hog holds %s (pages, npages/child); free %lu, share %lu\n", mode, buf,
         usys->nfree, usys->share);
  for (int k = 0; k < 8; k++)
    if (uenvs[k].status == ENV_RUNNABLE || uenvs[k].status == ENV_NOT_RUNNABLE)
      printf("  env %08x npages %d want %d repossessed %d\n", uenvs[k].id, uenvs[k].npages,
             uenvs[k].revoke_want, uenvs[k].repossessed);
  uint64 t0 = rdtime();
  int got = 0;
  for (; got < 1024; got++) {
    int r = page_map(SCRATCH + got * PGSIZE, PTE_R | PTE_W);
    if (r < 0) {
      printf("revattack: FAIL: small program: page %d: %s after %lu ms\n", got, errstr(r),
             (rdtime() - t0) / (usys->timebase / 1000));
      break;
    }
  }
  printf("revattack: small got %d pages; requests %lu repossessions %lu\n", got,
         usys->revocations, usys->repossessions);
  write(ctl[1], "x", 1);
  int status;
  waitenv(h, &status);
  return 0;
}
