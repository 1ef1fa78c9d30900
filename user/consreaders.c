// Several console readers: two envs wait for lines at once and each gets
// one whole line; no reader keeps a view of the input afterwards; a reader
// killed while waiting loses nothing for the next.
#include "lib.h"

static void reader(void)
{
  char buf[64];
  int n = read(0, buf, sizeof buf - 1);
  if (n > 0 && buf[n - 1] == '\n')
    n--;
  buf[n > 0 ? n : 0] = 0;
  printf("consreaders: reader %08x got [%s]\n", sys_getenvid(), buf);
  exit(uvpt_pte(UIPC) & PTE_V ? 1 : 0);     // the line's page is gone
}

int main(int argc, char **argv)
{
  envid_t a = fork();
  if (a == 0)
    reader();
  envid_t b = fork();
  if (b == 0)
    reader();
  for (int i = 0; i < 50; i++)
    sys_yield(0);
  printf("consreaders: two readers waiting\n");
  int sa = -1, sb = -1;
  waitenv(a, &sa);
  waitenv(b, &sb);
  check(sa == 0 && sb == 0, "a reader kept the input page mapped (%d %d)", sa, sb);
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
