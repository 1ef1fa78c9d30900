// Time for programs: xv6's ticks (a tenth of a second) read from the time
// CSR, which runs at the timebase frequency in the public system record.
#include "lib.h"

#define TICKS_PER_SEC 10

// Ticks since boot.
int uptime(void)
{
  return rdtime() / (usys->timebase / TICKS_PER_SEC);
}

// Sleep for a millisecond: for the few waits that must poll (a console
// with no interrupts yet), so that they do not spin.
void nap(void)
{
  static volatile uint64 never;
  sys_mwait(&never, 0, rdtime() + usys->timebase / 1000);
}

// Sleep in the kernel until n ticks have passed: a wait on a word nobody
// wakes, with a deadline (an upcall may end a wait early: wait again).
int sleep(int n)
{
  static volatile uint64 never;
  uint64 until = rdtime() + (uint64)(n < 0 ? 0 : n) * (usys->timebase / TICKS_PER_SEC);
  while (rdtime() < until)
    sys_mwait(&never, 0, until);
  return 0;
}
