// An exception stack the kernel cannot write (unmapped, or read-only) kills
// the env with a message naming the cause; so does one that overflows
// ("faultbadstack deep": handlers that take breakpoints for ever).  "faultbadstack unmap" first
// takes a handled fault (so the kernel caches where frames go), then unmaps
// the exception stack: the kernel must notice, not write to the old page.
//
// Each case runs in a child, and this program exits with the child's
// status.  The kernel goes on after killing a child (it powers off when
// the first env dies), so the grader sees whatever it does after the
// kill: it must print exactly one kill line, and not panic.
#include "lib.h"

extern void upcall_entry(void);

static int skip(struct uframe *f)
{
  f->tf.pc += 2;                              // c.ebreak
  return 1;
}

// Breakpoints inside breakpoint handlers, with no end: the exception
// stack (all of it mapped) overflows.
static int forever(struct uframe *f)
{
  asm volatile(".4byte 0x00100073");
  f->tf.pc += 4;
  return 1;
}

static int run(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "deep") == 0) {
    upcall_stack_grow();
    set_handler(CAUSE_BREAKPOINT, forever);
    asm volatile(".4byte 0x00100073");
    printf("faultbadstack: FAIL: still alive\n");
    return 1;
  }
  if (argc > 1 && strcmp(argv[1], "unmap") == 0) {
    set_handler(CAUSE_BREAKPOINT, skip);
    asm volatile("c.ebreak");
    asm volatile("c.ebreak");
    pte_t pte = uvpt_pte(UXSTACKTOP - PGSIZE);
    page_unmap(UXSTACKTOP - PGSIZE);
    printf("faultbadstack: exception stack page %lx unmapped (refs now %d)\n", PTE_PPN(pte),
           upages[PTE_PPN(pte) - PPN_BASE].refs);
    asm volatile("c.ebreak");
    printf("faultbadstack: FAIL: still alive\n");
    return 1;
  }
  uint64 lo = 0x20000000;                     // never mapped
  if (argc > 1 && strcmp(argv[1], "ro") == 0)
    lo = UTEXT;                                // mapped, but read-only text
  sys_env_set_upcall(0, upcall_entry, lo, lo + PGSIZE, 0, 0);
  printf("faultbadstack: faulting with the exception stack at %p\n", (void *)lo);
  *(volatile int *)0 = 1;
  printf("faultbadstack: FAIL: still alive\n");
  return 1;
}

int main(int argc, char **argv)
{
  envid_t c = fork();
  if (c == 0)
    exit(run(argc, argv));
  int status = 0;
  if (c < 0 || waitenv(c, &status) != c) {
    printf("faultbadstack: FAIL: fork or wait (%d)\n", c);
    return 1;
  }
  printf("faultbadstack: the child ended with status %d\n", status);
  return status;
}
