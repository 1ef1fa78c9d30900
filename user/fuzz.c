// A seeded system-call fuzzer: "fuzz [n=<calls>] [seed=<s>]".
//
// The first env (every right, the whole disk) makes rights-less children
// with SYS_exofork and builds their address spaces itself: the program's
// text and read-only data (shared, read-only), a stack, an exception
// stack, and a state page it shares with the child (the child's seed, the
// ids it may name, and its call counter).  Children issue random system
// calls, numbers 0..NSYSCALL+3, with arguments drawn from boundary values,
// their own and others' env ids, their own pages and addresses, and random
// words, plus short sequences that stress one mechanism (env churn, bad
// exception stacks, tick and IRQ upcalls, asynchronous disk I/O on pages
// freed meanwhile, PCT among siblings, and, when there is a NIC, packet
// filters, receive rings on pages freed meanwhile and frames sent to
// ourselves: `make fuzz` loops the NIC back, so what a child sends comes
// back through the demultiplexer).  Half the children hold RIGHT_NET.  Children may die; the kernel must
// not panic or hang.  Each round is bounded in time; the parent then
// destroys and reaps everything and goes on until n calls were made.  At
// the end it checks with the census (ulib/census.c) that every page came
// back.
//
// The children use no library code that needs data (no fork, no printf):
// only their stack, their state page and the raw system call below.  The
// seed is printed first; a run with the same n and seed issues the same
// calls (the interleaving of children still follows the timer).
#include "lib.h"

#define XSTR(x) STR(x)
#define STR(x)  #x

// (Found by this fuzzer, seed 1, n=20000, CPUS=1, and fixed: an IRQ
// upcall pushed after the tick upcall had killed the env followed its
// freed page table.  Children therefore mix tick and interrupt upcalls.)

#define MAXKIDS   6
#define NPPN      16
#define NHEAP     16

// The children's address space (the parent maps child i's state page in
// its own space at PSTATE + i pages).  Away from the low 32 bits of the
// boundary values: an env id drawn from them and used as a pointer would
// land on the state page.
#define CSTATE    0x30000000UL              // struct kid, shared with the parent
#define CSTACK    0x30100000UL              // 2 pages, the child's own
#define CSTACKTOP (CSTACK + 2 * PGSIZE)
#define CXSTACK   0x30200000UL              // 1 page exception stack (if any)
#define CIO       0x30300000UL              // 8 pages for disk I/O and PCT pages
#define CHEAP     0x30400000UL              // NHEAP pages the child maps at random
#define CNOWHERE  0x30800000UL              // never mapped
#define PSTATE    0x31000000UL

// A child's state, in the page at CSTATE.
struct kid {
  uint64 calls;                 // system calls made so far
  uint64 budget;                // then exit(0)
  uint64 rng;
  envid_t self, parent;
  envid_t sibs[MAXKIDS];
  int nsibs;
  envid_t stale[8];             // ids of envs that are gone
  envid_t made[8];              // envs I exoforked
  int nmade;
  uint64 ppns[NPPN];            // pages I allocated
  int nppn;
  uint64 blk_start, blk_count;  // my disk extent (count 0: none)
  uint64 ram_pages;
  uint64 mac;                   // the NIC's address (0: none)
};

extern char fuzz_upcall[], fuzz_resume_start[], fuzz_resume_end[];

// The child's exception entry: sp = a0 = struct uframe.  Breakpoints are
// skipped (4-byte ebreak), asynchronous upcalls (IRQ, revocation, tick)
// resume the interrupted code; any other fault ends the child with status
// 200 + cause.  Resuming restores every register from the frame; gp (unused
// by -mno-relax code) carries the pc, as in ulib/upentry.S.
asm(".section .text\n"
    ".balign 4\n"
    ".globl fuzz_upcall\n"
    "fuzz_upcall:\n"
    "  ld t0, 256(sp)\n"
    "  li t1, " XSTR(CAUSE_BREAKPOINT) "\n"
    "  beq t0, t1, 1f\n"
    "  li t1, " XSTR(CAUSE_IRQ) "\n"
    "  bgeu t0, t1, 2f\n"
    "  addi a0, t0, 200\n"
    "  li a7, " XSTR(SYS_exit) "\n"
    "  ecall\n"
    "1: ld t1, 248(sp)\n"
    "  addi t1, t1, 4\n"
    "  sd t1, 248(sp)\n"
    "2:\n"
    ".globl fuzz_resume_start\n"
    "fuzz_resume_start:\n"
    "  ld ra, 0(sp)\n  ld tp, 24(sp)\n  ld t0, 32(sp)\n  ld t1, 40(sp)\n  ld t2, 48(sp)\n"
    "  ld s0, 56(sp)\n  ld s1, 64(sp)\n  ld a0, 72(sp)\n  ld a1, 80(sp)\n  ld a2, 88(sp)\n"
    "  ld a3, 96(sp)\n  ld a4, 104(sp)\n  ld a5, 112(sp)\n  ld a6, 120(sp)\n  ld a7, 128(sp)\n"
    "  ld s2, 136(sp)\n  ld s3, 144(sp)\n  ld s4, 152(sp)\n  ld s5, 160(sp)\n  ld s6, 168(sp)\n"
    "  ld s7, 176(sp)\n  ld s8, 184(sp)\n  ld s9, 192(sp)\n  ld s10, 200(sp)\n  ld s11, 208(sp)\n"
    "  ld t3, 216(sp)\n  ld t4, 224(sp)\n  ld t5, 232(sp)\n  ld t6, 240(sp)\n"
    "  ld gp, 248(sp)\n  ld sp, 8(sp)\n  jr gp\n"
    ".globl fuzz_resume_end\n"
    "fuzz_resume_end:\n"
    ".previous\n");

