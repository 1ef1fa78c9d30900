// xv6 compatibility: "kernel/memlayout.h".  The addresses xv6 programs
// use, with this system's values: where the kernel's mappings begin (no
// user access anywhere above MAXVA), and the top of user memory.
#ifndef XV6_MEMLAYOUT_H
#define XV6_MEMLAYOUT_H
#include "riscv.h"
#define KERNBASE   0xFFFFFFC000000000L   // the kernel's direct map of RAM
#define PHYSTOP    (KERNBASE + 256L * 1024 * 1024)   // (the most RAM it uses)
#define UTOP       0x3F00000000L         // user mappings live below this
#endif
