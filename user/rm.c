// rm: remove names (files, or empty directories).
#include "lib.h"

int main(int argc, char **argv)
{
  int status = 0;
  if (argc < 2) {
    fprintf(2, "usage: rm file...\n");
    return 1;
  }
  for (int i = 1; i < argc; i++) {
    int r = unlink(argv[i]);
    if (r < 0) {
      fprintf(2, "rm: %s: %s\n", argv[i], errstr(r));
      status = 1;
    }
  }
  return status;
}