// ---- random numbers (xorshift64*, seeded through splitmix64) ----

static uint64 mix(uint64 x)
{
  x += 0x9E3779B97F4A7C15UL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
  return x ^ (x >> 31);
}

static uint64 rnd(uint64 *s)
{
  uint64 x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1DUL;
}

// ---- the child ----

// One raw system call, counted.
static uint64 call(struct kid *k, uint64 nr, uint64 a0, uint64 a1, uint64 a2, uint64 a3, uint64 a4,
                   uint64 a5)
{
  k->calls++;
  return sys_raw(nr, a0, a1, a2, a3, a4, a5);
}

static uint64 R(struct kid *k) { return rnd(&k->rng); }
static uint64 below(struct kid *k, uint64 n) { return R(k) % n; }

static const uint64 boundary[] = {
  0, 1, 2, 7, 8, 0xFFF, 0x1000, -1UL, -2UL, 0x7FFFFFFFUL, 0x80000000UL, 0xFFFFFFFFUL,
  1UL << 32, 1UL << 63, (1UL << 63) - 1, UTOP, UTOP - PGSIZE, UTOP + PGSIZE, MAXUVA,
  MAXUVA - PGSIZE, KERNBASE, KERNBASE + KERNLOAD, KERNBASE + RAMBASE, KERNBASE + 0x10000000UL,
  RAMBASE, KERNLOAD, UVPT, UVPT + 0x10000, UVPD, UVPR, UENVS, UPAGES, USYS, UREPOS,
  UXSTACKTOP, UXSTACKTOP - PGSIZE, USTACKTOP - PGSIZE, UTEXT, UART0, PLIC, VIRTIO0,
};
#define NBOUND (sizeof boundary / sizeof boundary[0])

// An address: boundaries, my own mapped pages, free slots, random.
static uint64 rand_va(struct kid *k)
{
  switch (below(k, 10)) {
  case 0: case 1: return boundary[below(k, NBOUND)];
  case 2: return CHEAP + below(k, NHEAP) * PGSIZE;
  case 3: return CIO + below(k, 8) * PGSIZE;
  case 4: return below(k, 64) == 0 ? CSTACK + below(k, 2) * PGSIZE : CHEAP + below(k, NHEAP) * PGSIZE;
  case 5: return below(k, 64) == 0 ? UTEXT + below(k, 4) * PGSIZE : CNOWHERE;
  case 6: return below(k, 32) == 0 ? CXSTACK : CIO;
  case 7: return (R(k) % UTOP) & ~(PGSIZE - 1);
  case 8: return CHEAP + below(k, NHEAP) * PGSIZE + below(k, PGSIZE);
  default: return R(k);
  }
}

// A buffer the kernel may read or write: my I/O pages mostly.
static uint64 rand_buf(struct kid *k)
{
  switch (below(k, 6)) {
  case 0: return boundary[below(k, NBOUND)];
  case 1: return CIO + below(k, 8) * PGSIZE + below(k, PGSIZE);
  case 2: return CHEAP + below(k, NHEAP) * PGSIZE;
  case 3: return CNOWHERE + below(k, 3);
  default: return CIO + below(k, 8) * PGSIZE;
  }
}

static envid_t rand_env(struct kid *k)
{
  switch (below(k, 12)) {
  case 0: return 0;
  case 1: return k->self;
  case 2: return k->parent;
  case 3: case 4: return k->nsibs ? k->sibs[below(k, k->nsibs)] : 0;
  case 5: return k->stale[below(k, 8)];
  case 6: case 7: return k->nmade ? k->made[below(k, k->nmade)] : -1;
  case 8: return ENVX(k->self);
  case 9: return boundary[below(k, NBOUND)];
  case 10: return (envid_t)R(k);
  default: return (k->self & ~(NENV - 1)) | below(k, NENV);
  }
}

static uint64 rand_ppn(struct kid *k)
{
  switch (below(k, 8)) {
  case 0: case 1: case 2: return k->nppn ? k->ppns[below(k, k->nppn)] : PPN_BASE;
  case 3: return PPN_BASE + below(k, k->ram_pages);
  case 4: return PPN_BASE + k->ram_pages - below(k, 2);
  case 5: return PTE_PPN(((volatile pte_t *)UVPR)[below(k, 2) ? 0 : CHEAP >> 30]);
  case 6: return boundary[below(k, NBOUND)] >> PGSHIFT;
  default: return R(k) & ((1UL << 44) - 1);
  }
}

static uint64 rand_pte(struct kid *k)
{
  static const uint64 perms[] = {
    PTE_V | PTE_U | PTE_R, PTE_V | PTE_U | PTE_R | PTE_W, PTE_V | PTE_U | PTE_R | PTE_X,
    PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D, PTE_V | PTE_U | PTE_W, PTE_V | PTE_U,
    PTE_V | PTE_R | PTE_W, PTE_V | PTE_U | PTE_R | PTE_G, PTE_U | PTE_R, PTE_V | PTE_U | PTE_X,
    PTE_V | PTE_U | PTE_R | PTE_W | PTE_RSW0 | PTE_RSW1,
  };
  switch (below(k, 8)) {
  case 0: return 0;
  case 1: return R(k);
  case 2: return PPN_PTE(rand_ppn(k), R(k) & PTE_FLAGS) | (below(k, 4) ? 0 : R(k) << 54);
  default: return PPN_PTE(rand_ppn(k), perms[below(k, sizeof perms / sizeof perms[0])]);
  }
}

