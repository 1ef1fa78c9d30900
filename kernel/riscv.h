// RISC-V privileged-architecture helpers: CSR access, Sv39 constants.
// Names follow the privileged specification.
#ifndef RISCV_H
#define RISCV_H
#include "types.h"

#define SSTATUS_SIE   (1UL << 1)
#define SSTATUS_SPIE  (1UL << 5)
#define SSTATUS_SPP   (1UL << 8)
#define SSTATUS_VS    (3UL << 9)
#define SSTATUS_FS    (3UL << 13)
#define SSTATUS_SUM   (1UL << 18)

#define SIE_SSIE      (1UL << 1)    // software (IPI)
#define SIE_STIE      (1UL << 5)    // timer
#define SIE_SEIE      (1UL << 9)    // external (PLIC)

#define SCAUSE_INTR   (1UL << 63)
#define IRQ_S_SOFT    1
#define IRQ_S_TIMER   5
#define IRQ_S_EXT     9

#define SATP_SV39     (8UL << 60)
#define MAKE_SATP(pa) (SATP_SV39 | ((uint64)(pa) >> 12))

#define CSR_READ(name) ({ uint64 __v; asm volatile("csrr %0, " #name : "=r"(__v)); __v; })
#define CSR_WRITE(name, v) asm volatile("csrw " #name ", %0" : : "r"((uint64)(v)))
#define CSR_SET(name, v) asm volatile("csrs " #name ", %0" : : "r"((uint64)(v)))
#define CSR_CLEAR(name, v) asm volatile("csrc " #name ", %0" : : "r"((uint64)(v)))

static inline void intr_on(void) { CSR_SET(sstatus, SSTATUS_SIE); }
static inline void intr_off(void) { CSR_CLEAR(sstatus, SSTATUS_SIE); }
static inline uint64 r_time(void) { uint64 x; asm volatile("rdtime %0" : "=r"(x)); return x; }
static inline uint64 rdinstret_k(void) { uint64 x; asm volatile("rdinstret %0" : "=r"(x)); return x; }
static inline void sfence_vma_all(void) { asm volatile("sfence.vma zero, zero" ::: "memory"); }
static inline void sfence_vma_va(uint64 va) { asm volatile("sfence.vma %0, zero" : : "r"(va) : "memory"); }
static inline void w_stimecmp(uint64 v) { asm volatile("csrw 0x14d, %0" : : "r"(v)); }

// Sv39: three levels of 9 index bits above the 12-bit page offset.
#define PXSHIFT(level) (PGSHIFT + 9 * (level))
#define PX(level, va)  ((((uint64)(va)) >> PXSHIFT(level)) & 0x1FF)

#endif
