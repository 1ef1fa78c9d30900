// The exokernel ABI: system-call numbers, error codes, Sv39 PTE bits and the
// records the kernel shares with user code.  Included by the kernel and the
// library OS; it is the whole contract between them.
#ifndef ABI_H
#define ABI_H
#ifndef __ASSEMBLER__
#include "types.h"
#endif

// ---- System calls: number in a7, arguments in a0..a5, result in a0. ----
// A negative result is -E_xxx.  Registers t0-t6 and a1-a7 are clobbered:
// the short calls zero them, the calls that may switch envs leave the env's
// own earlier values there (never kernel data).  s0-s11, sp, ra, gp and tp
// are preserved.
// Calls below SYS_FIRST_SLOW never switch envs and take the short path.
#define SYS_cputs          0   // (buf, len): write bytes on the debug console
#define SYS_getenvid       1   // (): the caller's env id
#define SYS_page_alloc     2   // (envid): new zeroed page owned by envid; its PPN
#define SYS_page_free      3   // (ppn): drop the owner's hold on a page
#define SYS_pte_set        4   // (envid, va, pte, srcva): install/change/clear (pte 0) a leaf
#define SYS_pte_batch      5   // (envid, struct pte_op *ops, n): n pte_set's in order
#define SYS_env_set_upcall 6   // (envid, entry, xstack_lo, xstack_hi, nocall_lo, nocall_hi)
#define SYS_env_set_status 7   // (envid, ENV_RUNNABLE or ENV_NOT_RUNNABLE)
#define SYS_env_set_regs   8   // (envid, struct trapframe *): env must not be running
#define SYS_slot_acquire   9   // (envid): give envid one more time slice, up to its
                               //   share (syspub.slot_share); slot index
#define SYS_slot_release   10  // (envid): take one slice away (never the last)
#define SYS_env_destroy    11  // (envid): destroy a descendant / reap an exited child
#define SYS_halt           12  // (): power off the machine (SBI SRST)
#define SYS_getbootarg     13  // (buf, len): copy the boot arguments; their length
#define SYS_env_grant      14  // (envid, rights): give a descendant rights the caller holds
#define SYS_irq_claim      15  // (irq, flags): become the owner of a PLIC source
                               //   (IRQ_CHILD, IRQ_DISK: be told of my own events)
#define IRQ_UPCALL         1   //   flag: an upcall when the owner is not in pct_recv
#define SYS_irq_ack        16  // (irq): serviced: complete and unmask the source
#define SYS_dev_map        17  // (dev, va): map a device's registers at va
#define SYS_pct_reply      18  // (caller, w1, w2, w3, page): reply, keep running
#define SYS_blk_grant      19  // (envid, start, count, rights): give a descendant an extent
#define SYS_blk_revoke     20  // (envid, index): take a descendant's extent away
#define SYS_env_set_tick   21  // (envid, on): a CAUSE_TICK upcall at the start of each
                               //   of envid's time slices (on = 1) or not (on = 0)
#define SYS_mwake          22  // (va, n): wake up to n (0: all) envs in mwait on the
                               //   word at va; the number woken
#define SYS_mem_soft       23  // (envid, pages): above this many pages (0: its share)
                               //   the env is asked back first, even below its share
#define SYS_net_filter     24  // (op, arg): NETF_ADD (struct netfilter *arg): install a
                               //   receive filter, its id; NETF_DEL: remove filter arg
#define SYS_net_ring       25  // (va, npages): receive the frames one's filters take
                               //   into these pages (struct netslot, NET_SLOTS_PER_PAGE
                               //   each); (0, 0): stop
#define SYS_net_send       26  // (va, len): transmit the Ethernet frame at va
#define SYS_net_revoke     27  // (envid, keep): take RIGHT_NET from envid (unless keep),
                               //   its descendants and those it granted it to
