// ln: give a file a second name.
#include "lib.h"

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(2, "usage: ln old new\n");
    return 1;
  }
  int r = link(argv[1], argv[2]);
  if (r < 0) {
    fprintf(2, "ln: %s -> %s: %s\n", argv[1], argv[2], errstr(r));
    return 1;
  }
  return 0;
}
