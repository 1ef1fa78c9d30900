// Exceptions at user level: a small per-cause registry of handlers, the C
// side of the upcall entry, and the set-up of the exception stack.
#include "lib.h"

#define NHANDLER 4                    // handlers per cause, newest first

static upcall_handler_t handlers[NCAUSE][NHANDLER];
extern void upcall_entry(void);
extern char upcall_restore_start[], upcall_restore_end[];

// Add h in front of the handlers for cause.  An earlier registration of the
// same handler is moved to the front.
void set_handler(int cause, upcall_handler_t h)
{
  // BEGIN LAB upcall: set_handler: a bad cause is a panic; h goes to the front of cause's list (at most NHANDLER, the oldest falls off), and a handler already there moves to the front instead of appearing twice
  if (cause < 0 || cause >= NCAUSE)
    panic("set_handler: bad cause %d", cause);
  upcall_handler_t *list = handlers[cause];
  int i;
  for (i = 0; i < NHANDLER - 1 && list[i] && list[i] != h; i++)
    ;
  for (; i > 0; i--)
    list[i] = list[i - 1];
  list[0] = h;
  // END LAB upcall: if (cause >= 0 && cause < NCAUSE) { handlers[cause][0] = h; }
}

static const char *causes[NCAUSE] = {
  "misaligned fetch", "fetch access fault", "illegal instruction", "breakpoint",
  "misaligned load", "load access fault", "misaligned store", "store access fault",
  "ecall", "?", "?", "?", "instruction page fault", "load page fault", "?",
  "store page fault", "interrupt", "revocation request", "repossession notice",
  "timer tick",
};

// Called by upcall_entry with the frame; returns to resume the frame.  An
// exception nobody handles ends the env with a message.
void upcall_dispatch(struct uframe *f)
{
  // BEGIN LAB upcall: upcall_dispatch: run cause's handlers newest first until one returns 1; a revocation request, a repossession notice or a tick that nobody takes is ignored; any other unhandled exception ends the env (status -1) with the line "env <id>: unhandled <cause> at va <tval>, pc <pc>"
  if (f->cause < NCAUSE)
    for (int i = 0; i < NHANDLER && handlers[f->cause][i]; i++)
      if (handlers[f->cause][i](f))
        return;
  if (f->cause == CAUSE_REVOKE || f->cause == CAUSE_REPOSSESS)
    return;                     // nobody listens: the kernel takes pages at the deadline
  if (f->cause == CAUSE_TICK)
    return;                     // a tick nobody wants (e.g. no threads yet): harmless
  printf("env %08x: unhandled %s at va %p, pc %p\n", sys_getenvid(),
         f->cause < NCAUSE ? causes[f->cause] : "exception", (void *)f->tval, (void *)f->tf.pc);
  exit(-1);
  // END LAB upcall: lab_todo("upcall", "upcall_dispatch"), (void)f; exit(-1);
}

// What ulib/upentry.S calls, after the handlers ran, until the upcall lab's
// return path is written: there is no way back to the interrupted code.
void upcall_return_todo(struct uframe *f)
{
  lab_todo("upcall", "the return from an upcall (ulib/upentry.S)");
  printf("env %08x: cannot resume after a %s at va %p, pc %p\n", sys_getenvid(),
         f->cause < NCAUSE ? causes[f->cause] : "exception", (void *)f->tval, (void *)f->tf.pc);
  exit(-1);
}

// Give env (0: me) an exception stack and register the upcall entry.  The
// registered range is UXSTACKSIZE below UXSTACKTOP; only its top page is
// mapped here (fork is hot).  Code that nests deeply in upcalls, such as
// the pager (swap.c), maps the rest with upcall_stack_grow() first: a
// nested upcall whose frame lands on an unmapped page ends the env.
int upcall_init(envid_t env)
{
  int64 ppn = sys_page_alloc(env);
  if (ppn < 0)
    return ppn;
  int r = sys_pte_set(env, UXSTACKTOP - PGSIZE, PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D));
  if (r < 0) {
    sys_page_free(ppn);
    return r;
  }
  return sys_env_set_upcall(env, upcall_entry, UXSTACKTOP - UXSTACKSIZE, UXSTACKTOP,
                            (uint64)upcall_restore_start, (uint64)upcall_restore_end);
}

// Map the whole exception stack (mine).
int upcall_stack_grow(void)
{
  for (uint64 va = UXSTACKTOP - UXSTACKSIZE; va < UXSTACKTOP - PGSIZE; va += PGSIZE)
    if (!(uvpt_pte(va) & PTE_V)) {
      int r = page_map(va, PTE_R | PTE_W);
      if (r < 0)
        return r;
    }
  return 0;
}
