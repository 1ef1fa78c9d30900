// Spin locks: correct on several harts; interrupts stay off while held.
#ifndef SPINLOCK_H
#define SPINLOCK_H
#include "types.h"

struct spinlock {
  volatile uint32 locked;
  const char *name;      // for debugging
};

#endif
