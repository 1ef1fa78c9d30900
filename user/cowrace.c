// Copy-on-write under concurrency: parent and child write the same shared
// page at the same moment, on different harts, many times.
#include "lib.h"

static volatile int shared_word = 1;

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 200, bad = 0;
  for (int i = 0; i < n; i++) {
    envid_t c = fork();
    if (c == 0) {
      shared_word = 2;                       // races with the parent's write
      exit(shared_word == 2 ? 0 : 1);
    }
    shared_word = 3;
    int status = -1;
    waitenv(c, &status);
    if (status != 0 || shared_word != 3)
      bad++, printf("cowrace: round %d: child status %d, parent sees %d\n", i, status, shared_word);
  }
  check(bad == 0, "%d of %d rounds went wrong", bad, n);
  return check_report();
}
