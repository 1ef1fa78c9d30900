// Time for programs: xv6's ticks (a tenth of a second) read from the time
// CSR, which runs at the timebase frequency in the public system record.
#include "lib.h"

#define TICKS_PER_SEC 10

// Ticks since boot.
int uptime(void)
{
  return rdtime() / (usys->timebase / TICKS_PER_SEC);
}

// Give the CPU away until n ticks have passed.
int sleep(int n)
{
  uint64 until = rdtime() + (uint64)(n < 0 ? 0 : n) * (usys->timebase / TICKS_PER_SEC);
  while (rdtime() < until)
    sys_yield(0);
  return 0;
}
