// The matmul benchmark with no operating system: OpenSBI starts this in
// S-mode, it runs the same code as user/bench.c and prints its instruction
// count through the SBI console, then powers off.  tools/bench.sh compares.
#include "matmul.h"

static int A[MM_N * MM_N], B[MM_N * MM_N], C[MM_N * MM_N];

static void sbi_putchar(int ch)
{
  register long a0 asm("a0") = ch;
  register long a7 asm("a7") = 1;              // legacy console putchar
  asm volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
}

static void puts_num(const char *s, unsigned long x)
{
  char d[24];
  int n = 0;
  while (*s)
    sbi_putchar(*s++);
  do { d[n++] = '0' + x % 10; x /= 10; } while (x);
  while (n)
    sbi_putchar(d[--n]);
}

void baremetal_main(void)
{
  unsigned long t0, t1;
  matmul_fill(A, B);
  asm volatile("rdinstret %0" : "=r"(t0));
  matmul(A, B, C);
  asm volatile("rdinstret %0" : "=r"(t1));
  puts_num("bench matmul150_baremetal ", t1 - t0);
  puts_num(" insn/run\nbench: baremetal checksum ", (unsigned long)matmul_sum(C));
  sbi_putchar('\n');
  register long a0 asm("a0") = 0, a1 asm("a1") = 0;
  register long a6 asm("a6") = 0, a7 asm("a7") = 0x53525354;   // SRST: shutdown
  asm volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7));
  for (;;)
    ;
}
