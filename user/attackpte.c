// Attacks on the memory-export checks: every way to get a PTE the kernel
// must refuse, and acting on envs that are not descendants.  Each attack
// must fail with the documented error; "BROKEN" means it did not.
// `attackpte calls` runs only the attacks answered by an error code.
#include "lib.h"

#define VA     0x6000000UL
#define RW     (PTE_V | PTE_U | PTE_R | PTE_W)
#define FARVA  (77UL << 30)                 // a gigabyte no program maps

extern char end[];

static int faults;
static uint64 probing;           // the address being probed, 0 when not probing
static int catch_fault(struct uframe *f)
{
  if (!probing || f->tval != probing)
    return 0;                    // not ours: copy-on-write, demand paging, ...
  faults++;
  f->tf.pc += 4;                 // the probes below are 4-byte loads and stores
  return 1;
}

// Store to / load from a protected address: must fault, not succeed.
static void probe(uint64 va, int write, const char *what)
{
  int before = faults;
  probing = va;
  if (write)
    asm volatile(".option push; .option norvc; sd zero, 0(%0); .option pop" : : "r"(va) : "memory");
  else
    asm volatile(".option push; .option norvc; ld t0, 0(%0); .option pop" : : "r"(va) : "t0", "memory");
  probing = 0;
  if (faults == before)
    expect_err(0, E_FAULT, what);
}

static void attack_bits(uint64 ppn)
{
  expect_err(sys_pte_set(0, VA, PPN_PTE(ppn, RW & ~PTE_V)), E_BAD_PTE, "PTE without V");
  expect_err(sys_pte_set(0, VA, PPN_PTE(ppn, RW & ~PTE_U)), E_BAD_PTE, "PTE without U");
  expect_err(sys_pte_set(0, VA, PPN_PTE(ppn, RW | PTE_G)), E_BAD_PTE, "PTE with G");
  expect_err(sys_pte_set(0, VA, PPN_PTE(ppn, PTE_V | PTE_U | PTE_W)), E_BAD_PTE, "W without R");
  expect_err(sys_pte_set(0, VA, PPN_PTE(ppn, PTE_V | PTE_U | PTE_W | PTE_X)), E_BAD_PTE, "W+X without R");
  expect_err(sys_pte_set(0, VA, PPN_PTE(ppn, PTE_V | PTE_U)), E_BAD_PTE, "pointer PTE (R=W=X=0)");
  expect_err(sys_pte_set(0, VA, PPN_PTE(ppn, RW) | (1UL << 63)), E_BAD_PTE, "reserved high bits");
  expect_err(sys_pte_set(0, VA, PPN_PTE(ppn, RW) | (1UL << 54)), E_BAD_PTE, "reserved bit 54");
}

static void attack_addresses(uint64 ppn)
{
  expect_err(sys_pte_set(0, UTOP, PPN_PTE(ppn, RW)), E_BAD_VA, "map at UTOP");
  expect_err(sys_pte_set(0, UVPT + 0x1000, PPN_PTE(ppn, RW)), E_BAD_VA, "map over UVPT");
  expect_err(sys_pte_set(0, UVPR, 0), E_BAD_VA, "clear UVPR");
  expect_err(sys_pte_set(0, UENVS, PPN_PTE(ppn, RW)), E_BAD_VA, "map over UENVS");
  expect_err(sys_pte_set(0, UPAGES, 0), E_BAD_VA, "clear UPAGES");
  expect_err(sys_pte_set(0, MAXUVA, PPN_PTE(ppn, RW)), E_BAD_VA, "map at MAXUVA");
  expect_err(sys_pte_set(0, KERNBASE + KERNLOAD, PPN_PTE(ppn, RW)), E_BAD_VA, "map over the kernel");
  expect_err(sys_pte_set(0, ~0UL & ~(PGSIZE - 1), PPN_PTE(ppn, RW)), E_BAD_VA, "map at the top of memory");
  expect_err(sys_pte_set(0, VA + 8, PPN_PTE(ppn, RW)), E_BAD_VA, "unaligned va");
  // The source address of sys_pte_set_from, at UTOP: my first page-table
  // page is mapped there (UVPT), readable; it must not be passed on.
  pte_t vpt0 = uvpt_pte(UTOP);
  expect_err(sys_pte_set_from(0, VA, PPN_PTE(PTE_PPN(vpt0), PTE_V | PTE_U | PTE_R), UTOP), E_BAD_VA,
             "pass on the page-table page mapped at UTOP");
  expect_err(sys_pte_set_from(0, VA, PPN_PTE(ppn, RW), UTOP + PGSIZE), E_BAD_VA, "a source above UTOP");
  expect_err(sys_pte_set_from(0, VA, PPN_PTE(ppn, RW), VA + 8), E_BAD_VA, "an unaligned source");
  // the target alone at UTOP, from a good source: the bound is on both
  expect_err(sys_pte_set_from(0, UTOP, PPN_PTE(ppn, RW), VA), E_BAD_VA, "map at UTOP from a good source");
}

