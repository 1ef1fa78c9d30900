// Kernel start: the boot hart sets up memory, the env table and the first
// env, then starts the other harts; every hart then enters the scheduler.
#include "defs.h"

struct cpu cpus[NCPU];
static volatile int boot_done;
extern char boot_stacks[], _secondary[];

// Boot argument "kstackoverflow" (a test of the guard page, see
// grade/test_harden.py): recurse on the kernel stack until the guard page
// stops it; kernelvec must panic with a clear message.
static volatile uint64 deep_limit = ~0UL;

static uint64 __attribute__((noinline)) deep(volatile uint64 *up, uint64 n)
{
  volatile uint64 frame[32];
  frame[0] = n + (up ? up[0] : 0);
  if (n >= deep_limit)
    return frame[0];
  return deep(frame, n + 1) + frame[1];
}

static void kstack_overflow_test(void)
{
  kprintf("kstackoverflow: recursing on hart %d's kernel stack\n", (int)mycpu()->hartid);
  CSR_WRITE(stvec, kernelvec);
  asm volatile("mv sp, %0" : : "r"(mycpu()->kstack));
  deep(0, 0);
}

void kmain(uint64 hartid, uint64 dtb, uint64 is_boot)
{
  if (hartid >= NCPU)
    for (;;)
      asm volatile("wfi");
  struct cpu *c = &cpus[hartid];
  c->hartid = hartid;
  c->kstack = (uint64)boot_stacks + (hartid + 1) * KSTACKSIZE;   // until KSTACKS is mapped
  asm volatile("mv tp, %0" : : "r"(c));
  // The firmware should send one hart to _start and start the others
  // through HSM; on a loaded host it has been seen to send two.  The first
  // one here boots; any other joins as a secondary.
  static volatile int boot_claimed;
  if (is_boot && __sync_lock_test_and_set(&boot_claimed, 1))
    is_boot = 0;
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
    virtio_net_init();
    c->kpt = MAKE_SATP(kpa(kernel_pt));
    c->kstack = KSTACKTOP(hartid);
    int nharts = 1;
    for (uint64 h = 0; h < NCPU; h++) {
      long r = h == hartid ? -1 : sbi_hart_start(h, kpa(_secondary), 0);
      if (r == 0 || r == SBI_ERR_ALREADY_AVAILABLE)    // (already here: see above)
        nharts++;
    }
    syspub.nharts = nharts;
    kprintf("exokernel: %d harts, %d MiB RAM, %d pages free, %d disk blocks, boot hart %d, init '%s'\n",
            nharts, (int)(ramsize >> 20), (int)pages_free(), (int)disk_blocks, (int)hartid, bootargs);
    if (net_present) {
      uint64 m = syspub.net_mac;
      kprintf("exokernel: NIC %02x:%02x:%02x:%02x:%02x:%02x\n", (int)(m & 0xff), (int)(m >> 8 & 0xff),
              (int)(m >> 16 & 0xff), (int)(m >> 24 & 0xff), (int)(m >> 32 & 0xff), (int)(m >> 40 & 0xff));
    }
    labs_report();
    if (strncmp(bootargs, "kstackoverflow", 14) == 0)
      kstack_overflow_test();
    env_first(bootargs[0] ? bootargs : "hello");
    __sync_synchronize();
    boot_done = 1;
  } else {
    while (!boot_done)
      ;
    __sync_synchronize();
    c->kpt = MAKE_SATP(kpa(kernel_pt));
    c->kstack = KSTACKTOP(hartid);
  }
  c->started = 1;
  trapinit_hart();
  acquire(&klock);
  schedule();                        // leaves the boot stack for KSTACKTOP(hartid)
}
