// Power the machine off through the kernel (SBI system reset).
#include "lib.h"

int main(int argc, char **argv)
{
  sys_halt();
}
