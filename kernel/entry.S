# Boot: OpenSBI enters here in S-mode at physical 0x80200000 with the MMU
# off, a0 = hart id, a1 = device tree.  We turn on a boot page table of
# three 1 GiB pages (identity for RAM so this code keeps running, and the
# kernel's high direct map), then jump to the high addresses and call C.
# Secondary harts started by SBI HSM come in at _secondary (a1 = 0).

#include "memlayout.h"

.section .text.entry
.globl _start
_start:
        li      a2, 1                   # a2 = 1: the boot hart
        j       1f
.globl _secondary
_secondary:
        li      a2, 0
1:      la      t0, boot_pagetable      # PC-relative: the physical address
        srli    t0, t0, 12
        li      t1, 8
        slli    t1, t1, 60              # Sv39
        or      t0, t0, t1
        csrw    satp, t0
        sfence.vma zero, zero
        la      t0, high_addr
        ld      t0, 0(t0)               # the linked (high) address of high
        jr      t0
high:
        # now running at KERNBASE + pa; sp = boot stack of this hart
        la      sp, boot_stacks
        addi    t0, a0, 1
        li      t1, 16384
        mul     t0, t0, t1
        add     sp, sp, t0
        call    kmain
2:      wfi
        j       2b

.section .data
.balign 8
high_addr:
        .dword  high

# The boot page table: 1 GiB leaves, V|R|W|X|A|D (+G for the high half).
.balign 4096
.globl boot_pagetable
boot_pagetable:
        .dword  0, 0
        .dword  (0x80000 << 10) | 0xCF          # [2]   0x80000000 identity
        .zero   8 * 253
        .dword  (0x00000 << 10) | 0xEF          # [256] KERNBASE + 0: devices
        .dword  0
        .dword  (0x80000 << 10) | 0xEF          # [258] KERNBASE + 0x80000000: RAM
        .zero   8 * 253

.section .bss
.balign 16
.globl boot_stacks
boot_stacks:
        .zero   16384 * 8