static void attack_pages(void)
{
  // page-table pages: the level-1 and level-0 tables that map my text
  uint64 l1 = PTE_PPN(((volatile pte_t *)UVPR)[0]);
  uint64 l0 = PTE_PPN(((volatile pte_t *)UVPD)[0]);
  expect_err(sys_pte_set(0, VA, PPN_PTE(l1, RW)), E_PERM, "map my level-1 table writable");
  expect_err(sys_pte_set(0, VA, PPN_PTE(l0, PTE_V | PTE_U | PTE_R)), E_PERM, "map my level-0 table");
  expect_err(sys_pte_set(0, VA, PPN_PTE(KERNLOAD >> 12, RW)), E_PERM, "map the kernel's first page");
  expect_err(sys_pte_set(0, VA, PPN_PTE(RAMBASE >> 12, PTE_V | PTE_U | PTE_R)), E_PERM, "map OpenSBI");
  expect_err(sys_pte_set(0, VA, PPN_PTE(UART0 >> 12, RW)), E_PERM, "map the UART");
  expect_err(sys_pte_set(0, VA, PPN_PTE(PLIC >> 12, RW)), E_PERM, "map the PLIC");
  expect_err(sys_pte_set(0, VA, PPN_PTE(VIRTIO0 >> 12, RW)), E_PERM, "map the disk");
  expect_err(sys_pte_set(0, VA, PPN_PTE(0x88000, RW)), E_PERM, "map past the end of RAM");
  expect_err(sys_pte_set(0, VA, PPN_PTE((1UL << 44) - 1, RW)), E_PERM, "map the largest PPN");
  // the public records' own pages, found through my level-1 entry for UENVS
  uint64 pub = PTE_PPN(((volatile pte_t *)UVPR)[UENVS >> 30]);
  expect_err(sys_pte_set(0, VA, PPN_PTE(pub, RW)), E_PERM, "map the shared public table");
  // a free page (one that nobody owns): pick one from the public records
  for (uint64 i = 0; i < usys->npages; i++)
    if (upages[i].kind == PG_FREE) {
      expect_err(sys_pte_set(0, VA, PPN_PTE(PPN_BASE + i, RW)), E_PERM, "map a free page");
      expect_err(sys_page_free(PPN_BASE + i), E_PERM, "free a free page");
      break;
    }
  expect_err(sys_page_free(0x80200), E_PERM, "free a kernel page");
  expect_err(sys_page_free(l1), E_PERM, "free my page table");
  expect_err(sys_page_free(5), E_INVAL, "free a PPN outside RAM");
}

static void attack_other_envs(void)
{
  envid_t parent = thisenv->id;
  uint64 mine = sys_page_alloc(0);           // owned by the parent, never mapped
  envid_t sibling = fork();
  if (sibling == 0) {
    sys_env_set_status(0, ENV_NOT_RUNNABLE);
    for (;;)
      sys_yield(0);
  }
  envid_t child = fork();
  if (child == 0) {
    expect_err(sys_pte_set(parent, VA, 0), E_BAD_ENV, "child edits its parent's page table");
    expect_err(sys_page_alloc(parent), E_BAD_ENV, "child allocates for its parent");
    expect_err(sys_env_set_status(parent, ENV_NOT_RUNNABLE), E_BAD_ENV, "child stops its parent");
    expect_err(sys_env_destroy(parent), E_BAD_ENV, "child destroys its parent");
    expect_err(sys_env_set_upcall(parent, 0, 0, 0, 0, 0), E_BAD_ENV, "child sets its parent's upcall");
    struct trapframe tf = { 0 };
    expect_err(sys_env_set_regs(parent, &tf), E_BAD_ENV, "child sets its parent's registers");
    expect_err(sys_slot_acquire(parent), E_BAD_ENV, "child gives its parent a slot");
    expect_err(sys_slot_release(parent), E_BAD_ENV, "child takes its parent's slot");
    expect_err(sys_env_destroy(sibling), E_BAD_ENV, "destroy a sibling");
    expect_err(sys_pte_set(sibling, VA, 0), E_BAD_ENV, "edit a sibling's page table");
    expect_err(sys_env_destroy(12345), E_BAD_ENV, "destroy a made-up env");
    expect_err(sys_env_destroy(-1), E_BAD_ENV, "destroy env -1");
    expect_err(sys_pte_set(0, VA, PPN_PTE(mine, RW)), E_PERM, "map the parent's unmapped page");
    expect_err(sys_page_free(mine), E_PERM, "free the parent's page");
    exit(check_failures());
  }
  int status = -1;
  waitenv(child, &status);
  check(status == 0, "child attacks (status %d)", status);
  // a reaped env's id is stale: nothing may reach the env that reuses its slot
  expect_err(sys_env_destroy(child), E_BAD_ENV, "destroy a reaped env");
  expect_err(sys_env_set_status(child, ENV_RUNNABLE), E_BAD_ENV, "wake a reaped env");
  expect_err(sys_env_set_status(sibling, 7), E_INVAL, "bad status value");
  expect_err(sys_env_destroy(0), E_INVAL, "destroy myself with env_destroy");
  check(sys_env_destroy(sibling) == 0 && waitenv(sibling, 0) == sibling, "destroy my own child");
  sys_page_free(mine);
}

