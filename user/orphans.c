// orphans [n]: n times, a child makes a grandchild, lets it exit (not
// reaped: a zombie), and exits itself.  The kernel hands each orphaned
// zombie to init, which must hear of it and reap it, so the env table ends
// as it began (it used to fill up, and fork then failed).
#include "lib.h"

static int live_envs(void)
{
  int n = 0;
  for (int i = 0; i < NENV; i++)
    n += uenvs[i].status != ENV_FREE;
  return n;
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  int before = live_envs();
  for (int i = 0; i < n; i++) {
    envid_t c = fork();
    if (c < 0) {
      check(0, "round %d: fork: %s (%d envs live, %d at the start)", i, errstr(c), live_envs(), before);
      break;
    }
    if (c == 0) {
      volatile uint64 *exits = &uenvs[ENVX(thisenv->id)].child_exits;
      uint64 seen = *exits;
      envid_t g = fork();
      if (g == 0)
        exit(0);
      while (g > 0 && *exits == seen)      // until it has exited (not reaped)
        sys_mwait(exits, seen, 0);
      exit(0);
    }
    int status = -1;
    check(waitenv(c, &status) == c && status == 0, "round %d: the child", i);
  }
  int now = live_envs();
  // init reaps as it runs, on a loaded host perhaps much later: give it
  // up to 10 s (a table that stays full shows after that too).
  for (uint64 t0 = rdtime(); now > before && rdtime() - t0 < 10 * usys->timebase;) {
    nap();
    now = live_envs();
  }
  printf("orphans: %d orphaned zombies; %d envs live before, %d after\n", n, before, now);
  check(now <= before, "the env table holds %d more envs than at the start", now - before);
  return check_report();
}
