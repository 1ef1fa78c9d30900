# Trap entry and exit.  While a hart runs user code, sscratch holds its
# struct cpu and stvec = uservec.  System calls below SYS_FIRST_SLOW take
# the short path: save only what a C call would clobber that the user still
# needs (sp, ra, tp), call the handler, zero the temporaries, sret.  Every
# other trap saves all registers into the env and calls usertrap().

#include "abi.h"

#define CPU_KSTACK 0
#define CPU_USP    8
#define CPU_URA    16
#define CPU_ENV    24
#define CPU_SCRATCH 48
#define CPU_KVEC   64
#define CPU_UVEC   72
#define CPU_STAMP  80
#define ENV_UPCALL 256
#define ENV_XLO    264
#define ENV_XHI    272
#define ENV_XKVA   280
#define ENV_XVA    288

.section .text
.balign 4
.globl uservec
uservec:
        csrrw   tp, sscratch, tp        # tp = struct cpu; sscratch = user tp
        sd      sp, CPU_USP(tp)
        ld      sp, CPU_KSTACK(tp)
        sd      ra, CPU_URA(tp)
        csrr    ra, scause
        addi    ra, ra, -8              # environment call from U-mode?
        bnez    ra, exception
        li      ra, SYS_FIRST_SLOW
        bgeu    a7, ra, slowcall
        # ---- short path ----
        ld      ra, CPU_KVEC(tp)        # a fault in the kernel goes to kernelvec
        csrw    stvec, ra
        la      ra, fast_syscalls
        slli    a7, a7, 3
        add     ra, ra, a7
        ld      ra, 0(ra)
        jalr    ra
        csrr    ra, sepc
        addi    ra, ra, 4
        csrw    sepc, ra
        li      t0, 0
        li      t1, 0
        li      t2, 0
        li      t3, 0
        li      t4, 0
        li      t5, 0
        li      t6, 0
        li      a1, 0
        li      a2, 0
        li      a3, 0
        li      a4, 0
        li      a5, 0
        li      a6, 0
        li      a7, 0
        ld      ra, CPU_UVEC(tp)
        csrw    stvec, ra
        ld      ra, CPU_URA(tp)
        ld      sp, CPU_USP(tp)
        csrrw   tp, sscratch, tp        # back to the user's tp
        sret

        # ---- short upcall: an exception, not nested, with the frame's
        # page bound by an earlier slow delivery (see upcall_unbind()).
        # Write the frame straight onto the exception stack and resume
        # at the env's upcall entry.  Holds klock like pte_install().
exception:
        csrr    ra, scause
        bltz    ra, full                # an interrupt
        sd      t0, CPU_SCRATCH(tp)
        sd      t1, CPU_SCRATCH+8(tp)
        ld      t0, CPU_KVEC(tp)
        csrw    stvec, t0
        la      t0, klock
1:      li      t1, 1
        amoswap.w.aq t1, t1, (t0)
        bnez    t1, 1b
        ld      ra, CPU_ENV(tp)
        ld      t0, ENV_XKVA(ra)
        beqz    t0, unbound
        ld      t1, CPU_USP(tp)
        ld      sp, ENV_XLO(ra)
        bleu    t1, sp, 2f              # user sp <= xlo: not on the exception stack
        ld      sp, ENV_XHI(ra)
        bleu    t1, sp, unbound         # xlo < sp <= xhi: nested, the slow path
2:      sd      gp, 16(t0)
        sd      t2, 48(t0)
        sd      s0, 56(t0)
        sd      s1, 64(t0)
        sd      a0, 72(t0)
        sd      a1, 80(t0)
        sd      a2, 88(t0)
        sd      a3, 96(t0)
        sd      a4, 104(t0)
        sd      a5, 112(t0)
        sd      a6, 120(t0)
        sd      a7, 128(t0)
        sd      s2, 136(t0)
        sd      s3, 144(t0)
        sd      s4, 152(t0)
        sd      s5, 160(t0)
        sd      s6, 168(t0)
        sd      s7, 176(t0)
        sd      s8, 184(t0)
        sd      s9, 192(t0)
        sd      s10, 200(t0)
        sd      s11, 208(t0)
        sd      t3, 216(t0)
        sd      t4, 224(t0)
        sd      t5, 232(t0)
        sd      t6, 240(t0)
        ld      sp, CPU_URA(tp)
        sd      sp, 0(t0)
        sd      t1, 8(t0)               # user sp
        csrr    sp, sscratch
        sd      sp, 24(t0)              # user tp
        ld      sp, CPU_SCRATCH(tp)
        sd      sp, 32(t0)              # user t0
        ld      sp, CPU_SCRATCH+8(tp)
        sd      sp, 40(t0)              # user t1
        csrr    sp, sepc
        sd      sp, 248(t0)
        csrr    sp, scause
        sd      sp, 256(t0)
        csrr    sp, stval
        sd      sp, 264(t0)
        ld      sp, ENV_UPCALL(ra)
        csrw    sepc, sp
        ld      a0, ENV_XVA(ra)         # a0 = sp = the frame
        la      t0, klock
        amoswap.w.rl zero, zero, (t0)
        mv      sp, a0
        ld      ra, CPU_UVEC(tp)
        csrw    stvec, ra
        ld      ra, CPU_URA(tp)
        ld      t0, CPU_SCRATCH(tp)
        ld      t1, CPU_SCRATCH+8(tp)
        csrrw   tp, sscratch, tp
        sret
