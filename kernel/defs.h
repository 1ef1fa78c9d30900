// Kernel-private declarations: per-hart state, envs, and every kernel
// function used across files.  User code never includes this header.
#ifndef DEFS_H
#define DEFS_H
#include "types.h"
#include "abi.h"
#include "memlayout.h"
#include "riscv.h"
#include "spinlock.h"
#include "asm.h"

#define NCPU       8               // hart ids 0..7
#define KSTACKSIZE (KSTACKPAGES * PGSIZE)   // memlayout.h: KSTACKS
#define SLICE_TICKS 100000         // 10 ms of the 10 MHz time CSR
#define IDLE_TICKS  10000000       // 1 s: the longest an idle hart sleeps (a
                                   // wake-up that sent no IPI waits at most this)

// Per-hart state; tp points at it in the kernel, sscratch while in user
// mode.  trampoline.S knows the offsets of the fields up to kscratch.
struct cpu {
  uint64 kstack;                   // 0: top of this hart's kernel stack
  uint64 usp;                      // 8: user sp, saved on entry
  uint64 ura;                      // 16: user ra, saved on entry
  struct env *env;                 // 24: env running here, or 0
  uint64 hartid;                   // 32
  uint64 kpt;                      // 40: satp value of the kernel page table
  uint64 scratch[2];               // 48: trampoline.S saves t0, t1 here
  uint64 kvec;                     // 64: kernelvec, for stvec in the kernel
  uint64 uvec;                     // 72: uservec, for stvec in user mode
  uint64 stamp;                    // 80: instret when the last full trap began
  uint64 kscratch;                 // 88: kernelvec saves t0 here
  int started;
};
extern struct cpu cpus[NCPU];
static inline struct cpu *mycpu(void) { struct cpu *c; asm volatile("mv %0, tp" : "=r"(c)); return c; }

// An environment: the unit of protection.  tf must stay first
// (trampoline.S saves user registers at the start of the env).
struct env {
  struct trapframe tf;             // user registers while not running
  // From here to ipc_waiters, trampoline.S knows the offsets (asm.h,
  // checked in trap.c).
  uint64 upcall;                   // 256: upcall entry point, 0 = none
  uint64 xlo, xhi;                 // 264, 272: exception stack [xlo, xhi)
  uint64 xframe_kva;               // 280: kernel address of a first-level
  uint64 xframe_va;                // 288:   frame and its user address; a
                                   //        binding cached by the slow path,
                                   //        0 when unknown (see trap.c)
  envid_t id;                      // 296
  int status;                      // 300: ENV_*
  int hart;                        // 304: hart running it, or -1
  int dying;                       // 308: destroy requested while running elsewhere
  pagetable_t pt;                  // 312: root page table (kernel VA)
  int ipc;                         // 320: IPC_NONE, or blocked: IPC_RECV, IPC_CALL
  envid_t ipc_peer;                // 324: IPC_CALL: the env whose reply we await
  uint64 ipc_va;                   // 328: where a page sent to us goes (0: none)
  uint32 irq_notify;               // 336: IRQs pending and not yet notified
  uint32 sendq_n;                  // 340: senders queued for our pct_recv (with
                                   //   irq_notify: one load tells the fast path)
  int ipc_waiters;                 // 344: envs blocked in pct_call on us
  uint64 satp;                     // 352: satp value for its page table
  envid_t parent;
  int exitcode;
  int npages;                      // pages charged (owned + page tables)
  int nslots;                      // time slices owned
  uint32 rights;                   // RIGHT_* held
  envid_t net_from;                // who granted it RIGHT_NET (SYS_net_revoke follows
                                   //   these links; an exiting env's are spliced out)
  int nchildren;                   // envs (live or exited) whose parent we are
  int32 owned;                     // head of the list of owned user pages (index), -1
  int32 ptlist;                    // head of the list of its page-table pages, -1
  uint64 nocall_lo, nocall_hi;     // no asynchronous upcall while pc is in here
  int irq_upcall;                  // interrupts come as upcalls when not waiting
  int irq_owner;                   // it claimed a device's source (plic.c)
  int upcall_pending;              // an interrupt upcall waits for delivery
  int child_notify;                // wants IRQ_CHILD when a child exits
  int disk_notify;                 // wants IRQ_DISK when an async request ends
  int revoke_posted;               // a CAUSE_REVOKE upcall to deliver
  int tick_upcall;                 // wants CAUSE_TICK at the start of each slice
  int tick_posted;                 // a CAUSE_TICK upcall to deliver
  int64 revoke_want;               // pages asked back (0: no request)
  int64 revoke_target;             //   done when npages is down to this
  uint64 revoke_slices, revoke_time; //   deadline: its slices count, or (while it
                                   //   cannot run) the time CSR
  uint64 revoke_runs;              //   and its dispatches at the request
  uint64 mem_soft;                 // asked back above this many pages (0: its share)
  uint64 repo_posted;              // pages taken, not yet told (CAUSE_REPOSSESS)
  uint64 repo_taken;               // pages taken, ever
  uint64 slices;                   // slices it ran to their end (timer)
  int16 blkcaps[NBLKCAP];          // disk extents it may use (blkcap.c; 0: none)
  uint64 io_busy, io_done, io_err; // asynchronous disk requests, one bit per tag
  uint64 io_wait;                  // tags it waits for in blk_wait (0: a sync request)
  struct env *sendq, *sendq_tail;  // envs queued to call or send to us (PCT_BLOCK)
  struct env *sendq_next;          //   the next one, while we are queued (IPC_SENDQ)
  uint64 wait_key;                 // IPC_WAIT: the physical address of the word
  uint64 wait_deadline;            //   and the time to give up (0: none)
  struct env *wait_next;           //   next waiter in its bucket (wait.c)
  char pad[1024 - 416 - 2 * NBLKCAP - 32 - 8 - 64 - 8 - 24 - 24 - 4 - 8 - 8 - 8];             // a power of two: trampoline.S indexes envs[]
};

