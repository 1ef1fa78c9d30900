# Trap entry and exit.  While a hart runs user code, sscratch holds its
# struct cpu and stvec = uservec.  System calls below SYS_FIRST_SLOW take
# the short path: save only what a C call would clobber that the user still
# needs (sp, ra, tp), call the handler, zero the temporaries, sret.  Every
# other trap saves all registers into the env and calls usertrap().

#include "abi.h"
#include "memlayout.h"
#include "asm.h"

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
        bgeu    a7, ra, slowcall_or_pct
        # ---- short path ----
        ld      ra, CPU_KVEC(tp)        # a fault in the kernel goes to kernelvec
        csrw    stvec, ra
#ifdef KCHECK
        sd      a7, CPU_SCRATCH+8(tp)   # the call's number, for kcheck_fast
#endif
        la      ra, fast_syscalls
        slli    a7, a7, 3
        add     ra, ra, a7
        ld      ra, 0(ra)
        jalr    ra
#ifdef KCHECK
        sd      a0, CPU_SCRATCH(tp)     # the result survives the check
        ld      a0, CPU_SCRATCH+8(tp)
        call    kcheck_fast
        ld      a0, CPU_SCRATCH(tp)
#endif
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
        j       full

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

        # ---- the PCT short path ----
        # pct_call or pct_reply_recv with registers only (a4 = a5 = 0),
        # the peer blocked in the matching state, runnable, and no interrupt
        # pending for us: swap the preserved registers of the two envs and
        # sret into the peer, the message still in a1-a3.  Anything else,
        # errors included, goes the general way, untouched.  t0-t6 and a6
        # are scratch (the call clobbers them).  stvec stays at uservec: this
        # path touches only kernel data (envs, envpubs, klock) and CSRs.
slowcall_or_pct:
        or      t0, a4, a5
        bnez    t0, slowcall
        li      t0, SYS_pct_call
        beq     a7, t0, 1f
        li      t0, SYS_pct_reply_recv
        bne     a7, t0, slowcall
1:      la      t0, klock
2:      li      t1, 1
        amoswap.w.aq t1, t1, (t0)
        bnez    t1, 2b
        ld      t2, CPU_ENV(tp)         # t2 = me
        andi    t3, a0, NENV - 1
        slli    t3, t3, ENV_SHIFT
        la      t4, envs
        add     t3, t3, t4              # t3 = the peer
        lw      t4, ENV_ID(t3)
        bne     t4, a0, pct_decline     # no such env (also catches a0 = 0)
        beq     t3, t2, pct_decline
        lw      t4, ENV_STATUS(t3)
        li      t5, ENV_RUNNABLE
        bne     t4, t5, pct_decline
        lw      t4, ENV_DYING(t3)
        bnez    t4, pct_decline
        lw      t4, ENV_IPC(t3)
        li      t5, SYS_pct_call
        bne     a7, t5, 3f
        li      t5, IPC_RECV            # call: the peer waits in pct_recv
        bne     t4, t5, pct_decline
        li      t5, IPC_CALL
        sw      t5, ENV_IPC(t2)
        sw      a0, ENV_PEER(t2)
        sd      zero, ENV_IPCVA(t2)
        lw      t5, ENV_WAITERS(t3)
        addi    t5, t5, 1
        sw      t5, ENV_WAITERS(t3)
        lw      a0, ENV_ID(t2)          # the peer learns who called
        li      a5, PCT_CALL
        j       4f
3:      li      t5, IPC_CALL            # reply: the peer waits for our answer
        bne     t4, t5, pct_decline
        ld      t4, ENV_NOTIFY(t2)      # with ENV_SENDQN: an interrupt to report,
        bnez    t4, pct_decline         # or a queued sender, before we wait
        lw      t4, ENV_PEER(t3)
        lw      t5, ENV_ID(t2)
        bne     t4, t5, pct_decline
        li      t5, IPC_RECV
        sw      t5, ENV_IPC(t2)
        sd      zero, ENV_IPCVA(t2)
        lw      t5, ENV_WAITERS(t2)
        addi    t5, t5, -1
        sw      t5, ENV_WAITERS(t2)
        li      a0, 0                   # the caller's result
