// Attacks on exported devices and interrupts: mapping or claiming without
// the right, the kernel's own devices, someone else's interrupt, lending
// device registers through PCT, passing on a right one does not hold.
#include "lib.h"

#define VA 0x7500000UL

int main(int argc, char **argv)
{
  // the first env holds RIGHT_UART, but the console env owns the IRQ
  expect_err(sys_irq_claim(IRQ_UART, 0), E_BUSY, "claim the console's interrupt");
  expect_err(sys_irq_ack(IRQ_UART), E_PERM, "acknowledge the console's interrupt");
  // IRQ_DISK (the disk's PLIC source 1) and IRQ_CHILD are events about the
  // claimer itself: anyone may claim them, and it gives no device
  check(sys_irq_claim(IRQ_DISK, 0) == 0 && sys_irq_ack(IRQ_DISK) == 0, "IRQ_DISK is for anyone");
  check(sys_irq_claim(IRQ_CHILD, 0) == 0 && sys_irq_ack(IRQ_CHILD) == 0, "IRQ_CHILD is for anyone");
  expect_err(sys_irq_claim(IRQ_DISK, 0x100), E_INVAL, "claim IRQ_DISK with unknown flags");
  expect_err(sys_dev_map(1, VA), E_INVAL, "map the disk's registers (no such device number)");
  expect_err(sys_irq_claim(-1, 0), E_INVAL, "claim interrupt -1");
  expect_err(sys_irq_claim(1000, 0), E_INVAL, "claim interrupt 1000");
  expect_err(sys_irq_ack(1000), E_INVAL, "acknowledge interrupt 1000");
  expect_err(sys_dev_map(1, VA), E_INVAL, "map device 1 (none: the kernel's devices are not exported)");
  expect_err(sys_dev_map(-1, VA), E_INVAL, "map device -1");
  expect_err(sys_dev_map(DEV_UART, UTOP), E_BAD_VA, "map the UART at UTOP");
  expect_err(sys_dev_map(DEV_UART, VA + 8), E_BAD_VA, "map the UART unaligned");
  expect_err(sys_pte_set(0, VA, PPN_PTE(PLIC >> 12, PTE_V | PTE_U | PTE_R | PTE_W)), E_PERM,
             "map the PLIC with a raw PTE");
  expect_err(sys_pte_set(0, VA, PPN_PTE(0x2000000 >> 12, PTE_V | PTE_U | PTE_R | PTE_W)), E_PERM,
             "map the CLINT with a raw PTE");

  // with the right, the UART can be mapped (and is then not RAM: it cannot
  // be lent, and fork leaves it out)
  check(sys_dev_map(DEV_UART, VA) == 0, "map the UART with the right");
  check(PTE_PPN(uvpt_pte(VA)) == UART0 >> 12 && !(uvpt_pte(VA) & PTE_X), "UART mapping %lx",
        uvpt_pte(VA));
  envid_t c = fork();
  if (c == 0) {
    // no rights in a new child
    expect_err(sys_dev_map(DEV_UART, VA + PGSIZE), E_PERM, "map the UART without the right");
    expect_err(sys_irq_claim(IRQ_UART, 0), E_PERM, "claim the UART interrupt without the right");
    expect_err(sys_env_grant(0, RIGHT_UART), E_PERM, "grant myself the UART right");
    check(!(uvpt_pte(VA) & PTE_V), "fork passed the device mapping on");
    exit(check_failures());
  }
  int status = -1;
  waitenv(c, &status);
  check(status == 0, "child attacks (%d)", status);
  struct pct_msg r;
  expect_err(sys_pct_call(cons_env, CONS_STATS, 0, 0, VA | PTE_R, 0, &r), E_PERM,
             "lend the UART registers through PCT");
  sys_pte_set(0, VA, 0);

  // a child given the right may map the UART, and pass the right on only
  // to its own descendants
  c = fork();
  if (c == 0) {
    while (!(thisenv->rights & RIGHT_UART))
      sys_yield(0);
    check(sys_dev_map(DEV_UART, VA) == 0, "map with a granted right");
    envid_t g = fork();
    if (g == 0)
      exit(thisenv->rights & RIGHT_UART ? 1 : 0);
    int st;
    waitenv(g, &st);
    check(st == 0, "a grandchild inherited the right without a grant");
    exit(check_failures());
  }
  check(sys_env_grant(c, RIGHT_UART) == 0, "grant the UART right");
  waitenv(c, &status);
  check(status == 0, "granted child (%d)", status);
  printf("attackdev: the console still works after the attacks\n");
  return check_report();
}
