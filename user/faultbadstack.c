// An exception stack the kernel cannot write (unmapped, or read-only) kills
// the env with a message naming the cause.
#include "lib.h"

extern void upcall_entry(void);

int main(int argc, char **argv)
{
  uint64 lo = 0x20000000;                     // never mapped
  if (argc > 1 && strcmp(argv[1], "ro") == 0)
    lo = UTEXT;                                // mapped, but read-only text
  sys_env_set_upcall(0, upcall_entry, lo, lo + PGSIZE);
  printf("faultbadstack: faulting with the exception stack at %p\n", (void *)lo);
  *(volatile int *)0 = 1;
  printf("faultbadstack: FAIL: still alive\n");
  return 1;
}