#define SYS_FIRST_SLOW     32
#define SYS_exofork        32  // (): new child env; child id, or 0 in the child
#define SYS_yield          33  // (envid): give the rest of the slice to envid (0: any)
#define SYS_exit           34  // (status): end the caller; never returns
#define SYS_pct_call       35  // (target, w1, w2, w3, page, reply_va): call, wait for reply
#define SYS_pct_send       36  // (target, w1, w2, w3, page): deliver, do not wait
#define SYS_pct_recv       37  // (.., recv_va in a5): wait for a call, send or interrupt
#define SYS_pct_reply_recv 38  // (caller, w1, w2, w3, page, recv_va): reply, then wait
#define SYS_blk_io         39  // (op, block, va, n): read or write n blocks
#define SYS_blk_wait       40  // (tags): wait for asynchronous requests to finish;
                               //   the mask of finished tags (> 0), a1 = failed ones
#define SYS_mwait          41  // (va, expected, deadline, refs): sleep while the 64-bit
                               //   word at va holds expected (and, if refs, its page
                               //   has refs mappings), until mwake, the time CSR
                               //   reaches deadline (0: none), an upcall comes or the
                               //   page loses a mapping: 0 (perhaps spurious),
                               //   E_AGAIN (it differs), E_TIMEOUT
#define NSYSCALL           42

// Rights an env may hold (envpub.rights).  The first env holds them all; an
// env passes some of its own to a descendant with SYS_env_grant.
#define RIGHT_HALT   (1U << 0)            // may power the machine off
#define RIGHT_UART   (1U << 1)            // may map the UART and claim its interrupt
#define RIGHT_NET    (1U << 2)            // may use the network (SYS_net_*)
#define RIGHT_ALL    (RIGHT_HALT | RIGHT_UART | RIGHT_NET)

// Devices for SYS_dev_map (the kernel's own devices are not in this list).
#define DEV_UART     0                    // NS16550A registers, one page; PLIC source 10
#define IRQ_UART     10
// Two sources are events about the claimer itself, which any env may
// claim (with or without IRQ_UPCALL); they make nobody a device's owner.
#define IRQ_CHILD    0                    // "a child of yours exited" (PLIC source 0
                                          // does not exist)
#define IRQ_DISK     1                    // "an asynchronous disk request of yours
                                          // finished": blk_wait collects it (the
                                          // disk's own source 1 stays the kernel's)
#define IRQ_NET      2                    // "a frame arrived in your receive ring"
                                          // (the NIC's source 2 stays the kernel's)

// Disk blocks (4096 bytes).  An env holds up to NBLKCAP capabilities, each
// an extent [start, start+count) with rights; the first env holds the whole
// disk.  SYS_blk_io moves 1..BLK_MAXPAGES blocks between the disk and pages.
#define BLK_READ     0                    // disk -> memory (pages must be writable)
#define BLK_WRITE    1                    // memory -> disk
#define BLK_ASYNC    0x10                 // or'ed into op: return a tag (0..62) at
                                          // once; blk_wait(1 << tag) collects it
                                          // and returns the mask of finished tags,
                                          // positive (tag 63 is never used)
#define BLK_R        1                    // capability rights
#define BLK_W        2
#define BLK_MAXPAGES 8
#define NBLKCAP      8

// Protected control transfer.  A page offered with a message is one word:
// its address | the permissions (PTE_R/W/X) the receiver gets, at most the
// sender's own.  What a receiver finds when pct_recv/pct_reply_recv return:
//   a0 = sender's env id (0: the kernel, for interrupts), a1..a3 = the words
//   (for an interrupt: a1 = mask of pending IRQs), a4 = permissions of the
//   page mapped at its recv_va (0: none), a5 = PCT_CALL if the sender waits
//   for a reply, PCT_SEND if not.
// What a caller finds when pct_call returns: a0 = 0 (or -error), a1..a3 =
// the reply words, a4 = permissions of a page mapped at its reply_va.
#define PCT_SEND     0
#define PCT_CALL     1
// a6 of pct_call and pct_send: if the target is not waiting in pct_recv,
// wait in its queue (first come, first served) until it is, instead of
// failing with E_NOT_WAITING.  A queued sender whose target dies gets
// E_BAD_ENV.
#define PCT_BLOCK    1