static uint64 rand_word(struct kid *k)
{
  switch (below(k, 4)) {
  case 0: return boundary[below(k, NBOUND)];
  case 1: return rand_va(k);
  case 2: return rand_env(k);
  default: return R(k);
  }
}

// A page word for PCT: va | permissions.
static uint64 rand_page_word(struct kid *k)
{
  if (below(k, 3) == 0)
    return 0;
  uint64 va = below(k, 2) ? CIO + below(k, 8) * PGSIZE : rand_va(k) & ~(PGSIZE - 1);
  return va | (below(k, 4) ? PTE_R | (below(k, 2) ? PTE_W : 0) : below(k, PGSIZE));
}

static void remember_ppn(struct kid *k, int64 ppn)
{
  if (ppn <= 0)
    return;
  if (k->nppn < NPPN)
    k->ppns[k->nppn++] = ppn;
  else
    k->ppns[below(k, NPPN)] = ppn;
}

static void remember_env(struct kid *k, int64 id)
{
  if (id <= 0)
    return;
  if (k->nmade < 8)
    k->made[k->nmade++] = id;
  else
    k->made[below(k, 8)] = id;
}

// Install a good or bad exception set-up on myself.
static void rand_upcall(struct kid *k)
{
  uint64 entry = (uint64)fuzz_upcall, lo = CXSTACK, hi = CXSTACK + PGSIZE;
  switch (below(k, 6)) {
  case 0: entry = 0; break;                                  // no handler
  case 1: lo = CNOWHERE; hi = CNOWHERE + PGSIZE; break;      // unmapped
  case 2: lo = UTEXT; hi = UTEXT + PGSIZE; break;            // read-only text
  case 3: lo = CXSTACK + PGSIZE - 64; break;                 // too small for a frame
  case 4: entry = rand_va(k); lo = R(k); hi = R(k); break;   // garbage (mostly refused)
  default: break;                                            // good
  }
  call(k, SYS_env_set_upcall, 0, entry, lo, hi, (uint64)fuzz_resume_start, (uint64)fuzz_resume_end);
}

// SYS_net_filter: mostly well-formed filters over the first 64 bytes of
// a frame (some with bad sizes, masks, values or offsets), or a delete.
static void net_filter_call(struct kid *k)
{
  if (below(k, 4) == 0) {
    call(k, SYS_net_filter, NETF_DEL, below(k, 2) ? below(k, 130) : R(k), 0, 0, 0, 0);
    return;
  }
  struct netfilter f;
  memset(&f, 0, sizeof f);
  f.ntests = below(k, 16) ? below(k, NETF_MAXTESTS + 1) : R(k) % 16;
  if (below(k, 32) == 0)
    f.flags = R(k);
  static const uint8 sizes[] = { 1, 2, 4, 1, 2, 4, 0, 3, 8 };
  for (int i = 0; i < NETF_MAXTESTS; i++) {
    struct nettest *t = &f.t[i];
    t->size = sizes[below(k, sizeof sizes)];
    t->off = below(k, 16) ? (below(k, 2) ? 12 : below(k, 64)) : R(k) % 2000;
    t->mask = t->size >= 4 ? ~0U : (1U << (8 * (t->size ? t->size : 1))) - 1;
    if (below(k, 8) == 0)
      t->mask = R(k);
    t->value = below(k, 2) ? 0x0800 & t->mask : R(k) & t->mask;
    if (below(k, 16) == 0)
      t->value = R(k);
    if (below(k, 32) == 0)
      t->pad = R(k);
  }
  call(k, SYS_net_filter, NETF_ADD, below(k, 8) ? (uint64)&f : rand_buf(k), 0, 0, 0, 0);
}

// SYS_net_send: a frame to my own NIC address (it comes back), of random
// length and type, from my I/O pages or from anywhere.
static void net_send_call(struct kid *k)
{
  uint64 va = CIO + below(k, 8) * PGSIZE + (below(k, 2) ? 0 : below(k, PGSIZE));
  uint64 len = below(k, 8) ? 14 + below(k, 200) : below(k, 2) ? R(k) % 2000 : R(k);
  if (below(k, 8) == 0)
    va = rand_va(k);
  uint8 *p = (uint8 *)(CIO + below(k, 8) * PGSIZE);
  if (below(k, 2) && (uvpt_pte((uint64)p) & (PTE_V | PTE_W)) == (PTE_V | PTE_W) && !upages[PTE_PPN(uvpt_pte((uint64)p)) - PPN_BASE].pins) {
    for (int i = 0; i < 6; i++)
      p[i] = k->mac >> (8 * i);
    p[12] = 0x08;
    p[13] = below(k, 2) ? 0x00 : 0x06;
    va = (uint64)p;
  }
  call(k, SYS_net_send, va, len, 0, 0, 0, 0);
}

// SYS_env_set_tick(env, on).
static void tick_call(struct kid *k, envid_t env, uint64 on)
{
  call(k, SYS_env_set_tick, env, on, 0, 0, 0, 0);
}

