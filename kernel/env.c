// Environments: the unit of protection.  An env may act on itself and its
// descendants only.  Env ids carry a generation so a stale id never names
// a reused slot.  All functions here need klock.
#include "defs.h"
#include "elf.h"

struct env envs[NENV];
struct envpub envpubs[NENV] __attribute__((aligned(4096)));
struct spinlock klock;
struct env *rootenv;
static uint32 generation[NENV];

// Copy the fields of e that user code may read into its public record.
void env_publish(struct env *e)
{
  struct envpub *p = &envpubs[ENVX(e->id)];
  p->id = e->status == ENV_FREE ? 0 : e->id;
  p->parent = e->parent;
  p->status = e->status;
  p->exitcode = e->exitcode;
  p->npages = e->npages;
  p->nslots = e->nslots;
  p->hart = e->hart;
  p->rights = e->rights;
}

void envinit(void)
{
  initlock(&klock, "kernel");
  for (int i = 0; i < NENV; i++) {
    envs[i].status = ENV_FREE;
    envs[i].hart = -1;
    envs[i].owned = -1;
    envs[i].ptlist = -1;
  }
}

// Is e the env a or one of its descendants?
int env_descends(struct env *e, struct env *a)
{
  for (; e; e = e->parent ? env_lookup(e->parent) : 0) {
    if (e == a)
      return 1;
    if (e == rootenv)
      break;
  }
  return 0;
}

// Find env id on behalf of caller, live or exited: id 0 means the caller
// itself; any other env must be the caller or one of its descendants.
// 0 or -E_BAD_ENV.
int env_get_any(struct env *caller, envid_t id, struct env **out)
{
  if (id == 0) {
    *out = caller;
    return 0;
  }
  struct env *e = env_lookup(id);
  if (!e || !env_descends(e, caller))
    return -E_BAD_ENV;
  *out = e;
  return 0;
}

// The same, for a live env only: an exited env has no memory, slots or
// registers left to act on (only SYS_env_destroy may reap it).
int env_get(struct env *caller, envid_t id, struct env **out)
{
  int r = env_get_any(caller, id, out);
  if (r == 0 && (*out)->status == ENV_EXITED)
    return -E_BAD_ENV;
  return r;
}

// The envs that share the machine's memory and time slices: those that
// are runnable or have run.  Envs made by exofork and kept stopped do not
// count: a program cannot shrink everyone's share by making children.
int env_sharing(void)
{
  int n = 0;
  for (int i = 0; i < NENV; i++)
    if (envs[i].status == ENV_RUNNABLE || (envs[i].status == ENV_NOT_RUNNABLE && envpubs[i].runs > 0))
      n++;
  return n;
}

static void env_free_record(struct env *e);

// Allocate an env with an empty user address space and one time slice.
// Registers are zero; status is ENV_NOT_RUNNABLE.
int env_alloc(struct env *parent, struct env **out)
{
  struct env *e = 0;
  for (int i = 1; i < NENV; i++)      // index 0 is never used: id 0 means "me"
    if (envs[i].status == ENV_FREE) {
      e = &envs[i];
      break;
    }
  if (!e)
    return -E_NO_ENV;
  int idx = e - envs;
  generation[idx] = (generation[idx] + 1) & 0x3FFFF;
  memset(e, 0, sizeof *e);
  e->id = (int)((generation[idx] + 1) << 12) | idx;
  e->parent = parent ? parent->id : 0;
  if (parent)
    parent->nchildren++;
  e->status = ENV_NOT_RUNNABLE;
  e->hart = -1;
  e->owned = -1;
  e->ptlist = -1;
  envpubs[idx].runs = 0;
  envpubs[idx].revoke_want = envpubs[idx].revoke_deadline = envpubs[idx].repossessed = 0;
  envpubs[idx].slots_taken = 0;
  envpubs[idx].mem_soft = 0;                 // (the last holder's cache mark)
  envpubs[idx].child_exits = 0;
  if (!uvm_create(e)) {
    env_free_record(e);
    return -E_NO_MEM;
  }
  if (slot_acquire(e) < 0) {
    uvm_free(e);
    env_free_record(e);
    return -E_NO_SLOT;
  }
  memset(&repovecs[idx], 0, sizeof repovecs[idx]);
  env_publish(e);
  *out = e;
  return 0;
}

// Free everything e holds except its record: memory, page tables, slices.
// Children are handed to the root env.  Requires that no hart runs e.
static void env_release(struct env *e)
{
  wait_cancel(e);
  pct_env_gone(e);
  irq_env_gone(e);
  blkcap_env_gone(e);
  net_env_gone(e);
  uvm_free(e);
  page_disown_all(e);
  slot_release(e, 0);
  for (int i = 0; i < NENV && (e->rights & RIGHT_NET); i++)   // those e gave the network
    if (envs[i].status != ENV_FREE && envs[i].net_from == e->id)   // to now hold it from
      envs[i].net_from = e->net_from;                              // e's grantor
  struct env *heir = rootenv && rootenv != e ? rootenv : 0;
  for (int i = 0; i < NENV && e->nchildren > 0; i++)
    if (envs[i].status != ENV_FREE && envs[i].parent == e->id && &envs[i] != e) {
      struct env *c = &envs[i];
      c->parent = heir ? heir->id : 0;
      envpubs[i].parent = c->parent;
      e->nchildren--;
      if (heir)
        heir->nchildren++;
      if (c->status == ENV_EXITED) {      // a zombie: its new parent must hear of it
        if (heir)
          child_exited(heir);
        else
          env_free_record(c);
      }
    }
}

