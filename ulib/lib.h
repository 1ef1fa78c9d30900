// The library OS's interface for programs in user/.  Everything here is
// ordinary user code built on the exokernel ABI in kernel/abi.h.
#ifndef ULIB_LIB_H
#define ULIB_LIB_H
#include "../kernel/types.h"
#include "../kernel/abi.h"
#include "../kernel/memlayout.h"
#include "fsformat.h"

#define va_list   __builtin_va_list
#define va_start  __builtin_va_start
#define va_arg    __builtin_va_arg
#define va_end    __builtin_va_end

// ---- syscall.c: one stub per system call ----
int64  sys_raw(uint64 nr, uint64 a0, uint64 a1, uint64 a2, uint64 a3, uint64 a4, uint64 a5);
int64  sys_cputs(const char *buf, uint64 len);
envid_t sys_getenvid(void);
int64  sys_page_alloc(envid_t env);
int    sys_page_free(uint64 ppn);
int    sys_pte_set(envid_t env, uint64 va, pte_t pte);
int    sys_pte_set_from(envid_t env, uint64 va, pte_t pte, uint64 srcva);  // I map it at srcva
int    sys_pte_batch(envid_t env, const struct pte_op *ops, uint64 n);
int    sys_env_set_upcall(envid_t env, void (*entry)(void), uint64 xlo, uint64 xhi, uint64 nocall_lo,
                          uint64 nocall_hi);
int    sys_env_set_status(envid_t env, int status);
int    sys_env_set_regs(envid_t env, const struct trapframe *tf);
int    sys_slot_acquire(envid_t env);
int    sys_slot_release(envid_t env);
int    sys_env_destroy(envid_t env);
int    sys_halt(void);                // powers off; returns only on error
int64  sys_getbootarg(char *buf, uint64 len);
int    sys_env_grant(envid_t env, uint32 rights);
int    sys_env_set_tick(envid_t env, int on);   // CAUSE_TICK at each slice start (on = 1)
int    sys_mem_soft(envid_t env, uint64 pages);  // pages above this are a cache: asked back first
envid_t sys_exofork(void);
int    sys_yield(envid_t env);
void   sys_exit(int status) __attribute__((noreturn));

// ---- protected control transfer (PCT) ----
struct pct_msg {                     // what arrives: see kernel/abi.h
  envid_t from;                      // sender (0: the kernel, an interrupt)
  uint64 w[3];                       // the message words (interrupt: w[0] = IRQ mask)
  uint64 perm;                       // permissions of the page at recv_va, 0 if none
  uint64 kind;                       // PCT_CALL (wants a reply) or PCT_SEND
};
int64  sys_pct_call(envid_t to, uint64 w1, uint64 w2, uint64 w3, uint64 page, uint64 reply_va,
                    struct pct_msg *reply);   // 0 or -error; reply->w holds the answer
int    sys_pct_send(envid_t to, uint64 w1, uint64 w2, uint64 w3, uint64 page);
// The same, but if the target is not waiting, queue (first come, first
// served) until it is, rather than failing with E_NOT_WAITING.
int64  sys_pct_call_wait(envid_t to, uint64 w1, uint64 w2, uint64 w3, uint64 page, uint64 reply_va,
                         struct pct_msg *reply);
int    sys_pct_send_wait(envid_t to, uint64 w1, uint64 w2, uint64 w3, uint64 page);
int64  sys_pct_recv(uint64 recv_va, struct pct_msg *m);   // the sender's id, or -error
int64  sys_pct_reply_recv(envid_t caller, uint64 w1, uint64 w2, uint64 w3, uint64 page,
                          uint64 recv_va, struct pct_msg *m);
