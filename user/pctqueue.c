// PCT's send queue (PCT_BLOCK): callers of a busy server wait in the
// kernel, asleep, and are served first come, first served; a queued
// caller that is killed leaves the queue (its message never arrives),
// from the middle or from the end, and a caller queued later still gets
// its turn; a
// queued offer of a page is checked when it is delivered, not when it was
// queued; a queued send goes on once delivered; and a server that dies
// wakes everyone queued for it with E_BAD_ENV, and so does one that dies
// holding a call it took from its queue.
//
// pctqueue fast (run under -icount, at one hart): a server whose queue
// has emptied answers on the kernel's fast path again, as quickly as one
// that never had a queue.
#include "lib.h"

#define RECV   0x7200000UL
#define MINE   0x7300000UL
#define SHARED 0x7400000UL
#define NCLIENT 10

struct shared {
  uint64 busy;                  // the server holds its first call until go
  uint64 go;
  uint64 ready[NCLIENT];        // client i is about to make its call
  uint64 served[32];            // w[0] of each message the server took, in order
  uint64 nserved;
  uint64 die_at;                // the server exits at this message (0: never)
  uint64 hold;                  // the server holds its next message until go, too
};
#define sh ((volatile struct shared *)SHARED)

// Holds its first message until the parent says go (so that the rest
// queue), then answers w[0] + 1, or for a page, 1000 + its first byte.
// Takes pages at rva (0: words only, so that its answers may take the
// kernel's fast path, which must still notice the queue).
static void server(uint64 rva)
{
  struct pct_msg m;
  int64 from = sys_pct_recv(rva, &m);
  int first = 1;
  for (;;) {
    if (from <= 0) {
      from = sys_pct_recv(rva, &m);
      continue;
    }
    if (first || sh->hold) {
      first = 0;
      sh->hold = 0;
      sh->busy = 1;
      while (!sh->go)
        sys_mwait(&sh->go, 0, 0);
    }
    if (sh->nserved < 32) {
      sh->served[sh->nserved] = m.w[0];
      __sync_synchronize();                  // (the entry before the count that shows it)
      sh->nserved++;
    }
    if (sh->die_at && sh->nserved == sh->die_at)
      exit(0);                               // holding this call, unanswered
    uint64 answer = m.perm ? 1000 + *(volatile char *)RECV : m.w[0] + 1;
    if (m.perm)
      page_unmap(RECV);
    if (m.kind == PCT_SEND) {
      from = sys_pct_recv(rva, &m);
      continue;
    }
    from = sys_pct_reply_recv(from, answer, 0, 0, 0, rva, &m);
    if (from == -E_BAD_ENV)
      from = sys_pct_recv(rva, &m);
  }
}

// A client's body: announce, then call (or send) and check the answer.
// Exits 0 if what came back is what `want` says (an answer, or an error).
static void client_body(envid_t s, int i, uint64 page, int send, int64 want)
{
  struct pct_msg r;
  sh->ready[i] = 1;
  int64 e = send ? sys_pct_send_wait(s, i, 0, 0, page) : sys_pct_call_wait(s, i, 0, 0, page, 0, &r);
  if (want < 0 || send)
    exit(e == want ? 0 : 1);
  exit(e == 0 && r.w[0] == (uint64)want ? 0 : 2);
}

static envid_t client(envid_t s, int i, uint64 page, int send, int64 want)
{
  envid_t c = fork();
  if (c == 0)
    client_body(s, i, page, send, want);
  return c;
}

// Wait until client c (number i) sits in the server's queue: it said it
// is about to call, runs on no hart, and has had time to get there.
static void wait_queued(envid_t c, int i)
{
  while (!sh->ready[i] || uenvs[ENVX(c)].hart != -1)
    sys_yield(0);
  sleep(1);
}

static envid_t queued(envid_t s, int i, uint64 page, int send, int64 want)
{
  envid_t c = client(s, i, page, send, want);
  check(c > 0, "fork: %d", c);
  wait_queued(c, i);
  return c;
}

static int runs(envid_t e) { return uenvs[ENVX(e)].runs; }

static envid_t busy_server(uint64 rva)
{
  sh->busy = sh->go = sh->nserved = sh->die_at = sh->hold = 0;
  for (int i = 0; i < NCLIENT; i++)
    sh->ready[i] = 0;
  envid_t s = fork();
  if (s == 0)
    server(rva);
  check(s > 0, "fork the server: %d", s);
  return s;
}

