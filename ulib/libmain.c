// Start-up of every program: find my public env record, set up exception
// handling and the heap, split the boot arguments into argv, run main().
#include "lib.h"

const volatile struct envpub *thisenv;
extern int main(int argc, char **argv);
void mem_init(void);

static char argbuf[256];

void libmain(void)
{
  thisenv = &uenvs[ENVX(sys_getenvid())];
  if (upcall_init(0) < 0)
    panic("cannot set up the exception stack");
  mem_init();
  char *argv[MAXARG + 1];
  int argc = 0;
  sys_getbootarg(argbuf, sizeof argbuf);
  for (char *p = argbuf; *p && argc < MAXARG;) {
    while (*p == ' ')
      *p++ = 0;
    if (!*p)
      break;
    argv[argc++] = p;
    while (*p && *p != ' ')
      p++;
  }
  argv[argc] = 0;
  if (argc > 0)
    progname = argv[0];
  exit(main(argc, argv));
}
