// Several envs print at once: every line must come out whole, and each
// env's lines in order.
#include "lib.h"

int main(int argc, char **argv)
{
  int nkids = 4, nlines = 40;
  for (int k = 0; k < nkids; k++) {
    envid_t c = fork();
    if (c == 0) {
      for (int i = 0; i < nlines; i++)
        printf("multiprint child %d line %02d: the quick brown fox jumps over the lazy dog %d\n", k, i, k * 1000 + i);
      exit(0);
    }
  }
  while (wait(0) >= 0)
    ;
  printf("multiprint: done\n");
  return 0;
}