// The network (docs/net.md).  The kernel drives the NIC and demultiplexes
// received frames by packet filters; protocols are the library's.  A filter
// is a conjunction of tests: the size-byte big-endian field at byte off of
// the frame, and'ed with mask, equals value.  No tests: the default owner,
// which takes the frames no other filter takes.
#define NETF_ADD       0
#define NETF_DEL       1
#define NETF_MAXTESTS  8
#define NETF_PER_ENV   64                 // filters one env may hold
#define NETF_SHAPES_PER_ENV 6             // and distinct shapes among them (docs/net.md)
#define NET_MAXFRAME   1514               // Ethernet header + 1500, no FCS
#define NET_MINFRAME   14                 // an Ethernet header
#define NET_RINGPAGES  16                 // the most pages in a receive ring
#define NET_SLOT       2048
#define NET_SLOTS_PER_PAGE 2
#ifndef __ASSEMBLER__
struct nettest {
  uint16 off;                             // byte offset in the frame
  uint8  size;                            // 1, 2 or 4 bytes, big-endian
  uint8  pad;                             // 0
  uint32 mask;                            // non-zero, within size bytes
  uint32 value;                           // no bits outside mask
};
struct netfilter {
  uint32 ntests;                          // 0 .. NETF_MAXTESTS
  uint32 flags;                           // 0
  struct nettest t[NETF_MAXTESTS];
};
// One receive slot.  The kernel fills a slot whose full word is 0 (frame,
// then len, then full = 1, and wakes mwait on full); the env empties it
// and sets full back to 0.  Slots are used in order, wrapping around; a
// frame that finds its next slot full is dropped (syspub.net_ringfull).
struct netslot {
  uint64 full;
  uint32 len;                             // bytes of frame
  uint16 pad;
  uint8  frame[NET_SLOT - 14];            // (so the IP header is 4-aligned)
};
#endif

#define MAXCPUTS     4096                 // longest SYS_cputs write

// ---- Errors ----
#define E_INVAL      1   // bad argument (number out of range, bad status, ...)
#define E_BAD_ENV    2   // no such env, or not the caller or its descendant
#define E_NO_MEM     3   // out of physical pages
#define E_FAULT      4   // a pointer argument is not readable/writable user memory
#define E_PERM       5   // the page is not accessible to the caller
#define E_BAD_PTE    6   // illegal PTE bits (V/U missing, G set, W without R, ...)
#define E_BAD_VA     7   // address unaligned, >= UTOP, or in a reserved region
#define E_NO_ENV     8   // env table full
#define E_NO_SLOT    9   // no free time slice / would release the last one
#define E_NOSYS      10  // no such system call
#define E_BUSY       11  // the env is running (set_regs), or the page is pinned
#define E_NOT_WAITING 12 // PCT: the target is not waiting in pct_recv
#define E_PIPE       13  // (library) write to a pipe nobody reads
#define E_BADF       14  // (library) not an open file descriptor
#define E_BAD_BLOCK  15  // a block number past the end of the disk
#define E_IO         16  // the disk reported an error
// (library) the file system's errors, for the file server and its clients
#define E_NOENT      17  // no such file or directory
#define E_EXIST      18  // the name exists already
#define E_NOTDIR     19  // a path element is not a directory
#define E_ISDIR      20  // is a directory
#define E_NOSPC      21  // no space left on the disk (blocks, inodes or log)
#define E_NAMETOOLONG 22 // a path element longer than DIRSIZ, or a path of MAXPATH or more
#define E_NOTEMPTY   23  // directory not empty
#define E_MFILE      24  // too many open files
#define E_CORRUPT    25  // the file system is damaged
#define E_FBIG       26  // file too large
#define E_NOEXEC     27  // not an executable (bad ELF)
#define E_MLINK      28  // too many links
#define E_AGAIN      29  // try again: memory is being reclaimed from other envs (yield,
                         // then retry); mwait: the word no longer holds the value
#define E_LOOP       30  // (library) a path follows more than MAXSYMLINKS symbolic links
#define E_TIMEOUT    31  // mwait: the deadline passed
#define NERRORS      32

// ---- Sv39 page-table entries ----
#define PTE_V   (1UL << 0)
#define PTE_R   (1UL << 1)
#define PTE_W   (1UL << 2)
#define PTE_X   (1UL << 3)
#define PTE_U   (1UL << 4)
#define PTE_G   (1UL << 5)
#define PTE_A   (1UL << 6)
#define PTE_D   (1UL << 7)
#define PTE_RSW0 (1UL << 8)     // the two RSW bits belong to the library OS
#define PTE_RSW1 (1UL << 9)
#define PTE_FLAGS 0x3FFUL
#define PTE_PPN(pte)       (((pte) >> 10) & ((1UL << 44) - 1))
#define PPN_PTE(ppn, flags) (((uint64)(ppn) << 10) | (flags))
#define PTE_PA(pte)        (PTE_PPN(pte) << 12)

