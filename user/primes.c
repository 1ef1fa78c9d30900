// The xv6 util lab's prime sieve: a chain of envs connected by pipes, each
// printing the first number it gets and passing on the ones it does not
// divide.
#include "lib.h"

static void sieve(int in) __attribute__((noreturn));

static void sieve(int in)
{
  int p, n;
  if (read(in, &p, sizeof p) != sizeof p)
    exit(0);
  printf("prime %d\n", p);
  int fds[2];
  if (pipe(fds) < 0)
    panic("pipe");
  envid_t c = fork();
  if (c == 0) {
    close(fds[1]);
    close(in);
    sieve(fds[0]);
  }
  close(fds[0]);
  while (read(in, &n, sizeof n) == sizeof n)
    if (n % p != 0)
      write(fds[1], &n, sizeof n);
  close(fds[1]);
  close(in);
  waitenv(c, 0);
  exit(0);
}

int main(int argc, char **argv)
{
  int limit = argc > 1 ? atoi(argv[1]) : 35;
  int fds[2];
  if (pipe(fds) < 0)
    panic("pipe");
  envid_t c = fork();
  if (c == 0) {
    close(fds[1]);
    sieve(fds[0]);
  }
  close(fds[0]);
  for (int i = 2; i <= limit; i++)
    write(fds[1], &i, sizeof i);
  close(fds[1]);
  waitenv(c, 0);
  printf("primes: done\n");
  return 0;
}
