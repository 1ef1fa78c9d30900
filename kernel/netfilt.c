// Packet filters: the secure binding for received frames (after DPF,
// Engler and Kaashoek, SIGCOMM 1996).  An env holding RIGHT_NET installs a
// filter, a conjunction of masked tests at fixed offsets (abi.h).  The
// kernel checks it, refuses it if some frame could match both it and a
// filter of an env that is not the installer or a descendant of it, and
// merges it with the others so that choosing a frame's owner costs about
// the same with one filter or many:
//
//   - a filter is reduced to bytes: (offset, mask, value) for each byte it
//     tests, in offset order;
//   - filters that test the same bytes with the same masks share a shape
//     (typically: "IPv4, UDP, destination port" is one shape for every
//     port);
//   - a frame is looked up once per shape, most specific shape first: its
//     masked bytes are hashed and the hash chain compared.
//
// When filters overlap (an ancestor may overlap its descendants), the one
// of the more specific shape wins, then the newer.  A filter with no tests
// is the default owner: it takes what no other filter takes.
// Every function needs klock.
#include "defs.h"

#define NNETF    128              // filters in all
#define NSHAPE   16
#define NBYTES   (NETF_MAXTESTS * 4)
#define NBUCKET  256

struct shape {
  int nf;                         // filters of this shape (0: the shape is free)
  int nb;                         // bytes tested
  int bits;                       // mask bits set: the more, the more specific
  uint32 minlen;                  // frames shorter than this cannot match
  uint32 seq;                     // when it was made (ties in specificity)
  uint16 off[NBYTES];
  uint8 mask[NBYTES];
};

struct filt {
  envid_t owner;                  // 0: free
  int16 shape;
  int16 next;                     // hash chain: the next filter's index + 1, 0: end
  uint32 hash;
  uint8 val[NBYTES];
};

static struct shape shapes[NSHAPE];
static struct filt filts[NNETF];
static int16 buckets[NBUCKET];    // chain heads, filter index + 1 (0: empty)
static int16 order[NSHAPE];       // live shapes, most specific first
static int norder;
static envid_t default_owner;
static uint32 shape_seq;

// A filter as bytes, sorted by offset.
struct bytes {
  int nb;
  uint16 off[NBYTES];
  uint8 mask[NBYTES], val[NBYTES];
};

static inline uint32 hash_step(uint32 h, uint8 b) { return (h ^ b) * 0x01000193; }

// Check f and reduce it to bytes.  0, or -E_INVAL.
static int reduce(const struct netfilter *f, struct bytes *b)
{
  b->nb = 0;
  if (f->ntests > NETF_MAXTESTS || f->flags)
    return -E_INVAL;
  for (uint32 i = 0; i < f->ntests; i++) {
    const struct nettest *t = &f->t[i];
    if ((t->size != 1 && t->size != 2 && t->size != 4) || t->pad || !t->mask ||
        (t->size < 4 && (t->mask >> (8 * t->size))) || (t->value & ~t->mask) ||
        t->off + t->size > NET_MAXFRAME)
      return -E_INVAL;
    for (int j = 0; j < t->size; j++) {
      int sh = 8 * (t->size - 1 - j);
      uint8 m = t->mask >> sh, v = t->value >> sh;
      uint16 off = t->off + j;
      if (!m)
        continue;
      int k = 0;
      while (k < b->nb && b->off[k] < off)
        k++;
      if (k < b->nb && b->off[k] == off) {       // two tests of one byte
        if ((b->val[k] ^ v) & b->mask[k] & m)
          return -E_INVAL;                       // that no frame passes
        b->mask[k] |= m;
        b->val[k] |= v;
        continue;
      }
      for (int x = b->nb; x > k; x--) {
        b->off[x] = b->off[x - 1];
        b->mask[x] = b->mask[x - 1];
        b->val[x] = b->val[x - 1];
      }
      b->off[k] = off;
      b->mask[k] = m;
      b->val[k] = v;
      b->nb++;
    }
  }
  return 0;
}

// Could one frame pass both b and installed filter f?
static int overlaps(const struct bytes *b, const struct filt *f)
{
  const struct shape *s = &shapes[f->shape];
  for (int i = 0, j = 0; i < b->nb && j < s->nb;) {
    if (b->off[i] < s->off[j])
      i++;
    else if (b->off[i] > s->off[j])
      j++;
    else {
      if ((b->val[i] ^ f->val[j]) & b->mask[i] & s->mask[j])
        return 0;
      i++, j++;
    }
  }
  return 1;
}

static void order_shapes(void)
{
  norder = 0;
  for (int i = 0; i < NSHAPE; i++) {
    if (!shapes[i].nf)
      continue;
    int k = norder++;
    for (; k > 0; k--) {
      struct shape *o = &shapes[order[k - 1]];
      if (o->bits > shapes[i].bits || (o->bits == shapes[i].bits && o->seq > shapes[i].seq))
        break;
      order[k] = order[k - 1];
    }
    order[k] = i;
  }
}

