// The key-value store's insides, shared by ulib/kv.c (the store on the
// disk) and ulib/kvindex.c (its index in memory).  Programs use the
// interface in lib.h.
//
// On the extent (4096-byte blocks, numbered from the extent's start):
//
//   [ 0: header | 1, 2, ...: the log: records, appended in order ]
//
// The header names the store (KV_MAGIC) and its epoch, a number chosen
// when the store is formatted.  A record is a struct kvrec, then the key's
// bytes, then the value's, padded to a multiple of 4 bytes.  Records are
// packed from the start of a block and never cross into the next one: a
// record that does not fit in the rest of the tail block starts the next
// block, and the rest of the old one stays zero (klen 0: "no more records
// in this block").  A delete appends a tombstone, a record with vlen
// KV_TOMB and no value.  A key's newest record is its value.
//
// A record is *valid* if its lengths are in range, it ends inside its
// block, its epoch is the header's, and its sum is kv_sum() of it.  The
// log is the longest run of valid records from block 1 on: it ends at the
// first record that is not valid (or at a block with no record at its
// start).  So a record a crash left half-written, or one left from an
// earlier store (another epoch), is never taken for data.
#ifndef ULIB_KV_H
#define ULIB_KV_H
#include "lib.h"

#define KV_MAGIC   0x3156584bU          // "KXV1"
#define KV_TOMB    0xFFFF               // vlen of a tombstone (a delete)
#define KV_MAXBLOCKS (1UL << 20)        // a record's position (block * BSIZE + offset) fits 32 bits

struct kvhdr {                          // block 0 of the extent
  uint32 magic;                         // KV_MAGIC
  uint32 epoch;                         // chosen at format; every record carries it
  uint64 nblocks;                       // the extent's size when it was formatted
};

struct kvrec {                          // then the key, then the value
  uint32 sum;                           // kv_sum(): over everything after this field
  uint32 epoch;                         // the header's
  uint16 klen;                          // 1..KV_MAXKEY; 0: no record here
  uint16 vlen;                          // 0..KV_MAXVAL, or KV_TOMB
};

// The bytes a record takes in its block (a multiple of 4, so the next
// record's header is aligned).
static inline uint64 kv_recsize(uint64 klen, uint64 vlen)
{
  return (sizeof(struct kvrec) + klen + (vlen == KV_TOMB ? 0 : vlen) + 3) & ~3UL;
}

// The record's checksum: FNV-1a over its epoch, lengths, key and value (not
// the padding).  The lengths must already be known to be in range.
static inline uint32 kv_sum(const struct kvrec *r)
{
  const uchar *p = (const uchar *)&r->epoch;
  uint64 n = sizeof(*r) - sizeof(r->sum) + r->klen + (r->vlen == KV_TOMB ? 0 : r->vlen);
  uint32 h = 2166136261U;
  for (uint64 i = 0; i < n; i++)
    h = (h ^ p[i]) * 16777619U;
  return h;
}

// ---- kvindex.c: the index, key -> where its newest record is ----
struct kvent {
  char   key[KV_MAXKEY + 1];            // NUL-terminated
  uint32 pos;                           // the record: block * BSIZE + offset in the block
  uint16 vlen;                          // its value's length
  uint32 next;                          // the next entry in this hash chain (index + 1; 0: none)
};
void   kvidx_reset(void);               // empty
struct kvent *kvidx_find(const char *key);        // 0 if not there
int    kvidx_set(const char *key, uint64 pos, int vlen);   // add or update; -E_NOSPC if full
int    kvidx_del(const char *key);      // 0, or -E_NOENT
uint64 kvidx_count(void);               // keys in the index

// ---- kv.c: the parts of the store (besides those in lib.h) ----
// Is the record at offset off of a block valid (above)?  1 or 0.
int    kv_rec_ok(const struct kvrec *r, uint64 off);
// Append a record (key, and the value, or a tombstone if vlen is KV_TOMB)
// to the log and write the tail block: the record is on the disk when this
// returns.  Its position (block * BSIZE + offset), or -E_NOSPC (the
// extent is full), or the disk's error: then the record is nowhere (not in
// the tail, and no later put or recovery sees its bytes).
int64  kv_append(const char *key, int klen, const void *val, int vlen);
// Read the log from block 1 on, replaying every valid record into the index,
// and leave the tail (block, offset and contents) where the log ends: just
// after its last record, in the last block that holds a record.  A record
// that is not valid after the tail block's last one is cleared on the disk,
// and the block after it.
int    kv_recover(void);

#endif