extern struct env envs[NENV];
extern struct envpub envpubs[NENV];
extern struct spinlock klock;      // protects envs, slots, pages, page tables

// console.c
void consinit(void);
void kputc(int c);
void kwrite(const char *s, uint64 n);
void kprintf(const char *fmt, ...);
void panic(const char *fmt, ...) __attribute__((noreturn));
// What a student tree has in place of a lab's kernel code (tools/handout.py):
// the system runs on without it.  Each stub leaves a record in the
// "labtodo" section, and the kernel lists them all at boot (labs_report),
// before any program runs: a message printed at first use would land in
// the middle of a program's output.
struct labtodo { const char *lab, *what; };
#define LAB_TODO(lab, what)                                                   \
  do {                                                                        \
    static const struct labtodo todo_                                         \
      __attribute__((section("labtodo"), used, aligned(8))) = { lab, what };  \
  } while (0)
void labs_report(void);

// sbi.c
struct sbiret { long error; long value; };
void sbi_shutdown(void) __attribute__((noreturn));
#define SBI_ERR_ALREADY_AVAILABLE (-6)   // sbi_hart_start: the hart runs already
long sbi_hart_start(uint64 hartid, uint64 start, uint64 opaque);
void sbi_send_ipi(uint64 hartmask);
void sbi_remote_sfence_vma(uint64 hartmask, uint64 va, uint64 size);

// fdt.c
void fdt_parse(uint64 dtb_pa, uint64 *ramsize, char *bootargs, int bootlen);
extern uint64 fdt_pa, fdt_size;

// spinlock.c
void initlock(struct spinlock *l, const char *name);
void acquire(struct spinlock *l);
void release(struct spinlock *l);

