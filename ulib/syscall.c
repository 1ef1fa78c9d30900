// System-call stubs: number in a7, arguments in a0..a5, result in a0.
// The kernel zeroes t0-t6 and a1-a7 on return, so they are clobbered here.
#include "lib.h"

// One system call; a0..a5 all come back, and go to *m when m is given
// (the PCT calls return a message that way).  a6 is passed only when
// with_a6 (pct_call and pct_send read it): the other calls save the
// instruction that would set it (it counts on the PCT round trip).
static inline int64 ecall(uint64 n, uint64 a0, uint64 a1, uint64 a2, uint64 a3, uint64 a4, uint64 a5,
                          int with_a6, uint64 a6, struct pct_msg *m)
{
  register uint64 r0 asm("a0") = a0;
  register uint64 r1 asm("a1") = a1;
  register uint64 r2 asm("a2") = a2;
  register uint64 r3 asm("a3") = a3;
  register uint64 r4 asm("a4") = a4;
  register uint64 r5 asm("a5") = a5;
  register uint64 r6 asm("a6") = a6;
  register uint64 r7 asm("a7") = n;
  if (with_a6)
    asm volatile("ecall"
                 : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5), "+r"(r6), "+r"(r7)
                 :
                 : "t0", "t1", "t2", "t3", "t4", "t5", "t6", "memory");
  else
    asm volatile("ecall"
                 : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5), "+r"(r7)
                 :
                 : "a6", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "memory");
  if (m) {
    m->from = r0;
    m->w[0] = r1;
    m->w[1] = r2;
    m->w[2] = r3;
    m->perm = r4;
    m->kind = r5;
  }
  return r0;
}

static inline int64 pct(uint64 n, uint64 a0, uint64 a1, uint64 a2, uint64 a3, uint64 a4, uint64 a5,
                        struct pct_msg *m)
{
  return ecall(n, a0, a1, a2, a3, a4, a5, 0, 0, m);
}

static inline int64 pct6(uint64 n, uint64 a0, uint64 a1, uint64 a2, uint64 a3, uint64 a4,
                         uint64 a5, uint64 a6, struct pct_msg *m)
{
  return ecall(n, a0, a1, a2, a3, a4, a5, 1, a6, m);
}

static inline int64 syscall(uint64 n, uint64 a0, uint64 a1, uint64 a2, uint64 a3, uint64 a4,
                            uint64 a5)
{
  return pct(n, a0, a1, a2, a3, a4, a5, 0);
}

// The same with fewer arguments: unused argument registers are not set.
static inline int64 syscall1(uint64 n, uint64 a0)
{
  register uint64 r0 asm("a0") = a0;
  register uint64 r7 asm("a7") = n;
  asm volatile("ecall"
               : "+r"(r0), "+r"(r7)
               :
               : "a1", "a2", "a3", "a4", "a5", "a6", "t0", "t1", "t2", "t3", "t4", "t5", "t6",
                 "memory");
  return r0;
}

// Any system call with any arguments (the fuzzer's; a6 is left as it is).
int64 sys_raw(uint64 nr, uint64 a0, uint64 a1, uint64 a2, uint64 a3, uint64 a4, uint64 a5)
{
  return syscall(nr, a0, a1, a2, a3, a4, a5);
}

int64 sys_cputs(const char *buf, uint64 len) { return syscall(SYS_cputs, (uint64)buf, len, 0, 0, 0, 0); }
envid_t sys_getenvid(void) { return syscall1(SYS_getenvid, 0); }
// E_AGAIN: the kernel is taking memory back from envs over their share
// (revocation).  Sleep until pages are freed (the kernel wakes waiters on
// usys->nfree), or 10 ms at most (asking again is what lets the kernel
// apply the abort protocol once a deadline passes), and ask again, for at
// most 5 s.
static int64 again(int64 r, uint64 *t0)
{
  if (r != -E_AGAIN)
    return 0;
  uint64 now = rdtime();
  if (!*t0)
    *t0 = now;
  else if (now - *t0 > 5 * usys->timebase)
    return 0;
  sys_mwait(&usys->nfree, usys->nfree, now + usys->timebase / 100);
  return 1;
}
#define RETRY(call)                    \
  int64 r;                             \
  uint64 t0 = 0;                       \
  do                                   \
    r = (call);                        \
  while (again(r, &t0));               \
  return r == -E_AGAIN ? -E_NO_MEM : r

int64 sys_page_alloc(envid_t env) { RETRY(syscall1(SYS_page_alloc, env)); }
int sys_page_free(uint64 ppn) { return syscall1(SYS_page_free, ppn); }
int sys_pte_set(envid_t env, uint64 va, pte_t pte) { RETRY(syscall(SYS_pte_set, env, va, pte, 0, 0, 0)); }
int sys_pte_set_from(envid_t env, uint64 va, pte_t pte, uint64 srcva)
{
  RETRY(syscall(SYS_pte_set, env, va, pte, srcva, 0, 0));
}
int sys_pte_batch(envid_t env, const struct pte_op *ops, uint64 n)
{
  RETRY(syscall(SYS_pte_batch, env, (uint64)ops, n, 0, 0, 0));
}
int sys_env_set_upcall(envid_t env, void (*entry)(void), uint64 xlo, uint64 xhi, uint64 nolo,
                       uint64 nohi)
{
  return syscall(SYS_env_set_upcall, env, (uint64)entry, xlo, xhi, nolo, nohi);
}
int sys_env_set_status(envid_t env, int status) { return syscall(SYS_env_set_status, env, status, 0, 0, 0, 0); }
int sys_env_set_regs(envid_t env, const struct trapframe *tf)
{
  return syscall(SYS_env_set_regs, env, (uint64)tf, 0, 0, 0, 0);
}
int sys_slot_acquire(envid_t env) { return syscall1(SYS_slot_acquire, env); }
int sys_slot_release(envid_t env) { return syscall1(SYS_slot_release, env); }
int sys_env_destroy(envid_t env) { return syscall1(SYS_env_destroy, env); }
int sys_halt(void) { return syscall1(SYS_halt, 0); }
int64 sys_getbootarg(char *buf, uint64 len) { return syscall(SYS_getbootarg, (uint64)buf, len, 0, 0, 0, 0); }
int sys_env_grant(envid_t env, uint32 rights) { return syscall(SYS_env_grant, env, rights, 0, 0, 0, 0); }
envid_t sys_exofork(void) { RETRY(syscall1(SYS_exofork, 0)); }
int sys_yield(envid_t env) { return syscall1(SYS_yield, env); }
void sys_exit(int status)
{
  syscall(SYS_exit, status, 0, 0, 0, 0, 0);
  for (;;)
    ;
}