// A child made by exofork and never made runnable: a target for calls on
// another env that must not race with the child itself.
static envid_t idle_child(void)
{
  envid_t c = sys_exofork();
  if (c == 0)
    for (;;)
      ;                      // never runs: an exofork child is not runnable
  return c;
}

static void attack_upcall_and_slots(void)
{
  expect_err(sys_env_set_upcall(0, (void (*)(void))UTOP, UXSTACKTOP - PGSIZE, UXSTACKTOP, 0, 0), E_BAD_VA,
             "upcall entry at UTOP");
  expect_err(sys_env_set_upcall(0, (void (*)(void))0x10000, UTOP - PGSIZE, UTOP + PGSIZE, 0, 0), E_BAD_VA,
             "exception stack past UTOP");
  expect_err(sys_env_set_upcall(0, (void (*)(void))0x10000, UXSTACKTOP, UXSTACKTOP - PGSIZE, 0, 0), E_BAD_VA,
             "exception stack upside down");
  // the bounds themselves, on a child that never runs
  envid_t k = idle_child();
  check(k > 0, "exofork: %d", k);
  void (*entry)(void) = (void (*)(void))0x10000;
  uint64 lo = UTOP - MAXXSTACK;
  expect_err(sys_env_set_upcall(k, entry, lo, lo, 0, 0), E_BAD_VA, "an empty exception stack");
  expect_err(sys_env_set_upcall(k, entry, lo + 1, UTOP, 0, 0), E_BAD_VA, "an exception stack at an odd address");
  expect_err(sys_env_set_upcall(k, entry, lo, UTOP - 8, 0, 0), E_BAD_VA, "an exception stack 8-byte aligned");
  expect_err(sys_env_set_upcall(k, entry, lo - 16, UTOP, 0, 0), E_BAD_VA, "an exception stack over MAXXSTACK");
  check(sys_env_set_upcall(k, entry, lo, UTOP, 0, 0) == 0,
        "an exception stack of MAXXSTACK bytes ending at UTOP was refused");
  check(sys_env_set_upcall(k, entry, UTOP - 16, UTOP, 0, 0) == 0, "a 16-byte exception stack was refused");
  check(sys_env_set_upcall(k, entry, 0, 0, 0, 0) == 0, "no exception stack (0, 0) was refused");
  sys_env_destroy(k);
  expect_err(sys_slot_release(0), E_NO_SLOT, "release my last time slice");
  int n = 0;
  while (sys_slot_acquire(0) >= 0)
    n++;
  check(n > 0 && thisenv->nslots == n + 1, "slots: acquired %d, record says %d", n, thisenv->nslots);
  while (n-- > 0)
    check(sys_slot_release(0) == 0, "release a slot");
  check(thisenv->nslots == 1, "slots after release: %d", thisenv->nslots);
}

static void attack_syscall_numbers(void)
{
  for (uint64 n = NSYSCALL; n < NSYSCALL + 3; n++) {
    register uint64 a0 asm("a0") = 0;
    register uint64 a7 asm("a7") = n;
    asm volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
    expect_err(a0, E_NOSYS, "system call past the end");
  }
  uint64 nums[] = { SYS_net_revoke + 1, SYS_FIRST_SLOW - 1, -1UL, 1UL << 63, 1000 };   // (the first unused)
  for (int i = 0; i < 5; i++) {
    register uint64 a0 asm("a0") = 0;
    register uint64 a7 asm("a7") = nums[i];
    asm volatile("ecall" : "+r"(a0) : "r"(a7) : "t0", "t1", "t2", "t3", "t4", "t5", "t6", "a1", "a2", "a3", "a4", "a5", "a6", "memory");
    expect_err(a0, E_NOSYS, "unused system call number");
  }
}