// One random system call.
static void one_call(struct kid *k)
{
  static const uint8 nrs[] = {
    SYS_cputs, SYS_getenvid, SYS_getenvid, SYS_page_alloc, SYS_page_alloc, SYS_page_alloc,
    SYS_page_free, SYS_page_free, SYS_pte_set, SYS_pte_set, SYS_pte_set, SYS_pte_set,
    SYS_pte_batch, SYS_pte_batch, SYS_env_set_upcall, SYS_env_set_status, SYS_env_set_regs,
    SYS_slot_acquire, SYS_slot_release, SYS_env_destroy, SYS_env_destroy, SYS_halt,
    SYS_getbootarg, SYS_env_grant, SYS_irq_claim, SYS_irq_ack, SYS_dev_map, SYS_pct_reply,
    SYS_blk_grant, SYS_blk_revoke, SYS_env_set_tick, 22, SYS_mem_soft, 31, SYS_exofork, SYS_yield, SYS_yield,
    SYS_pct_call, SYS_pct_send, SYS_pct_send, SYS_pct_recv, SYS_pct_reply_recv, SYS_blk_io,
    SYS_blk_io, SYS_blk_wait, NSYSCALL, NSYSCALL + 1, NSYSCALL + 2, NSYSCALL + 3,
    SYS_net_filter, SYS_net_filter, SYS_net_ring, SYS_net_send, SYS_net_send, SYS_net_revoke,
  };
  uint64 nr = nrs[below(k, sizeof nrs)];
  if (below(k, 64) == 0)
    nr = below(k, NSYSCALL + 4);               // any number, rarely the slow ones
  if (nr == SYS_exit && below(k, 8))
    nr = SYS_getenvid;                         // keep children alive a while
  uint64 a[6];
  for (int i = 0; i < 6; i++)
    a[i] = rand_word(k);
  int64 r;
  switch (nr) {
  case SYS_cputs:                             // never print anything but "~"
    if (below(k, 4096) == 0)
      call(k, nr, (uint64)"~", 1, 0, 0, 0, 0);
    else
      call(k, nr, below(k, 2) ? CNOWHERE : boundary[below(k, NBOUND)], below(k, 2) ? 0 : R(k), 0, 0, 0, 0);
    return;
  case SYS_page_alloc:
    if (k->nppn >= NPPN && below(k, 2)) {       // bound what I hold
      uint64 i = below(k, NPPN);
      call(k, SYS_page_free, k->ppns[i], 0, 0, 0, 0, 0);
      k->ppns[i] = k->ppns[--k->nppn];
      return;
    }
    r = call(k, nr, below(k, 4) ? 0 : rand_env(k), 0, 0, 0, 0, 0);
    remember_ppn(k, r);
    return;
  case SYS_page_free:
    call(k, nr, rand_ppn(k), 0, 0, 0, 0, 0);
    return;
  case SYS_pte_set:
    call(k, nr, below(k, 3) ? 0 : rand_env(k), rand_va(k), rand_pte(k), below(k, 2) ? 0 : rand_va(k), 0, 0);
    return;
  case SYS_pte_batch: {
    struct pte_op ops[8];
    int n = below(k, 9);
    for (int i = 0; i < n; i++) {
      ops[i].va = rand_va(k);
      ops[i].pte = rand_pte(k);
    }
    uint64 p = below(k, 4) ? (uint64)ops : rand_buf(k);
    call(k, nr, below(k, 3) ? 0 : rand_env(k), p, below(k, 8) ? n : rand_word(k) & 0x7FF, 0, 0, 0);
    return;
  }
  case SYS_env_set_upcall:
    if (below(k, 2))
      rand_upcall(k);
    else
      call(k, nr, rand_env(k), rand_va(k), a[2], a[3], a[4], a[5]);
    return;
  case SYS_env_set_status:
    call(k, nr, rand_env(k), below(k, 4) ? 1 + below(k, 2) : a[1], 0, 0, 0, 0);
    return;
  case SYS_env_set_regs: {
    struct trapframe tf;
    uint64 *w = (uint64 *)&tf;
    for (uint64 i = 0; i < sizeof tf / 8; i++)
      w[i] = rand_word(k);
    call(k, nr, rand_env(k), below(k, 4) ? (uint64)&tf : rand_buf(k), 0, 0, 0, 0);
    return;
  }
  case SYS_slot_acquire:
    call(k, nr, rand_env(k), 0, 0, 0, 0, 0);
    return;
  case SYS_env_grant:
    call(k, nr, rand_env(k), below(k, 2) ? below(k, 8) : a[1], 0, 0, 0, 0);
    return;
  case SYS_irq_claim: {
    static const uint64 irqs[] = { IRQ_CHILD, IRQ_DISK, IRQ_UART, 2, 31, 32, 63, 64, 1023, -1UL };
    uint64 flags = below(k, 4) ? below(k, 2) : a[1];
    call(k, nr, irqs[below(k, 10)], flags, 0, 0, 0, 0);
    return;
  }
  case SYS_irq_ack:
  case SYS_dev_map:
    call(k, nr, below(k, 2) ? below(k, 12) : a[0], rand_va(k), 0, 0, 0, 0);
    return;
  case SYS_pct_reply:
  case SYS_pct_send:
    call(k, nr, rand_env(k), a[1], a[2], a[3], rand_page_word(k), 0);
    return;
  case SYS_pct_call:
  case SYS_pct_reply_recv:
  case SYS_pct_recv:
    call(k, nr, rand_env(k), a[1], a[2], a[3], rand_page_word(k),
         below(k, 2) ? CIO + below(k, 8) * PGSIZE : rand_va(k));
    return;
  case SYS_blk_grant:
    call(k, nr, rand_env(k), k->blk_start + below(k, 80) - 8, below(k, 70), below(k, 5), 0, 0);
    return;
  case SYS_blk_revoke:
    call(k, nr, rand_env(k), below(k, 10), 0, 0, 0, 0);
    return;
  case SYS_env_set_tick:
    tick_call(k, rand_env(k), below(k, 8) ? below(k, 2) : a[1]);
    return;
  case SYS_exofork:
    if (k->nmade >= 8 && below(k, 4))
      return;
    remember_env(k, call(k, nr, 0, 0, 0, 0, 0, 0));
    return;
  case SYS_yield:
    call(k, nr, below(k, 2) ? 0 : rand_env(k), 0, 0, 0, 0, 0);
    return;
  case SYS_blk_io: {
    static const uint64 ops[] = { BLK_READ, BLK_WRITE, BLK_READ | BLK_ASYNC, BLK_WRITE | BLK_ASYNC,
                                  2, BLK_ASYNC | 3, -1UL };
    uint64 blk = below(k, 4) ? k->blk_start + below(k, k->blk_count + 2) : a[1];
    call(k, nr, ops[below(k, 7)], blk, below(k, 4) ? CIO + below(k, 8) * PGSIZE : rand_va(k),
         below(k, 10), 0, 0);
    return;
  }
  case SYS_blk_wait:
    call(k, nr, below(k, 2) ? 0 : below(k, 2) ? 1UL << below(k, 64) : a[0], 0, 0, 0, 0, 0);
    return;
  case SYS_net_filter:
    net_filter_call(k);
    return;
  case SYS_net_ring:
    call(k, nr, below(k, 4) ? CIO + below(k, 8) * PGSIZE : rand_va(k),
         below(k, 4) ? below(k, 4) : a[1], 0, 0, 0, 0);
    return;
  case SYS_net_send:
    net_send_call(k);
    return;
  case SYS_net_revoke:
    call(k, nr, below(k, 8) ? rand_env(k) : k->self, below(k, 4) ? below(k, 2) : a[1], 0, 0, 0, 0);
    return;
  default:
    call(k, nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    return;
  }
}

// Map a fresh page of mine at va (for I/O); its PPN, or 0.
static uint64 fresh_page(struct kid *k, uint64 va)
{
  int64 ppn = call(k, SYS_page_alloc, 0, 0, 0, 0, 0, 0);
  if (ppn <= 0)
    return 0;
  if ((int64)call(k, SYS_pte_set, 0, va, PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_W), 0, 0, 0) < 0) {
    call(k, SYS_page_free, ppn, 0, 0, 0, 0, 0);
    return 0;
  }
  return ppn;
}

