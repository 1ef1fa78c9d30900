// Sv39 page tables.  The kernel's half (root entries 256-511) and the shared
// read-only public records (root entry 254) are the same in every address
// space; the user half is whatever the library OS installs, leaf by leaf,
// through pte_install().  Page-table pages that map user addresses are
// themselves mapped read-only at UVPT/UVPD/UVPR.  All functions need klock.
#include "defs.h"

pagetable_t kernel_pt;
pagetable_t shared_l1;        // level-1 table for UENVS, UPAGES, USYS, UREPOS
extern uint64 boot_pagetable[];

#define PTE_TABLE PTE_V                          // a pointer to the next level
#define PTE_RO_USER (PTE_V | PTE_R | PTE_U | PTE_A)

static pagetable_t kpage(void)
{
  uint64 ppn = page_alloc(PG_KERNEL, 0);
  if (!ppn)
    panic("kvminit: out of memory");
  return ppn2kva(ppn);
}

static uint64 kva2ppn(const void *p) { return kpa(p) >> PGSHIFT; }

// The kernel stacks: KSTACKPAGES pages per hart at KSTACKTOP(h), each
// with an unmapped guard page below it.  Set up before the first env, so
// every address space copies the mapping (root entry 511).
static void kstacks_map(void)
{
  pagetable_t l1 = kpage(), l0 = kpage();
  kernel_pt[PX(2, KSTACKS)] = PPN_PTE(kva2ppn(l1), PTE_TABLE);
  l1[PX(1, KSTACKS)] = PPN_PTE(kva2ppn(l0), PTE_TABLE);
  for (uint64 h = 0; h < NCPU; h++)
    for (uint64 va = KSTACKTOP(h) - KSTACKSIZE; va < KSTACKTOP(h); va += PGSIZE)
      l0[PX(0, va)] = PPN_PTE(kva2ppn(kpage()), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D | PTE_G);
  sfence_vma_all();
}

// Build the shared tables that expose the public env and page records,
// and map the kernel stacks.
void kvminit(void)
{
  kernel_pt = (pagetable_t)boot_pagetable;
  shared_l1 = kpage();
  pagetable_t l0_envs = kpage(), l0_pages = kpage(), l0_sys = kpage();
  shared_l1[PX(1, UENVS)] = PPN_PTE(kva2ppn(l0_envs), PTE_TABLE);
  shared_l1[PX(1, UPAGES)] = PPN_PTE(kva2ppn(l0_pages), PTE_TABLE);
  shared_l1[PX(1, USYS)] = PPN_PTE(kva2ppn(l0_sys), PTE_TABLE);
  pagetable_t l0_repos = kpage();
  shared_l1[PX(1, UREPOS)] = PPN_PTE(kva2ppn(l0_repos), PTE_TABLE);
  for (uint64 off = 0; off < sizeof repovecs; off += PGSIZE)
    l0_repos[PX(0, UREPOS + off)] = PPN_PTE(kva2ppn((char *)repovecs + off), PTE_RO_USER);
  l0_sys[PX(0, USYS)] = PPN_PTE(kva2ppn(&syspub), PTE_RO_USER);
  uint64 envbytes = sizeof(struct envpub) * NENV;
  for (uint64 off = 0; off < envbytes; off += PGSIZE)
    l0_envs[PX(0, UENVS + off)] = PPN_PTE(kva2ppn((char *)envpubs + off), PTE_RO_USER);
  uint64 pagebytes = sizeof(struct pagepub) * npages_total;
  for (uint64 off = 0; off < pagebytes && off < 512 * PGSIZE; off += PGSIZE)
    l0_pages[PX(0, UPAGES + off)] = PPN_PTE(kva2ppn((char *)pagepubs + off), PTE_RO_USER);
  kstacks_map();
}

// A new empty table for e (charged to it), not yet linked in.  0 when out
// of memory.
static pagetable_t table_alloc(struct env *e)
{
  uint64 ppn = page_alloc(PG_PTABLE, e);
  return ppn ? ppn2kva(ppn) : 0;
}

// Link table t in under the empty root or level-1 entry p.
static void table_link(pte_t *p, pagetable_t t)
{
  __sync_synchronize();                  // (its contents and its exposure first)
  *p = PPN_PTE(kva2ppn(t), PTE_TABLE);
}