static void attack_loads_and_stores(void)
{
  set_handler(CAUSE_LOAD_PAGE, catch_fault);
  set_handler(CAUSE_STORE_PAGE, catch_fault);
  set_handler(CAUSE_LOAD_ACCESS, catch_fault);
  set_handler(CAUSE_STORE_ACCESS, catch_fault);
  probe(UVPT, 1, "store to UVPT");
  probe(UVPR, 1, "store to UVPR");
  probe(UENVS, 1, "store to UENVS");
  probe(UPAGES, 1, "store to UPAGES");
  probe(KERNBASE + KERNLOAD, 0, "load from the kernel");
  probe(KERNBASE + KERNLOAD, 1, "store to the kernel");
  probe(KERNBASE + UART0, 1, "store to the UART through the kernel map");
  probe(0x10000, 1, "store to my text");
}

static void batch_semantics(uint64 ppn)
{
  struct pte_op ops[3] = {
    { VA, PPN_PTE(ppn, RW) },
    { VA + PGSIZE, PPN_PTE(ppn, RW | PTE_G) },       // illegal: stops here
    { VA + 2 * PGSIZE, PPN_PTE(ppn, RW) },
  };
  expect_err(sys_pte_batch(0, ops, 3), E_BAD_PTE, "batch with an illegal entry");
  check((uvpt_pte(VA) & PTE_V) && !(uvpt_pte(VA + 2 * PGSIZE) & PTE_V),
        "batch did not stop at the bad entry");
  expect_err(sys_pte_batch(0, ops, 1UL << 40), E_INVAL, "batch of 2^40 entries");
  sys_pte_set(0, VA, 0);
}

// A page I do not own but map (as fork and dup pass pages on) may be passed
// on with no more permission than my own mapping has, and only from where
// I map it; a page I own may be mapped any way, also into my children.
static void attack_borrowed(void)
{
  int64 p = sys_page_alloc(0);
  check(p > 0, "page_alloc");
  envid_t c = fork();
  if (c == 0) {
    while (!(uvpt_pte(VA) & PTE_V))                  // wait for the parent's mapping
      sys_yield(0);
    expect_err(sys_pte_set_from(0, VA + PGSIZE, PPN_PTE(p, RW), VA), E_PERM,
               "make a borrowed read-only page writable");
    expect_err(sys_pte_set_from(0, VA + PGSIZE, PPN_PTE(p, PTE_V | PTE_U | PTE_R | PTE_X), VA), E_PERM,
               "make a borrowed read-only page executable");
    expect_err(sys_pte_set_from(0, VA + PGSIZE, PPN_PTE(p, PTE_V | PTE_U | PTE_R), VA + 2 * PGSIZE),
               E_PERM, "pass on a page from where I do not map it");
    expect_err(sys_pte_set(0, VA + PGSIZE, PPN_PTE(p, PTE_V | PTE_U | PTE_R)), E_PERM,
               "map a page I neither own nor map there");
    expect_err(sys_pte_set_from(0, VA + PGSIZE, PPN_PTE(p, PTE_V | PTE_U | PTE_R), UTEXT), E_PERM,
               "pass on a page from where I map another page");
    // a refused request changes nothing: not even page tables for a
    // source address in a gigabyte where I map nothing
    int32 held = thisenv->npages;
    expect_err(sys_pte_set_from(0, VA + PGSIZE, PPN_PTE(p, PTE_V | PTE_U | PTE_R), FARVA), E_PERM,
               "pass on a page from a gigabyte where I map nothing");
    check(thisenv->npages == held, "a refused pte_set_from cost page tables (%d pages, were %d)",
          thisenv->npages, held);
    check(sys_pte_set_from(0, VA + PGSIZE, PPN_PTE(p, PTE_V | PTE_U | PTE_R), VA) == 0,
          "pass on a borrowed page read-only");
    check(*(volatile uint64 *)(VA + PGSIZE) == 0x600d, "the borrowed page's contents");
    exit(check_failures());
  }
  check(c > 0, "fork");
  check(sys_pte_set(0, VA, PPN_PTE(p, RW)) == 0, "map my own page");
  *(volatile uint64 *)VA = 0x600d;
  check(sys_pte_set(c, VA, PPN_PTE(p, PTE_V | PTE_U | PTE_R)) == 0, "map my page into my child");
  int status = -1;
  waitenv(c, &status);
  check(status == 0, "the borrower's attacks (status %d)", status);
  sys_pte_set(0, VA, 0);
  sys_page_free(p);
}

