// The page census: count every physical page by what the kernel's public,
// read-only records (UPAGES, UENVS, USYS) say it is, and check that the
// counts add up.  Tests and the fuzzer call census() when the system is
// quiet (their children reaped) to see that no page was lost.
#include "lib.h"

// Is id a live env (running, runnable or stopped; not exited, not free)?
static int env_live(envid_t id)
{
  volatile const struct envpub *p = &uenvs[ENVX(id)];
  return id > 0 && p->id == id && (p->status == ENV_RUNNABLE || p->status == ENV_NOT_RUNNABLE);
}

// One pass over the records; returns the number of problems found.
static int census_pass(struct census *c)
{
  memset(c, 0, sizeof *c);
  c->npages = usys->npages;
  c->nfree = usys->nfree;
  for (uint64 i = 0; i < c->npages; i++) {
    volatile const struct pagepub *p = &upages[i];
    envid_t owner = p->owner;
    uint32 refs = p->refs, kind = p->kind, pins = p->pins;
    if (kind > PG_PTABLE) {
      c->badkind++;
      continue;
    }
    c->kinds[kind]++;
    if (pins)
      c->pinned++;
    if (kind == PG_PTABLE) {
      if (env_live(owner))
        c->ptables[ENVX(owner)]++;
      else
        c->dead_owner++;
    } else if (kind == PG_USER) {
      if (owner && env_live(owner)) {
        c->owned[ENVX(owner)]++;
        c->user_owned++;
      } else if (owner) {
        c->dead_owner++;
      } else if (refs) {
        c->ownerless_mapped++;
      } else if (pins) {
        c->ownerless_pinned++;
      } else {
        c->leaked++;                   // nobody holds it, yet it is not free
      }
    }
  }
  int bad = c->badkind + c->dead_owner + c->leaked;
  uint64 total = 0;
  for (int k = 0; k < 4; k++)
    total += c->kinds[k];
  if (total != c->npages)
    bad++;
  if (c->kinds[PG_FREE] != c->nfree)
    bad++;
  for (int i = 0; i < NENV; i++) {
    volatile const struct envpub *e = &uenvs[i];
    c->npages_env[i] = e->npages;
    if (e->id == 0 || e->status == ENV_FREE)
      continue;
    if (e->npages != c->owned[i] + c->ptables[i])
      bad++;
  }
  c->problems = bad;
  return bad;
}

// Fill *c from the public records.  The records change while other envs
// run, so a pass during which the free count moved is repeated (a few
// times at most).  The number of problems: 0 when every page is accounted
// for and every env's npages equals the pages the records say it owns.
int census(struct census *c)
{
  int bad = 0;
  for (int tries = 0; tries < 5; tries++) {
    uint64 before = usys->nfree;
    bad = census_pass(c);
    if (usys->nfree == before && bad == 0)
      return 0;
    sys_yield(0);                          // (a few tries for a still picture, not a wait)
  }
  return bad;
}

static const char *status_name(int s)
{
  switch (s) {
  case ENV_RUNNABLE: return "runnable";
  case ENV_NOT_RUNNABLE: return "stopped";
  case ENV_EXITED: return "exited";
  }
  return "?";
}

// Print the table: pages by kind, user pages by owner, and per env its
// npages against the records.  Lines start with "census:".
void census_print(const struct census *c)
{
  uint64 total = 0;
  for (int k = 0; k < 4; k++)
    total += c->kinds[k];
  printf("census: RAM pages         %lu\n", c->npages);
  printf("census: free              %lu (syspub says %lu)\n", c->kinds[PG_FREE], c->nfree);
  printf("census: kernel            %lu\n", c->kinds[PG_KERNEL]);
  printf("census: page tables       %lu\n", c->kinds[PG_PTABLE]);
  printf("census: user              %lu\n", c->kinds[PG_USER]);
  printf("census:   owned           %lu\n", c->user_owned);
  printf("census:   ownerless mapped %lu\n", c->ownerless_mapped);
  printf("census:   ownerless pinned %lu\n", c->ownerless_pinned);
  printf("census:   leaked          %lu\n", c->leaked);
  printf("census: pinned (any kind) %lu\n", c->pinned);
  printf("census: dead owners       %lu, bad kinds %lu\n", c->dead_owner, c->badkind);
  printf("census: total             %lu %s RAM pages\n", total, total == c->npages ? "==" : "!=");
  printf("census: env       status    npages  owned ptables\n");
  for (int i = 0; i < NENV; i++) {
    volatile const struct envpub *e = &uenvs[i];
    if (e->id == 0 || e->status == ENV_FREE)
      continue;
    int ok = c->npages_env[i] == c->owned[i] + c->ptables[i];
    printf("census: %08x  %-8s %7d %6d %7d%s\n", e->id, status_name(e->status), c->npages_env[i],
           c->owned[i], c->ptables[i], ok ? "" : "  MISMATCH");
  }
  if (c->problems)
    printf("census: %d problems\n", c->problems);
  else
    printf("census: totals add up\n");
}

// The pages the caller holds, with the servers it started (the console
// and file servers live on after a test and may grow their own stacks).
static int64 held(void)
{
  int64 n = thisenv->npages;
  if (cons_env)
    n += uenvs[ENVX(cons_env)].npages;
  if (fs_env)
    n += uenvs[ENVX(fs_env)].npages;
  return n;
}

// Remember the free count before a test makes envs and pages.
void census_mark(struct census_mark *m)
{
  m->nfree = usys->nfree;
  m->held = held();
}

// After the test (its children reaped): wait for disk requests still using
// pages, then check that every page is accounted for and that the free
// count is back where census_mark() saw it, except for what the caller and
// its servers hold now more (or less) than then.  Failures go through
// check(); returns 1 if all is well.
int census_check(const struct census_mark *m)
{
  static struct census c;
  uint64 t0 = rdtime();
  int bad;
  for (;;) {
    bad = census(&c);
    if (c.pinned == 0 || rdtime() - t0 > 5 * usys->timebase)
      break;
    nap();                                 // disk requests still hold pages: 1 ms more
  }
  int64 delta = held() - m->held;
  uint64 now = usys->nfree;
  int ok = check(bad == 0, "census: %d problems", bad);
  ok &= check(c.pinned == 0, "census: %lu pages still pinned", c.pinned);
  ok &= check(now + delta == m->nfree,
              "census: free pages %lu before, %lu after, my hold changed by %ld: %ld lost", m->nfree,
              now, delta, (int64)m->nfree - (int64)now - delta);
  if (!ok)
    census_print(&c);
  return ok;
}