// The leaf slot for va at or above UTOP (the kernel-reserved regions),
// allocating tables; these tables are not exposed.  0 when out of memory.
static pte_t *walk_reserved(struct env *e, uint64 va)
{
  pagetable_t pt = e->pt;
  for (int level = 2; level > 0 && pt; level--) {
    pte_t *p = &pt[PX(level, va)];
    if (*p & PTE_V)
      pt = ppn2kva(PTE_PPN(*p));
    else if ((pt = table_alloc(e)))
      table_link(p, pt);
  }
  return pt ? &pt[PX(0, va)] : 0;
}

// Map a page-table page read-only for the user at a reserved address.
static int map_internal(struct env *e, uint64 va, uint64 ppn)
{
  pte_t *p = walk_reserved(e, va);
  if (!p)
    return -E_NO_MEM;
  *p = PPN_PTE(ppn, PTE_RO_USER);
  tlb_shootdown(e, va);
  return 0;
}

// Expose a new table t of e that maps user address va: a level-1 table at
// UVPD, a level-0 table at UVPT.  0 or -E_NO_MEM.
static int expose(struct env *e, uint64 va, int level, pagetable_t t)
{
  uint64 at = level == 1 ? UVPD + (va >> 30) * PGSIZE : UVPT + (va >> 21) * PGSIZE;
  if (map_internal(e, at, kva2ppn(t)) < 0)
    return -E_NO_MEM;
  if (level == 0)
    pflags[kva2ppn(t) - PPN_BASE] = PF_USER_L0;
  return 0;
}

// A new table under the empty entry p of the given level (2: root, 1) on
// the way to user address va, exposed at UVPD or UVPT if va < UTOP.  It is
// exposed before it is linked in: the env may be reading its tables on
// another hart, and once UVPD (or UVPR) shows the entry, the table must be
// readable at UVPT (or UVPD).  0 when out of memory (nothing is left
// behind).
static pagetable_t table_new(struct env *e, pte_t *p, uint64 va, int level)
{
  pagetable_t t = table_alloc(e);
  if (t && va < UTOP && expose(e, va, level - 1, t) < 0) {
    uint64 ppn = kva2ppn(t);
    pt_unlink(e, ppn);
    page_release(ppn);
    return 0;
  }
  if (t)
    table_link(p, t);
  return t;
}

// Return the address of the leaf PTE for va in e's page table.  With alloc,
// create missing intermediate tables (charged to e, and exposed if they
// map user addresses); without, return 0 when there is none.
pte_t *walk(struct env *e, uint64 va, int alloc)
{
  pagetable_t pt = e->pt;
  for (int level = 2; level > 0; level--) {
    pte_t *p = &pt[PX(level, va)];
    if ((*p & (PTE_V | PTE_R | PTE_W | PTE_X)) == PTE_V)
      pt = ppn2kva(PTE_PPN(*p));
    else if ((*p & PTE_V) || !alloc)
      return 0;                            // a superpage (never one of ours), or none
    else if (!(pt = table_new(e, p, va, level)))
      return 0;
  }
  return &pt[PX(0, va)];
}

// A new address space for e: the kernel half, the public records and
// the root table exposed at UVPR.  Returns 0 when out of memory.
pagetable_t uvm_create(struct env *e)
{
  uint64 ppn = page_alloc(PG_PTABLE, e);
  if (!ppn)
    return 0;
  e->pt = ppn2kva(ppn);
  e->satp = MAKE_SATP(ppn << PGSHIFT);
  for (int i = 256; i < 512; i += 2)          // the kernel half: 1 GiB leaves
    if (kernel_pt[i] | kernel_pt[i + 1]) {
      e->pt[i] = kernel_pt[i];
      e->pt[i + 1] = kernel_pt[i + 1];
    }
  e->pt[PX(2, UENVS)] = PPN_PTE(kva2ppn(shared_l1), PTE_TABLE);
  if (map_internal(e, UVPR, ppn) < 0) {
    uvm_free(e);
    return 0;
  }
  return e->pt;
}

