#include "lib.h"
int main(int argc, char **argv)
{
  for (int w = 0; w < 2; w++) {
    envid_t c = fork();
    if (c == 0)
      exit(0);
    waitenv(c, 0);
  }
  asm volatile("li zero, 0x123" ::: "memory");
  envid_t c = fork();
  if (c == 0)
    exit(0);
  waitenv(c, 0);
  asm volatile("li zero, 0x123" ::: "memory");
  return 0;
}