// Client 0 calls s, which holds it until go; clients 1, 2 and 3 queue
// behind it; then go, and each must get its answer.
static void queue_of_three(envid_t s, const char *what)
{
  envid_t c[4];
  c[0] = client(s, 0, 0, 0, 1);
  while (!sh->busy)
    sys_yield(0);
  int before[4];
  for (int i = 1; i <= 3; i++) {
    c[i] = queued(s, i, 0, 0, i + 1);
    before[i] = runs(c[i]);
  }
  sleep(1);                                    // queued callers sleep: they do not run
  for (int i = 1; i <= 3; i++)
    check(runs(c[i]) - before[i] <= 3, "%s client %d ran %d times while it waited in the queue",
          what, i, runs(c[i]) - before[i]);
  sh->go = 1;
  sys_mwake(&sh->go, 0);
  for (int i = 0; i <= 3; i++) {
    int st = -1;
    waitenv(c[i], &st);
    check(st == 0, "%s client %d: status %d", what, i, st);
  }
}

// Instructions per round trip of n calls (words only) to server s.
static uint64 round_trips(envid_t s, int n)
{
  struct pct_msg r;
  int64 e;
  while ((e = sys_pct_call(s, 1, 0, 0, 0, 0, &r)) == -E_NOT_WAITING)
    sys_yield(0);                              // (until the server waits)
  check(e == 0, "warm-up call: %s", errstr(e));
  uint64 t = rdinstret();
  for (int i = 0; i < n; i++)
    if (!check(sys_pct_call(s, i, 0, 0, 0, 0, &r) == 0 && r.w[0] == (uint64)i + 1,
               "round trip %d: wrong answer", i))
      break;
  return (rdinstret() - t) / n;
}

// The fast path after a queue: the same server, timed before and after
// three callers queued for it and were served.
static void fast_after_queue(void)
{
  envid_t s = busy_server(0);
  sh->go = 1;                                  // (no holding: answer at once)
  uint64 before = round_trips(s, 200);
  sh->busy = sh->go = sh->nserved = 0;
  sh->hold = 1;
  queue_of_three(s, "queued");
  uint64 after = round_trips(s, 200);
  printf("pctqueue: round trip %ld instructions before the queue, %ld after\n", before, after);
  check(after <= before + before / 5,
        "a round trip costs %ld instructions after the queue emptied, %ld before: "
        "the server's answers no longer take the fast path?", after, before);
  sys_env_destroy(s);
  waitenv(s, 0);
}