int sys_irq_claim(int irq, int flags) { return syscall(SYS_irq_claim, irq, flags, 0, 0, 0, 0); }
int sys_irq_ack(int irq) { return syscall1(SYS_irq_ack, irq); }
int sys_dev_map(int dev, uint64 va) { return syscall(SYS_dev_map, dev, va, 0, 0, 0, 0); }
int sys_pct_reply(envid_t caller, uint64 w1, uint64 w2, uint64 w3, uint64 page)
{
  return syscall(SYS_pct_reply, caller, w1, w2, w3, page, 0);
}
int sys_pct_send(envid_t to, uint64 w1, uint64 w2, uint64 w3, uint64 page)
{
  return pct6(SYS_pct_send, to, w1, w2, w3, page, 0, 0, 0);
}

int64 sys_pct_call(envid_t to, uint64 w1, uint64 w2, uint64 w3, uint64 page, uint64 reply_va,
                   struct pct_msg *reply)
{
  return pct6(SYS_pct_call, to, w1, w2, w3, page, reply_va, 0, reply);
}
// With PCT_BLOCK the kernel queues the caller, and never answers
// E_NOT_WAITING; a kernel without the send queue (lab ipc's stub) does,
// and then these retry, yielding to the target.
int64 sys_pct_call_wait(envid_t to, uint64 w1, uint64 w2, uint64 w3, uint64 page, uint64 reply_va,
                        struct pct_msg *reply)
{
  int64 r;
  while ((r = pct6(SYS_pct_call, to, w1, w2, w3, page, reply_va, PCT_BLOCK, reply)) == -E_NOT_WAITING)
    sys_yield(to);
  return r;
}
int sys_pct_send_wait(envid_t to, uint64 w1, uint64 w2, uint64 w3, uint64 page)
{
  int r;
  while ((r = pct6(SYS_pct_send, to, w1, w2, w3, page, 0, PCT_BLOCK, 0)) == -E_NOT_WAITING)
    sys_yield(to);
  return r;
}

int64 sys_pct_recv(uint64 recv_va, struct pct_msg *m)
{
  return pct(SYS_pct_recv, 0, 0, 0, 0, 0, recv_va, m);
}

int64 sys_pct_reply_recv(envid_t caller, uint64 w1, uint64 w2, uint64 w3, uint64 page,
                         uint64 recv_va, struct pct_msg *m)
{
  return pct(SYS_pct_reply_recv, caller, w1, w2, w3, page, recv_va, m);
}

int sys_blk_io(int op, uint64 block, void *va, uint64 n) { return syscall(SYS_blk_io, op, block, (uint64)va, n, 0, 0); }
int sys_blk_grant(envid_t env, uint64 start, uint64 count, uint32 rights)
{
  return syscall(SYS_blk_grant, env, start, count, rights, 0, 0);
}
int sys_blk_revoke(envid_t env, int index) { return syscall(SYS_blk_revoke, env, index, 0, 0, 0, 0); }
int sys_env_set_tick(envid_t env, int on) { return syscall(SYS_env_set_tick, env, on, 0, 0, 0, 0); }
int sys_mem_soft(envid_t env, uint64 pages) { return syscall(SYS_mem_soft, env, pages, 0, 0, 0, 0); }
int sys_mwait(volatile uint64 *word, uint64 expected, uint64 deadline)
{
  return syscall(SYS_mwait, (uint64)word, expected, deadline, 0, 0, 0);
}
int sys_mwait_refs(volatile uint64 *word, uint64 expected, uint64 deadline, uint32 refs)
{
  return syscall(SYS_mwait, (uint64)word, expected, deadline, refs, 0, 0);
}
int sys_mwake(volatile uint64 *word, int n) { return syscall(SYS_mwake, (uint64)word, n, 0, 0, 0, 0); }
int sys_net_filter(int op, uint64 arg) { return syscall(SYS_net_filter, op, arg, 0, 0, 0, 0); }
int sys_net_ring(void *va, int npages) { return syscall(SYS_net_ring, (uint64)va, npages, 0, 0, 0, 0); }
int sys_net_send(const void *frame, uint64 len) { return syscall(SYS_net_send, (uint64)frame, len, 0, 0, 0, 0); }
int sys_net_revoke(envid_t env, int keep) { return syscall(SYS_net_revoke, env, keep, 0, 0, 0, 0); }
int64 sys_blk_wait(uint64 tags, uint64 *failed)
{
  struct pct_msg m;
  int64 r = pct(SYS_blk_wait, tags, 0, 0, 0, 0, 0, &m);
  if (failed)
    *failed = m.w[0];
  return r;
}
