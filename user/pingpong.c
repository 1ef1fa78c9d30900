// The xv6 util lab's pingpong: a byte goes to the child through one pipe
// and comes back through another.
#include "lib.h"

int main(int argc, char **argv)
{
  int p2c[2], c2p[2];
  char b = 'x';
  if (pipe(p2c) < 0 || pipe(c2p) < 0)
    panic("pipe");
  envid_t c = fork();
  if (c == 0) {
    if (read(p2c[0], &b, 1) != 1)
      panic("child read");
    printf("%08x: received ping\n", sys_getenvid());
    write(c2p[1], &b, 1);
    exit(0);
  }
  write(p2c[1], &b, 1);
  if (read(c2p[0], &b, 1) != 1)
    panic("parent read");
  printf("%08x: received pong\n", sys_getenvid());
  waitenv(c, 0);
  return 0;
}