// Create, kill and reap envs back to back.
static void seq_churn(struct kid *k)
{
  for (int n = 2 + below(k, 8); n > 0; n--) {
    int64 id = call(k, SYS_exofork, 0, 0, 0, 0, 0, 0);
    if (id <= 0)
      return;
    if (below(k, 2))
      call(k, SYS_page_alloc, id, 0, 0, 0, 0, 0);    // something to free on the way out
    if (below(k, 4) == 0)
      call(k, SYS_env_set_status, id, ENV_RUNNABLE, 0, 0, 0, 0);   // it faults at once
    call(k, SYS_env_destroy, id, 0, 0, 0, 0, 0);
    call(k, SYS_env_destroy, id, 0, 0, 0, 0, 0);     // reap
    if (below(k, 2))
      call(k, SYS_env_destroy, id, 0, 0, 0, 0, 0);   // stale now
  }
}

// Register a good or bad exception set-up, then fault (or take ticks).
static void seq_fault(struct kid *k)
{
  rand_upcall(k);
  switch (below(k, 4)) {
  case 0:
    for (int i = 0; i < 8; i++)
      asm volatile(".option push; .option norvc; ebreak; .option pop");
    break;
  case 1:
    tick_call(k, 0, 1);
    for (int i = 0; i < 4; i++)
      call(k, SYS_yield, 0, 0, 0, 0, 0, 0);
    tick_call(k, 0, 0);
    break;
  case 2:
    if (below(k, 8) == 0)
      *(volatile uint64 *)(below(k, 2) ? 0 : CNOWHERE) = 1;   // dies (handler or not)
    break;
  default:
    break;
  }
  call(k, SYS_env_set_upcall, 0, (uint64)fuzz_upcall, CXSTACK, CXSTACK + PGSIZE,
       (uint64)fuzz_resume_start, (uint64)fuzz_resume_end);
}

// Interrupt upcalls about my own children and my own disk requests.
static void seq_irq(struct kid *k)
{
  call(k, SYS_irq_claim, IRQ_CHILD, IRQ_UPCALL, 0, 0, 0, 0);
  call(k, SYS_irq_claim, IRQ_DISK, below(k, 2) ? IRQ_UPCALL : 0, 0, 0, 0, 0);
  int64 id = call(k, SYS_exofork, 0, 0, 0, 0, 0, 0);
  if (id > 0) {
    call(k, SYS_env_destroy, id, 0, 0, 0, 0, 0);
    call(k, SYS_yield, 0, 0, 0, 0, 0, 0);            // the upcall comes on resume
    call(k, SYS_env_destroy, id, 0, 0, 0, 0, 0);
  }
  if (k->blk_count && call(k, SYS_blk_io, BLK_READ | BLK_ASYNC, k->blk_start, CIO, 1, 0, 0) < 64)
    call(k, SYS_yield, 0, 0, 0, 0, 0, 0);
}

