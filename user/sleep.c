// sleep: pause for a number of ticks (tenths of a second).
#include "lib.h"

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(2, "usage: sleep ticks\n");
    return 1;
  }
  return sleep(atoi(argv[1]));
}
