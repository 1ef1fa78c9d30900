# Bare-metal entry for the matmul baseline: a stack, then C.
.section .text.entry
.globl _start
_start:
        la      sp, stack_top
        call    baremetal_main
1:      j       1b
.section .bss
.balign 16
        .zero   16384
stack_top:
