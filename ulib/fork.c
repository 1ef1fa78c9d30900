// Process control in the library OS: copy-on-write fork built from exofork
// and PTE installs (reading my own page table through UVPT), and exit and
// wait with status, read from the public env records.
#include "lib.h"

#define BATCH 64
#define COPYTMP (USTACKTOP - (USTACKPAGES + 3) * PGSIZE)   // scratch for copy_pages

static int flush(envid_t env, struct pte_op *ops, int *n)
{
  int r = *n ? sys_pte_batch(env, ops, *n) : 0;
  *n = 0;
  return r;
}

// Share every page I map below my exception stack with child: writable and
// copy-on-write pages become copy-on-write in both; shared (PTE_SHARE) and
// read-only pages are mapped as they are.  The exception stack is not
// shared: the child gets its own.
static int share_pages(envid_t child)
{
  // BEGIN LAB cow: walk my page table through UVPR/UVPD/UVPT and share every page with child, writable ones copy-on-write
  struct pte_op cops[BATCH], pops[BATCH];
  int nc = 0, np = 0, r;
  const pte_t *vpr = (const pte_t *)UVPR, *vpd = (const pte_t *)UVPD, *vpt = (const pte_t *)UVPT;
  for (uint64 g = 0; g < (UTOP >> 30); g++) {
    if (!(vpr[g] & PTE_V))
      continue;
    for (uint64 m = g << 9; m < (g + 1) << 9; m++) {
      if ((m & 7) == 0 && !(vpd[m] | vpd[m + 1] | vpd[m + 2] | vpd[m + 3] | vpd[m + 4] | vpd[m + 5] |
                            vpd[m + 6] | vpd[m + 7])) {
        m += 7;                                // 8 empty level-1 entries
        continue;
      }
      if (!(vpd[m] & PTE_V))
        continue;
      for (uint64 p = m << 9; p < (m + 1) << 9; p++) {
        if ((p & 7) == 0 && !(vpt[p] | vpt[p + 1] | vpt[p + 2] | vpt[p + 3] | vpt[p + 4] |
                              vpt[p + 5] | vpt[p + 6] | vpt[p + 7])) {
          p += 7;                              // 8 empty PTEs
          continue;
        }
        pte_t pte = vpt[p];
        if (!pte)
          continue;
        uint64 va = p << PGSHIFT;
        if (va >= UXSTACKTOP - UXSTACKSIZE || PTE_PPN(pte) - PPN_BASE >= usys->npages)
          continue;                            // own exception stack; device registers
        pte &= ~(PTE_A | PTE_D);
        if ((pte & (PTE_W | PTE_COW)) && !(pte & PTE_SHARE)) {
          int was_writable = pte & PTE_W;
          pte = (pte & ~PTE_W) | PTE_COW;
          if (was_writable)                    // (already copy-on-write: nothing to change)
            pops[np++] = (struct pte_op){ va, pte | PTE_A };
        }
        if (pte & PTE_W)                       // (PTE_SHARE: writable in both)
          pte |= PTE_D;
        cops[nc++] = (struct pte_op){ va, pte | PTE_A };
        if (nc == BATCH && (r = flush(child, cops, &nc)) < 0)
          return r;
        if (np == BATCH && (r = flush(0, pops, &np)) < 0)
          return r;
      }
    }
  }
  if ((r = flush(child, cops, &nc)) < 0)
    return r;
  return flush(0, pops, &np);
  // END LAB cow: return lab_todo_once("cow", "share_pages (fork copies every page instead)"), (void)child, (void)flush, -E_NOSYS;
}

// What fork does until share_pages is written: give child a private copy
// of every page I map (shared pages are shared), as the first fork of Unix
// did.  Needs no page faults at all.
static int copy_pages(envid_t child)
{
  for (uint64 va = 0; va < UTOP; va += PGSIZE) {
    if (!(((volatile pte_t *)UVPR)[va >> 30] & PTE_V)) {
      va = ((va >> 30) + 1) * (1UL << 30) - PGSIZE;
      continue;
    }
    if (!(((volatile pte_t *)UVPD)[va >> 21] & PTE_V)) {
      va = ((va >> 21) + 1) * (1UL << 21) - PGSIZE;
      continue;
    }
    pte_t pte = uvpt_pte(va);
    if (!(pte & PTE_V) || va >= UXSTACKTOP - UXSTACKSIZE || PTE_PPN(pte) - PPN_BASE >= usys->npages)
      continue;                                // my exception stack; device registers
    int r;
    if (pte & PTE_SHARE) {
      if ((r = sys_pte_set(child, va, pte)) < 0)
        return r;
      continue;
    }
    int64 ppn = sys_page_alloc(child);
    if (ppn < 0)
      return ppn;
    if ((r = sys_pte_set(0, COPYTMP, PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D))) < 0)
      return r;
    memcpy((void *)COPYTMP, (void *)va, PGSIZE);
    sys_pte_set(0, COPYTMP, 0);
    uint64 perm = (pte & (PTE_R | PTE_W | PTE_X | PTE_COW)) | PTE_V | PTE_U | PTE_A | PTE_D;
    if (perm & PTE_COW)
      perm = (perm & ~PTE_COW) | PTE_W;        // (a private copy is writable)
    if ((r = sys_pte_set(child, va, PPN_PTE(ppn, perm))) < 0)
      return r;
  }
  return 0;
}

// Copy-on-write fork.  Returns the child's id to the parent, 0 to the
// child, or a negative error.
envid_t fork(void)
{
  swap_before_fork();
  envid_t child = sys_exofork();
  if (child < 0)
    return child;
  if (child == 0) {
    thisenv = &uenvs[ENVX(sys_getenvid())];
    swap_after_fork_child();
    return 0;
  }
  int r;
  if ((r = share_pages(child)) == -E_NOSYS)
    r = copy_pages(child);                     // (the cow lab's code is not written yet)
  if (r < 0 || (r = upcall_init(child)) < 0 ||
      (r = sys_env_set_status(child, ENV_RUNNABLE)) < 0) {
    sys_env_destroy(child);
    sys_env_destroy(child);
    return r;
  }
  return child;
}

void exit(int status) { sys_exit(status); }

// Wait for child (0: any child) to exit; reap it and store its exit code.
// Returns its id, or -1 if there is no such child (0 with nohang if none
// has exited yet), -E_FAULT if status is not writable memory.
static int wait1(envid_t child, int *status, int nohang)
{
  if (status && !user_ok(status, sizeof *status, 1))
    return -E_FAULT;                         // (before a child is reaped)
  volatile uint64 *exits = &uenvs[ENVX(thisenv->id)].child_exits;
  int tries = 0;
  for (;;) {
    uint64 seen = *exits;                    // before looking: an exit after it wakes us
    int found = 0;
    int lo = child ? ENVX(child) : 0, hi = child ? ENVX(child) + 1 : NENV;
    for (int i = lo; i < hi; i++) {
      volatile const struct envpub *p = &uenvs[i];
      if (p->status == ENV_FREE || p->parent != thisenv->id || (child && p->id != child) ||
          (!child && (p->id == cons_env || p->id == fs_env)))
        continue;                            // (the console and file servers are init's daemons)
      found = 1;
      if (p->status == ENV_EXITED) {
        envid_t id = p->id;
        if (status)
          *status = p->exitcode;
        sys_env_destroy(id);
        return id;
      }
    }
    if (!found)
      return -1;
    if (nohang)
      return 0;
    if (tries++ == 0)
      sys_yield(child);                      // a child often exits at once: no sleep
    else
      sys_mwait(exits, seen, 0);             // until the kernel counts another exit
  }
}

int waitenv(envid_t child, int *status) { return wait1(child, status, 0); }
int wait(int *status) { return wait1(0, status, 0); }
int wait_nohang(int *status) { return wait1(0, status, 1); }

// End env: directly if it is me or one of my descendants, else by asking
// init (user/init.c), the ancestor of every env.
int kill(envid_t env)
{
  int r = sys_env_destroy(env);
  if (r != -E_BAD_ENV || env <= 0 || uenvs[ENVX(env)].id != env)
    return r;
  envid_t init = 0;
  for (int i = 0; i < NENV; i++)
    if (uenvs[i].status != ENV_FREE && uenvs[i].parent == 0)
      init = uenvs[i].id;
  struct pct_msg m;
  // Queued until init is back in its pct_recv (a root env that is not
  // init must serve INIT_KILL too, or this waits for ever).
  if (init && sys_pct_call_wait(init, INIT_KILL, env, 0, 0, 0, &m) == 0)
    return m.w[0];
  return r;
}