// Free e's whole user address space: drop every user mapping and free the
// page-table pages (all on e's list).  No hart may be using it.
void uvm_free(struct env *e)
{
  if (!e->pt)
    return;
  upcall_unbind(e, 0);
  for (int32 i = e->ptlist; i >= 0;) {
    int32 next = pnext[i];
    if (pflags[i] & PF_USER_L0) {
      pte_t *l0 = ppn2kva(PPN_BASE + i);
      // From the top down (a promise to the library: see pipe.c), skipping
      // empty runs of 8 quickly; device pages are not counted.
      for (int k = 504; k >= 0; k -= 8) {
        if (!(l0[k] | l0[k + 1] | l0[k + 2] | l0[k + 3] | l0[k + 4] | l0[k + 5] | l0[k + 6] | l0[k + 7]))
          continue;
        for (int j = k + 7; j >= k; j--)
          if ((l0[j] & PTE_V) && page_valid(PTE_PPN(l0[j])))
            page_unref(PTE_PPN(l0[j]));
      }
    }
    page_release(PPN_BASE + i);
    i = next;
  }
  e->ptlist = -1;
  e->pt = 0;
}

// Make every hart forget e's old translation for va.
void tlb_shootdown(struct env *e, uint64 va)
{
  int me = mycpu()->hartid;
  if (e->hart == me)
    sfence_vma_va(va);
  else if (e->hart >= 0)
    sbi_remote_sfence_vma(1UL << e->hart, va, PGSIZE);
}

// May caller put ppn, with the R/W/X bits in perm, in a PTE?  Yes if the
// caller or a descendant owns the page.  A page the caller does not own but
// maps itself at va (how fork and dup pass on pages) may be passed on with no
// more permission than the caller's own mapping has, except that the only
// mapper of an ownerless page may do what it likes with it.
__attribute__((unused))    // (in a student tree, until pte_install uses it)
static int page_accessible(struct env *caller, uint64 ppn, uint64 va, uint64 perm)
{
  // BEGIN LAB vm: page_accessible: a user page the caller or a descendant owns, or one it maps at va itself with at least perm's R/W/X (its only mapper, if no one owns it, may do anything)
  struct pagepub *p = &pagepubs[ppn - PPN_BASE];
  if (p->kind != PG_USER)
    return 0;
  if (p->owner) {
    struct env *o;
    if (env_get_any(caller, p->owner, &o) == 0)
      return 1;
  }
  pte_t *mine = walk(caller, va, 0);
  if (!mine || !(*mine & PTE_V) || PTE_PPN(*mine) != ppn)
    return 0;
  if (p->owner == 0 && p->refs == 1)
    return 1;
  return (perm & ~*mine & (PTE_R | PTE_W | PTE_X)) == 0;
  // END LAB vm: LAB_TODO("vm", "page_accessible (any page may be mapped)"); (void)caller, (void)ppn, (void)va, (void)perm; return 1;
}

// Check a leaf PTE the library wants installed.  0 or -E_BAD_PTE.
__attribute__((unused))    // (likewise)
static int pte_check(pte_t pte)
{
  // BEGIN LAB vm: pte_check: a leaf for the user: V and U set, G and the reserved bits clear, a legal R/W/X combination; else -E_BAD_PTE
  if (!(pte & PTE_V) || !(pte & PTE_U) || (pte & PTE_G) || (pte >> 54))
    return -E_BAD_PTE;
  uint64 rwx = (pte >> 1) & 7;          // X W R
  if (rwx == 0 || rwx == 2 || rwx == 6)  // pointer, W-only, W+X without R
    return -E_BAD_PTE;
  return 0;
  // END LAB vm: LAB_TODO("vm", "pte_check (every PTE is accepted)"); (void)pte; return 0;
}

