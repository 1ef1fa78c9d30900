// Block capabilities: extents of the disk (start, count, rights) that an
// env may read or write, and the tree of grants that derived them.  The
// first env holds the whole disk; a holder grants sub-extents with no more
// rights to its descendants.  Revoking a capability, or the exit of its
// holder, deletes it and every capability derived from it, wherever their
// holders now sit in the env tree: a grant never outlives the one it came
// from.  All functions need klock.
#include "defs.h"

#define NBCAP (NENV * NBLKCAP)      // every env's table full: never exhausted
_Static_assert(sizeof(((struct env *)0)->blkcaps) == 16, "blkcap_env_gone reads it as two words");

static struct bcap {
  uint64 start, count;
  uint32 rights;
  envid_t holder;                   // 0: this entry is free
  int16 parent, child, sibling;     // the derivation tree (-1: none)
  uint8 slot;                       // its index in the holder's table
} bcaps[NBCAP];

static struct bcap *cap_of(struct env *e, int slot)
{
  int16 i = e->blkcaps[slot];
  return i ? &bcaps[i - 1] : 0;
}

// Does e hold a capability covering [block, block+n) with these rights?
int blkcap_covers(struct env *e, uint64 block, uint64 n, uint32 rights)
{
  for (int k = 0; k < NBLKCAP; k++) {
    struct bcap *c = cap_of(e, k);
    if (c && block >= c->start && n <= c->count && block - c->start <= c->count - n &&
        (c->rights & rights) == rights)
      return 1;
  }
  return 0;
}

// A new capability for e in table slot `slot`, derived from `parent`
// (-1: none).  Its index, or -1 if the table is full (it never is).
static int cap_new(struct env *e, int slot, uint64 start, uint64 count, uint32 rights, int parent)
{
  for (int i = 0; i < NBCAP; i++)
    if (!bcaps[i].holder) {
      bcaps[i] = (struct bcap){ start, count, rights, e->id, parent, -1, -1, slot };
      if (parent >= 0) {
        bcaps[i].sibling = bcaps[parent].child;
        bcaps[parent].child = i;
      }
      e->blkcaps[slot] = i + 1;
      return i;
    }
  return -1;
}

// Free entry i, a leaf already off its parent's list.
static void cap_free(int i)
{
  envs[ENVX(bcaps[i].holder)].blkcaps[bcaps[i].slot] = 0;
  bcaps[i].holder = 0;
}

// Delete capability root and everything derived from it.  Iterative: the
// tree can be as deep as the env table is large.
static void cap_delete_tree(int root)
{
  int p = bcaps[root].parent;
  if (p >= 0) {                          // off its parent's list
    int16 *link = &bcaps[p].child;
    while (*link != root)
      link = &bcaps[*link].sibling;
    *link = bcaps[root].sibling;
  }
  for (int i = root;;) {
    while (bcaps[i].child >= 0)          // down to a leaf, by first children
      i = bcaps[i].child;
    int up = bcaps[i].parent;
    if (i != root)
      bcaps[up].child = bcaps[i].sibling;   // i was up's first child
    cap_free(i);
    if (i == root)
      return;
    i = up;
  }
}

// The first env holds the whole disk.
void blkcap_root(struct env *e, uint64 blocks)
{
  if (blocks)
    cap_new(e, 0, 0, blocks, BLK_R | BLK_W, -1);
}

// e is going away: its capabilities go, and every one derived from them.
void blkcap_env_gone(struct env *e)
{
  uint64 any[2];                         // (most envs hold none: two loads tell)
  memcpy(any, e->blkcaps, sizeof any);
  if (!(any[0] | any[1]))
    return;
  for (int k = 0; k < NBLKCAP; k++)
    if (e->blkcaps[k])
      cap_delete_tree(e->blkcaps[k] - 1);
}

// SYS_blk_grant(envid, start, count, rights): give a descendant an extent
// inside one of the caller's, with no more rights; it is derived from that
// one.  Its index in the descendant's table.
uint64 sys_blk_grant(uint64 a0, uint64 start, uint64 count, uint64 rights, uint64 a4, uint64 a5)
{
  (void)a4, (void)a5;
  struct env *e, *me = mycpu()->env;
  int64 r;
  if (count == 0 || !rights || (rights & ~(uint64)(BLK_R | BLK_W)) || start + count < start)
    return -E_INVAL;
  acquire(&klock);
  if ((r = env_get(me, a0, &e)) == 0 && e == me)
    r = -E_BAD_ENV;
  int from = -1;
  for (int k = 0; r == 0 && k < NBLKCAP && from < 0; k++) {
    struct bcap *c = cap_of(me, k);
    if (c && start >= c->start && start + count <= c->start + c->count && (c->rights & rights) == rights)
      from = c - bcaps;
  }
  if (r == 0 && from < 0)
    r = -E_PERM;
  if (r == 0) {
    r = -E_NO_MEM;                          // its table is full
    for (int k = 0; k < NBLKCAP; k++)
      if (!e->blkcaps[k]) {
        r = cap_new(e, k, start, count, rights, from) < 0 ? -E_NO_MEM : k;
        break;
      }
  }
  release(&klock);
  return r;
}

// SYS_blk_revoke(envid, index): take back a descendant's extent at that
// index, and every extent derived from it.  With envid 0 (the caller),
// take back every extent derived from the caller's own extent at index,
// which it keeps: this reaches grants whose holders are no longer its
// descendants.
uint64 sys_blk_revoke(uint64 a0, uint64 index, uint64 a2, uint64 a3, uint64 a4, uint64 a5)
{
  (void)a2, (void)a3, (void)a4, (void)a5;
  struct env *e, *me = mycpu()->env;
  int64 r;
  if (index >= NBLKCAP)
    return -E_INVAL;
  acquire(&klock);
  if ((r = env_get(me, a0, &e)) == 0 && !e->blkcaps[index])
    r = -E_INVAL;
  if (r == 0) {
    int i = e->blkcaps[index] - 1;
    if (e != me)
      cap_delete_tree(i);
    else
      while (bcaps[i].child >= 0)
        cap_delete_tree(bcaps[i].child);
  }
  release(&klock);
  return r;
}