unbound:
        la      t0, klock
        amoswap.w.rl zero, zero, (t0)
        ld      t0, CPU_SCRATCH(tp)
        ld      t1, CPU_SCRATCH+8(tp)
        ld      sp, CPU_KSTACK(tp)

        # ---- full save into the env's trapframe ----
        # SAVE_COMMON: every register but t0-t6 into the env at ra; then
        # stvec = kernelvec.  Expects tp = struct cpu, user ra/sp in it.
.macro SAVE_COMMON
        sd      gp, 16(ra)
        sd      s0, 56(ra)
        sd      s1, 64(ra)
        sd      a0, 72(ra)
        sd      a1, 80(ra)
        sd      a2, 88(ra)
        sd      a3, 96(ra)
        sd      a4, 104(ra)
        sd      a5, 112(ra)
        sd      a6, 120(ra)
        sd      a7, 128(ra)
        sd      s2, 136(ra)
        sd      s3, 144(ra)
        sd      s4, 152(ra)
        sd      s5, 160(ra)
        sd      s6, 168(ra)
        sd      s7, 176(ra)
        sd      s8, 184(ra)
        sd      s9, 192(ra)
        sd      s10, 200(ra)
        sd      s11, 208(ra)
        ld      t0, CPU_URA(tp)
        sd      t0, 0(ra)
        ld      t0, CPU_USP(tp)
        sd      t0, 8(ra)
        csrr    t0, sscratch
        sd      t0, 24(ra)
        csrr    t0, sepc
        sd      t0, 248(ra)
        ld      t0, CPU_KVEC(tp)
        csrw    stvec, t0
.endm

        # Interrupts and exceptions: all registers.
full:
        ld      ra, CPU_ENV(tp)
        sd      t0, 32(ra)
        rdinstret t0                    # when this trap began (irq_to_user)
        sd      t0, CPU_STAMP(tp)
        sd      t1, 40(ra)
        sd      t2, 48(ra)
        sd      t3, 216(ra)
        sd      t4, 224(ra)
        sd      t5, 232(ra)
        sd      t6, 240(ra)
        SAVE_COMMON
        call    usertrap                # never returns

        # System calls that may switch envs.  They clobber t0-t6 (the ABI
        # says so): those slots keep this env's own older values, never
        # kernel data.  A directed yield goes straight to its fast path.
slowcall:
        ld      ra, CPU_ENV(tp)
        SAVE_COMMON
        li      t0, SYS_yield
        beq     a7, t0, 1f
        li      t0, SYS_pct_call
        beq     a7, t0, 2f
        li      t0, SYS_pct_reply_recv
        beq     a7, t0, 2f
        call    usertrap                # never returns
1:      call    yield_syscall           # never returns
2:      call    pct_fast                # never returns

# userret(tf): resume user code from a saved trapframe.  The caller has set
# sstatus (SPP = user, SPIE = 1) and satp, and holds no locks.
.globl userret
userret:
        ld      t0, 248(a0)
        csrw    sepc, t0
        ld      t0, CPU_UVEC(tp)
        csrw    stvec, t0
        csrw    sscratch, tp
        ld      ra, 0(a0)
        ld      sp, 8(a0)
        ld      gp, 16(a0)
        ld      tp, 24(a0)
        ld      t0, 32(a0)
        ld      t1, 40(a0)
        ld      t2, 48(a0)
        ld      s0, 56(a0)
        ld      s1, 64(a0)
        ld      a1, 80(a0)
        ld      a2, 88(a0)
        ld      a3, 96(a0)
        ld      a4, 104(a0)
        ld      a5, 112(a0)
        ld      a6, 120(a0)
        ld      a7, 128(a0)
        ld      s2, 136(a0)
        ld      s3, 144(a0)
        ld      s4, 152(a0)
        ld      s5, 160(a0)
        ld      s6, 168(a0)
        ld      s7, 176(a0)
        ld      s8, 184(a0)
        ld      s9, 192(a0)
        ld      s10, 200(a0)
        ld      s11, 208(a0)
        ld      t3, 216(a0)
        ld      t4, 224(a0)
        ld      t5, 232(a0)
        ld      t6, 240(a0)
        ld      a0, 72(a0)
        sret

# Traps taken in S-mode: interrupts while a hart idles, and kernel bugs.
# Saves the caller-saved registers on the current stack.
.balign 4
.globl kernelvec
kernelvec:
        addi    sp, sp, -144
        sd      ra, 0(sp)
        sd      t0, 8(sp)
        sd      t1, 16(sp)
        sd      t2, 24(sp)
        sd      a0, 32(sp)
        sd      a1, 40(sp)
        sd      a2, 48(sp)
        sd      a3, 56(sp)
        sd      a4, 64(sp)
        sd      a5, 72(sp)
        sd      a6, 80(sp)
        sd      a7, 88(sp)
        sd      t3, 96(sp)
        sd      t4, 104(sp)
        sd      t5, 112(sp)
        sd      t6, 120(sp)
        call    kerneltrap
        ld      ra, 0(sp)
        ld      t0, 8(sp)
        ld      t1, 16(sp)
        ld      t2, 24(sp)
        ld      a0, 32(sp)
        ld      a1, 40(sp)
        ld      a2, 48(sp)
        ld      a3, 56(sp)
        ld      a4, 64(sp)
        ld      a5, 72(sp)
        ld      a6, 80(sp)
        ld      a7, 88(sp)
        ld      t3, 96(sp)
        ld      t4, 104(sp)
        ld      t5, 112(sp)
        ld      t6, 120(sp)
        addi    sp, sp, 144
        sret
