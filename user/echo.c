// echo: print the arguments, separated by spaces, and a newline.
#include "lib.h"

int main(int argc, char **argv)
{
  char buf[1024];
  int n = 0;
  for (int i = 1; i < argc; i++) {
    int len = strlen(argv[i]);
    if (n + len + 2 > (int)sizeof buf) {
      write(1, buf, n);
      n = 0;
    }
    memcpy(buf + n, argv[i], len);
    n += len;
    buf[n++] = i + 1 < argc ? ' ' : '\n';
  }
  if (argc < 2)
    buf[n++] = '\n';
  return write(1, buf, n) == n ? 0 : 1;
}
