// sleep: pause for a number of ticks (tenths of a second).
#include "lib.h"

int main(int argc, char **argv)
{
  // BEGIN LAB util: sleep: check the argument, then pause with the library's sleep() (ulib/time.c)
  if (argc != 2) {
    fprintf(2, "usage: sleep ticks\n");
    return 1;
  }
  return sleep(atoi(argv[1]));
  // END LAB util: return lab_todo("util", "sleep"), (void)argc, (void)argv, 1;
}
