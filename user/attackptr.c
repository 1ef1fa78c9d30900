// Attacks with system-call pointer arguments: pointers into the kernel, to
// unmapped memory, to read-only memory where the kernel would write, and
// ranges that wrap around.  Each must get -E_FAULT and change nothing.
#include "lib.h"

#define KADDR  (KERNBASE + KERNLOAD)
#define HOLE   0x5000000UL                 // never mapped
#define FAR    (77UL << 30)                // nor anything in its gigabyte

static char edge[2 * PGSIZE] __attribute__((aligned(PGSIZE)));

int main(int argc, char **argv)
{
  struct census_mark start;
  census_mark(&start);                 // every page must come back (ulib/census.c)
  // a refused pointer changes nothing, not even page tables for the
  // gigabyte it points into (they would be charged to me)
  int32 held = thisenv->npages;
  expect_err(sys_cputs((char *)FAR, 16), E_FAULT, "cputs from a gigabyte I do not map");
  expect_err(sys_getbootarg((char *)FAR, 64), E_FAULT, "getbootarg into a gigabyte I do not map");
  expect_err(sys_cputs((char *)MAXUVA, 16), E_FAULT, "cputs from MAXUVA");
  check(thisenv->npages == held, "refused pointers cost page tables (%d pages, were %d)", thisenv->npages,
        held);
  expect_err(sys_cputs((char *)KADDR, 16), E_FAULT, "cputs from the kernel");
  expect_err(sys_cputs((char *)HOLE, 16), E_FAULT, "cputs from unmapped memory");
  expect_err(sys_cputs((char *)-16L, 32), E_FAULT, "cputs wrapping around the top");
  expect_err(sys_cputs((char *)(KERNBASE + UART0), 1), E_FAULT, "cputs from the UART");
  // a buffer whose second page is unmapped: the kernel must stop at the edge
  memset(edge, ' ', PGSIZE);
  edge[PGSIZE - 1] = '\n';
  page_unmap((uint64)edge + PGSIZE);
  expect_err(sys_cputs(edge + PGSIZE - 16, 32), E_FAULT, "cputs across into an unmapped page");

  char buf[64];
  expect_err(sys_getbootarg((char *)KADDR, 64), E_FAULT, "getbootarg into the kernel");
  expect_err(sys_getbootarg((char *)HOLE, 64), E_FAULT, "getbootarg into unmapped memory");
  expect_err(sys_getbootarg((char *)UTEXT, 64), E_FAULT, "getbootarg into my read-only text");
  expect_err(sys_getbootarg((char *)UENVS, 64), E_FAULT, "getbootarg into the public env table");
  expect_err(sys_getbootarg((char *)UVPT, 64), E_FAULT, "getbootarg into my page tables");
  expect_err(sys_getbootarg((char *)-8L, 64), E_FAULT, "getbootarg wrapping around");
  int64 n = sys_getbootarg(buf, sizeof buf);     // ("attackptr", and the grader's token)
  check(n > 0 && n < (int64)sizeof buf && n == (int64)strlen(buf) && strncmp(buf, "attackptr", 9) == 0,
        "getbootarg into a good buffer");

  expect_err(sys_pte_batch(0, (struct pte_op *)KADDR, 1), E_FAULT, "pte_batch from the kernel");
  expect_err(sys_pte_batch(0, (struct pte_op *)HOLE, 1), E_FAULT, "pte_batch from unmapped memory");
  expect_err(sys_pte_batch(0, (struct pte_op *)-8L, 2), E_FAULT, "pte_batch wrapping around");

  envid_t c = sys_exofork();
  if (c == 0)
    for (;;)
      ;                                  // not runnable: never gets here
  check(c > 0, "exofork");
  expect_err(sys_env_set_regs(c, (struct trapframe *)KADDR), E_FAULT, "set_regs from the kernel");
  expect_err(sys_env_set_regs(c, (struct trapframe *)HOLE), E_FAULT, "set_regs from unmapped memory");
  expect_err(sys_env_set_regs(c, (struct trapframe *)(edge + PGSIZE - 8)), E_FAULT,
             "set_regs across into an unmapped page");
  sys_env_destroy(c);
  sys_env_destroy(c);

  // an exception stack in the kernel or in read-only memory: the frame
  // cannot be pushed there, so a child with it is killed, not the kernel
  extern void upcall_entry(void);
  uint64 stacks[] = { KADDR, UENVS, UTEXT };
  for (int i = 0; i < 3; i++) {
    envid_t k = fork();
    if (k == 0) {
      if (sys_env_set_upcall(0, upcall_entry, stacks[i], stacks[i] + PGSIZE, 0, 0) < 0)
        exit(7);                         // refused outright: fine
      *(volatile int *)0 = 0;            // accepted: the kernel must kill us here
      exit(0);
    }
    int status = 0;
    waitenv(k, &status);
    if (status != -1 && status != 7)
      expect_err(0, E_FAULT, "a fault with the exception stack in the kernel or read-only memory");
  }
  // the kernel is intact: fork still works
  envid_t k = fork();
  if (k == 0)
    exit(42);
  int status = 0;
  check(waitenv(k, &status) == k && status == 42, "fork after the attacks");
  census_check(&start);
  return check_report();
}
