// Offsets into kernel structures for trampoline.S; trap.c checks each one
// against the C layout with _Static_assert.
#ifndef ASM_H
#define ASM_H

#define CPU_KSTACK  0
#define CPU_USP     8
#define CPU_URA     16
#define CPU_ENV     24
#define CPU_HARTID  32
#define CPU_SCRATCH 48
#define CPU_KVEC    64
#define CPU_UVEC    72
#define CPU_STAMP   80
#define CPU_KSCRATCH 88

#define ENV_SHIFT   10            // sizeof(struct env) == 1 << ENV_SHIFT
#define ENV_UPCALL  256
#define ENV_XLO     264
#define ENV_XHI     272
#define ENV_XKVA    280
#define ENV_XVA     288
#define ENV_ID      296
#define ENV_STATUS  300
#define ENV_HART    304
#define ENV_DYING   308
#define ENV_PT      312
#define ENV_IPC     320
#define ENV_PEER    324
#define ENV_IPCVA   328
#define ENV_NOTIFY  336
#define ENV_SENDQN  340
#define ENV_WAITERS 344
#define ENV_SATP    352

#define PUB_SHIFT   6             // sizeof(struct envpub) == 1 << PUB_SHIFT
#define PUB_HART    24
#define PUB_RUNS    28

#define IPC_NONE 0
#define IPC_RECV 1                // in pct_recv: waiting for a call, send or IRQ
#define IPC_CALL 2                // in pct_call: waiting for the reply
#define IPC_IO   3                // in blk_io: waiting for the disk
#define IPC_WAIT 4                // in mwait: waiting on a word or a deadline (wait.c)
#define IPC_SENDQ 5               // queued in pct_call/send (PCT_BLOCK) for ipc_peer's recv

#endif