// Install, change or clear (pte == 0) the leaf for va in e's page table on
// behalf of caller, who has already been checked to be e or e's ancestor.
// srcva is where the caller itself maps the page, if it does not own it.
int pte_install(struct env *caller, struct env *e, uint64 va, pte_t pte, uint64 srcva)
{
  uint64 ppn = PTE_PPN(pte);
  // BEGIN LAB vm: pte_install: va and srcva page-aligned and below UTOP (else -E_BAD_VA); a PTE other than 0 must pass pte_check and name a RAM page the caller may use at srcva with the PTE's permissions (else -E_PERM)
  if ((va & (PGSIZE - 1)) || va >= UTOP || (srcva & (PGSIZE - 1)) || srcva >= UTOP)
    return -E_BAD_VA;
  if (pte) {
    int r = pte_check(pte);
    if (r < 0)
      return r;
    if (!page_valid(ppn) || !page_accessible(caller, ppn, srcva, pte))
      return -E_PERM;
  }
  // END LAB vm: LAB_TODO("vm", "pte_install's checks (every request is granted)");
  int r = pte_store(e, va, pte);
  // The only mapper of a page its owner let go of, remapping it in place
  // (making a copy-on-write page writable, say), takes it over.
  if (r == 0 && pte && e == caller && srcva == va && page_valid(ppn) &&
      pagepubs[ppn - PPN_BASE].owner == 0 && pagepubs[ppn - PPN_BASE].refs == 1)
    page_adopt(e, ppn);
  return r;
}

// Write the leaf PTE for user address va in e, already checked: count the
// new page's mapping, drop the old one's, and flush stale translations.
// Device pages (not RAM) are not counted.  0 or -E_NO_MEM.
int pte_store(struct env *e, uint64 va, pte_t pte)
{
  pte_t *p = walk(e, va, pte != 0);
  if (!p)
    return pte ? -E_NO_MEM : 0;
  pte_t old = *p;
  // A page the disk is writing keeps its writable mapping: a copy-on-write
  // downgrade now would leave the data in a page this env no longer sees.
  if ((old & PTE_V) && (old & PTE_W) && pte && !(pte & PTE_W) && page_valid(PTE_PPN(old)) &&
      pagepubs[PTE_PPN(old) - PPN_BASE].pins)
    return -E_BUSY;
  if (pte && page_valid(PTE_PPN(pte)) && page_ref(PTE_PPN(pte)) < 0)
    return -E_NO_MEM;
  upcall_unbind(e, va);
  *p = pte;
  tlb_shootdown(e, va);          // also for a new mapping: a TLB may cache "invalid"
  if ((old & PTE_V) && page_valid(PTE_PPN(old)))
    page_unref(PTE_PPN(old));
  return 0;
}

// The kernel address of user address va in e, if the page is mapped for the
// user with the permission bits in need (PTE_R or PTE_W); else 0.
void *uaddr(struct env *e, uint64 va, uint64 need)
{
  // BEGIN LAB vm: uaddr: va below MAXUVA, mapped valid, for the user, with the bits in need, on a RAM page (never device registers); else 0
  if (va >= MAXUVA)
    return 0;
  pte_t *p = walk(e, va, 0);
  if (!p || (*p & (PTE_V | PTE_U | need)) != (PTE_V | PTE_U | need) || !page_valid(PTE_PPN(*p)))
    return 0;                    // (never device registers)
  return (char *)KVA(PTE_PA(*p)) + (va & (PGSIZE - 1));
  // END LAB vm: LAB_TODO("vm", "uaddr's checks (any mapping is used)"); (void)need; pte_t *p = walk(e, va % MAXUVA, 0); return p && (*p & PTE_V) ? (char *)KVA(PTE_PA(*p)) + (va & (PGSIZE - 1)) : 0;
}

// Copy n bytes between kernel buffer k and user address va in e, towards
// the user if out.  0, or -E_FAULT if a page is not mapped with the needed
// permission (bytes before it may have been copied).
static int copy_user(struct env *e, uint64 va, char *k, uint64 n, int out)
{
  while (n > 0) {
    char *u = uaddr(e, va, out ? PTE_W : PTE_R);
    if (!u)
      return -E_FAULT;
    uint64 m = PGSIZE - (va & (PGSIZE - 1));
    if (m > n)
      m = n;
    if (out)
      memmove(u, k, m);
    else
      memmove(k, u, m);
    k += m;
    va += m;
    n -= m;
  }
  return 0;
}

int copyin(struct env *e, void *dst, uint64 srcva, uint64 n) { return copy_user(e, srcva, dst, n, 0); }

int copyout(struct env *e, uint64 dstva, const void *src, uint64 n)
{
  return copy_user(e, dstva, (char *)src, n, 1);
}
