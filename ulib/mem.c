// Memory in the library OS: reading PTEs through UVPT, mapping pages, the
// heap (sbrk) with demand-zero pages, a lazily grown stack, and the page-
// fault handler that also resolves copy-on-write faults (see fork.c).
#include "lib.h"

#define PTE_RW_USER (PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D)
#define STACKBOT (USTACKTOP - USTACKPAGES * PGSIZE)
#define HEAPMAX  ULIBPAGES                      // the library's pages sit above
#define UTEMP    (STACKBOT - 2 * PGSIZE)       // scratch mapping for page copies

extern char end[];
static uint64 heap_start;
static int demand_paging;                            // pgfault maps heap and stack pages on first touch
uint64 ulib_brk;                                     // (user_ok in lib.h reads it)

// The leaf PTE that maps va in my address space, or 0.
pte_t uvpt_pte(uint64 va)
{
  if (va >= UTOP)
    return 0;
  if (!(((volatile pte_t *)UVPR)[va >> 30] & PTE_V))
    return 0;
  if (!(((volatile pte_t *)UVPD)[va >> 21] & PTE_V))
    return 0;
  return ((volatile pte_t *)UVPT)[va >> 12];
}

// Map a new zeroed page at va with perm (PTE_R/W/X).  0 or a negative error.
int page_map(uint64 va, uint64 perm)
{
  int64 ppn = sys_page_alloc(0);
  if (ppn < 0)
    return ppn;
  int r = sys_pte_set(0, va, PPN_PTE(ppn, perm | PTE_V | PTE_U | PTE_A | PTE_D));
  if (r < 0)
    sys_page_free(ppn);
  return r;
}

// Take a private copy now of each copy-on-write page of my data, bss and
// heap, so that writing my own variables never needs a free page later:
// a server that must give memory back when asked (the file server's cache)
// cannot wait for memory to do it.  (Its first shrink wrote a table still
// shared with init since fork; the copy waited for a page while memory was
// short, and the abort protocol ended the wait by taking the cache.)
void mem_private(void)
{
  extern char data_start[];
  uint64 hi = ulib_brk > (uint64)end ? ulib_brk : (uint64)end;
  for (uint64 va = (uint64)data_start & ~(PGSIZE - 1); va < hi; va += PGSIZE)
    if (uvpt_pte(va) & PTE_COW)
      *(volatile char *)va = *(volatile char *)va;
}

// page_map, but never waiting for memory: when the kernel is taking pages
// back (E_AGAIN) it fails at once.  For a cache, which can do without.
int page_map_now(uint64 va, uint64 perm)
{
  int64 ppn = sys_raw(SYS_page_alloc, 0, 0, 0, 0, 0, 0);
  if (ppn < 0)
    return ppn;
  int r = sys_raw(SYS_pte_set, 0, va, PPN_PTE(ppn, perm | PTE_V | PTE_U | PTE_A | PTE_D), 0, 0, 0);
  if (r < 0)
    sys_page_free(ppn);
  return r;
}

// Drop the page at va; if I own it, give it back (it survives while other
// envs map it).
int page_unmap(uint64 va)
{
  pte_t pte = uvpt_pte(va);
  if (!(pte & PTE_V))
    return 0;
  int r = sys_pte_set(0, va, 0);
  if (r == 0 && upages[PTE_PPN(pte) - PPN_BASE].owner == thisenv->id)
    sys_page_free(PTE_PPN(pte));
  return r;
}

// The pages I could have now: the free ones; those other envs hold above
// the mark they set for a cache (sys_mem_soft), up to their share: the
// kernel asks those back for anyone; and, while I am under my own share,
// up to the rest of it from the pages other envs hold over theirs, which
// the kernel takes back for an env under its share.
uint64 mem_avail(void)
{
  uint64 n = usys->nfree, share = usys->share, over = 0;
  for (int i = 0; i < NENV; i++) {
    volatile struct envpub *p = &uenvs[i];
    uint64 held = p->npages < 0 ? 0 : (uint64)p->npages, mark = p->mem_soft;
    if (!p->id || p->id == thisenv->id)
      continue;
    mark = mark && mark < GUARANTEE ? GUARANTEE : mark;   // (never asked below it)
    if (mark && (held < share ? held : share) > mark)
      n += (held < share ? held : share) - mark;
    if (held > share)
      over += held - share;
  }
  uint64 mine = thisenv->npages < 0 ? 0 : (uint64)thisenv->npages;
  if (mine < share)
    n += over < share - mine ? over : share - mine;
  return n;
}

