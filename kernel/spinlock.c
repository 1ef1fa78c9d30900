// Spin locks.  Interrupts are off whenever the kernel runs (traps disable
// them and the kernel only enables them while idle), so a lock never needs
// to save interrupt state.
#include "defs.h"

void initlock(struct spinlock *l, const char *name)
{
  l->locked = 0;
  l->hart = -1;
  l->name = name;
}

int holding(struct spinlock *l)
{
  return l->locked && l->hart == (int)mycpu()->hartid;
}

void acquire(struct spinlock *l)
{
  if (holding(l))
    panic("acquire %s: already held", l->name);
  while (__sync_lock_test_and_set(&l->locked, 1) != 0)
    ;
  __sync_synchronize();
  l->hart = mycpu()->hartid;
}

void release(struct spinlock *l)
{
  if (!holding(l))
    panic("release %s: not held", l->name);
  l->hart = -1;
  __sync_synchronize();
  __sync_lock_release(&l->locked);
}
