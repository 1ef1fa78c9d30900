// An env without an upcall entry that faults is killed by the kernel, with
// a one-line message; nothing else is harmed.
#include "lib.h"

int main(int argc, char **argv)
{
  sys_env_set_upcall(0, 0, 0, 0, 0, 0);
  printf("faultnohandler: writing to address 0\n");
  *(volatile int *)0 = 1;
  printf("faultnohandler: FAIL: still alive\n");
  return 1;
}
