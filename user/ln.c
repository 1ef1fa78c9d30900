// ln: give a file a second name (a hard link), or with -s make a symbolic
// link: a new name whose contents are the path target, followed when the
// name is opened.
#include "lib.h"

int main(int argc, char **argv)
{
  int sym = argc == 4 && !strcmp(argv[1], "-s");
  if (argc != 3 && !sym) {
    fprintf(2, "usage: ln old new | ln -s target new\n");
    return 1;
  }
  const char *old = argv[argc - 2], *new = argv[argc - 1];
  int r = sym ? symlink(old, new) : link(old, new);
  if (r < 0) {
    fprintf(2, "ln: %s -> %s: %s\n", old, new, errstr(r));
    return 1;
  }
  return 0;
}