// A page whose owner has exited, and that I alone map, I may do what I
// like with (case 2 of the rule); while it has two mappings, neither may
// pass it on with more than its own permissions.
static void attack_orphaned(void)
{
  envid_t c = idle_child();
  if (!check(c > 0, "exofork"))
    return;
  int64 p = sys_page_alloc(c);                     // my child's page ...
  if (!check(p > 0, "page_alloc for my child"))
    return;
  check(sys_pte_set(0, VA, PPN_PTE(p, PTE_V | PTE_U | PTE_R)) == 0, "map my child's page read-only");
  check(sys_env_destroy(c) == 0 && waitenv(c, 0) == c, "destroy my child");
  volatile const struct pagepub *pp = &upages[p - PPN_BASE];
  check(pp->owner == 0 && pp->refs == 1, "the dead child's page: owner %x, %d mappings", pp->owner,
        pp->refs);                                 // ... now nobody's, mapped by me alone

  check(sys_pte_set_from(0, VA + PGSIZE, PPN_PTE(p, PTE_V | PTE_U | PTE_R), VA) == 0,
        "a second read-only mapping of an orphaned page");
  expect_err(sys_pte_set_from(0, VA + 2 * PGSIZE, PPN_PTE(p, RW), VA), E_PERM,
             "make an orphaned page with two mappings writable");
  expect_err(sys_pte_set(0, VA + PGSIZE, PPN_PTE(p, RW)), E_PERM,
             "make an orphaned page with two mappings writable in place");
  check(sys_pte_set(0, VA + PGSIZE, 0) == 0, "unmap the second mapping");

  check(sys_pte_set_from(0, VA + 2 * PGSIZE, PPN_PTE(p, RW), VA) == 0,
        "the only mapper of an orphaned page makes it writable");
  *(volatile uint64 *)(VA + 2 * PGSIZE) = 0x0c4a;
  check(*(volatile uint64 *)VA == 0x0c4a, "the orphaned page's two mappings differ");
  sys_pte_set(0, VA + 2 * PGSIZE, 0);
  sys_pte_set(0, VA, 0);                           // (its last mapping: the page is freed)
}

static void exhaust_memory(void)
{
  envid_t c = fork();
  if (c == 0) {
    int n = 0;
    int64 r;
    while ((r = sys_page_alloc(0)) > 0)
      n++;
    printf("attackpte: allocated %d pages before the kernel said no\n", n);
    exit(r == -E_NO_MEM ? 0 : 1);
  }
  int status = -1;
  waitenv(c, &status);
  check(status == 0, "allocating all memory did not end in E_NO_MEM");
  int64 p = sys_page_alloc(0);
  check(p > 0, "memory not given back after the hog exited");
  sys_page_free(p);
}

static void exhaust_envs(void)
{
  envid_t kids[NENV];
  int n = 0, r;
  while ((r = sys_exofork()) > 0)
    kids[n++] = r;
  if (r == 0)
    for (;;)
      ;                      // never happens: the children are not runnable
  check(r == -E_NO_ENV || r == -E_NO_SLOT || r == -E_NO_MEM, "exofork until full: %d", r);
  printf("attackpte: created %d envs before the kernel said no\n", n);
  for (int i = 0; i < n; i++) {
    sys_env_destroy(kids[i]);
    sys_env_destroy(kids[i]);
  }
  envid_t c = fork();
  if (c == 0)
    exit(0);
  check(c > 0 && waitenv(c, 0) == c, "fork after freeing the env table");
}

int main(int argc, char **argv)
{
  struct census_mark start;
  census_mark(&start);                 // every page must come back (ulib/census.c)
  int64 ppn = sys_page_alloc(0);
  check(ppn > 0, "page_alloc");
  attack_bits(ppn);
  attack_addresses(ppn);
  attack_pages();
  batch_semantics(ppn);
  attack_borrowed();
  attack_orphaned();
  if (argc > 1 && strcmp(argv[1], "calls") == 0) {
    // Only what the kernel's memory checks answer with an error code
    // (lab vm): no fault handler, no copy-on-write needed.
    sys_page_free(ppn);
    census_check(&start);
    return check_report();
  }
  attack_other_envs();
  attack_upcall_and_slots();
  attack_syscall_numbers();
  attack_loads_and_stores();
  exhaust_memory();
  exhaust_envs();
  sys_page_free(ppn);
  census_check(&start);
  return check_report();
}
