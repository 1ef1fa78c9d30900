// A key-value store on a raw block extent: an application's own storage,
// beside the file system rather than on it (the exokernel argument: the
// kernel exports blocks, and each application manages them its own way).
//
// The format is in kv.h: a header block, then a log of records.  In memory
// the store keeps an index (kvindex.c: key -> where its newest record is)
// and a copy of the log's last block, the tail.
//
//   kv_open:    read the header; format a new store, or recover the old one
//               (read the log, replaying each record into the index)
//   kv_put/del: append a record to the tail and write the tail block: one
//               block write, no other disk traffic
//   kv_get:     find the record by the index and read its block (the blocks
//               before the tail never change, so one cached block stays good)
//
// Crash safety: a put or a delete is atomic, and durable when it returns.
// It writes one block, the tail with the new record added; as the file
// system's log does for its header block, we assume a one-block write
// happens entirely or not at all.  A crash loses at most the operation in
// progress; recovery ignores a record that is not valid (kv.h), so a torn
// or stale one is never read as data.  An operation that fails (a full
// extent, a disk error) leaves nothing of itself, on the disk or in memory.
//
// Not here (see labs/app.md): compaction (the log only grows and a full
// extent answers -E_NOSPC; keys deleted or overwritten keep their space),
// and sharing a store between envs (one env owns the extent).
#include "kv.h"

static struct {
  char   tail[BSIZE] __attribute__((aligned(BSIZE)));   // the log's last block
  char   blk[BSIZE] __attribute__((aligned(BSIZE)));    // a block read (kv_get, the header)
  uint64 start, nblocks;                // the extent
  uint32 epoch;                         // the header's
  uint64 tail_blk, tail_off;            // where the next record goes
  uint64 cached;                        // the log block in blk (0: none)
  uint64 records;                       // records in the log
  int    open;                          // kv_open succeeded
} kv;

// The length of a valid key (1..KV_MAXKEY), or -E_INVAL.
static int key_len(const char *key)
{
  int n = 0;
  while (n <= KV_MAXKEY && key[n])
    n++;
  return n >= 1 && n <= KV_MAXKEY ? n : -E_INVAL;
}

int kv_rec_ok(const struct kvrec *r, uint64 off)
{
  // BEGIN LAB app: kv_rec_ok: lengths in range, inside the block, this epoch, the right sum
  if (r->klen < 1 || r->klen > KV_MAXKEY)
    return 0;
  if (r->vlen > KV_MAXVAL && r->vlen != KV_TOMB)
    return 0;
  if (off + kv_recsize(r->klen, r->vlen) > BSIZE)
    return 0;
  return r->epoch == kv.epoch && r->sum == kv_sum(r);
  // END LAB app: return lab_todo("app", "kv_rec_ok"), 0;
}

int64 kv_append(const char *key, int klen, const void *val, int vlen)
{
  // BEGIN LAB app: kv_append: add the record to the tail (or start the next block), write the tail block
  uint64 size = kv_recsize(klen, vlen);
  if (kv.tail_off + size > BSIZE) {          // not room: the next block
    if (kv.tail_blk + 1 >= kv.nblocks)
      return -E_NOSPC;
    kv.tail_blk++;
    kv.tail_off = 0;
    memset(kv.tail, 0, BSIZE);
  }
  struct kvrec *r = (struct kvrec *)(kv.tail + kv.tail_off);
  r->epoch = kv.epoch;
  r->klen = klen;
  r->vlen = vlen;
  memcpy(r + 1, key, klen);
  if (vlen != KV_TOMB)
    memcpy((char *)(r + 1) + klen, val, vlen);
  r->sum = kv_sum(r);
  int err = sys_blk_io(BLK_WRITE, kv.start + kv.tail_blk, kv.tail, 1);
  if (err < 0) {
    memset(r, 0, size);                      // as if never appended
    return err;
  }
  uint64 pos = kv.tail_blk * BSIZE + kv.tail_off;
  kv.tail_off += size;
  kv.records++;
  return pos;
  // END LAB app: return lab_todo("app", "kv_append");
}