// Asynchronous disk I/O on pages freed or unmapped while the device has
// them; sometimes never collected (the child dies with requests out).
static void seq_dma(struct kid *k)
{
  if (!k->blk_count)
    return;
  int n = 1 + below(k, 4);
  uint64 va = CIO + below(k, 8 - n + 1) * PGSIZE, ppn[4] = { 0 };
  for (int i = 0; i < n; i++)
    ppn[i] = fresh_page(k, va + i * PGSIZE);
  uint64 op = (below(k, 2) ? BLK_READ : BLK_WRITE) | BLK_ASYNC;
  int64 tag = call(k, SYS_blk_io, op, k->blk_start + below(k, k->blk_count - n + 1), va, n, 0, 0);
  for (int i = 0; i < n; i++) {
    if (below(k, 2))
      call(k, SYS_pte_set, 0, va + i * PGSIZE, 0, 0, 0, 0);
    if (ppn[i] && below(k, 2))
      call(k, SYS_page_free, ppn[i], 0, 0, 0, 0, 0);
    else
      remember_ppn(k, ppn[i]);
  }
  if (below(k, 4) && tag >= 0 && tag < 64)
    call(k, SYS_blk_wait, 1UL << tag, 0, 0, 0, 0, 0);
  else if (below(k, 2))
    call(k, SYS_blk_io, BLK_READ, k->blk_start, va, 1, 0, 0);   // synchronous, maybe unmapped now
}

// PCT among siblings: wait for a call, call one, or send with a page.
static void seq_pct(struct kid *k)
{
  if (!k->nsibs)
    return;
  envid_t to = k->sibs[below(k, k->nsibs)];
  uint64 page = below(k, 2) ? (CIO | PTE_R) : 0;
  switch (below(k, 4)) {
  case 0: {
    int64 from = call(k, SYS_pct_recv, 0, 0, 0, 0, 0, CIO + 7 * PGSIZE);
    if (from > 0)
      call(k, below(k, 2) ? SYS_pct_reply : SYS_pct_reply_recv, from, 1, 2, 3, page, 0);
    break;
  }
  case 1:
    call(k, SYS_pct_call, to, 1, 2, 3, page, below(k, 2) ? CIO + 6 * PGSIZE : 0);
    break;
  default:
    for (int i = 0; i < 4; i++)
      call(k, SYS_pct_send, to, i, 0, 0, page, 0);
    break;
  }
}

// The network: a filter, a ring on fresh pages (sometimes freed or
// unmapped at once: they stay pinned), frames to myself, slots emptied.
static void seq_net(struct kid *k)
{
  net_filter_call(k);
  int n = 1 + below(k, 3);
  uint64 va = CIO + below(k, 8 - n + 1) * PGSIZE, ppn[3] = { 0 };
  for (int i = 0; i < n; i++)
    ppn[i] = fresh_page(k, va + i * PGSIZE);
  call(k, SYS_net_ring, va, n, 0, 0, 0, 0);
  for (int i = 0; i < 4; i++)
    net_send_call(k);
  call(k, SYS_yield, 0, 0, 0, 0, 0, 0);
  for (int i = 0; i < n; i++) {
    if ((uvpt_pte(va + i * PGSIZE) & (PTE_V | PTE_W)) == (PTE_V | PTE_W))
      for (int s = 0; s < NET_SLOTS_PER_PAGE; s++)
        if (below(k, 2))
          ((struct netslot *)(va + i * PGSIZE + s * NET_SLOT))->full = 0;
    if (below(k, 4) == 0)
      call(k, SYS_pte_set, 0, va + i * PGSIZE, 0, 0, 0, 0);
    if (ppn[i] && below(k, 4) == 0)
      call(k, SYS_page_free, ppn[i], 0, 0, 0, 0, 0);
    else
      remember_ppn(k, ppn[i]);
  }
  if (below(k, 4) == 0)
    call(k, SYS_net_ring, 0, 0, 0, 0, 0, 0);
}

// A child's life: random calls and sequences until its budget is spent.
static void kid_main(struct kid *k)
{
  fresh_page(k, CIO);
  while (k->calls < k->budget) {
    uint64 r = below(k, 256);
    if (r == 0)
      seq_churn(k);
    else if (r == 1)
      seq_fault(k);
    else if (r == 2)
      seq_irq(k);
    else if (r == 3 || r == 4)
      seq_dma(k);
    else if (r == 5)
      seq_pct(k);
    else if (r == 6 || r == 7)
      seq_net(k);
    else
      one_call(k);
  }
  call(k, SYS_exit, 0, 0, 0, 0, 0, 0);
  for (;;)
    ;
}

// ---- the parent ----

#define ROUND_TICKS   (usys->timebase / 2)          // a round lasts at most 0.5 s
#define STALL_TICKS   (usys->timebase / 200)        // ... or 5 ms without progress
#define SCRATCH       64                           // disk blocks the children share

static uint64 seed, want = 100000, total, rounds, prng;
static uint64 kills;                       // children that ended with a nonzero status
static uint64 ended[3];                    // rounds that ended: all done, stuck, out of time
static envid_t me, daemons[8], stale[8];
static int ndaemons, nstale;
static uint64 scratch_start;
static struct census before, after;

static uint64 budgets[MAXKIDS];            // mine: a child may scribble on its own page

static struct kid *state(int i) { return (struct kid *)(PSTATE + i * PGSIZE); }

static int is_daemon(envid_t id)
{
  for (int i = 0; i < ndaemons; i++)
    if (daemons[i] == id)
      return 1;
  return 0;
}

// Map my text and read-only data into child id, read-only.
static int share_text(envid_t id)
{
  static struct pte_op ops[256];
  int n = 0;
  for (uint64 va = UTEXT; va < (uint64)data_start && n < 256; va += PGSIZE) {
    pte_t pte = uvpt_pte(va);
    if (!(pte & PTE_V))
      continue;
    ops[n].va = va;
    ops[n].pte = (pte & ~(PTE_W | PTE_D | PTE_RSW0 | PTE_RSW1)) | PTE_A;
    n++;
  }
  return sys_pte_batch(id, ops, n);
}