int    sys_pct_reply(envid_t caller, uint64 w1, uint64 w2, uint64 w3, uint64 page);
int    sys_irq_claim(int irq, int flags);      // flags: IRQ_UPCALL
int    sys_irq_ack(int irq);
int    sys_dev_map(int dev, uint64 va);
int    sys_blk_io(int op, uint64 block, void *va, uint64 n);   // BLK_READ / BLK_WRITE
int    sys_blk_grant(envid_t env, uint64 start, uint64 count, uint32 rights);
int    sys_blk_revoke(envid_t env, int index);
int64  sys_blk_wait(uint64 tags, uint64 *failed);   // finished tags (of the mask; 0: any)
int    sys_mwait(volatile uint64 *word, uint64 expected, uint64 deadline);  // 0, E_AGAIN, E_TIMEOUT
int    sys_mwait_refs(volatile uint64 *word, uint64 expected, uint64 deadline, uint32 refs);  // and
                             // E_AGAIN if the word's page no longer has refs mappings
int    sys_mwake(volatile uint64 *word, int n);      // wake up to n (0: all); how many
// The network (docs/net.md): op NETF_ADD (arg: struct netfilter *) or NETF_DEL (arg: id)
int    sys_net_filter(int op, uint64 arg);
int    sys_net_ring(void *va, int npages);           // receive ring (0, 0: none)
int    sys_net_send(const void *frame, uint64 len);  // transmit; E_BUSY: queue full
int    sys_net_revoke(envid_t env, int keep);        // RIGHT_NET away, from env (unless keep) and below

// ---- ipc.c: RPC on PCT ----
int64  rpc_call(envid_t server, uint64 op, uint64 a, uint64 b, struct pct_msg *reply);
typedef uint64 (*rpc_handler_t)(struct pct_msg *m, envid_t from);
void   rpc_serve(rpc_handler_t h) __attribute__((noreturn));

// ---- console.c: the console env (UART driver) and its clients ----
extern envid_t cons_env;             // the console env, 0 before it starts
envid_t console_start(void);         // fork the console env (done by init)
#define CONS_WRITE 1                 // w1 = bytes in the page offered
#define CONS_READ  2                 // w1 = at most this many; reply: w0 = count, page
#define CONS_STATS 3                 // reply: w0 = instructions, last IRQ to driver

// ---- fd.c, pipe.c: file descriptors shared across fork ----
#define NFD 32
int    read(int fd, void *buf, int n);
int    write(int fd, const void *buf, int n);
int    close(int fd);
int    dup(int fd);
int    dup2(int oldfd, int newfd);
int    pipe(int fds[2]);
int    fd_init_console(void);        // fds 0, 1, 2 on the console
void   fd_cloexec(int fd, int on);   // keep fd from the programs I spawn
int    fd_spawnable(int fd);

// (UDP sockets are descriptors too: ulib/net.h, for programs that include it.)

// ---- file.c: files, served by the file server (fsserv.c) ----
#define O_RDONLY  0x000                // xv6's open flags
#define O_WRONLY  0x001
#define O_RDWR    0x002
#define O_CREATE  0x200
#define O_TRUNC   0x400
#define O_APPEND  0x800                // (ours) every write goes at the end
#define O_NOFOLLOW 0x1000              // a symbolic link at the end is opened itself, read-only
struct stat {                          // xv6's struct stat
  int    dev;
  uint   ino;
  short  type;                         // T_DIR, T_FILE, T_DEVICE, T_SYMLINK
  short  nlink;
  uint64 size;
};
extern envid_t fs_env;                 // the file server, 0 if none
envid_t fs_start(void);                // fork the file server (done by init)
int    open(const char *path, int flags);
int    stat(const char *path, struct stat *st);   // follows symbolic links
int    lstat(const char *path, struct stat *st);  // a link at the end: the link itself
int    fstat(int fd, struct stat *st);
int    mkdir(const char *path);
int    mknod(const char *path, short major, short minor);
int    unlink(const char *path);
int    link(const char *old, const char *new);
int    symlink(const char *target, const char *path);   // path becomes a link to target
int    readlink(const char *path, char *buf, int n);    // a link's target (no NUL): its length
int    chdir(const char *path);
const char *getcwd(void);
int    readdir(int fd, struct dirent *de);   // next entry of a directory: 1, 0 at the end
int64  seek(int fd, int64 off);        // set the offset of a file; the new offset

// ---- spawn.c: programs from the file system ----
envid_t spawn(const char *path, char **argv);  // start a program; its env id
int    exec(const char *path, char **argv);    // replace me (see spawn.c)