int kv_recover(void)
{
  // BEGIN LAB app: kv_recover: replay the valid records from block 1 on into the index; set the tail
  int err;
  uint64 b, off = 0;
  kv.tail_blk = 1;
  kv.tail_off = 0;
  for (b = 1; b < kv.nblocks; b++) {
    if ((err = sys_blk_io(BLK_READ, kv.start + b, kv.tail, 1)) < 0)
      return err;
    int end = 0;
    for (off = 0; off + sizeof(struct kvrec) <= BSIZE;) {
      struct kvrec *r = (struct kvrec *)(kv.tail + off);
      if (r->klen == 0 && off > 0)
        break;                               // the rest of the block is unused
      if (!kv_rec_ok(r, off)) {
        end = 1;                             // the end of the log
        break;
      }
      char key[KV_MAXKEY + 1];
      memcpy(key, r + 1, r->klen);
      key[r->klen] = 0;
      if (r->vlen == KV_TOMB)
        kvidx_del(key);
      else if ((err = kvidx_set(key, b * BSIZE + off, r->vlen)) < 0)
        return err;
      kv.records++;
      off += kv_recsize(r->klen, r->vlen);
    }
    if (off > 0) {                           // the last block with records so far
      kv.tail_blk = b;
      kv.tail_off = off;
    }
    if (end)
      break;
  }
  // The tail block is in kv.tail unless the log ended at the start of a block.
  uint64 last = b < kv.nblocks ? b : b - 1;
  if (kv.tail_blk != last && (err = sys_blk_io(BLK_READ, kv.start + kv.tail_blk, kv.tail, 1)) < 0)
    return err;
  memset(kv.tail + kv.tail_off, 0, BSIZE - kv.tail_off);   // nothing after the last record
  // The log ended at a record that is not valid, after the tail's last one
  // (a torn write): clear it on the disk, and the next block, so that the
  // log still ends here if the next put starts the next block.
  if (b < kv.nblocks && kv.tail_blk == b) {
    memset(kv.blk, 0, BSIZE);
    if ((b + 1 < kv.nblocks && (err = sys_blk_io(BLK_WRITE, kv.start + b + 1, kv.blk, 1)) < 0) ||
        (err = sys_blk_io(BLK_WRITE, kv.start + b, kv.tail, 1)) < 0)
      return err;
  }
  return 0;
  // END LAB app: return lab_todo("app", "kv_recover");
}

int kv_open(uint64 start, uint64 count, int flags)
{
  // BEGIN LAB app: kv_open: check the extent, read the header, then format (new epoch) or recover
  kv.open = 0;
  if (count < 2 || count > KV_MAXBLOCKS)
    return -E_INVAL;
  kv.start = start;
  kv.nblocks = count;
  kv.cached = 0;
  kv.records = 0;
  kvidx_reset();
  int err = sys_blk_io(BLK_READ, start, kv.blk, 1);
  if (err < 0)
    return err;
  struct kvhdr *h = (struct kvhdr *)kv.blk;
  int ours = h->magic == KV_MAGIC && h->nblocks == count;
  if (ours && !(flags & KV_FORMAT)) {
    kv.epoch = h->epoch;
    err = kv_recover();
  } else {
    // A new epoch: every record of an earlier store stops being valid, so
    // the log need not be cleared.
    kv.epoch = ours ? h->epoch + 1 : (uint32)(rdtime() ^ (rdinstret() << 7)) | 1;
    memset(kv.blk, 0, BSIZE);
    h->magic = KV_MAGIC;
    h->epoch = kv.epoch;
    h->nblocks = count;
    err = sys_blk_io(BLK_WRITE, start, kv.blk, 1);
    memset(kv.tail, 0, BSIZE);
    kv.tail_blk = 1;
    kv.tail_off = 0;
  }
  if (err == 0)
    kv.open = 1;
  return err;
  // END LAB app: return lab_todo("app", "kv_open");
}

int kv_put(const char *key, const void *val, int n)
{
  // BEGIN LAB app: kv_put: check the arguments, append the record, then point the index at it
  int klen = key_len(key);
  if (!kv.open || klen < 0 || n < 0 || n > KV_MAXVAL)
    return -E_INVAL;
  // A new key needs room in the index: look before the record is on the disk.
  if (!kvidx_find(key) && kvidx_count() >= KV_NKEYS)
    return -E_NOSPC;
  int64 pos = kv_append(key, klen, val, n);
  if (pos < 0)
    return pos;
  return kvidx_set(key, pos, n);
  // END LAB app: return lab_todo("app", "kv_put");
}

int kv_get(const char *key, void *buf, int size)
{
  // BEGIN LAB app: kv_get: find the record by the index, read its block (unless it is the tail), copy the value
  int klen = key_len(key);
  if (!kv.open || klen < 0 || size < 0)
    return -E_INVAL;
  struct kvent *e = kvidx_find(key);
  if (!e)
    return -E_NOENT;
  uint64 b = e->pos / BSIZE, off = e->pos % BSIZE;
  char *blk = kv.tail;
  if (b != kv.tail_blk) {
    blk = kv.blk;
    if (kv.cached != b) {
      kv.cached = 0;
      int err = sys_blk_io(BLK_READ, kv.start + b, kv.blk, 1);
      if (err < 0)
        return err;
      kv.cached = b;
    }
  }
  struct kvrec *r = (struct kvrec *)(blk + off);
  if (!kv_rec_ok(r, off) || r->klen != klen || r->vlen != e->vlen || memcmp(r + 1, key, klen) != 0)
    return -E_CORRUPT;                       // someone else wrote my extent
  int n = r->vlen < size ? r->vlen : size;
  memcpy(buf, (char *)(r + 1) + r->klen, n);
  return r->vlen;
  // END LAB app: return lab_todo("app", "kv_get");
}

int kv_del(const char *key)
{
  int klen = key_len(key);
  if (!kv.open || klen < 0)
    return -E_INVAL;
  if (!kvidx_find(key))
    return -E_NOENT;
  int64 pos = kv_append(key, klen, 0, KV_TOMB);
  if (pos < 0)
    return pos;
  return kvidx_del(key);
}

void kv_get_stats(struct kv_stats *s)
{
  s->keys = kvidx_count();
  s->records = kv.records;
  s->blocks = kv.open ? kv.tail_blk + 1 : 0;
}