#define PTE_BATCH_MAX 1024       // entries one SYS_pte_batch may apply
#ifndef __ASSEMBLER__
struct pte_op {          // one entry of SYS_pte_batch
  uint64 va;
  uint64 pte;            // 0 clears the mapping
};

// ---- Saved user registers ----
// x1..x31 in order (reg[i-1] is xi), then the pc.  Used by SYS_env_set_regs
// and as the start of every upcall frame.
struct trapframe {
  uint64 ra, sp, gp, tp, t0, t1, t2, s0, s1;
  uint64 a0, a1, a2, a3, a4, a5, a6, a7;
  uint64 s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
  uint64 t3, t4, t5, t6;
  uint64 pc;
};

// ---- Upcalls ----
// On a fault the kernel pushes a struct uframe on the env's exception stack
// (at xstack_hi, or below the current sp if that is already inside the
// exception stack: a nested fault), then resumes the env at its upcall
// entry with sp = a0 = the frame.  The library returns to tf.pc itself.
struct uframe {
  struct trapframe tf;   // the interrupted registers and pc
  uint64 cause;          // scause (exception code)
  uint64 tval;           // stval (faulting address or instruction)
};
#endif

// scause exception codes delivered as upcalls.
#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS     1
#define CAUSE_ILLEGAL          2
#define CAUSE_BREAKPOINT       3
#define CAUSE_MISALIGNED_LOAD  4
#define CAUSE_LOAD_ACCESS      5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS     7
#define CAUSE_USER_ECALL       8
#define CAUSE_FETCH_PAGE       12
#define CAUSE_LOAD_PAGE        13
#define CAUSE_STORE_PAGE       15
#define CAUSE_IRQ              16  // not an exception: device interrupts (tval = IRQ mask)
#define CAUSE_REVOKE           17  // a revocation request: give back tval pages soon
#define CAUSE_REPOSSESS        18  // the abort protocol took tval pages (see UREPOS)
#define CAUSE_TICK             19  // a time slice begins (SYS_env_set_tick; tval = 0):
                                   // a library runs its own thread scheduler here
#define NCAUSE                 20

// ---- Public records, mapped read-only into every env ----
#define NENV    256               // env table size
#define NSLOT   256               // time-slice vector size
#define ENVX(id) ((id) & (NENV - 1))

// Env status.
#define ENV_FREE          0
#define ENV_RUNNABLE      1
#define ENV_NOT_RUNNABLE  2
#define ENV_EXITED        3       // exited; exit code valid until reaped

#ifndef __ASSEMBLER__
struct envpub {                   // at UENVS[ENVX(id)]
  envid_t id;                     // 0 when the slot is free
  envid_t parent;
  int32   status;
  int32   exitcode;
  int32   npages;                 // pages charged: owned + page tables
  int32   nslots;                 // time slices owned
  int32   hart;                   // hart running it, or -1
  int32   runs;                   // times scheduled (for tests and curiosity)
  uint32  rights;                 // RIGHT_* held
  int32   revoke_want;            // pages the kernel asks back (0: no request)
  int32   revoke_deadline;        //   within this many of its own slices
  int32   repossessed;            // pages taken by the abort protocol, ever
  int32   slots_taken;            // time slices taken back (over its share), ever
  int32   mem_soft;               // SYS_mem_soft: asked back above this (0: its share)
  uint64  child_exits;            // children of it that exited, ever: mwait on this
                                  // word sleeps until the next one (the kernel wakes it)
                                  // (to 64 bytes: indexing is a shift)
};

// Page kind.
#define PG_FREE      0
#define PG_KERNEL    1            // kernel image, kernel data, OpenSBI
#define PG_USER      2            // allocated by SYS_page_alloc
#define PG_PTABLE    3            // an env's page-table page

