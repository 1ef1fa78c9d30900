// Spin locks.  Interrupts are off whenever the kernel runs (traps disable
// them and the kernel only enables them while idle), so a lock never needs
// to save interrupt state.
#include "defs.h"

void initlock(struct spinlock *l, const char *name)
{
  l->locked = 0;
  l->name = name;
}

// Spin until the lock is ours.  Acquiring a lock this hart holds is a
// deadlock; the kernel never does it (every path takes klock once).
void acquire(struct spinlock *l)
{
  while (__sync_lock_test_and_set(&l->locked, 1) != 0)
    ;
  __sync_synchronize();
}

void release(struct spinlock *l)
{
  __sync_synchronize();
  __sync_lock_release(&l->locked);
}
