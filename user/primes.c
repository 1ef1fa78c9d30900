// The xv6 util lab's prime sieve: a chain of envs connected by pipes, each
// printing the first number it gets and passing on the ones it does not
// divide.
#include "lib.h"

static void sieve(int in) __attribute__((noreturn));

// Fork the next stage of the chain, reading from a new pipe; returns the
// pipe's write end (and closes what the stage alone should hold).
static int next_stage(envid_t *child, int also_close)
{
  int fds[2];
  if (pipe(fds) < 0)
    panic("pipe");
  *child = fork();
  if (*child == 0) {
    close(fds[1]);
    if (also_close >= 0)
      close(also_close);
    sieve(fds[0]);
  }
  close(fds[0]);
  return fds[1];
}

static void sieve(int in)
{
  int p, n;
  envid_t c;
  if (read(in, &p, sizeof p) != sizeof p)
    exit(0);
  printf("prime %d\n", p);
  int out = next_stage(&c, in);
  while (read(in, &n, sizeof n) == sizeof n)
    if (n % p != 0)
      write(out, &n, sizeof n);
  close(out);
  close(in);
  waitenv(c, 0);
  exit(0);
}

int main(int argc, char **argv)
{
  int limit = argc > 1 ? atoi(argv[1]) : 35;
  envid_t c;
  int out = next_stage(&c, -1);
  for (int i = 2; i <= limit; i++)
    write(out, &i, sizeof i);
  close(out);
  waitenv(c, 0);
  printf("primes: done\n");
  return 0;
}