// Grow (or shrink) the heap by n bytes; return the old break, or
// (void *)-1.  New pages are mapped, zeroed, now, or (demand_paging: demand
// paging) when first touched.  With demand paging, growth is refused if
// the pages (and their page tables) could not be had now, in memory or on
// my swap extent: a check, not a reservation, so a page may still be
// missing when touched, if other envs took memory in between (pgfault
// then ends the program).
static void *move_break(int64 n);

void *sbrk(int64 n)
{
  uint64 want = n > 0 ? ((uint64)n + PGSIZE - 1) / PGSIZE : 0;
  uint64 need = want + want / 512 + 2;       // (and its page tables)
  if (demand_paging && want && need > usys->nfree + swap_room() && need > mem_avail() + swap_room())
    return (void *)-1;                       // (the scan of every env only when needed)
  uint64 top = (ulib_brk + PGSIZE - 1) & ~(PGSIZE - 1);
  void *r = move_break(n);
  if (n < 0 && r != (void *)-1)              // the pager forgets what went
    swap_heap_shrunk((ulib_brk + PGSIZE - 1) & ~(PGSIZE - 1), top);
  return r;
}

// sbrk's work: move the break, and map or unmap pages.
static void *move_break(int64 n)
{
  // BEGIN LAB vm: sbrk: move the break by n bytes; map new pages (page_map) unless demand_paging, unmap freed ones (page_unmap)
  uint64 old = ulib_brk, nb = ulib_brk + n;
  if ((n > 0 && (nb < old || nb > HEAPMAX)) || (n < 0 && (nb > old || nb < heap_start)))
    return (void *)-1;
  uint64 top = (old + PGSIZE - 1) & ~(PGSIZE - 1), ntop = (nb + PGSIZE - 1) & ~(PGSIZE - 1);
  for (uint64 va = ntop; va < top; va += PGSIZE)
    page_unmap(va);
  for (uint64 va = top; !demand_paging && va < ntop; va += PGSIZE)
    if (page_map(va, PTE_R | PTE_W) < 0) {
      for (uint64 v = top; v < va; v += PGSIZE)
        page_unmap(v);                           // out of memory: undo
      return (void *)-1;
    }
  ulib_brk = nb;
  return (void *)old;
  // END LAB vm: return lab_todo("vm", "sbrk"), (void)n, (void)demand_paging, (void *)-1;
}

// Resolve a write to a copy-on-write page: give me a private writable copy.
static int cow_fault(uint64 va, pte_t pte)
{
  // BEGIN LAB cow: give the faulting env a private writable copy of the page at va
  uint64 old = PTE_PPN(pte);
  envid_t owner = upages[old - PPN_BASE].owner;
  uint64 keep = pte & (PTE_V | PTE_U | PTE_R | PTE_X | PTE_A);
  // Not thisenv->id: a new child's first write (to thisenv itself) lands
  // here while thisenv still names the parent.
  envid_t me = sys_getenvid();
  int r;
  // The last user: just make it writable (the kernel charges a page whose
  // owner let go of it to its last user).
  if (upages[old - PPN_BASE].refs == 1 && (owner == me || owner == 0))
    return sys_pte_set(0, va, PPN_PTE(old, keep | PTE_W | PTE_D));
  int64 ppn = sys_page_alloc(0);
  if (ppn < 0)
    return ppn;
  if ((r = sys_pte_set(0, UTEMP, PPN_PTE(ppn, PTE_RW_USER))) < 0)
    return r;
  memcpy((void *)UTEMP, (void *)va, PGSIZE);
  if ((r = sys_pte_set(0, va, PPN_PTE(ppn, keep | PTE_W | PTE_D))) < 0)
    return r;
  sys_pte_set(0, UTEMP, 0);
  if (owner == me)
    sys_page_free(old);
  return 0;
  // END LAB cow: return lab_todo("cow", "cow_fault"), (void)va, (void)pte, -1;
}

// A fault that needed a page: r is how the first try went (cow_fault's
// result with pte, page_map's for a demand-zero page).  Short of memory,
// a pager with a swap extent may make room among my own pages (swap_out)
// before each new try; a page that cannot be had ends the program (out_of_memory).  1 if
// the fault is resolved.
__attribute__((noinline)) static int with_room(int r, uint64 va, pte_t pte)
{
  for (int tries = 0; r == -E_NO_MEM && tries < 8 && swap_count && swap_out(16) > 0; tries++)
    r = pte ? cow_fault(va, pte) : page_map(va, PTE_R | PTE_W);
  if (r == -E_NO_MEM)
    out_of_memory(va);
  return r == 0;
}