4:      sw      zero, ENV_IPC(t3)       # the peer is no longer blocked
        # save my preserved registers and pc
        ld      t4, CPU_URA(tp)
        sd      t4, 0(t2)
        ld      t4, CPU_USP(tp)
        sd      t4, 8(t2)
        sd      gp, 16(t2)
        csrr    t4, sscratch
        sd      t4, 24(t2)
        sd      s0, 56(t2)
        sd      s1, 64(t2)
        sd      s2, 136(t2)
        sd      s3, 144(t2)
        sd      s4, 152(t2)
        sd      s5, 160(t2)
        sd      s6, 168(t2)
        sd      s7, 176(t2)
        sd      s8, 184(t2)
        sd      s9, 192(t2)
        sd      s10, 200(t2)
        sd      s11, 208(t2)
        csrr    t4, sepc
        addi    t4, t4, 4
        sd      t4, 248(t2)
        # I stop running here; the peer runs on this hart
        la      t6, envpubs
        li      t4, -1
        sw      t4, ENV_HART(t2)
        lw      t5, ENV_ID(t2)
        andi    t5, t5, NENV - 1
        slli    t5, t5, PUB_SHIFT
        add     t5, t5, t6
        sw      t4, PUB_HART(t5)
        sd      t3, CPU_ENV(tp)
        ld      t4, CPU_HARTID(tp)
        sw      t4, ENV_HART(t3)
        lw      t5, ENV_ID(t3)
        andi    t5, t5, NENV - 1
        slli    t5, t5, PUB_SHIFT
        add     t5, t5, t6
        sw      t4, PUB_HART(t5)        # (runs counts scheduler dispatches, not PCT)
        ld      t4, ENV_SATP(t3)        # the peer's page table
        csrw    satp, t4
        sfence.vma zero, zero
        amoswap.w.rl zero, zero, (t0)   # release klock
        # the peer's preserved registers and pc
        ld      t4, 248(t3)
        csrw    sepc, t4
        ld      ra, 0(t3)
        ld      sp, 8(t3)
        ld      gp, 16(t3)
        ld      s0, 56(t3)
        ld      s1, 64(t3)
        ld      s2, 136(t3)
        ld      s3, 144(t3)
        ld      s4, 152(t3)
        ld      s5, 160(t3)
        ld      s6, 168(t3)
        ld      s7, 176(t3)
        ld      s8, 184(t3)
        ld      s9, 192(t3)
        ld      s10, 200(t3)
        ld      s11, 208(t3)
        ld      t4, 24(t3)              # its tp, installed last
        csrw    sscratch, tp
        mv      tp, t4
        li      t0, 0                   # (t1 is 0 from the lock loop)
        li      t2, 0
        li      t3, 0
        li      t4, 0
        li      t5, 0
        li      t6, 0
        li      a6, 0
        li      a7, 0
        sret                            # a0 = who/result, a1-a3 = words, a4 = 0, a5 = kind
pct_decline:
        amoswap.w.rl zero, zero, (t0)
        j       slowcall

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

# schedule(): give up this hart's current env and run the next one; never
# returns.  Every caller abandons its own frame, so the scheduler starts
# again at the top of this hart's kernel stack: a chain of envs that die on
# their way in never deepens the stack.  Called with klock held.
.globl schedule
schedule:
        ld      sp, CPU_KSTACK(tp)
        tail    scheduler

# Traps taken in S-mode: interrupts while a hart idles, and kernel bugs.
# Saves the caller-saved registers on the current stack, after checking
# that sp is inside this hart's kernel stack: a trap in the guard page
# below it (an overflow) would otherwise trap again at every push.
.balign 4
.globl kernelvec
kernelvec:
        sd      t0, CPU_KSCRATCH(tp)
        ld      t0, CPU_KSTACK(tp)
        sub     t0, t0, sp              # bytes in use (huge if sp is above the top)
        addi    t0, t0, 144             # and this frame
        srli    t0, t0, 14              # >= KSTACKSIZE (16 KiB): overflow
        bnez    t0, kstack_overflow
        ld      t0, CPU_KSCRATCH(tp)
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
kstack_overflow:
        ld      sp, CPU_KSTACK(tp)      # the old stack is lost: panic on a fresh one
        call    kstack_overflowed       # never returns