// A page owned by child id, mapped at va with perm.  0 or an error.
static int give_page(envid_t id, uint64 va, uint64 perm)
{
  int64 ppn = sys_page_alloc(id);
  if (ppn < 0)
    return ppn;
  return sys_pte_set(id, va, PPN_PTE(ppn, perm | PTE_V | PTE_U | PTE_A | PTE_D));
}

// Build child i's address space and registers; it stays stopped.
static int setup_kid(int i, envid_t id, envid_t *kids, int nk, uint64 round)
{
  struct kid *k = state(i);
  memset(k, 0, sizeof *k);
  k->budget = budgets[i] = 100 + rnd(&prng) % 4000;
  k->rng = mix(seed ^ mix(round * MAXKIDS + i)) | 1;
  k->self = id;
  k->parent = me;
  for (int j = 0; j < nk; j++)
    if (kids[j] != id)
      k->sibs[k->nsibs++] = kids[j];
  for (int j = 0; j < 8; j++)
    k->stale[j] = stale[j];
  k->ram_pages = usys->npages;
  int r;
  if ((r = share_text(id)) < 0 || (r = give_page(id, CSTACK, PTE_R | PTE_W)) < 0 ||
      (r = give_page(id, CSTACK + PGSIZE, PTE_R | PTE_W)) < 0)
    return r;
  pte_t st = uvpt_pte((uint64)k);
  if ((r = sys_pte_set(id, CSTATE, (st & ~(PTE_RSW0 | PTE_RSW1)) | PTE_A | PTE_D)) < 0)
    return r;
  // The exception set-up: mostly good, sometimes missing or unusable.
  uint64 entry = (uint64)fuzz_upcall, lo = CXSTACK, hi = CXSTACK + PGSIZE;
  uint64 how = rnd(&prng) % 8;
  if (how == 0)
    entry = 0;
  else if (how == 1)
    lo = CNOWHERE, hi = CNOWHERE + PGSIZE;
  else if ((r = give_page(id, CXSTACK, how == 2 ? PTE_R : PTE_R | PTE_W)) < 0)
    return r;
  if ((r = sys_env_set_upcall(id, (void (*)(void))entry, lo, hi, (uint64)fuzz_resume_start,
                              (uint64)fuzz_resume_end)) < 0)
    return r;
  if (scratch_start && rnd(&prng) % 4) {
    uint64 off = rnd(&prng) % 2 ? 0 : rnd(&prng) % (SCRATCH / 2);
    uint32 rights = rnd(&prng) % 4 ? BLK_R | BLK_W : BLK_R;
    if (sys_blk_grant(id, scratch_start + off, SCRATCH - off, rights) >= 0) {
      k->blk_start = scratch_start + off;
      k->blk_count = SCRATCH - off;
    }
  }
  k->mac = usys->net_mac;
  if (k->mac && rnd(&prng) % 2 && (r = sys_env_grant(id, RIGHT_NET)) < 0)
    return r;
  struct trapframe tf;
  memset(&tf, 0, sizeof tf);
  tf.pc = (uint64)kid_main;
  tf.sp = CSTACKTOP;
  tf.a0 = CSTATE;
  return sys_env_set_regs(id, &tf);
}

// Destroy and reap every env whose parent I am (my children, and the
// orphans of envs that died), except the daemons init started.  Gives up
// after a while (an env running elsewhere dies at that hart's next trap).
static void reap_all(void)
{
  uint64 t0 = rdtime();
  for (;;) {
    int left = 0;
    for (int i = 0; i < NENV; i++) {
      volatile const struct envpub *p = &uenvs[i];
      envid_t id = p->id;
      if (id == 0 || p->status == ENV_FREE || p->parent != me || is_daemon(id))
        continue;
      left++;
      if (p->status != ENV_EXITED)
        sys_env_destroy(id);
      if (p->status == ENV_EXITED)
        sys_env_destroy(id);               // reap
    }
    if (!left)
      return;
    if (rdtime() - t0 > 5 * usys->timebase) {
      printf("fuzz: FAIL: %d envs cannot be reaped\n", left);
      for (int i = 0; i < NENV; i++) {
        volatile const struct envpub *p = &uenvs[i];
        if (p->id && p->status != ENV_FREE && p->parent == me && !is_daemon(p->id))
          printf("fuzz:   env %08x status %d hart %d runs %d npages %d nslots %d\n", p->id,
                 p->status, p->hart, p->runs, p->npages, p->nslots);
      }
      return;
    }
    sys_yield(0);
  }
}

// Let the children run a while.  With one hart, yield to them; with more,
// they run on the others, so wait a little in user mode first (a parent
// spinning on yields would mostly exercise SYS_yield, and with KCHECK=1 it
// would trigger most of the invariant checks).
static void pause(void)
{
  if (usys->nharts > 1) {
    uint64 t = rdtime();
    while (rdtime() - t < usys->timebase / 5000)
      ;
  }
  sys_yield(0);
}

static uint64 kid_calls(int nk)
{
  uint64 n = 0;
  for (int i = 0; i < nk; i++) {
    uint64 c = state(i)->calls;
    n += c < budgets[i] + 1000 ? c : budgets[i] + 1000;   // a scribbled counter
  }
  return n;
}

