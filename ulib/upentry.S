# The upcall entry.  The kernel starts us here with sp = a0 = a struct
# uframe on the exception stack.  upcall_dispatch() runs the handlers; then
# we restore every register from the frame and jump to the saved pc without
# entering the kernel.  The kernel is told never to deliver an asynchronous
# upcall (an interrupt) between upcall_restore_start and _end.  gp is the one register we cannot give back: it
# carries the target pc (user code is built with -mno-relax and never uses
# gp).
.section .text
.balign 4
.globl upcall_entry
upcall_entry:
        call    upcall_dispatch         # sp is callee-saved: still the frame
.globl upcall_restore_start
upcall_restore_start:                   # no asynchronous upcall from here on:
# BEGIN LAB upcall: the return from an upcall: restore every register from the frame at sp (struct uframe, kernel/abi.h) and jump to the saved pc
        ld      ra, 0(sp)
        ld      tp, 24(sp)
        ld      t0, 32(sp)
        ld      t1, 40(sp)
        ld      t2, 48(sp)
        ld      s0, 56(sp)
        ld      s1, 64(sp)
        ld      a0, 72(sp)
        ld      a1, 80(sp)
        ld      a2, 88(sp)
        ld      a3, 96(sp)
        ld      a4, 104(sp)
        ld      a5, 112(sp)
        ld      a6, 120(sp)
        ld      a7, 128(sp)
        ld      s2, 136(sp)
        ld      s3, 144(sp)
        ld      s4, 152(sp)
        ld      s5, 160(sp)
        ld      s6, 168(sp)
        ld      s7, 176(sp)
        ld      s8, 184(sp)
        ld      s9, 192(sp)
        ld      s10, 200(sp)
        ld      s11, 208(sp)
        ld      t3, 216(sp)
        ld      t4, 224(sp)
        ld      t5, 232(sp)
        ld      t6, 240(sp)
        ld      gp, 248(sp)             # the interrupted pc
        ld      sp, 8(sp)
        jr      gp
# END LAB upcall: mv a0, sp; call upcall_return_todo
.globl upcall_restore_end
upcall_restore_end:                     # (gp is the only copy of the target pc)
