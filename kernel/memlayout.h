// Physical and virtual memory layout, shared by the kernel and user code.
//
// Physical (QEMU virt, see shared hardware notes):
//   0x0C000000  PLIC
//   0x10000000  UART0 (NS16550A), PLIC source 10
//   0x10001000  virtio-mmio slot 0 (the disk), PLIC source 1
//   0x10002000  virtio-mmio slot 1 (the NIC), PLIC source 2
//   0x80000000  RAM; OpenSBI owns 0x80000000-0x801fffff (PMP-protected)
//   0x80200000  the kernel image, then free pages up to the end of RAM
//
// Virtual, Sv39.  The lower half (0 .. 256 GiB) belongs to user space; the
// upper half holds the kernel, mapped supervisor-only and global in every
// address space, so a trap or system call never switches page tables:
//
//   0xFFFFFFC0_00000000 + pa   every physical address (KERNBASE direct map)
//   KSTACKS 0xFFFFFFFF_C0000000 the harts' kernel stacks, one after another:
//                            [guard page, unmapped][KSTACKPAGES pages] for
//                            hart 0, then hart 1, ...  An overflow faults
//                            in the guard page (kernelvec panics).
//
//   MAXUVA   0x40_0000_0000 +---------------------------------+
//                            | (unused)                        |
//   UREPOS   0x3F_8060_0000 +---------------------------------+ R-- U, shared
//                            | struct repovec[NENV]            |
//            0x3F_8040_1000 +---------------------------------+
//   USYS     0x3F_8040_0000 +---------------------------------+ R-- U, shared
//                            | struct syspub: machine, counts  |
//   UPAGES   0x3F_8020_0000 +---------------------------------+ R-- U, shared
//                            | struct pagepub[ppn - PPN_BASE]  |
//   UENVS    0x3F_8000_0000 +---------------------------------+ R-- U, shared
//                            | struct envpub[NENV]             |
//            0x3F_4000_0000 +---------------------------------+
//                            | (unused)                        |
//   UVPR     0x3F_2010_0000 +---------------------------------+ R-- U, per env
//                            | the root page-table page        |
//   UVPD     0x3F_2000_0000 +---------------------------------+ R-- U, per env
//                            | level-1 tables: entry va>>21    |
//                            | (unused)                        |
//            0x3F_1F80_0000 +---------------------------------+
//   UVPT     0x3F_0000_0000 +---------------------------------+ R-- U, per env
//                            | level-0 tables: leaf PTE va>>12 |
//   UTOP     0x3F_0000_0000 +---------------------------------+
//                            | free for the library OS         |
//            0x40000000 (1 GiB)  -- the library's conventions, not the kernel's:
//            (ULIBPAGES 0x3F000000: fd table, fd data, IPC and I/O pages, network ring)
//   UXSTACKTOP 0x40000000   +---------------------------------+ RW- U
//                            | exception (upcall) stack, 2 pgs |
//            0x3FFFE000     +---------------------------------+
//                            | guard page (unmapped)           |
//   USTACKTOP  0x3FFFD000   +---------------------------------+ RW- U
//                            | user stack, grows down          |
//                            |   ...                           |
//                            | heap (sbrk), grows up           |
//                            | program .text .data .bss        |
//   UTEXT      0x00010000   +---------------------------------+
//                            | unmapped: catches NULL          |
//            0              +---------------------------------+
//
// UVPT/UVPD/UVPR expose the env's own page tables read-only, so the library
// reads a PTE with a load: ((pte_t *)UVPT)[va >> 12] is the leaf PTE for va
// (valid only when the level-1 entry ((pte_t *)UVPD)[va >> 21] is valid), and
// ((pte_t *)UVPR)[va >> 30] is the root entry.
#ifndef MEMLAYOUT_H
#define MEMLAYOUT_H

#define PGSIZE        4096UL
#define PGSHIFT       12

// Physical.
#define PLIC          0x0C000000UL
#define UART0         0x10000000UL
#define VIRTIO0       0x10001000UL
#define VIRTIO1       0x10002000UL
#define RAMBASE       0x80000000UL
#define KERNLOAD      0x80200000UL     // where OpenSBI jumps
#define PPN_BASE      (RAMBASE >> PGSHIFT)
#define MAXRAM        (256UL << 20)    // RAM beyond this is not used

// Virtual: kernel.
#define KERNBASE      0xFFFFFFC000000000UL
#define KVA(pa)       ((uint64)(pa) + KERNBASE)
#define KPA(va)       ((uint64)(va) - KERNBASE)
#define KSTACKS       0xFFFFFFFFC0000000UL   // root entry 511
#define KSTACKPAGES   4
#define KSTACKTOP(h)  (KSTACKS + ((h) + 1) * (KSTACKPAGES + 1) * PGSIZE)

// Virtual: user.
#define MAXUVA        0x4000000000UL   // 256 GiB: Sv39 lower half
#define UTOP          0x3F00000000UL   // user mappings live below this
#define UVPT          0x3F00000000UL
#define UVPD          0x3F20000000UL   // in UVPT's gigabyte: one level-1 table serves both
#define UVPR          0x3F20100000UL
#define UENVS         0x3F80000000UL
#define UPAGES        0x3F80200000UL
#define USYS          0x3F80400000UL
#define UREPOS        0x3F80600000UL   // repossession vectors, one per env

// Library conventions (the kernel does not rely on these).
#define UTEXT         0x10000UL
#define ULIBPAGES     0x3F000000UL     // one 2 MiB region of library pages:
#define FDDATA        (ULIBPAGES)                  //   a data page per fd (pipes)
#define FDTABLE       (ULIBPAGES + 0x20000UL)      //   32 file descriptors, above
#define UIPC          (ULIBPAGES + 0x40000UL)      //   where PCT pages arrive
#define UIOBUF        (ULIBPAGES + 0x41000UL)      //   outgoing I/O page
#define UUART         (ULIBPAGES + 0x42000UL)      //   the console env's UART
#define UCONSBUF      (ULIBPAGES + 0x43000UL)      //   the console env's reply page
#define UARGS         (ULIBPAGES + 0x44000UL)      //   a spawned program's arguments
#define UEXEC         (ULIBPAGES + 0x50000UL)      //   exec's trampoline (2 pages), then
#define EXECOPS       (UEXEC + 0x2000UL)           //   its PTE updates, up to:
#define USWAPMAP      (ULIBPAGES + 0x100000UL)     //   the pager's map (ulib/swap.c)
#define UNETRING      (ULIBPAGES + 0x180000UL)     //   the network stack's receive ring (ulib/net.c)
#define UNETTX        (ULIBPAGES + 0x190000UL)     //   and its transmit pages
#define USTAGE        0x2000000000UL               // exec builds a program at va + USTAGE
#define UCKPT         0x3000000000UL               // ulib/ckpt.c's saved pages
#define UXSTACKTOP    0x40000000UL
#define UXSTACKSIZE   (2 * PGSIZE)     // room for nested upcalls and the pager
#define USTACKTOP     (UXSTACKTOP - UXSTACKSIZE - PGSIZE)
#define USTACKPAGES   16               // stack pages the library maps lazily

#endif