int main(int argc, char **argv)
{
  struct census_mark mark;
  census_mark(&mark);
  check(page_map(SHARED, PTE_R | PTE_W | PTE_SHARE) == 0, "map the shared page");
  if (argc > 1 && strcmp(argv[1], "fast") == 0) {
    fast_after_queue();
    printf("pctqueue: fast path checked\n");
    page_unmap(SHARED);
    census_check(&mark);
    return check_report();
  }

  // Queue: 0 holds the server; 1, 2, 3, 4, 5 call, 6 offers a page that
  // its parent unmaps while it waits, 7 sends, 8 calls.  3 is killed in
  // the middle of the queue and 8 at its end; then 9 calls, and must be
  // queued behind 7 (not behind the dead 8).
  envid_t s = busy_server(RECV);
  envid_t c[NCLIENT];
  c[0] = client(s, 0, 0, 0, 1);
  while (!sh->busy)
    sys_yield(0);
  for (int i = 1; i <= 5; i++)
    c[i] = queued(s, i, 0, 0, i + 1);
  envid_t p = fork();                          // client 6, with a page
  if (p == 0) {
    check(page_map(MINE, PTE_R | PTE_W) == 0, "map the page to offer");
    *(volatile char *)MINE = 'p';
    client_body(s, 6, MINE | PTE_R, 0, -E_PERM);
  }
  c[6] = p;
  wait_queued(p, 6);
  c[7] = queued(s, 7, 0, 1, 0);
  c[8] = queued(s, 8, 0, 0, 9);

  int before[NCLIENT];
  for (int i = 1; i <= 8; i++)
    before[i] = runs(c[i]);
  sleep(3);                                    // queued callers sleep: they do not run
  for (int i = 1; i <= 8; i++)
    check(runs(c[i]) - before[i] <= 3, "queued client %d ran %d times while it waited", i,
          runs(c[i]) - before[i]);

  check(sys_env_destroy(c[3]) == 0, "kill queued client 3");
  waitenv(c[3], 0);
  check(sys_env_destroy(c[8]) == 0, "kill queued client 8, the last in the queue");
  waitenv(c[8], 0);
  c[9] = queued(s, 9, 0, 0, 10);
  // client 6's page goes away while it waits: its offer is checked when
  // it is delivered, so it gets E_PERM and the server never sees it
  check(sys_pte_set(c[6], MINE, 0) == 0, "unmap client 6's page");

  sh->go = 1;
  sys_mwake(&sh->go, 0);
  for (int i = 0; i < NCLIENT; i++) {
    if (i == 3 || i == 8)
      continue;
    int st = -1;
    waitenv(c[i], &st);
    check(st == 0, "client %d: status %d (1: wrong error, 2: wrong answer)", i, st);
  }
  static const uint64 order[] = { 0, 1, 2, 4, 5, 7, 9 };
  // A send's sender may exit before the server, which has its message,
  // has run to record it: give the server time (under load, much).
  for (uint64 t0 = rdtime(); sh->nserved < 7 && rdtime() - t0 < 10 * usys->timebase;)
    nap();
  int n = sh->nserved, same = n == 7;
  for (int i = 0; same && i < 7; i++)
    same = sh->served[i] == order[i];
  check(same, "served %d messages, %ld %ld %ld %ld %ld %ld %ld; want 0 1 2 4 5 7 9 (first come, first served)",
        n, sh->served[0], sh->served[1], sh->served[2], sh->served[3], sh->served[4], sh->served[5],
        sh->served[6]);
  sys_env_destroy(s);
  waitenv(s, 0);

  // Words only: the server's answers take the fast path.
  s = busy_server(0);
  queue_of_three(s, "words-only");
  check(sh->nserved == 4 && sh->served[1] == 1 && sh->served[2] == 2 && sh->served[3] == 3,
        "words only: served %d messages, %ld %ld %ld after the first", (int)sh->nserved,
        sh->served[1], sh->served[2], sh->served[3]);
  sys_env_destroy(s);
  waitenv(s, 0);

  // A server that dies wakes everyone queued for it.
  s = busy_server(RECV);
  c[0] = client(s, 0, 0, 0, -E_BAD_ENV);
  while (!sh->busy)
    sys_yield(0);
  c[1] = queued(s, 1, 0, 0, -E_BAD_ENV);
  c[2] = queued(s, 2, 0, 1, -E_BAD_ENV);
  check(sys_env_destroy(s) == 0, "kill the server");
  waitenv(s, 0);
  for (int i = 0; i < 3; i++) {
    int st = -1;
    waitenv(c[i], &st);
    check(st == 0, "client %d of a dead server: status %d", i, st);
  }
  // A server that dies holding a call it took from its queue: that
  // caller waits for a reply from it, and is told, as a direct one is.
  s = busy_server(0);
  sh->die_at = 2;
  c[0] = client(s, 0, 0, 0, 1);
  while (!sh->busy)
    sys_yield(0);
  c[1] = queued(s, 1, 0, 0, -E_BAD_ENV);
  sh->go = 1;
  sys_mwake(&sh->go, 0);
  waitenv(s, 0);
  for (int i = 0; i < 2; i++) {
    volatile struct envpub *ep = &uenvs[ENVX(c[i])];
    for (uint64 t0 = rdtime(); ep->id == c[i] && ep->status != ENV_EXITED &&
                               rdtime() - t0 < 10 * usys->timebase;)
      nap();
    if (!check(ep->id != c[i] || ep->status == ENV_EXITED,
               "client %d of a server that died holding its call: still waiting after 10 s", i))
      sys_env_destroy(c[i]);
    int st = -1;
    waitenv(c[i], &st);
    check(st == 0, "client %d of a server that died holding its call: status %d", i, st);
  }
  printf("pctqueue: queue checked\n");
  page_unmap(SHARED);
  census_check(&mark);
  return check_report();
}