// Page-fault handler: copy-on-write, then demand-zero heap and stack pages.
static int pgfault(struct uframe *f)
{
  uint64 va = f->tval & ~(PGSIZE - 1);
  pte_t pte = uvpt_pte(va);
  if (f->cause == CAUSE_STORE_PAGE && (pte & PTE_V) && (pte & PTE_COW)) {
    int r = cow_fault(va, pte);
    return r == 0 || with_room(r, va, pte);
  }
  if (pte & PTE_V)
    return 0;                                    // a real protection fault
  // BEGIN LAB upcall: demand paging: a read or write fault in the heap (below the break) or the stack gets a zeroed page
  int lazy = (heap_start && va >= heap_start && va < ulib_brk) || (va >= STACKBOT && va < USTACKTOP);
  if (!lazy || f->cause == CAUSE_FETCH_PAGE)
    return 0;
  return with_room(page_map(va, PTE_R | PTE_W), va, 0);
  // END LAB upcall: return lab_todo("upcall", "demand paging in pgfault"), 0;
}

// A page the program was promised (heap below the break, stack, a private
// copy of a copy-on-write page) cannot be had: end it with a message.  On
// the exception stack, so a plain formatter with no big buffers, written
// by the kernel's debug console (the console client may itself need a
// page), and no return.  Its status is -1, as
// for a program killed.
void out_of_memory(uint64 va)
{
  char msg[96] = "out of memory: no page for va 0x";
  int n = strlen(msg);
  for (int s = 36; s >= 0; s -= 4)
    msg[n++] = "0123456789abcdef"[(va >> s) & 15];
  strcpy(msg + n, " (env ");
  n += 6;
  for (int s = 28; s >= 0; s -= 4)
    msg[n++] = "0123456789abcdef"[(sys_getenvid() >> s) & 15];
  strcpy(msg + n, ")\n");
  sys_cputs(msg, strlen(msg));                   // (the console client may need a page, or a copy)
  exit(-1);
}

// user_ok() (lib.h) for buffers outside the stack and the program's image
// and heap: mapped pages with the permission, copy-on-write pages for a
// write, and the not-yet-touched lazy heap and stack count.
int user_ok_slow(const void *p, uint64 n, int write)
{
  uint64 va = (uint64)p;
  if (va + n < va || va + n > UTOP)
    return 0;
  if (n == 0)
    return 1;
  for (uint64 pg = va & ~(PGSIZE - 1); pg < va + n; pg += PGSIZE) {
    pte_t pte = uvpt_pte(pg);
    if (pte & PTE_V) {
      if (!(pte & PTE_U) || !(pte & PTE_R) || (write && !(pte & (PTE_W | PTE_COW))))
        return 0;
      continue;
    }
    int lazy = (heap_start && pg >= heap_start && pg < ulib_brk) || (pg >= STACKBOT && pg < USTACKTOP);
    if (!lazy)
      return 0;
  }
  return 1;
}

// The same for a NUL-terminated string of at most max bytes.
int user_str_ok(const char *s, uint64 max)
{
  for (uint64 i = 0; i < max; i++) {
    if (((uint64)(s + i) & (PGSIZE - 1)) == 0 || i == 0)
      if (!user_ok(s + i, 1, 0))
        return 0;
    if (s[i] == 0)
      return 1;
  }
  return 1;                                      // (too long: the caller says so)
}

// Start-up: start the heap and take page faults.  Without demand paging
// the whole stack (USTACKPAGES) is mapped now, so that a program runs
// without page faults.
#define EAGERSTACK USTACKPAGES
void mem_init(void)
{
  // BEGIN LAB upcall: once pgfault maps heap and stack pages on demand, let sbrk and mem_init leave them unmapped
  demand_paging = 1;
  // END LAB upcall: demand_paging = 0;
  for (uint64 va = USTACKTOP - EAGERSTACK * PGSIZE; !demand_paging && va < USTACKTOP; va += PGSIZE)
    if (!(uvpt_pte(va) & PTE_V) && page_map(va, PTE_R | PTE_W) < 0)
      panic("no memory for the stack");
  heap_start = ulib_brk = ((uint64)end + PGSIZE - 1) & ~(PGSIZE - 1);
  set_handler(CAUSE_LOAD_PAGE, pgfault);
  set_handler(CAUSE_STORE_PAGE, pgfault);
}
