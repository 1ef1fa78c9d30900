// primes: the prime sieve as a chain of envs.  Each stage prints the first
// number it receives, p, and passes on the numbers p does not divide to the
// next stage, which it forks when it first has one to pass.  Numbers travel
// by PCT calls (one call per number; the reply says "taken"); 0 ends the
// stream.  `primes N` sieves 2..N (default 35).
#include "lib.h"

// BEGIN LAB util: primes: the helpers and stages of the sieve (any structure you like)
// Hand n to env to (waiting in pct_recv, or soon to be).
static void give(envid_t to, uint64 n)
{
  struct pct_msg r;
  int64 e;
  while ((e = sys_pct_call(to, n, 0, 0, 0, 0, &r)) == -E_NOT_WAITING)
    sys_yield(to);
  if (e < 0)
    panic("pct_call: %s", errstr(e));
}

static envid_t stage(void);

// One stage: the first number is my prime; then filter until 0.
static void sieve(void)
{
  struct pct_msg m;
  int64 from = sys_pct_recv(0, &m);
  uint64 p = m.w[0];
  envid_t next = 0;
  if (p)
    printf("prime %d\n", (int)p);
  for (;;) {
    uint64 n = m.w[0];
    if (from > 0)
      sys_pct_reply(from, 0, 0, 0, 0);    // taken: the sender goes on
    if (n == 0)
      break;
    if (n % p != 0) {
      if (!next)
        next = stage();
      give(next, n);
    }
    from = sys_pct_recv(0, &m);
  }
  if (next) {
    give(next, 0);
    waitenv(next, 0);
  }
  exit(0);
}

static envid_t stage(void)
{
  envid_t c = fork();
  if (c < 0)
    panic("fork: %s", errstr(c));
  if (c == 0)
    sieve();
  return c;
}
// END LAB util: // (your helper functions go here)

int main(int argc, char **argv)
{
  // BEGIN LAB util: primes: start the first stage, feed it 2..N, then 0; wait for the chain
  int limit = argc > 1 ? atoi(argv[1]) : 35;
  envid_t first = stage();
  for (int i = 2; i <= limit; i++)
    give(first, i);
  give(first, 0);
  waitenv(first, 0);
  printf("primes: done\n");
  return 0;
  // END LAB util: return lab_todo("util", "primes"), (void)argc, (void)argv, 1;
}