// The shape of b, made if it is new; -1 if the table is full.
static int shape_for(const struct bytes *b)
{
  int free = -1;
  for (int i = 0; i < NSHAPE; i++) {
    struct shape *s = &shapes[i];
    if (!s->nf) {
      if (free < 0)
        free = i;
      continue;
    }
    if (s->nb == b->nb && !memcmp(s->off, b->off, b->nb * sizeof b->off[0]) &&
        !memcmp(s->mask, b->mask, b->nb))
      return i;
  }
  if (free < 0)
    return -1;
  struct shape *s = &shapes[free];
  s->nb = b->nb;
  s->bits = 0;
  for (int i = 0; i < b->nb; i++) {
    s->off[i] = b->off[i];
    s->mask[i] = b->mask[i];
    for (uint8 m = b->mask[i]; m; m &= m - 1)
      s->bits++;
  }
  s->minlen = b->off[b->nb - 1] + 1;
  s->seq = ++shape_seq;
  return free;
}

static int add(struct env *e, const struct bytes *b)
{
  if (b->nb == 0) {                             // the default owner
    struct env *o = env_lookup(default_owner);
    if (o && !env_descends(o, e))
      return -E_BUSY;
    default_owner = e->id;
    return NNETF;
  }
  int mine = 0, free = -1;
  for (int i = 0; i < NNETF; i++) {
    struct filt *f = &filts[i];
    if (!f->owner) {
      if (free < 0)
        free = i;
      continue;
    }
    if (f->owner == e->id)
      mine++;
    if (overlaps(b, f)) {
      struct env *o = env_lookup(f->owner);
      if (o && !env_descends(o, e))
        return -E_BUSY;                          // it would take o's frames
    }
  }
  if (mine >= NETF_PER_ENV || free < 0)
    return -E_NO_MEM;
  int s = shape_for(b);
  if (s < 0)
    return -E_NO_MEM;
  struct filt *f = &filts[free];
  f->owner = e->id;
  f->shape = s;
  f->hash = 2166136261u ^ s;
  for (int i = 0; i < b->nb; i++) {
    f->val[i] = b->val[i];
    f->hash = hash_step(f->hash, b->val[i]);
  }
  f->next = buckets[f->hash % NBUCKET];
  buckets[f->hash % NBUCKET] = free + 1;
  if (shapes[s].nf++ == 0)
    order_shapes();
  return free;
}

static void del(int i)
{
  struct filt *f = &filts[i];
  for (int16 *p = &buckets[f->hash % NBUCKET]; *p; p = &filts[*p - 1].next)
    if (*p - 1 == i) {
      *p = f->next;
      break;
    }
  if (--shapes[f->shape].nf == 0)
    order_shapes();
  f->owner = 0;
}

// SYS_net_filter(op, arg): NETF_ADD: install the filter at user address
// arg; its id (NNETF for the default owner).  NETF_DEL: remove the
// caller's filter arg.  Errors: E_PERM (no RIGHT_NET; not the caller's
// filter), E_INVAL (malformed), E_BUSY (it overlaps another env's filter
// and the caller is not that env's ancestor), E_NO_MEM (too many filters).
uint64 sys_net_filter(uint64 op, uint64 arg, uint64 a2, uint64 a3, uint64 a4, uint64 a5)
{
  (void)a2, (void)a3, (void)a4, (void)a5;
  struct env *e = mycpu()->env;
  if (!(e->rights & RIGHT_NET))
    return -E_PERM;
  if (!net_present)
    return -E_INVAL;
  int64 r;
  acquire(&klock);
  if (!(e->rights & RIGHT_NET)) {         // (net_revoke took it since the check above)
    r = -E_PERM;
  } else if (op == NETF_ADD) {
    struct netfilter f;
    struct bytes b;
    if ((r = copyin(e, &f, arg, sizeof f)) == 0 && (r = reduce(&f, &b)) == 0)
      r = add(e, &b);
  } else if (op == NETF_DEL) {
    if (arg == NNETF && default_owner == e->id) {
      default_owner = 0;
      r = 0;
    } else if (arg >= NNETF || filts[arg].owner != e->id) {
      r = -E_PERM;
    } else {
      del(arg);
      r = 0;
    }
  } else {
    r = -E_INVAL;
  }
  release(&klock);
  return r;
}

// The owner of a received frame, or 0.
envid_t netf_demux(const uint8 *frame, uint32 len)
{
  for (int k = 0; k < norder; k++) {
    int si = order[k];
    const struct shape *s = &shapes[si];
    if (len < s->minlen)
      continue;
    uint32 h = 2166136261u ^ si;
    for (int i = 0; i < s->nb; i++)
      h = hash_step(h, frame[s->off[i]] & s->mask[i]);
    for (int x = buckets[h % NBUCKET]; x; x = filts[x - 1].next) {
      const struct filt *f = &filts[x - 1];
      if (f->hash != h || f->shape != si)
        continue;
      int i = 0;
      while (i < s->nb && (frame[s->off[i]] & s->mask[i]) == f->val[i])
        i++;
      if (i == s->nb)
        return f->owner;
    }
  }
  return default_owner;
}

// e's filters go (it is going away, or lost RIGHT_NET).
void netf_env_gone(struct env *e)
{
  for (int i = 0; i < NNETF; i++)
    if (filts[i].owner == e->id)
      del(i);
  if (default_owner == e->id)
    default_owner = 0;
}