// page.c: physical pages and their records
extern struct pagepub pagepubs[];
extern struct syspub syspub;
extern uint64 npages_total, ram_end;
void   pageinit(uint64 ramsize);
uint64 page_alloc(int kind, struct env *owner);      // PPN, or 0; zeroed
void   pt_unlink(struct env *e, uint64 ppn);
extern int32 pnext[];
extern uint8 pflags[];
#define PF_USER_L0 1                 // a level-0 table mapping user addresses
#define PF_WAITED  2                 // an env may sleep in mwait on a word of this page
#define PF_VICTIM  0x80                  // (user page) chosen by the abort protocol
int    page_ref(uint64 ppn);
void   page_unref(uint64 ppn);
void   page_pin(uint64 ppn);
void   page_unpin(uint64 ppn);
void   page_disown(uint64 ppn);
void   page_adopt(struct env *e, uint64 ppn);
void   page_disown_all(struct env *e);
void   page_release(uint64 ppn);
int    page_valid(uint64 ppn);
uint64 pages_free(void);
static inline void *ppn2kva(uint64 ppn) { return (void *)KVA(ppn << PGSHIFT); }

// vm.c: page tables
extern pagetable_t kernel_pt;
extern pagetable_t shared_l1;
void   kvminit(void);
pagetable_t uvm_create(struct env *e);
void   uvm_free(struct env *e);
pte_t *walk(struct env *e, uint64 va, int alloc);
int    pte_install(struct env *caller, struct env *e, uint64 va, pte_t pte, uint64 srcva);
int    pte_store(struct env *e, uint64 va, pte_t pte);
void   tlb_shootdown(struct env *e, uint64 va);
int    copyin(struct env *e, void *dst, uint64 srcva, uint64 n);
int    copyout(struct env *e, uint64 dstva, const void *src, uint64 n);
void  *uaddr(struct env *e, uint64 va, uint64 need);  // kernel VA for va, or 0

// env.c
void   envinit(void);
// The live env with this id, or 0.  Needs klock.
static inline struct env *env_lookup(envid_t id)
{
  struct env *e = &envs[ENVX(id)];
  if (id <= 0 || e->status == ENV_FREE || e->id != id)
    return 0;
  return e;
}
int    env_get(struct env *caller, envid_t id, struct env **out);
int    env_get_any(struct env *caller, envid_t id, struct env **out);
int    env_descends(struct env *e, struct env *a);
int    env_alloc(struct env *parent, struct env **out);
int    env_sharing(void);
void   env_kill(struct env *e, int code);
void   env_publish(struct env *e);
void   env_reap(struct env *e);
void   env_first(const char *name);
int    elf_load(struct env *e, const uchar *img, uint64 size, uint64 *entry);
extern struct env *rootenv;

// sched.c
int    slot_acquire(struct env *e);
int    slot_release(struct env *e, int keep_one);
void   schedule(void) __attribute__((noreturn));   // trampoline.S: a fresh stack
void   scheduler(void) __attribute__((noreturn));
void   env_run(struct env *e) __attribute__((noreturn));
void   env_switch_away(struct env *e);
void   wake_idle(void);
void   timer_next(void);
void   timer_idle(void);

// trap.c
void   trapinit_hart(void);
void   usertrap(void) __attribute__((noreturn));
void   kstack_overflowed(void) __attribute__((noreturn));
void   upcall_deliver(struct env *e, uint64 cause, uint64 tval);
void   upcall_unbind(struct env *e, uint64 va);
int    deliver_pending_upcalls(struct env *e);
void   child_exited(struct env *p);
void   irq_notify_env(struct env *e, int irq);

// revoke.c
extern struct repovec repovecs[NENV];
extern uint64 pages_usable;
uint64 mem_share(void);
int64  mem_pressure(struct env *e);
void   revoke_progress(struct env *e);
void   revoke_deliver(struct env *e);
extern int orphans_maybe;
void   userret(struct trapframe *tf) __attribute__((noreturn));
extern char uservec[], kernelvec[];

