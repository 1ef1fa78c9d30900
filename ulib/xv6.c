// The parts of xv6's user API that ulib has under no other name (the rest
// of user/user.h maps straight onto ulib; see ulib/xv6/).
#include "lib.h"
#include "fs.h"
#include "xv6/kernel/param.h"

// The values xv6 programs are told (ulib/xv6/kernel/param.h) are this
// system's own.
_Static_assert(NPROC == NENV && NOFILE == NFD && NFILE == NOPEN && NINODE == NOPEN, "param.h");
_Static_assert(MAXOPBLOCKS == LOGSIZE && LOGBLOCKS == LOGSIZE && USERSTACK == USTACKPAGES, "param.h");

int getpid(void) { return sys_getenvid(); }

// Newer xv6 names sleep pause, and has an eager sbrk beside a lazy one
// (sbrklazy) on one system call, sys_sbrk(n, lazy).  Here every sbrk is
// lazy: pages appear on first touch.
int pause(int n) { return sleep(n); }
char *sbrklazy(int n) { return sbrk(n); }
char *sys_sbrk(int n, int lazy) { (void)lazy; return sbrk(n); }

// Read a line from fd 0 into buf (at most max-1 bytes, newline kept).
char *gets(char *buf, int max)
{
  int i = 0;
  while (i + 1 < max) {
    char c;
    if (read(0, &c, 1) < 1)
      break;
    buf[i++] = c;
    if (c == '\n' || c == '\r')
      break;
  }
  buf[i] = '\0';
  return buf;
}
