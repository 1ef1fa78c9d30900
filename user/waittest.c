// waittest: the kernel's blocking mechanism (SYS_mwait, SYS_mwake): its
// checks, deadlines, wakes across envs that share a page, wake counts,
// waiters killed while asleep, the page-count check, and sleep().
#include "lib.h"

#define SHARED 0x30000000UL
#define MS(n) ((uint64)(n) * (usys->timebase / 1000))

static volatile uint64 *word = (volatile uint64 *)SHARED;      // [0]: the word; [1]: a count

static void arguments(void)
{
  static volatile uint64 w = 5;
  expect_err(sys_mwait(&w, 4, 0), E_AGAIN, "mwait on a word that differs");
  expect_err(sys_mwait(&w, 5, 1), E_TIMEOUT, "mwait with a deadline that has passed");
  expect_err(sys_mwait((volatile uint64 *)((uint64)&w + 4), 5, 0), E_INVAL, "mwait misaligned");
  expect_err(sys_mwait((volatile uint64 *)0x7000000000UL, 0, 0), E_FAULT, "mwait above MAXUVA");
  expect_err(sys_mwait((volatile uint64 *)0x20000000UL, 0, 0), E_FAULT, "mwait unmapped");
  expect_err(sys_mwait((volatile uint64 *)0xFFFFFFC080200000UL, 0, 0), E_FAULT, "mwait in the kernel");
  expect_err(sys_mwake((volatile uint64 *)0x20000000UL, 1), E_FAULT, "mwake unmapped");
  expect_err(sys_mwake((volatile uint64 *)((uint64)&w + 1), 1), E_INVAL, "mwake misaligned");
  check(sys_mwake(&w, 0) == 0, "mwake with nobody waiting");
  uint64 t0 = rdtime();
  int r = sys_mwait(&w, 5, t0 + MS(50));
  uint64 dt = rdtime() - t0;
  check(r == -E_TIMEOUT && dt >= MS(50), "a 50 ms deadline: %d after %lu ms", r, dt / MS(1));
  t0 = rdtime();
  sleep(3);
  dt = rdtime() - t0;
  check(dt >= MS(300) && dt < MS(3000), "sleep(3) took %lu ms", dt / MS(1));
}

// n children wait on the word; the parent wakes them a few at a time.
static void wakes(int n)
{
  word[0] = 0;
  word[1] = 0;
  envid_t kids[16];
  for (int i = 0; i < n; i++)
    if ((kids[i] = fork()) == 0) {
      __atomic_fetch_add(&word[1], 1, __ATOMIC_SEQ_CST);
      while (word[0] == 0)
        sys_mwait(&word[0], 0, 0);
      exit(0);
    }
  while (word[1] < (uint64)n)
    sys_yield(0);
  for (int i = 0; i < 50; i++)                 // let them reach the kernel
    sys_yield(0);
  word[0] = 1;
  int woken = 0, calls = 0;
  for (; calls < 1000 && woken < n; calls++) {
    int r = sys_mwake(&word[0], 3);
    check(r >= 0 && r <= 3, "mwake(3) woke %d", r);
    woken += r > 0 ? r : 0;
    if (r == 0)
      sys_yield(0);
  }
  for (int i = 0; i < n; i++) {
    int status = -1;
    check(waitenv(kids[i], &status) == kids[i] && status == 0, "child %d", i);
  }
  printf("waittest: %d waiters, %d woken by mwake\n", n, woken);
  check(woken > 0, "mwake woke nobody");
}

// A waiter killed in its sleep leaves nothing behind: later wakes find nobody.
static void killed(void)
{
  word[0] = 0;
  envid_t c = fork();
  if (c == 0) {
    for (;;)
      sys_mwait(&word[0], 0, 0);
  }
  for (int i = 0; i < 50; i++)
    sys_yield(0);
  check(kill(c) == 0, "kill the waiter");
  int status;
  waitenv(c, &status);
  check(sys_mwake(&word[0], 0) == 0, "a killed waiter was woken");
}

// The page-count check that keeps a pipe reader from sleeping through the
// close of the last writer: the parent looks (two mappings: the other end
// is there), the child unmaps and exits before the parent sleeps.  Told
// what it saw, mwait refuses to sleep; a right count sleeps as usual.
static void closed_before_sleep(void)
{
  word[0] = 0;
  uint64 ppn = PTE_PPN(uvpt_pte(SHARED));
  expect_err(sys_mwait_refs(&word[0], 0, 1, upages[ppn - PPN_BASE].refs), E_TIMEOUT,
             "mwait with the page's mapping count");
  envid_t c = fork();
  if (c == 0)
    exit(0);
  uint32 seen = upages[ppn - PPN_BASE].refs;   // the child may still map it, or not
  int status;
  waitenv(c, &status);
  check(upages[ppn - PPN_BASE].refs == 1, "the child's mapping is gone");
  if (seen == 2)
    expect_err(sys_mwait_refs(&word[0], 0, 0, seen), E_AGAIN, "mwait after the other end left");
  expect_err(sys_mwait_refs(&word[0], 0, 0, 2), E_AGAIN, "mwait with a stale mapping count");
}

// A deadline and a wake race: whichever comes first, the waiter returns.
static void races(int rounds)
{
  int timeouts = 0, wakes = 0;
  for (int i = 0; i < rounds; i++) {
    word[0] = 0;
    envid_t c = fork();
    if (c == 0) {
      int r = 0;
      while (word[0] == 0 && r != -E_TIMEOUT)
        r = sys_mwait(&word[0], 0, rdtime() + MS(i % 5));
      exit(r == -E_TIMEOUT ? 1 : 0);
    }
    for (int k = 0; k < i % 7; k++)
      sys_yield(0);
    word[0] = 1;
    sys_mwake(&word[0], 0);
    int status = -1;
    waitenv(c, &status);
    status ? timeouts++ : wakes++;
  }
  printf("waittest: %d races: %d timed out, %d woken or saw the word\n", rounds, timeouts, wakes);
}

int main(int argc, char **argv)
{
  check(page_map(SHARED, PTE_R | PTE_W | PTE_SHARE) == 0, "map the shared page");
  arguments();
  wakes(10);
  killed();
  closed_before_sleep();
  races(40);
  return check_report();
}
