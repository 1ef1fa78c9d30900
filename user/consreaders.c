// Several console readers: n envs (default 2) wait for lines at once and
// each gets one whole line, in a page that is its alone (neither the
// console nor the reader keeps a view of the input afterwards); a reader
// killed while waiting loses nothing for the next.
//
//   consreaders [n]      n readers at once, 1 to 8
#include "lib.h"

// read(0, buf, max) by hand, to look at the page the line arrives in:
// once the console has answered, the reader's mapping is the page's only
// one.  (The console unmaps its own view just after its reply; on another
// hart it may take a moment to get there.)
static int read_line(char *buf, int max)
{
  struct pct_msg m;
  int64 r;
  while ((r = sys_pct_call_wait(cons_env, CONS_READ, max, 0, 0, UIPC, &m)) == 0 &&
         (int64)m.w[0] == -E_BUSY)
    nap();                                  // a polled console: ask again
  if (r < 0)
    return r;
  int n = (int64)m.w[0];
  if (!m.perm)
    return n;
  volatile struct pagepub *p = &upages[PTE_PPN(uvpt_pte(UIPC)) - PPN_BASE];
  uint64 until = rdtime() + 5 * usys->timebase;   // (5 s: a loaded host)
  while (p->refs != 1 && rdtime() < until)
    nap();
  check(p->refs == 1, "the page of a line is mapped %d times after the reply", p->refs);
  if (n > 0 && n <= max)
    memcpy(buf, (void *)UIPC, n);
  sys_pte_set(0, UIPC, 0);
  return n;
}

static void reader(void)
{
  char buf[64];
  int n = read_line(buf, sizeof buf - 1);
  if (n > 0 && buf[n - 1] == '\n')
    n--;
  buf[n > 0 ? n : 0] = 0;
  printf("consreaders: reader %08x got [%s]\n", sys_getenvid(), buf);
  exit(check_failures() || (uvpt_pte(UIPC) & PTE_V) ? 1 : 0);
}

int main(int argc, char **argv)
{
  int nr = argc > 1 ? atoi(argv[1]) : 2;
  if (nr < 1 || nr > 8)
    nr = 2;
  envid_t r[8];
  for (int i = 0; i < nr; i++)
    if ((r[i] = fork()) == 0)
      reader();
  for (int i = 0; i < 50; i++)
    sys_yield(0);
  if (nr == 2)
    printf("consreaders: two readers waiting\n");
  else
    printf("consreaders: %d readers waiting\n", nr);
  int bad = 0;
  for (int i = 0; i < nr; i++) {
    int s = -1;
    waitenv(r[i], &s);
    bad += s != 0;
  }
  check(bad == 0, "%d readers failed (a line's page mapped twice, or kept)", bad);
  check(!(uvpt_pte(UIPC) & PTE_V), "the parent sees an input page");

  envid_t c = fork();
  if (c == 0)
    reader();                                 // killed while it waits
  for (int i = 0; i < 50; i++)
    sys_yield(0);
  sys_env_destroy(c);
  waitenv(c, 0);
  printf("consreaders: type a line for the parent\n");
  char buf[64];
  int n = read(0, buf, sizeof buf - 1);
  buf[n > 0 ? n - 1 : 0] = 0;
  printf("consreaders: parent got [%s]\n", buf);
  return check_report();
}
