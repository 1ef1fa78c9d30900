// Echo typed lines back until end of input (Ctrl-D on an empty line).
//
//   echoin            print a banner, then read
//   echoin -w N       print the banner on the kernel's debug console (so the
//                     console env has written nothing yet) and wait N ticks
//                     before the first read: what is typed meanwhile piles up
//                     in the console's input buffer, with no reader waiting
#include "lib.h"

int main(int argc, char **argv)
{
  char buf[256];
  int lines = 0, bytes = 0, n;
  const char *banner = "echoin: type lines, Ctrl-D to end\n";
  if (argc == 3 && strcmp(argv[1], "-w") == 0) {
    sys_cputs(banner, strlen(banner));
    sleep(atoi(argv[2]));
    printf("echoin: reading\n");
  } else {
    printf("%s", banner);
  }
  while ((n = read(0, buf, sizeof buf - 1)) > 0) {
    buf[n] = 0;
    printf("echoin: got [%s]\n", buf[n - 1] == '\n' ? (buf[n - 1] = 0, buf) : buf);
    lines++;
    bytes += n;
  }
  printf("echoin: %d lines, %d bytes, read returned %d\n", lines, bytes, n);
  return n < 0;
}
