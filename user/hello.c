// The smallest program: prints a greeting with its env id and exits 0.
#include "lib.h"

int main(int argc, char **argv)
{
  printf("hello, world from env %08x (argc %d)\n", sys_getenvid(), argc);
  return 0;
}
