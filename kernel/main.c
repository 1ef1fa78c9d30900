// Kernel start: the boot hart sets up memory, the env table and the first
// env, then starts the other harts; every hart then enters the scheduler.
#include "defs.h"

struct cpu cpus[NCPU];
static volatile int boot_done;
extern char boot_stacks[], _secondary[];

void kmain(uint64 hartid, uint64 dtb, uint64 is_boot)
{
  if (hartid >= NCPU)
    for (;;)
      asm volatile("wfi");
  struct cpu *c = &cpus[hartid];
  c->hartid = hartid;
  c->kstack = (uint64)boot_stacks + (hartid + 1) * KSTACKSIZE;
  asm volatile("mv tp, %0" : : "r"(c));
  if (is_boot) {
    uint64 ramsize;
    consinit();
    fdt_parse(dtb, &ramsize, bootargs, sizeof bootargs);
    if (ramsize == 0)
      panic("no /memory node at 0x%lx in the device tree", RAMBASE);
    pageinit(ramsize);
    kvminit();
    envinit();
    plicinit();
    virtio_disk_init();
    c->kpt = MAKE_SATP(kpa(kernel_pt));
    int nharts = 1;
    for (uint64 h = 0; h < NCPU; h++)
      if (h != hartid && sbi_hart_start(h, kpa(_secondary), 0) == 0)
        nharts++;
    syspub.nharts = nharts;
    kprintf("exokernel: %d harts, %d MiB RAM, %d pages free, %d disk blocks, boot hart %d, init '%s'\n",
            nharts, (int)(ramsize >> 20), (int)pages_free(), (int)disk_blocks, (int)hartid, bootargs);
    env_first(bootargs[0] ? bootargs : "hello");
    __sync_synchronize();
    boot_done = 1;
  } else {
    while (!boot_done)
      ;
    __sync_synchronize();
    c->kpt = MAKE_SATP(kpa(kernel_pt));
  }
  c->started = 1;
  trapinit_hart();
  acquire(&klock);
  schedule();
}
