// xv6 compatibility: "kernel/riscv.h": the page size, the top of the user
// half of Sv39, page-table entry bits, and a few registers a user program
// may read.
#ifndef XV6_RISCV_H
#define XV6_RISCV_H
#include "types.h"
#define PGSIZE 4096
#define PGSHIFT 12
#define PGROUNDUP(sz)  (((sz) + PGSIZE - 1) & ~(PGSIZE - 1))
#define PGROUNDDOWN(a) (((a)) & ~(PGSIZE - 1))
#define MAXVA (1L << 38)          // user addresses are below this (Sv39's lower half)
#define PTE_V (1L << 0)
#define PTE_R (1L << 1)
#define PTE_W (1L << 2)
#define PTE_X (1L << 3)
#define PTE_U (1L << 4)

static inline uint64 r_sp(void) { uint64 x; asm volatile("mv %0, sp" : "=r" (x)); return x; }
static inline uint64 r_ra(void) { uint64 x; asm volatile("mv %0, ra" : "=r" (x)); return x; }
static inline uint64 r_tp(void) { uint64 x; asm volatile("mv %0, tp" : "=r" (x)); return x; }
static inline uint64 r_time(void) { uint64 x; asm volatile("csrr %0, time" : "=r" (x)); return x; }
#endif