// ---- env.c: who am I ----
extern const volatile struct envpub *thisenv;   // my public record
const char *errstr(int err);                     // "bad environment" for -E_BAD_ENV, ...

// ---- string.c ----
void  *memset(void *dst, int c, uint64 n);
void  *memcpy(void *dst, const void *src, uint64 n);
void  *memmove(void *dst, const void *src, uint64 n);
int    memcmp(const void *a, const void *b, uint64 n);
uint64 strlen(const char *s);
char  *strcpy(char *dst, const char *src);
char  *strncpy(char *dst, const char *src, uint64 n);
int    strcmp(const char *a, const char *b);
int    strncmp(const char *a, const char *b, uint64 n);
char  *strchr(const char *s, int c);
int    atoi(const char *s);
long   strtol(const char *s, char **end, int base);

// ---- printf.c: formatted output (%d %i %u %x %p %s %c %ld %lu %lx %%, width,
// '-' and '0' flags).  Output goes to the debug console in one write per call
// until the console driver of a later issue exists. ----
int    printf(const char *fmt, ...);
int    fprintf(int fd, const char *fmt, ...);
int    vprintf(const char *fmt, va_list ap);
int    snprintf(char *buf, int size, const char *fmt, ...);
int    vsnprintf(char *buf, int size, const char *fmt, va_list ap);
void   panic(const char *fmt, ...) __attribute__((noreturn));   // prints, exits 255

// ---- malloc.c ----
void  *malloc(uint64 n);
void   free(void *p);
void  *calloc(uint64 n, uint64 size);

// ---- mem.c: heap and lazy (demand-zero) memory ----
void  *sbrk(int64 n);                // grow the heap; pages appear on first touch
                                     // ((void *)-1 if they could not be had now)
uint64 mem_avail(void);              // pages I could have now: free, and caches' spare
void   out_of_memory(uint64 va) __attribute__((noreturn));  // end with a message
void   vmprint(void);               // print my page table (vmprint.c)
int    page_map(uint64 va, uint64 perm);      // allocate a zeroed page at va
int    page_map_now(uint64 va, uint64 perm);  // the same, failing at once if memory is short
void   mem_private(void);                    // my copy-on-write data and heap pages made mine now
int    page_unmap(uint64 va);
pte_t  uvpt_pte(uint64 va);          // the leaf PTE for va, 0 if none (reads UVPT)
// May the library touch [p, p+n) for the program (write: store into it)?
// So read(fd, bad, n) returns -E_FAULT, as on Unix, instead of faulting in
// the library.  The stack and the program's image and heap (readable;
// writable from .data on) are decided here without a PTE lookup.
extern uint64 ulib_brk;
extern char data_start[];
int    user_ok_slow(const void *p, uint64 n, int write);
static inline int user_ok(const void *p, uint64 n, int write)
{
  uint64 va = (uint64)p, e = va + n;
  if (e >= va && ((va >= USTACKTOP - USTACKPAGES * PGSIZE && e <= USTACKTOP) ||
                  (va >= (write ? (uint64)data_start : UTEXT) && e <= ulib_brk)))
    return 1;
  return user_ok_slow(p, n, write);
}
int    user_str_ok(const char *s, uint64 max);

// ---- upcall.c: exceptions at user level ----
typedef int (*upcall_handler_t)(struct uframe *f);  // 1: handled, resume; 0: not mine
void   set_handler(int cause, upcall_handler_t h);  // per-cause registry
int    upcall_init(envid_t env);     // map an exception stack, register the entry
int    upcall_stack_grow(void);      // map all of my exception stack (for deep nesting)

// ---- ckpt.c: checkpoints of a memory region through page protection ----
#define CKPT_MAXPAGES 4096
struct ckpt_stats { uint64 faults, restored, commits, rollbacks; };
int    ckpt_begin(void *start, uint64 len);  // track [start, start+len); now is the checkpoint
int    ckpt_commit(void);            // the current contents become the checkpoint
int    ckpt_rollback(void);          // back to the checkpoint
int    ckpt_end(void);               // stop tracking (contents stay)
int    ckpt_dirty(void *va);         // written since the checkpoint?
void   ckpt_get_stats(struct ckpt_stats *s);