// pct.c
void   pct_syscall(struct env *e);
void   pct_fast(void) __attribute__((noreturn));
uint64 sys_pct_reply(uint64, uint64, uint64, uint64, uint64, uint64);
void   pct_env_gone(struct env *e);
void   pct_notify(struct env *e);

// blkcap.c
int    blkcap_covers(struct env *e, uint64 block, uint64 n, uint32 rights);
void   blkcap_root(struct env *e, uint64 blocks);
void   blkcap_env_gone(struct env *e);
uint64 sys_blk_grant(uint64, uint64, uint64, uint64, uint64, uint64);
uint64 sys_blk_revoke(uint64, uint64, uint64, uint64, uint64, uint64);

// virtio_disk.c
extern uint64 disk_blocks;
void   virtio_disk_init(void);
void   virtio_disk_intr(void);
void   blk_io(struct env *e);
void   blk_wait(struct env *e);
#define VIRTIO_IRQ 1

// virtio_net.c: the NIC; netfilt.c: its packet filters
extern int net_present;
void   virtio_net_init(void);
void   virtio_net_intr(void);
int    net_notify_on(struct env *e);
int    net_allowed(struct env *e);
void   net_env_gone(struct env *e);
uint64 sys_net_ring(uint64, uint64, uint64, uint64, uint64, uint64);
uint64 sys_net_send(uint64, uint64, uint64, uint64, uint64, uint64);
uint64 sys_net_revoke(uint64, uint64, uint64, uint64, uint64, uint64);
uint64 sys_net_filter(uint64, uint64, uint64, uint64, uint64, uint64);
envid_t netf_demux(const uint8 *frame, uint32 len);
void   netf_env_gone(struct env *e);
#define NET_IRQ 2

// wait.c
void   mwait(struct env *e);
uint64 sys_mwake(uint64, uint64, uint64, uint64, uint64, uint64);
void   wait_cancel(struct env *e);
void   wait_expire(void);
uint64 wait_next_deadline(void);
void   wait_page_event(uint64 ppn);
void   wait_wake_pa(uint64 pa);

// plic.c
void   plicinit(void);
void   plicinit_hart(void);
struct env *plic_intr(void);
uint64 sys_irq_claim(uint64, uint64, uint64, uint64, uint64, uint64);
uint64 sys_irq_ack(uint64, uint64, uint64, uint64, uint64, uint64);
uint64 sys_dev_map(uint64, uint64, uint64, uint64, uint64, uint64);
void   irq_env_gone(struct env *e);

// syscall.c
extern uint64 (*const fast_syscalls[SYS_FIRST_SLOW])(uint64, uint64, uint64, uint64, uint64, uint64);
void   slow_syscall(struct env *e);
void   yield_syscall(void) __attribute__((noreturn));
extern char bootargs[256];

// kcheck.c: the invariant checker (make KCHECK=1), and its hooks elsewhere
#ifdef KCHECK
void   kcheck_all(const char *hook, uint64 why);
void   kcheck_trap(const char *hook, uint64 why);
void   kcheck_fast(uint64 nr);
uint64 kcheck_freelist_len(void);
struct env *const *kcheck_slots(int *n);
int    kcheck_disk_pages(uint64 *ppns, int max);
int    kcheck_net_pages(uint64 *ppns, int max);
#endif

// string.c
void  *memset(void *dst, int c, uint64 n);
void  *memcpy(void *dst, const void *src, uint64 n);
void  *memmove(void *dst, const void *src, uint64 n);
int    memcmp(const void *a, const void *b, uint64 n);
int    strncmp(const char *a, const char *b, uint64 n);
uint64 strlen(const char *s);

// programs embedded in the image (progs.S, generated)
// Physical address of a kernel virtual address.  The empty asm keeps gcc
// from folding "symbol - KERNBASE" into one out-of-range relocation.
static inline uint64 kpa(const void *p)
{
  uint64 v = (uint64)p;
  asm("" : "+r"(v));
  return v - KERNBASE;
}

struct prog { const char *name; const uchar *start; const uchar *end; };
extern const struct prog progs[];

#endif
