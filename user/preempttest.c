// Timer preemption must be invisible: a loop that keeps known values in
// every register (a7 holding system-call numbers among them) is preempted
// many times, with another env running in between, and must find every
// register intact.  (A kernel once took a timer tick with a7 == SYS_yield
// for a yield system call and moved the pc.)
#include "lib.h"

// Fill the registers with values derived from seed, spin n times, and
// return the number of registers that changed.
extern uint64 hold_registers(uint64 seed, uint64 n);
asm(".globl hold_registers\n"
    "hold_registers:\n"
    "  addi sp, sp, -112\n"
    "  sd s0, 0(sp); sd s1, 8(sp); sd s2, 16(sp); sd s3, 24(sp); sd s4, 32(sp); sd s5, 40(sp)\n"
    "  sd s6, 48(sp); sd s7, 56(sp); sd s8, 64(sp); sd s9, 72(sp); sd s10, 80(sp); sd s11, 88(sp)\n"
    "  sd ra, 96(sp)\n"
    "  mv a7, a0\n"                          // a7 = seed: a system-call number
    "  addi t0, a0, 1; addi t1, a0, 2; addi t2, a0, 3; addi s1, a0, 4; addi a2, a0, 5\n"
    "  addi a3, a0, 6; addi a4, a0, 7; addi a5, a0, 8; addi a6, a0, 9; addi s2, a0, 10\n"
    "  addi s3, a0, 11; addi s4, a0, 12; addi s5, a0, 13; addi s6, a0, 14; addi s7, a0, 15\n"
    "  addi s8, a0, 16; addi s9, a0, 17; addi s10, a0, 18; addi s11, a0, 19; addi t3, a0, 20\n"
    "  addi t4, a0, 21; addi t5, a0, 22; addi t6, a0, 23; addi ra, a0, 24; mv s0, a1\n"
    "1: addi s0, s0, -1\n"
    "  bnez s0, 1b\n"
    "  li s0, 0\n"                           // count the registers that changed
    "  bne a7, a0, 2f; addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 1;  bne t0, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 2;  bne t1, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 3;  bne t2, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 4;  bne s1, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 5;  bne a2, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 6;  bne a3, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 7;  bne a4, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 8;  bne a5, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 9;  bne a6, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 10; bne s2, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 11; bne s3, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 12; bne s4, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 13; bne s5, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 14; bne s6, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 15; bne s7, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 16; bne s8, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 17; bne s9, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 18; bne s10, a1, 2f; addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 19; bne s11, a1, 2f; addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 20; bne t3, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 21; bne t4, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 22; bne t5, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 23; bne t6, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  addi a1, a0, 24; bne ra, a1, 2f;  addi s0, s0, -1\n2: addi s0, s0, 1\n"
    "  mv a0, s0\n"
    "  ld s0, 0(sp); ld s1, 8(sp); ld s2, 16(sp); ld s3, 24(sp); ld s4, 32(sp); ld s5, 40(sp)\n"
    "  ld s6, 48(sp); ld s7, 56(sp); ld s8, 64(sp); ld s9, 72(sp); ld s10, 80(sp); ld s11, 88(sp)\n"
    "  ld ra, 96(sp)\n"
    "  addi sp, sp, 112\n"
    "  ret\n");

int main(int argc, char **argv)
{
  envid_t other = fork();                     // something to switch to
  if (other == 0)
    for (;;)
      ;
  uint64 seeds[] = { SYS_yield, SYS_exofork, SYS_exit, SYS_cputs, 1000 };
  uint64 t0 = rdtime();
  int rounds = 0;
  // keep going until at least 30 slices (10 ms each) have passed
  while (rdtime() - t0 < 30 * 100000UL) {
    for (int i = 0; i < 5; i++) {
      uint64 bad = hold_registers(seeds[i], 200000);
      check(bad == 0, "%lu registers changed (a7 = %lu)", bad, seeds[i]);
    }
    rounds++;
  }
  printf("preempttest: %d rounds, %d runs of the other env\n", rounds, uenvs[ENVX(other)].runs);
  check(uenvs[ENVX(other)].runs > 5, "the other env hardly ran: not preempted?");
  sys_env_destroy(other);
  waitenv(other, 0);
  return check_report();
}