// ---- fork.c and process control ----
envid_t fork(void);                  // copy-on-write fork
int    wait(int *status);            // wait for any child; its id
int    waitenv(envid_t child, int *status);
int    wait_nohang(int *status);     // an exited child's id, 0 if none yet, -1 if no children
int    kill(envid_t env);            // me, a descendant, or (through init) any env
#define INIT_KILL 1                  // init's request: w1 = the env to end
void   exit(int status) __attribute__((noreturn));
#define PTE_COW   PTE_RSW0           // fork's mark on copy-on-write pages
#define PTE_SHARE PTE_RSW1           // fork maps these writable in both envs


// ---- check.c: self-checking test programs ----
extern const char *progname;         // argv[0]
extern char grade_token[16];         // the grader's token for this run, "" if none (check.c)
int    check(int ok, const char *fmt, ...);         // print "prog: FAIL: ..." if !ok
int    expect_err(int64 got, int want, const char *what);  // "prog: BROKEN: ..." unless got == -want
int    check_failures(void);
int    check_report(void);           // "prog: all OK" or the failure count; exit status

// ---- census.c: every physical page accounted for (kernel/abi.h records) ----
struct census {
  uint64 npages, nfree;                 // RAM pages, free pages (syspub)
  uint64 kinds[4];                      // pages by kind (PG_FREE .. PG_PTABLE)
  uint64 user_owned;                    // user pages owned by a live env
  uint64 ownerless_mapped;              // user pages nobody owns that a PTE maps
  uint64 ownerless_pinned;              //   ... that only the disk still uses
  uint64 leaked;                        // user pages nobody owns, maps or uses
  uint64 dead_owner;                    // pages charged to an env that is not live
  uint64 badkind, pinned;
  int32  owned[NENV], ptables[NENV];    // by env index: user pages, page tables
  int32  npages_env[NENV];              // each env's npages as published
  int    problems;                      // inconsistencies found
};
int    census(struct census *c);        // fill c; the number of problems (0: all add up)
void   census_print(const struct census *c);   // the table, lines "census: ..."
struct census_mark { uint64 nfree; int64 held; };
void   census_mark(struct census_mark *m);        // before a test: the free count
int    census_check(const struct census_mark *m); // after: back to it? (check()s; 1 if so)

// ---- xv6.c: the rest of xv6's API (programs written for xv6 include
// ulib/xv6/user/user.h instead of this file) ----
int    getpid(void);                 // my env id
char  *gets(char *buf, int max);     // a line from fd 0

// ---- swap.c: paging under revocation ----
extern uint64 swap_start, swap_count;   // my swap extent (blocks), 0 if none
extern int spawn_gives_swap;            // spawn passes my swap and app extents on (init, sh)
#define SWAP_CLOCK 0                    // second chance on the hardware A bit
#define SWAP_FIFO  1                    // the page that came in first
#define SWAP_HINT  2                    // the application names victims
typedef int (*swap_hint_t)(uint64 *vas, int n);   // fill vas with up to n victims
struct swap_stats {
  uint64 requests, released;            // revocation requests, pages given back for them
  uint64 out, in, writes;               // evictions, page-ins, pages written to swap
  uint64 repossessed, slots;            // pages the kernel took; swap slots in use
};
void   swap_policy(int policy, swap_hint_t hint);
int    swap_out(int n);                 // evict n of my pages now; how many went
void   swap_get_stats(struct swap_stats *s);
void   swap_init(void);
void   swap_attach(uint64 start, uint64 count);   // page on this extent (a capability I hold)
void   swap_heap_shrunk(uint64 from, uint64 to);  // (sbrk) the heap lost [from, to)
uint64 swap_room(void);                          // heap pages my swap extent could take
void   swap_before_fork(void);
void   swap_after_fork_child(void);

