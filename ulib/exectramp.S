# The last step of exec (exec.c), run from a second mapping of the page(s)
# holding it (at UEXEC), since the batch of PTE updates it applies unmaps
# the old program's text, this code's first home.  Registers only: a0 =
# the ops (struct pte_op), a1 = how many, a2 = the new program's entry.
# Each chunk of at most PTE_BATCH_MAX is applied whole, and applied again
# after a yield if the kernel answers E_AGAIN (memory being reclaimed:
# every op is idempotent, so a chunk half done may simply be redone).  Any
# other error leaves no program to return to: the env exits with -1.
#include "abi.h"
#include "memlayout.h"

.section .text.exectramp
.balign 64
.globl exec_tramp, exec_tramp_end
exec_tramp:
        mv      s0, a0
        mv      s1, a1
        mv      s2, a2
1:      beqz    s1, 3f
        li      s3, PTE_BATCH_MAX
        bleu    s3, s1, 2f
        mv      s3, s1
2:      li      a0, 0
        mv      a1, s0
        mv      a2, s3
        li      a7, SYS_pte_batch
        ecall
        li      t0, -E_AGAIN
        beq     a0, t0, 4f
        bnez    a0, 5f
        slli    t1, s3, 4               # 16 bytes an op
        add     s0, s0, t1
        sub     s1, s1, s3
        j       1b
3:      li      sp, USTACKTOP
        li      ra, 0
        li      a0, 0
        li      a1, 0
        jr      s2
4:      li      a0, 0
        li      a7, SYS_yield
        ecall
        j       1b
5:      li      a0, -1
        li      a7, SYS_exit
        ecall
        j       5b
exec_tramp_end:
