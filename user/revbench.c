// revbench: the revocation rows of `make bench` and the VM benchmarks of
// the exokernel paper (Appel and Li's), in retired instructions with the
// kernel's idle jumps subtracted (as fsbench does).  Run as `init
// revbench` (init hands over the swap area).
//
//   dirty       read a page's dirty bit (a load from UVPT)
//   prot1       write-protect one page (pte_set)
//   prot100     write-protect 100 pages (one pte_batch)
//   unprot100   make 100 pages writable again (one pte_batch)
//   trap        a write to a protected page, to the user handler and back
//               (the handler makes the page writable)
//   appel1      prot1 + trap + unprot: each fault protects another page
//   appel2      protN + trap + unprot: protect 100, then fault on each
//   swap_out    per page: choose, write to the swap extent, unmap, free
//   swap_in     per page: fault, allocate, read back, map
//   revoke_roundtrip  16 pages under pressure: from the failed allocation
//               to the 16th page, while a hog answers the request
#include "lib.h"

#define AREA  0x20000000UL               // pages for the VM benchmarks
#define N     100

static uint64 now(void) { return rdinstret() - usys->idle_instret; }

static void report(const char *name, uint64 insn, uint64 n, const char *unit)
{
  printf("bench %s %lu insn/%s\n", name, (insn + n / 2) / n, unit);
}

static pte_t rw(uint64 va) { return uvpt_pte(va) | PTE_W | PTE_D; }
static pte_t ro(uint64 va) { return uvpt_pte(va) & ~(PTE_W | PTE_D); }

static volatile uint64 appel_next;       // appel1: the page the handler protects

static int unprotect(struct uframe *f)
{
  uint64 va = f->tval & ~(PGSIZE - 1);
  if (va < AREA || va >= AREA + (N + 1) * PGSIZE)
    return 0;
  if (appel_next)
    sys_pte_set(0, appel_next, ro(appel_next));
  sys_pte_set(0, va, rw(va));
  return 1;
}

static void vm_benchmarks(void)
{
  struct pte_op ops[N];
  for (int i = 0; i <= N; i++)
    page_map(AREA + i * PGSIZE, PTE_R | PTE_W);
  set_handler(CAUSE_STORE_PAGE, unprotect);
  uint64 t = now(), d = 0;
  for (int i = 0; i < 1000; i++)
    d += (uvpt_pte(AREA + (i % N) * PGSIZE) & PTE_D) != 0;
  report("dirty", now() - t, 1000, "query");
  t = now();
  for (int i = 0; i < N; i++)
    sys_pte_set(0, AREA + i * PGSIZE, ro(AREA + i * PGSIZE));
  report("prot1", now() - t, N, "page");
  for (int i = 0; i < N; i++)
    ops[i] = (struct pte_op){ AREA + i * PGSIZE, rw(AREA + i * PGSIZE) };
  t = now();
  sys_pte_batch(0, ops, N);
  report("unprot100", now() - t, 1, "100pages");
  for (int i = 0; i < N; i++)
    ops[i].pte = ro(AREA + i * PGSIZE);
  t = now();
  sys_pte_batch(0, ops, N);
  report("prot100", now() - t, 1, "100pages");
  t = now();                             // all 100 protected: fault on each
  for (int i = 0; i < N; i++)
    *(volatile char *)(AREA + i * PGSIZE) = 1;
  report("trap", now() - t, N, "fault");
  // appel1: one page protected at a time; each fault protects the next
  sys_pte_set(0, AREA, ro(AREA));
  t = now();
  for (int i = 0; i < N; i++) {
    appel_next = AREA + (i + 1) * PGSIZE;
    *(volatile char *)(AREA + i * PGSIZE) = 2;
  }
  appel_next = 0;
  report("appel1", now() - t, N, "fault");
  // appel2: protect 100 (one batch), then fault on each
  for (int i = 0; i < N; i++)
    ops[i].pte = ro(AREA + i * PGSIZE);
  t = now();
  sys_pte_batch(0, ops, N);
  for (int i = 0; i < N; i++)
    *(volatile char *)(AREA + i * PGSIZE) = 3;
  report("appel2", now() - t, N, "page");
  (void)d;
}

// ---- swap and revocation: a hog child pages on the swap extent ----

static int ctl[2], back[2];

static void hear(int fd, char *buf, int n)
{
  int i = 0;
  while (i < n - 1 && read(fd, buf + i, 1) == 1 && buf[i])
    i++;
  buf[i] = 0;
}

static void hog(void)
{
  char buf[64], *p;
  hear(ctl[0], buf, sizeof buf);
  uint64 start = strtol(buf, &p, 10);
  swap_attach(start, strtol(p, 0, 10));
  // swap_out / swap_in: 1,024 dirty heap pages out, then back.
  char *h = sbrk(1024 * PGSIZE);
  for (int i = 0; i < 1024; i++)
    h[i * PGSIZE] = i;
  uint64 t = now();
  int out = 0;
  for (int k = 0; k < 16; k++)
    out += swap_out(64);
  report("swap_out", now() - t, out, "page");
  t = now();
  for (int i = 0; i < 1024; i++)
    if (h[i * PGSIZE] != (char)i)
      printf("revbench: FAIL: page %d came back wrong\n", i);
  report("swap_in", now() - t, 1024, "page");
  // Then hold nearly all memory, answering requests, until told to stop.
  uint64 n = 0;
  char *big = sbrk(0);
  while (usys->nfree > 2) {
    sbrk(PGSIZE);
    big[n++ * PGSIZE] = 1;
  }
  write(back[1], "x", 1);
  hear(ctl[0], buf, sizeof buf);
  exit(0);
}

int main(int argc, char **argv)
{
  vm_benchmarks();
  if (!swap_count) {
    printf("revbench: no swap extent (run it as `init revbench`)\n");
    return 1;
  }
  pipe(ctl);
  pipe(back);
  envid_t h = fork();
  if (h == 0)
    hog();
  char buf[64];
  sys_blk_grant(h, swap_start, swap_count, BLK_R | BLK_W);
  snprintf(buf, sizeof buf, "%lu %lu", swap_start, swap_count);
  write(ctl[1], buf, strlen(buf) + 1);
  read(back[0], buf, 1);                 // the hog holds nearly everything
  uint64 t = now(), r0 = usys->revocations;
  for (int i = 0; i < 16; i++)
    if (page_map(0x30000000UL + i * PGSIZE, PTE_R | PTE_W) < 0)
      printf("revbench: FAIL: no page %d\n", i);
  uint64 insn = now() - t;
  report("revoke_roundtrip", insn, 1, "16pages");
  printf("revbench: %lu request(s) posted for those 16 pages\n", usys->revocations - r0);
  write(ctl[1], "stop", 5);
  waitenv(h, 0);
  return 0;
}
