// Power the machine off through the kernel (SBI system reset).
#include "lib.h"

int main(int argc, char **argv)
{
  int r = sys_halt();
  printf("halt: %s\n", errstr(r));
  return 1;
}
