// kill: end envs by id, in hex (as printed by the shell for background jobs, or by
// Ctrl-P).  The kernel lets an env end only itself and its descendants, so
// kill asks init, the ancestor of every env, to do it (kill() does that
// when the direct call is refused).
#include "lib.h"

int main(int argc, char **argv)
{
  int status = 0;
  if (argc < 2) {
    fprintf(2, "usage: kill id...\n");
    return 1;
  }
  for (int i = 1; i < argc; i++) {
    int r = kill(strtol(argv[i], 0, 16));   // ids are shown in hex
    if (r < 0) {
      fprintf(2, "kill: %s: %s\n", argv[i], errstr(r));
      status = 1;
    }
  }
  return status;
}