struct pagepub {                  // at UPAGES[ppn - PPN_BASE]
  envid_t owner;                  // env charged for the page; 0 = none
  uint32  refs;                   // number of user PTEs that map it
  uint16  kind;
  uint16  pins;                   // disk requests using it (it stays while > 0)
  uint32  flags;                  // PGF_*
};
#define PGF_RELEASED 1            // its owner freed it while it was still mapped
                                  // (or pinned): still charged to the owner until
                                  // the last mapping goes

struct syspub {                   // at USYS
  uint64  npages;                 // pages of RAM: UPAGES[0 .. npages-1]
  uint64  nfree;                  // pages on the free list now
  uint32  nharts;                 // harts running the kernel
  uint32  slice_ticks;            // length of a time slice in time-CSR ticks
  uint64  timebase;               // time-CSR ticks per second
  uint64  irq_instret;            // instret when the last device interrupt trapped
  uint64  irq_hart;               //   and the hart it trapped on (for benchmarks)
  uint64  disk_blocks;            // size of the disk in blocks (0: no disk)
  uint64  idle_instret;           // instret that passed while harts had nothing to
                                  // run (wfi, and the wake-ups and interrupts in
                                  // between), all harts together (benchmarks, at one
                                  // hart, subtract it)
  uint64  wfi_instret;            // the part of it inside wfi only (under -icount
                                  // the jumps to the timer; the idle benchmark)
  uint64  guarantee;              // pages never revoked from an env (GUARANTEE)
  uint64  share;                  // each live env's share of memory, in pages
  uint64  revocations;            // requests posted, ever
  uint64  repossessions;          // pages taken by the abort protocol, ever
  uint64  slot_share;             // the time slices each live env may hold
  uint64  slots_taken;            // slices taken back from envs over their share, ever
  uint64  net_mac;                // the NIC's Ethernet address (first byte lowest), 0: no NIC
  uint64  net_rx;                 // frames received and delivered to a ring, ever
  uint64  net_tx;                 // frames handed to the NIC, ever
  uint64  net_nomatch;            // frames no filter took (and no default owner)
  uint64  net_ringfull;           // frames dropped: the owner's next slot was full, or no ring
  uint64  net_bad;                // frames dropped: shorter than 14 or longer than 1514 bytes
  uint64  net_tx_instret;         // instret when the last transmit was handed to the NIC
  uint64  net_demux_instret;      // instret spent choosing owners, all frames (bench)
  uint64  net_rx_instret;         // instret from the NIC's interrupts' traps to the end of
                                  // their handling (receive, copy, wake), all together (bench)
};

// Revocation (docs/revocation.md).  An env holding no more than its share is never
// asked; one over it is asked for at most REVOKE_CHUNK pages at a time and
// has until it has run REVOKE_SLICES of its own slices to their end, or
// been dispatched REVOKE_RUNS times, to comply; while it cannot run (blocked
// in a call, a receive or a wait, or stopped; the disk excepted) it has
// REVOKE_TICKS of time.  An env that is ready to run but waits for a hart
// is never charged for the wait.
#define GUARANTEE      32
#define MAXXSTACK      (16 * 4096)    // the largest exception stack (env_set_upcall)
#define REVOKE_CHUNK   64
#define REVOKE_SLICES  10
#define REVOKE_RUNS    256
#define REVOKE_TICKS   10000000       // 1 s of the 10 MHz time CSR

// The repossession vector of env e: public, read-only, at UREPOS + ENVX(e)
// * sizeof(struct repovec).  The last REPO_N losses, oldest overwritten
// (more than one abort takes: REVOKE_CHUNK).
#define REPO_N         84
#define REPO_ABORT     1              // reason: taken by the abort protocol
struct repo {
  uint64  va;                     // where it was mapped (0: owned, not mapped)
  uint64  ppn;                    // the physical page
  uint32  reason;                 // REPO_*
  uint32  seq;                    // its number in the env's count
};
struct repovec {
  uint64  count;                  // losses recorded, ever: entry i is log[i % REPO_N]
  struct repo log[REPO_N];
  uint64  pad[3];                 // to 2 KiB
};

#define uenvs  ((volatile struct envpub *)UENVS)
#define usys   ((volatile struct syspub *)USYS)
#define upages ((volatile struct pagepub *)UPAGES)
#define urepos ((volatile struct repovec *)UREPOS)
#endif

#endif
