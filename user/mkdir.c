// mkdir: make directories.
#include "lib.h"

int main(int argc, char **argv)
{
  int status = 0;
  if (argc < 2) {
    fprintf(2, "usage: mkdir dir...\n");
    return 1;
  }
  for (int i = 1; i < argc; i++) {
    int r = mkdir(argv[i]);
    if (r < 0) {
      fprintf(2, "mkdir: %s: %s\n", argv[i], errstr(r));
      status = 1;
    }
  }
  return status;
}
