// Calls into the OpenSBI firmware (SBI spec 1.0): hart start, IPIs, remote
// fences and system reset (the timer is programmed through Sstc's stimecmp).
#include "defs.h"

#define EXT_IPI    0x735049
#define EXT_RFENCE 0x52464E43
#define EXT_HSM    0x48534D
#define EXT_SRST   0x53525354

static struct sbiret sbi_call4(uint64 ext, uint64 fid, uint64 a0, uint64 a1, uint64 a2, uint64 a3)
{
  register uint64 r_a0 asm("a0") = a0;
  register uint64 r_a1 asm("a1") = a1;
  register uint64 r_a2 asm("a2") = a2;
  register uint64 r_a3 asm("a3") = a3;
  register uint64 r_a6 asm("a6") = fid;
  register uint64 r_a7 asm("a7") = ext;
  asm volatile("ecall" : "+r"(r_a0), "+r"(r_a1) : "r"(r_a2), "r"(r_a3), "r"(r_a6), "r"(r_a7) : "memory");
  return (struct sbiret){ (long)r_a0, (long)r_a1 };
}

static struct sbiret sbi_call(uint64 ext, uint64 fid, uint64 a0, uint64 a1, uint64 a2)
{
  return sbi_call4(ext, fid, a0, a1, a2, 0);
}

// Power the machine off (QEMU exits).
void sbi_shutdown(void)
{
  sbi_call(EXT_SRST, 0, 0, 0, 0);
  for (;;)
    asm volatile("wfi");
}

// Start a stopped hart at physical address start with a1 = opaque.
long sbi_hart_start(uint64 hartid, uint64 start, uint64 opaque)
{
  return sbi_call(EXT_HSM, 0, hartid, start, opaque).error;
}

void sbi_send_ipi(uint64 hartmask) { sbi_call(EXT_IPI, 0, hartmask, 0, 0); }

void sbi_remote_sfence_vma(uint64 hartmask, uint64 va, uint64 size)
{
  sbi_call4(EXT_RFENCE, 1, hartmask, 0, va, size);
}

