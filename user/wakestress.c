// wakestress: no wake-up is lost.  Many readers and writers on a few
// pipes at once (every record written is read exactly once), readers
// killed while they sleep on an empty pipe, and wakes racing with
// deadlines.  Nothing may hang; the grader's timeout catches a hang.
#include "lib.h"

#define SHARED  0x30000000UL
#define NPIPE   3
#define WRITERS 3                      // per pipe
#define READERS 3                      // per pipe
#define RECORDS 300                    // per writer

struct rec { uint64 who, seq; };
struct tally { uint64 count, sum; };   // per pipe, added to by its readers
static volatile struct tally *tally = (volatile struct tally *)SHARED;

static uint64 value(uint64 who, uint64 seq) { return who * 100003 + seq * 7 + 1; }

static void writer(int fd, uint64 who)
{
  for (uint64 s = 0; s < RECORDS; s++) {
    struct rec r = { who, s };
    if (write(fd, &r, sizeof r) != sizeof r)
      exit(2);
    if (s % 37 == 0)
      sys_yield(0);
  }
  exit(0);
}

static void reader(int fd, int p)
{
  struct rec r;
  uint64 count = 0, sum = 0;
  int n;
  while ((n = read(fd, &r, sizeof r)) == sizeof r) {
    count++;
    sum += value(r.who, r.seq);
  }
  __atomic_fetch_add(&tally[p].count, count, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&tally[p].sum, sum, __ATOMIC_SEQ_CST);
  exit(n == 0 ? 0 : 3);                // a torn record or an error: n is neither
}

static void many(void)
{
  envid_t kids[NPIPE * (WRITERS + READERS)];
  int nk = 0;
  for (int p = 0; p < NPIPE; p++) {
    int fds[2];
    check(pipe(fds) == 0, "pipe");
    for (int w = 0; w < WRITERS; w++)
      if ((kids[nk++] = fork()) == 0) {
        close(fds[0]);
        writer(fds[1], p * WRITERS + w);
      }
    for (int r = 0; r < READERS; r++)
      if ((kids[nk++] = fork()) == 0) {
        close(fds[1]);
        reader(fds[0], p);
      }
    close(fds[0]);
    close(fds[1]);
  }
  int bad = 0;
  for (int k = 0; k < nk; k++) {
    int status = -1;
    waitenv(kids[k], &status);
    bad += status != 0;
  }
  check(bad == 0, "%d readers or writers failed", bad);
  for (int p = 0; p < NPIPE; p++) {
    uint64 sum = 0;
    for (int w = 0; w < WRITERS; w++)
      for (uint64 s = 0; s < RECORDS; s++)
        sum += value(p * WRITERS + w, s);
    check(tally[p].count == WRITERS * RECORDS && tally[p].sum == sum,
          "pipe %d: %lu records read of %d", p, tally[p].count, WRITERS * RECORDS);
  }
  printf("wakestress: %d records through %d pipes, %d writers and %d readers each\n",
         NPIPE * WRITERS * RECORDS, NPIPE, WRITERS, READERS);
}

// Readers asleep on an empty pipe are killed; the one left still gets
// every record, and the writer sees it through.
static void killed(int rounds)
{
  for (int i = 0; i < rounds; i++) {
    int fds[2];
    check(pipe(fds) == 0, "pipe");
    envid_t r[4];
    for (int k = 0; k < 4; k++)
      if ((r[k] = fork()) == 0) {
        close(fds[1]);
        struct rec x;
        int n = 0;
        while (read(fds[0], &x, sizeof x) == sizeof x)
          n++;
        exit(n == 50 ? 0 : 4);
      }
    close(fds[0]);
    for (int k = 0; k < 20 + i % 5; k++)
      sys_yield(0);
    for (int k = 0; k < 3; k++)
      kill(r[k]);
    for (int s = 0; s < 50; s++) {
      struct rec x = { 1, s };
      check(write(fds[1], &x, sizeof x) == sizeof x, "write after the kills");
    }
    close(fds[1]);
    int status = -1;
    for (int k = 0; k < 4; k++) {
      waitenv(r[k], &status);
      if (k == 3)
        check(status == 0, "round %d: the reader left got the wrong count (%d)", i, status);
    }
  }
  printf("wakestress: %d rounds of killed sleepers\n", rounds);
}

// Wakes racing with deadlines, on several harts at once.
static void races(int rounds)
{
  volatile uint64 *w = (volatile uint64 *)(SHARED + 2048);
  int late = 0;
  for (int i = 0; i < rounds; i++) {
    *w = 0;
    envid_t c[3];
    for (int k = 0; k < 3; k++)
      if ((c[k] = fork()) == 0) {
        uint64 until = rdtime() + (usys->timebase / 1000) * (1 + (i + k) % 3);
        while (*w == 0 && rdtime() < until)
          sys_mwait(w, 0, until);
        while (*w == 0)                 // past the deadline: the wake must still come
          sys_mwait(w, 0, 0);
        exit(0);
      }
    for (int k = 0; k < i % 4; k++)
      sys_yield(0);
    *w = 1;
    sys_mwake(w, 0);
    for (int k = 0; k < 3; k++) {
      int status = -1;
      waitenv(c[k], &status);
      late += status != 0;
    }
  }
  check(late == 0, "%d waiters failed", late);
  printf("wakestress: %d rounds of wakes against deadlines\n", rounds);
}

int main(void)
{
  check(page_map(SHARED, PTE_R | PTE_W | PTE_SHARE) == 0, "map the shared page");
  many();
  killed(20);
  races(60);
  return check_report();
}
