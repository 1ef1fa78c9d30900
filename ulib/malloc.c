// The user heap: malloc, free and calloc on top of sbrk.  A K&R-style free
// list kept in address order: first fit (starting where the last search
// ended), splitting big blocks, and merging neighbours on free.
#include "lib.h"

// Every block starts with a header; sizes count 16-byte units, header
// included, so blocks and the pointers handed out stay 16-byte aligned.
struct header {
  struct header *next;  // next free block in address order (free blocks only)
  uint64 units;         // size of the block in units, header included
};
_Static_assert(sizeof(struct header) == 16, "header must be one unit");

#define UNIT        sizeof(struct header)
#define GROW_UNITS  (16384 / UNIT)      // ask sbrk for at least 16 KiB
#define MAX_REQUEST (1UL << 40)         // larger requests fail at once

static struct header base;      // zero-size block that is always on the list
static struct header *freep;    // where the next search starts; NULL until used
static char *heap_lo, *heap_hi; // the range malloc's blocks come from

// Report a corrupted heap or a bad free and exit.  Does not use printf, so
// it is safe whatever state the heap is in.
static void
heap_fail(const char *msg)
{
  sys_cputs(msg, strlen(msg));
  exit(255);
}

// Grow the heap by at least units units and put the new memory on the free
// list.  Returns freep, or NULL if sbrk fails.
static struct header *
morecore(uint64 units)
{
  char *cur, *p;
  uint64 pad;
  struct header *h;

  if (units < GROW_UNITS)
    units = GROW_UNITS;
  cur = sbrk(0);
  if (cur == (char *)-1)
    return NULL;
  pad = (0 - (uint64)cur) & (UNIT - 1);   // someone left the break unaligned
  p = sbrk(pad + units * UNIT);
  if (p == (char *)-1)
    return NULL;
  p += pad;
  if (heap_lo == NULL)
    heap_lo = p;
  heap_hi = p + units * UNIT;

  h = (struct header *)p;
  h->units = units;
  free(h + 1);
  return freep;
}

// Allocate n bytes, 16-byte aligned; NULL if there is no memory.
void *
malloc(uint64 n)
{
  struct header *p, *prev;
  uint64 units;

  if (n > MAX_REQUEST)
    return NULL;
  units = (n + UNIT - 1) / UNIT + 1;
  if (freep == NULL) {
    base.next = &base;
    base.units = 0;
    freep = &base;
  }

  prev = freep;
  for (p = prev->next;; prev = p, p = p->next) {
    if (p->units >= units) {
      if (p->units == units) {
        prev->next = p->next;
      } else {                          // hand out the tail of the block
        p->units -= units;
        p += p->units;
        p->units = units;
      }
      freep = prev;
      return p + 1;
    }
    if (p == freep) {                   // went all the way round
      p = morecore(units);
      if (p == NULL)
        return NULL;
    }
  }
}

// Return a block from malloc to the free list, merging it with free
// neighbours.  free(NULL) does nothing; a pointer malloc did not return, or
// a second free of the same block, ends the program.
void
free(void *ap)
{
  struct header *bp, *p;

  if (ap == NULL)
    return;
  bp = (struct header *)ap - 1;
  if (((uint64)ap & (UNIT - 1)) != 0 || (char *)bp < heap_lo ||
      (char *)ap > heap_hi || bp->units == 0 ||
      bp->units > (uint64)(heap_hi - (char *)bp) / UNIT)
    heap_fail("free: pointer not from malloc\n");

  // Find p, the free block just below bp (or the last one, when bp is
  // below or above every free block).
  for (p = freep; !(bp > p && bp < p->next); p = p->next) {
    if (p == bp)
      heap_fail("free: block already free (double free?)\n");
    if (p >= p->next && (bp > p || bp < p->next))
      break;
  }
  if ((bp > p && p + p->units > bp) || (bp < p->next && bp + bp->units > p->next))
    heap_fail("free: block already free (double free?)\n");

  if (bp + bp->units == p->next) {      // merge with the block above
    bp->units += p->next->units;
    bp->next = p->next->next;
  } else {
    bp->next = p->next;
  }
  if (p + p->units == bp) {             // merge with the block below
    p->units += bp->units;
    p->next = bp->next;
  } else {
    p->next = bp;
  }
  freep = p;
}

// Allocate a zeroed array of n elements of size bytes; NULL on overflow or
// when there is no memory.
void *
calloc(uint64 n, uint64 size)
{
  void *p;

  if (size != 0 && n > (uint64)-1 / size)
    return NULL;
  p = malloc(n * size);
  if (p == NULL)
    return NULL;
  memset(p, 0, n * size);
  return p;
}
