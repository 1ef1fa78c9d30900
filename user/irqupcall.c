// Interrupts as upcalls: this program stops the console env, takes the
// UART itself with IRQ_UPCALL, and keeps computing; a typed key arrives as
// an upcall in the middle of the computation, which then goes on intact.
#include "lib.h"

#define UART_VA 0x7600000UL
#define RHR 0
#define IER 1
#define LSR 5

static volatile int got = -1, upcalls;
static volatile uint64 upcall_pc;

static int on_irq(struct uframe *f)
{
  volatile uchar *uart = (volatile uchar *)UART_VA;
  upcalls++;
  upcall_pc = f->tf.pc;
  while (uart[LSR] & 1)
    got = uart[RHR];
  sys_irq_ack(IRQ_UART);
  return 1;
}

int main(int argc, char **argv)
{
  envid_t cons = cons_env;
  sys_env_destroy(cons);
  waitenv(cons, 0);
  cons_env = 0;                                 // printf falls back to the kernel console
  check(sys_dev_map(DEV_UART, UART_VA) == 0, "map the UART");
  check(sys_irq_claim(IRQ_UART, IRQ_UPCALL) == 0, "claim its interrupt");
  set_handler(CAUSE_IRQ, on_irq);
  ((volatile uchar *)UART_VA)[IER] = 1;         // receive interrupts
  printf("irqupcall: computing; type a key\n");
  uint64 t0 = rdtime(), sum = 0, i = 0;
  while (got < 0 && rdtime() - t0 < 300000000UL) {   // 30 s
    sum += i * i;                               // the computation the upcall interrupts
    i++;
  }
  uint64 expect = 0;
  for (uint64 j = 0; j < i; j++)
    expect += j * j;
  printf("irqupcall: got '%c' by %d upcall(s) at pc %p after %lu iterations\n", got, upcalls,
         (void *)upcall_pc, i);
  check(got >= 0 && upcalls >= 1, "no key arrived by upcall");
  check(sum == expect, "the interrupted computation went wrong");
  return check_report();
}
