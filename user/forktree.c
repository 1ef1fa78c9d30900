// A tree of envs made with copy-on-write fork: each env prints its branch
// name and forks two children until the name is three characters long.
#include "lib.h"

#define DEPTH 3

static void forkchild(const char *cur, char branch);

static void forktree(const char *cur)
{
  printf("%08x: I am '%s'\n", sys_getenvid(), cur);
  forkchild(cur, '0');
  forkchild(cur, '1');
}

static void forkchild(const char *cur, char branch)
{
  char nxt[DEPTH + 1];
  if (strlen(cur) >= DEPTH)
    return;
  snprintf(nxt, sizeof nxt, "%s%c", cur, branch);
  envid_t id = fork();
  if (id < 0)
    panic("fork: %s", errstr(id));
  if (id == 0) {
    forktree(nxt);
    while (wait(0) >= 0)
      ;
    exit(0);
  }
}

int main(int argc, char **argv)
{
  forktree("");
  int n = 0, status;
  while (wait(&status) >= 0)
    n += status == 0;
  if (n == 2)
    printf("forktree: all OK %s\n", grade_token);
  else
    printf("forktree: FAIL (%d children ok)\n", n);
  return 0;
}
