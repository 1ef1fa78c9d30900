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
// (sbrklazy) on one system call, sys_sbrk(n, lazy).  xv6's sbrk is eager
// here too (user.h names it xv6_sbrk): every new page is there when it
// returns, or it returns -1 and the break has not moved, so a program
// learns of a shortage from sbrk, as xv6's do.  ulib's own sbrk, which
// sbrklazy is, checks and leaves the pages to the first touch.
int pause(int n) { return sleep(n); }
char *sbrklazy(int n) { return sbrk(n); }

char *xv6_sbrk(int n)
{
  char *old = sbrk(n);
  if (old == (char *)-1 || n <= 0)
    return old;
  uint64 lo = ((uint64)old + PGSIZE - 1) & ~(PGSIZE - 1), hi = (uint64)old + n;
  for (uint64 va = lo; va < hi; va += PGSIZE)
    if (!(uvpt_pte(va) & PTE_V) && page_map(va, PTE_R | PTE_W) < 0) {
      sbrk(-n);                              // (unmaps what came)
      return (char *)-1;
    }
  return old;
}

char *sys_sbrk(int n, int lazy) { return lazy ? sbrk(n) : xv6_sbrk(n); }

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
