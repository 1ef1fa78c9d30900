// The parts of xv6's user API that ulib has under no other name (the rest
// of user/user.h maps straight onto ulib; see ulib/xv6/).
#include "lib.h"

int getpid(void) { return sys_getenvid(); }

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
