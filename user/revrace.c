// revrace: a server that keeps entering pct_recv while revocation requests
// are posted to it from another hart hears every one of them.  A request
// posted while the server was on its way into pct_recv (its hart in the
// kernel, waiting for klock, the request's IPI not yet taken) used to be
// lost: the server blocked with the upcall pending, nobody told it, and
// the abort protocol took its pages when the deadline passed.
//
// `revrace [rounds]`, at several harts.  The server S holds nearly all
// free memory and gives pages back at once when asked.  A client C sends
// it empty messages as fast as it can, and stops when it sees a request
// posted to S, so that S then waits in pct_recv with nothing to wake it
// but the request.  The main env, after a varying delay, allocates until
// the kernel must ask S.  Every round S must answer: no page is ever
// taken by the abort protocol, and every allocation succeeds.
#include "lib.h"

#define DATA    0x40000000UL          // S's pages
#define SCRATCH 0x30000000UL          // the main env's pages
#define SHARED  0x7400000UL
#define TAKE    256                   // pages the main env allocates each round
#define KEEP    64                    // free pages S leaves when it fills up
#define FILL    1                     // message words: refill to nearly all memory
#define WORK    2                     //                nothing to do

struct shared {
  uint64 round;                       // set by main: C sends until S is asked
  uint64 cdone;                       // C stopped sending in this round
  uint64 got;                         // main had its pages in this round
  uint64 filled;                      // S refilled this many times
  uint64 answered;                    // requests S answered
  uint64 msgs;                        // messages C sent
};
#define sh ((volatile struct shared *)SHARED)

static uint64 top;                    // S's pages: DATA .. DATA + top pages

static int give_back(struct uframe *f)
{
  for (uint64 n = f->tval; n > 0 && top > 0;) {
    top--;
    uint64 va = DATA + top * PGSIZE;
    if (uvpt_pte(va) & PTE_V) {
      page_unmap(va);
      n--;
    }
  }
  sh->answered++;
  return 1;
}

static void server(void)
{
  set_handler(CAUSE_REVOKE, give_back);
  for (;;) {
    struct pct_msg m;
    if (sys_pct_recv(0, &m) < 0 || m.w[0] != FILL)
      continue;
    while (usys->nfree > KEEP && page_map_now(DATA + top * PGSIZE, PTE_R | PTE_W) == 0)
      top++;
    sh->filled++;
  }
}

static void client(envid_t s)
{
  for (uint64 r = 1;; r++) {
    while (sh->round < r)
      sys_yield(0);
    while (uenvs[ENVX(s)].revoke_want == 0 && sh->got < r) {
      sys_pct_send_wait(s, WORK, 0, 0, 0);
      sh->msgs++;
    }
    sh->cdone = r;
  }
}

int main(int argc, char **argv)
{
  int rounds = argc > 1 ? atoi(argv[1]) : 100;
  struct census_mark mark;
  census_mark(&mark);
  check(page_map(SHARED, PTE_R | PTE_W | PTE_SHARE) == 0, "map the shared page");
  envid_t s = fork();
  if (s == 0)
    server();
  envid_t c = fork();
  if (c == 0)
    client(s);
  uint64 repo0 = usys->repossessions, seed = 12345, slow = 0, t0 = rdtime();
  int bad = 0, r = 1;   // (bad: stop at the first failure)
  for (; r <= rounds && !bad; r++) {
    uint64 f = sh->filled;
    check(sys_pct_send_wait(s, FILL, 0, 0, 0) == 0, "send FILL");
    while (sh->filled == f)
      sys_yield(0);
    sh->round = r;
    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    for (volatile uint64 d = (seed >> 33) % 20000; d > 0; d--)
      ;
    uint64 t = rdtime();
    for (int k = 0; k < TAKE; k++) {
      int e = page_map(SCRATCH + k * PGSIZE, PTE_R | PTE_W);
      if (e < 0) {
        check(0, "round %d: page %d: %s", r, k, errstr(e));
        bad = 1;
        break;
      }
    }
    t = rdtime() - t;
    sh->got = r;
    slow = t > slow ? t : slow;
    int taken = uenvs[ENVX(s)].repossessed;
    if (taken) {
      check(0, "round %d: the abort protocol took %d of the server's pages (it answers every "
            "request at once: one was not delivered)", r, taken);
      bad = 1;
    }
    for (int k = 0; k < TAKE; k++)
      page_unmap(SCRATCH + k * PGSIZE);
    while (sh->cdone < (uint64)r)
      sys_yield(0);
  }
  printf("revrace: %d rounds in %lu ms; %lu requests answered, %lu messages; slowest round "
         "%lu ms; %lu pages repossessed\n", r - 1, (rdtime() - t0) / (usys->timebase / 1000),
         sh->answered, sh->msgs, slow / (usys->timebase / 1000), usys->repossessions - repo0);
  check(sh->answered >= (uint64)rounds, "only %lu requests for %d rounds", sh->answered, rounds);
  kill(c);
  kill(s);
  int st;
  waitenv(c, &st);
  waitenv(s, &st);
  page_unmap(SHARED);
  census_check(&mark);
  return check_report();
}