// One round: make children, let them run until they are done, stuck, or
// out of time, then destroy and reap everything.
static void round_once(uint64 round)
{
  envid_t kids[MAXKIDS];
  int nk = 0, want_kids = 1 + rnd(&prng) % MAXKIDS;
  while (nk < want_kids) {
    envid_t id = sys_exofork();
    if (id == 0)
      for (;;)
        ;                              // (never runs: set_regs moves it)
    if (id < 0)
      break;                           // no env or slot free: fewer this round
    kids[nk++] = id;
  }
  for (int i = 0; i < nk; i++)
    if (setup_kid(i, kids[i], kids, nk, round) < 0) {
      sys_env_destroy(kids[i]);
      budgets[i] = 0;
    }
  for (int i = 0; i < nk; i++)
    sys_env_set_status(kids[i], ENV_RUNNABLE);
  uint64 start = rdtime(), last = start, seen = 0;
  for (;;) {
    pause();
    uint64 now = rdtime(), c = kid_calls(nk);
    int alive = 0;
    for (int i = 0; i < nk; i++)
      if (uenvs[ENVX(kids[i])].id == kids[i] && uenvs[ENVX(kids[i])].status != ENV_EXITED)
        alive++;
    if (c != seen)
      seen = c, last = now;
    if (!alive || now - start > ROUND_TICKS || now - last > STALL_TICKS) {
      ended[!alive ? 0 : now - last > STALL_TICKS ? 1 : 2]++;
      break;
    }
  }
  for (int i = 0; i < nk; i++) {
    volatile const struct envpub *p = &uenvs[ENVX(kids[i])];
    if (p->id == kids[i] && p->status == ENV_EXITED && p->exitcode != 0)
      kills++;
  }
  reap_all();
  total += kid_calls(nk);
  for (int i = 0; i < nk; i++)
    stale[nstale++ % 8] = kids[i];
}

// Wait until no page is pinned by a disk request (children died with
// requests in flight).
static void wait_dma(void)
{
  uint64 t0 = rdtime();
  for (;;) {
    int pinned = 0;
    for (uint64 i = 0; i < usys->npages; i++)
      pinned += upages[i].pins != 0;
    if (!pinned)
      return;
    if (rdtime() - t0 > 5 * usys->timebase) {
      printf("fuzz: FAIL: %d pages still pinned\n", pinned);
      return;
    }
    sys_yield(0);
  }
}

static int64 held(void)
{
  int64 n = uenvs[ENVX(me)].npages;
  for (int i = 0; i < ndaemons; i++)
    n += uenvs[ENVX(daemons[i])].npages;
  return n;
}

int main(int argc, char **argv)
{
  seed = rdtime();
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "n=", 2) == 0)
      want = strtol(argv[i] + 2, 0, 0);
    else if (strncmp(argv[i], "seed=", 5) == 0)
      seed = strtol(argv[i] + 5, 0, 0);
  }
  printf("fuzz: seed %lu\n", seed);
  prng = mix(seed) | 1;
  me = sys_getenvid();
  for (int i = 0; i < NENV && ndaemons < 8; i++)
    if (uenvs[i].id && uenvs[i].status != ENV_FREE && uenvs[i].parent == me)
      daemons[ndaemons++] = uenvs[i].id;
  if (usys->disk_blocks >= 4 * SCRATCH)
    scratch_start = usys->disk_blocks - SCRATCH;
  for (int i = 0; i < MAXKIDS; i++)
    if (page_map((uint64)state(i), PTE_R | PTE_W) < 0)
      panic("fuzz: no memory for the state pages");
  for (int i = 0; i < 8; i++)
    stale[i] = (me & ~(NENV - 1)) + NENV + 7 * i;   // made-up ids
  // The baseline: after my own set-up, before any child exists.  What I
  // and my daemons hold may still change (my stack grows lazily); the
  // check at the end allows for exactly that change.
  if (census(&before))
    census_print(&before);
  check(before.problems == 0, "census before the run: %d problems", before.problems);
  uint64 free0 = usys->nfree;
  int64 held0 = held();
  uint64 t0 = rdtime(), report = 1000000;
  while (total < want) {
    round_once(rounds++);
    if (total >= report) {
      printf("fuzz: %lu calls, %lu rounds, %lu s\n", total, rounds, (rdtime() - t0) / usys->timebase);
      report += 1000000;
    }
  }
  reap_all();
  wait_dma();
  int bad = census(&after);
  int64 held1 = held();
  uint64 free1 = usys->nfree;
  if (bad || free1 + (held1 - held0) != free0)
    census_print(&after);
  check(bad == 0, "census after the run: %d problems", bad);
  check(free1 + (held1 - held0) == free0,
        "free pages: %lu before, %lu after, and my own hold changed by %ld (a leak of %ld)", free0,
        free1, held1 - held0, (int64)free0 - (int64)free1 - (held1 - held0));
  printf("fuzz: %lu rounds (%lu done, %lu stuck, %lu out of time), %lu children ended with a nonzero status, %lu s\n",
         rounds, ended[0], ended[1], ended[2], kills, (rdtime() - t0) / usys->timebase);
  printf("fuzz: free pages %lu -> %lu, mine and my daemons' %ld -> %ld\n", free0, free1, held0, held1);
  if (usys->net_mac)
    printf("fuzz: network: %lu frames sent, %lu delivered, %lu taken by no filter, %lu to a full or no ring, %lu malformed\n",
           usys->net_tx, usys->net_rx, usys->net_nomatch, usys->net_ringfull, usys->net_bad);
  if (check_failures() == 0)
    printf("fuzz: %lu calls, seed %lu: OK\n", total, seed);
  return check_report();
}