// e's record is free again: its parent has one child fewer.
static void env_free_record(struct env *e)
{
  struct env *p = env_lookup(e->parent);
  if (p)
    p->nchildren--;
  e->status = ENV_FREE;
  env_publish(e);
}

// End e with an exit code: it becomes ENV_EXITED until its parent reaps it
// (or is freed at once if it has no parent).  If e is running on another
// hart, it is only marked and that hart finishes the job at its next trap.
void env_kill(struct env *e, int code)
{
  int me = mycpu()->hartid;
  if (e->status == ENV_EXITED || e->status == ENV_FREE)
    return;
  if (e->hart >= 0 && e->hart != me) {
    e->dying = 1;
    e->exitcode = code;
    sbi_send_ipi(1UL << e->hart);
    return;
  }
  if (e->hart == me) {                 // ourselves: leave this page table first
    CSR_WRITE(satp, mycpu()->kpt);
    sfence_vma_all();
    mycpu()->env = 0;
    e->hart = -1;
  }
  env_release(e);
  e->exitcode = code;
  e->status = ENV_EXITED;
  e->dying = 0;
  env_publish(e);
  if (e == rootenv) {
    kprintf("init exited with status %d\n", code);
    sbi_shutdown();
  }
  struct env *p = env_lookup(e->parent);
  if (!p)                              // nobody will reap it
    env_free_record(e);
  else
    child_exited(p);
}

// Reap an exited env: its record becomes free.
void env_reap(struct env *e)
{
  env_free_record(e);
}

// ---- The first env: the kernel loads one embedded program. ----


// Map a fresh page at va in e (owned by e), or add perm to the page
// already there (two segments may share a page); its kernel address.
static void *load_page(struct env *e, uint64 va, uint64 perm)
{
  pte_t *p = walk(e, va, 1);
  if (!p)
    return 0;
  if (*p & PTE_V) {
    *p |= perm;
    return ppn2kva(PTE_PPN(*p));
  }
  uint64 ppn = page_alloc(PG_USER, e);
  if (!ppn)
    return 0;
  page_ref(ppn);
  *p = PPN_PTE(ppn, perm | PTE_V | PTE_U | PTE_A | PTE_D);
  return ppn2kva(ppn);
}

// Load an ELF image into e's empty address space.  0 or a negative error;
// every offset and size is checked against the image and UTOP.
int elf_load(struct env *e, const uchar *img, uint64 size, uint64 *entry)
{
  const struct elfhdr *eh = (const void *)img;
  if (size < sizeof *eh || eh->magic != ELF_MAGIC || eh->phoff > size ||
      eh->phnum > (size - eh->phoff) / sizeof(struct proghdr))
    return -E_INVAL;
  for (int i = 0; i < eh->phnum; i++) {
    const struct proghdr *ph = (const void *)(img + eh->phoff + i * sizeof *ph);
    if (ph->type != PT_LOAD)
      continue;
    if (ph->filesz > ph->memsz || ph->memsz > UTOP || ph->vaddr >= UTOP - ph->memsz ||
        ph->off > size || ph->filesz > size - ph->off)
      return -E_INVAL;
    uint64 perm = (ph->flags & PF_R ? PTE_R : 0) | (ph->flags & PF_W ? PTE_W | PTE_R : 0) |
                  (ph->flags & PF_X ? PTE_X : 0);
    for (uint64 va = ph->vaddr & ~(PGSIZE - 1); va < ph->vaddr + ph->memsz; va += PGSIZE) {
      char *k = load_page(e, va, perm);
      if (!k)
        return -E_NO_MEM;
      // copy the part of the file that falls in this page
      uint64 lo = va < ph->vaddr ? ph->vaddr : va;
      uint64 hi = va + PGSIZE < ph->vaddr + ph->filesz ? va + PGSIZE : ph->vaddr + ph->filesz;
      if (lo < hi)
        memcpy(k + (lo - va), img + ph->off + (lo - ph->vaddr), hi - lo);
    }
  }
  if (eh->entry >= UTOP)
    return -E_INVAL;
  *entry = eh->entry;
  return 0;
}

// Create the root env running the embedded program named first in the boot
// arguments.
void env_first(const char *args)
{
  char name[32];
  int n = 0;
  while (args[n] && args[n] != ' ' && n < 31) {
    name[n] = args[n];
    n++;
  }
  name[n] = 0;
  const struct prog *p;
  for (p = progs; p->name; p++)
    if (strncmp(p->name, name, 32) == 0)
      break;
  if (!p->name) {
    kprintf("no program '%s'; the embedded programs are:", name);
    for (p = progs; p->name; p++)
      kprintf(" %s", p->name);
    kprintf("\n");
    sbi_shutdown();
  }
  struct env *e;
  uint64 entry;
  acquire(&klock);
  if (env_alloc(0, &e) < 0 || elf_load(e, p->start, p->end - p->start, &entry) < 0 ||
      !load_page(e, USTACKTOP - PGSIZE, PTE_R | PTE_W))
    panic("cannot create the first env");
  rootenv = e;
  pages_usable = pages_free();           // what the envs share (revoke.c)
  syspub.guarantee = GUARANTEE;
  mem_share();
  e->rights = RIGHT_ALL;
  blkcap_root(e, disk_blocks);           // the whole disk
  e->tf.pc = entry;
  e->tf.sp = USTACKTOP;
  e->status = ENV_RUNNABLE;
  env_publish(e);
  release(&klock);
}
