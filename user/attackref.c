// Attacks found in review, kept as regression tests: a reference count that
// wraps, system calls on an exited (unreaped) child, upgrading a borrowed
// copy-on-write mapping to writable, floating point left enabled, halting
// without the right, and an unbounded debug-console write.
#include "lib.h"

#define BASE 0x100000000UL                   // 4 GiB: room for 65,536 mappings
#define RW   (PTE_V | PTE_U | PTE_R | PTE_W)

static struct pte_op ops[1024];

// Map one page at 65,536 addresses: the count must not wrap, and dropping
// the owner's hold must not free a page that is still mapped.
static void refcount_wrap(void)
{
  int64 p = sys_page_alloc(0);
  for (int b = 0; b < 64; b++) {
    for (int i = 0; i < 1024; i++)
      ops[i] = (struct pte_op){ BASE + ((uint64)(b * 1024 + i) << PGSHIFT), PPN_PTE(p, RW) };
    if (sys_pte_batch(0, ops, 1024) < 0)
      break;                                 // refusing is fine; wrapping is not
  }
  int mapped = 0;
  for (uint64 i = 0; i < 65536; i++)
    mapped += (uvpt_pte(BASE + (i << PGSHIFT)) & PTE_V) != 0;
  check(upages[p - PPN_BASE].refs == (uint32)mapped, "refs %u for %d mappings",
        (uint32)upages[p - PPN_BASE].refs, mapped);
  sys_page_free(p);
  check(upages[p - PPN_BASE].kind == PG_USER, "a page mapped %d times was freed", mapped);
  *(volatile int *)BASE = 7;
  check(*(volatile int *)(BASE + PGSIZE) == 7, "mappings no longer share the page");
  for (int b = 0; b < 64; b++) {
    for (int i = 0; i < 1024; i++)
      ops[i] = (struct pte_op){ BASE + ((uint64)(b * 1024 + i) << PGSHIFT), 0 };
    sys_pte_batch(0, ops, 1024);
  }
  check(upages[p - PPN_BASE].kind == PG_FREE, "page not freed after its last unmapping");
}

// An exited child that is not reaped yet has no memory: nothing but the
// reap may touch it.
static void exited_child(void)
{
  envid_t c = fork();
  if (c == 0)
    exit(0);
  while (uenvs[ENVX(c)].status != ENV_EXITED)
    sys_yield(0);
  expect_err(sys_pte_set(c, 0x6000000, 0), E_BAD_ENV, "pte_set on an exited child");
  int64 p = sys_page_alloc(0);
  expect_err(sys_pte_set(c, 0x6000000, PPN_PTE(p, RW)), E_BAD_ENV, "map into an exited child");
  struct pte_op op = { 0x6000000, PPN_PTE(p, RW) };
  expect_err(sys_pte_batch(c, &op, 1), E_BAD_ENV, "batch into an exited child");
  expect_err(sys_page_alloc(c), E_BAD_ENV, "page_alloc for an exited child");
  expect_err(sys_slot_acquire(c), E_BAD_ENV, "slot_acquire for an exited child");
  expect_err(sys_env_set_upcall(c, 0, 0, 0, 0, 0), E_BAD_ENV, "set_upcall on an exited child");
  struct trapframe tf = { 0 };
  expect_err(sys_env_set_regs(c, &tf), E_BAD_ENV, "set_regs on an exited child");
  expect_err(sys_env_set_status(c, ENV_RUNNABLE), E_BAD_ENV, "revive an exited child");
  int status = -1;
  check(waitenv(c, &status) == c && status == 0, "reap after the attacks");
  sys_page_free(p);
}

// A child borrows a page of its parent's, read-only: it may read it, never
// make it writable or executable.  (The parent lends the page explicitly,
// so the test does not depend on how fork passes pages on.)
#define BORROW 0x20000000UL                // an address nothing else uses
static volatile int secret[PGSIZE / sizeof(int)] __attribute__((aligned(PGSIZE))) = { 1 };
static void borrowed_upgrade(void)
{
  secret[0] = 1;
  envid_t c = fork();
  if (c == 0) {
    while (!(uvpt_pte(BORROW) & PTE_V))
      sys_yield(0);                        // until the parent has lent the page
    pte_t pte = uvpt_pte(BORROW);
    int r1 = sys_pte_set(0, BORROW, pte | PTE_W);
    int r2 = sys_pte_set(0, BORROW, pte | PTE_X);
    if (r1 == 0 && (uvpt_pte(BORROW) & PTE_W))
      ((volatile int *)BORROW)[0] = 666;   // the attack worked: spoil the parent's page
    exit((r1 == -E_PERM ? 0 : 1) | (r2 == -E_PERM ? 0 : 2));
  }
  pte_t mine = uvpt_pte((uint64)secret);
  check(c > 0 && sys_pte_set(c, BORROW, PPN_PTE(PTE_PPN(mine), PTE_V | PTE_U | PTE_R | PTE_A)) == 0,
        "lending a page read-only to my child");
  int status = -1;
  waitenv(c, &status);
  check(status == 0, "child upgraded a borrowed page (status %d: 1 = to writable, 2 = to executable)",
        status);
  check(secret[0] == 1, "the child changed the parent's memory (secret = %d)", secret[0]);
}

static int fp_trapped;
static int catch_illegal(struct uframe *f)
{
  fp_trapped++;
  f->tf.pc += 4;
  return 1;
}

// Floating point is off: an FP instruction traps instead of touching
// registers that the kernel does not save (and that would leak).
static void fp_off(void)
{
  set_handler(CAUSE_ILLEGAL, catch_illegal);
  asm volatile(".4byte 0xf20502d3");         // fmv.d.x f5, a0
  asm volatile(".4byte 0x00302573");         // csrr a0, fcsr
  check(fp_trapped == 2, "floating point is enabled (%d of 2 FP instructions trapped)", fp_trapped);
}

static void halt_right(void)
{
  envid_t c = fork();
  if (c == 0)
    exit(sys_halt() == -E_PERM ? 1 : 2);     // must come back refused
  int status = -1;
  waitenv(c, &status);
  check(status == 1, "a child without the right halted?");
  expect_err(sys_env_grant(c, RIGHT_HALT), E_BAD_ENV, "grant to a reaped env");
  envid_t d = fork();
  if (d == 0) {
    expect_err(sys_env_grant(0, RIGHT_HALT), E_PERM, "grant myself a right I lack");
    exit(check_failures());
  }
  waitenv(d, &status);
  check(status == 0, "self-grant");
}

static void cputs_bound(void)
{
  static char big[3 * PGSIZE];
  expect_err(sys_cputs(big, MAXCPUTS + 1), E_INVAL, "cputs longer than MAXCPUTS");
}

int main(int argc, char **argv)
{
  struct census_mark start;
  census_mark(&start);                 // every page must come back (ulib/census.c)
  refcount_wrap();
  exited_child();
  borrowed_upgrade();
  fp_off();
  halt_right();
  cputs_bound();
  census_check(&start);
  return check_report();
}
