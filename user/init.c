// init: the first env.  libmain has already started the console env; init
// starts the file server, then runs the shell (or the program named on the
// boot line: `init prog args...`), and reaps every env whose parent died.
// With the shell it starts a new one when the old one exits; with a named
// program it exits with that program's status, which powers the machine off.
#include "lib.h"

int main(int argc, char **argv)
{
  envid_t fs = fs_start();
  if (fs < 0)
    printf("init: no file system: %s\n", errstr(fs));
  char *shargv[] = { "sh", 0 };
  char **args = argc > 1 ? argv + 1 : shargv;
  for (;;) {
    envid_t pid = spawn(args[0], args);
    if (pid < 0) {
      printf("init: cannot start %s: %s\n", args[0], errstr(pid));
      return 1;
    }
    int status;
    envid_t w;
    while ((w = wait(&status)) >= 0 && w != pid)
      ;                                      // an orphan: reaped
    if (args != shargv)
      return status;
    printf("init: the shell exited (status %d); starting a new one\n", status);
  }
}