// ---- thread.c: user-level threads in one env, round robin, preempted at
// every time slice's start (CAUSE_TICK).  The rest of the library is not
// thread-safe: use malloc, printf, files from one thread at a time (under a
// mutex, or with preemption off). ----
int    thread_create(void *(*fn)(void *), void *arg);   // its id (> 0), or -E_NO_MEM
void   thread_yield(void);
void   thread_exit(void *ret) __attribute__((noreturn));   // the last one exits the env
int    thread_join(int tid, void **ret);   // wait for tid to exit, free it; 0 or -E_INVAL
int    thread_self(void);                  // my id (main: 0)
void   thread_preempt_off(void);           // no preemption of me until ..._on (they nest)
void   thread_preempt_on(void);
struct thread_stats {
  uint64 ticks;                            // CAUSE_TICK upcalls
  uint64 preemptions;                      // ticks that switched threads
  uint64 nested;                           // ticks inside another handler: no switch
  uint64 deferred;                         // ticks while preemption was off
  uint64 yields;                           // thread_yield calls that reached the handler
};
void   thread_get_stats(struct thread_stats *s);
struct mutex {                             // a ticket lock: fair, first come first served
  volatile uint32 next;                    // the ticket the next locker takes
  volatile uint32 serving;                 // the ticket that may hold it now
  int owner;                               // thread id, -1 if free
};
void   mutex_init(struct mutex *m);
void   mutex_lock(struct mutex *m);        // yields while another thread holds it
void   mutex_unlock(struct mutex *m);
int    mutex_held(struct mutex *m);        // by anyone

// ---- kv.c: a key-value store on a raw block extent (the "app" lab) ----
// The application's own storage: no file server, no names or inodes, one
// block write per put.  A store lives on an extent I hold with BLK_R|BLK_W;
// init and sh hand a lone foreground program the app area of the disk.
extern uint64 app_start, app_count;     // my app extent (blocks), 0 if none (libmain.c)
#define KV_MAXKEY  31                   // a key: a string of 1..31 bytes
#define KV_MAXVAL  1024                 // a value: 0..1024 bytes of anything
#define KV_NKEYS   1024                 // live keys at most (the index in memory)
#define KV_FORMAT  1                    // kv_open: start an empty store
struct kv_stats {
  uint64 keys;                          // live keys
  uint64 records;                       // records in the log (puts and deletes)
  uint64 blocks;                        // blocks of the extent in use (header included)
};
int    kv_open(uint64 start, uint64 count, int flags);   // recover (or format) the store there
int    kv_put(const char *key, const void *val, int n);  // durable when it returns
int    kv_get(const char *key, void *buf, int size);     // the value's length; copies at most size
int    kv_del(const char *key);                          // durable when it returns
void   kv_get_stats(struct kv_stats *s);

// ---- lab.c: the stub a lab's handout leaves in place of the solution ----
int    lab_todo(const char *lab, const char *what);   // prints, returns -E_NOSYS
int    lab_todo_once(const char *lab, const char *what);   // the same, printed once per env

// ---- time.c: xv6's clock, in ticks of 1/10 s ----
int    uptime(void);
int    sleep(int ticks);
void   nap(void);                     // sleep about a millisecond (time.c)

// ---- time ----
static inline uint64 rdinstret(void) { uint64 x; asm volatile("rdinstret %0" : "=r"(x)); return x; }
static inline uint64 rdtime(void) { uint64 x; asm volatile("rdtime %0" : "=r"(x)); return x; }
static inline uint64 rdcycle(void) { uint64 x; asm volatile("rdcycle %0" : "=r"(x)); return x; }

// ---- argv: main(argc, argv) gets the boot arguments (the first env) or
// what spawn put in the argument page at UARGS ----
#define MAXARG 32
#define SPAWN_MAGIC 0x5350574E41524753UL
struct spawnargs {
  uint64 magic;
  envid_t cons_env, fs_env;            // the servers, as the parent knew them
  uint64 swap_start, swap_count;       // a swap extent the parent granted me
  uint64 app_start, app_count;         // and the app extent (raw blocks: ulib/kv.c)
  uint64 cwd;                          // the working directory (file.c's cwd)
  char token[16];                      // the grader's run token (see check.c)
  int argc;
  char *argv[MAXARG + 1];              // pointers into strings[], at UARGS
  char strings[];
};
uint64 cwd_get(void);
void cwd_set(uint64 dir);

#endif
