// Echo typed lines back until end of input (Ctrl-D on an empty line).
#include "lib.h"

int main(int argc, char **argv)
{
  char buf[256];
  int lines = 0, bytes = 0, n;
  printf("echoin: type lines, Ctrl-D to end\n");
  while ((n = read(0, buf, sizeof buf - 1)) > 0) {
    buf[n] = 0;
    printf("echoin: got [%s]\n", buf[n - 1] == '\n' ? (buf[n - 1] = 0, buf) : buf);
    lines++;
    bytes += n;
  }
  printf("echoin: %d lines, %d bytes, read returned %d\n", lines, bytes, n);
  return n < 0;
}
