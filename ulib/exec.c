// exec: a new program in this env, in its own object file so that programs
// that only spawn do not carry it (and its trampoline, exectramp.S).
//
// The env stays what it was to everyone else (its id, its parent and
// children, its descriptors but the close-on-spawn ones, its rights and
// disk extents); only its address space is rebuilt, by the library, in
// two steps:
//   1. the new program is loaded as spawn loads a child's, but into my own
//      address space at va + USTAGE, where nothing lives; any failure here
//      leaves the old program as it was, and exec returns the error;
//   2. a list of PTE updates is written at UEXEC: every page of the old
//      program dropped (its text, data, heap, stacks, library pages; the
//      descriptors' pages stay), every staged page moved to its place.
//      exec_tramp (exectramp.S), mapped a second time at UEXEC because the
//      list unmaps its first home, applies the list (SYS_pte_batch) and
//      jumps to the new entry with sp = USTACKTOP.  The new program's
//      libmain finds the argument page at UARGS, as a spawned one does,
//      and unmaps UEXEC.
// Upcalls are off from step 2 until libmain registers them again.
#include "lib.h"
#include "fd.h"
#include "spawn.h"

extern char exec_tramp[], exec_tramp_end[];
extern void upcall_entry(void);
#define EXECOPS_MAX ((USWAPMAP - EXECOPS) / sizeof(struct pte_op))

// Call f(va, pte, arg) for each page mapped in my address space below UTOP
// (the page tables read through UVPR, UVPD and UVPT).
static void each_page(void (*f)(uint64 va, pte_t pte, void *arg), void *arg)
{
  for (uint64 g = 0; g < UTOP; g += 1UL << 30) {
    if (!(((volatile pte_t *)UVPR)[g >> 30] & PTE_V))
      continue;
    for (uint64 m = g; m < g + (1UL << 30) && m < UTOP; m += 1UL << 21) {
      if (!(((volatile pte_t *)UVPD)[m >> 21] & PTE_V))
        continue;
      for (uint64 va = m; va < m + (1UL << 21); va += PGSIZE) {
        pte_t pte = ((volatile pte_t *)UVPT)[va >> 12];
        if (pte & PTE_V)
          f(va, pte, arg);
      }
    }
  }
}

struct exec_list {
  uint64 n, max;                 // ops written (or counted, with max 0)
  int err;
};

static void exec_op(struct exec_list *l, uint64 va, pte_t pte)
{
  if (l->max && l->n < l->max && !l->err) {
    uint64 at = EXECOPS + l->n * sizeof(struct pte_op);
    if (at % PGSIZE == 0 && !(uvpt_pte(at) & PTE_V) && page_map(at, PTE_R | PTE_W) < 0)
      l->err = -E_NO_MEM;
    else
      *(struct pte_op *)at = (struct pte_op){ va, pte };
  }
  l->n++;
}

static int exec_keeps(uint64 va)
{
  return (va >= FDDATA && va < FDTABLE + NFD * PGSIZE) || (va >= UEXEC && va < USWAPMAP);
}

// Step 2's list: the old pages go (given up now: a page still mapped stays
// until its last mapping goes), then the staged ones move.
#define STAGED(va) ((va) >= USTAGE && (va) < USTAGE + UXSTACKTOP)

static void drop_old(uint64 va, pte_t pte, void *arg)
{
  if (STAGED(va) || exec_keeps(va))
    return;
  struct exec_list *l = arg;
  if (l->max && upages[PTE_PPN(pte) - PPN_BASE].owner == thisenv->id)
    sys_page_free(PTE_PPN(pte));
  exec_op(l, va, 0);
}

static void move_new(uint64 va, pte_t pte, void *arg)
{
  if (!STAGED(va))
    return;
  exec_op(arg, va - USTAGE, pte & (PTE_PPN(~0UL) << 10 | PTE_V | PTE_U | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D));
  exec_op(arg, va, 0);
}

// Undo step 1: the staged pages go.
static void drop_staged(uint64 va, pte_t pte, void *arg)
{
  (void)pte, (void)arg;
  if (STAGED(va))
    page_unmap(va);
}

int exec(const char *path, char **argv)
{
  struct elfhdr eh;
  struct proghdr ph[MAXPH];
  int fd = elf_open(path, argv, &eh, ph);
  if (fd < 0)
    return fd;
  int r = elf_load(0, USTAGE, fd, &eh, ph, argv);
  struct exec_list count = { 0, 0, 0 };
  if (r == 0) {
    each_page(drop_old, &count);
    each_page(move_new, &count);
    if (count.n > EXECOPS_MAX)
      r = -E_NO_MEM;                         // (an old program of over 150 MiB)
  }
  // The trampoline's page(s), mapped again at UEXEC.
  uint64 t0 = (uint64)exec_tramp & ~(PGSIZE - 1), t1 = (uint64)exec_tramp_end - 1;
  for (uint64 t = t0; r == 0 && t <= t1; t += PGSIZE)
    r = sys_pte_set_from(0, UEXEC + (t - t0), PPN_PTE(PTE_PPN(uvpt_pte(t)), PTE_V | PTE_U | PTE_R | PTE_X | PTE_A), t);
  if (r < 0) {
    each_page(drop_staged, 0);
    for (uint64 va = UEXEC; va < UEXEC + 2 * PGSIZE; va += PGSIZE)
      sys_pte_set(0, va, 0);
    return r == -E_INVAL ? -E_NOEXEC : r;
  }
  // The point of no return.
  for (int i = 0; i < NFD; i++)
    if (fd_isopen(i) && !fd_spawnable(i))
      close(i);
  // No asynchronous upcall until the new program registers its handler:
  // a revocation request posted now waits for it (with no handler at
  // all, the kernel would end the program for it).
  sys_env_set_upcall(0, upcall_entry, UXSTACKTOP - UXSTACKSIZE, UXSTACKTOP, 0, UTOP);
  sys_env_set_tick(0, 0);
  sys_mem_soft(0, 0);
  struct exec_list l = { 0, EXECOPS_MAX, 0 };
  each_page(drop_old, &l);
  each_page(move_new, &l);
  if (l.err < 0 || l.n > EXECOPS_MAX)
    sys_exit(-1);                            // (no memory for the list: too late to go back)
  void (*tramp)(uint64, uint64, uint64) = (void *)(UEXEC + ((uint64)exec_tramp - t0));
  tramp(EXECOPS, l.n, eh.entry);
  for (;;)
    ;
}
