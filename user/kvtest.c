// kvtest: checks the key-value store (ulib/kv.c) on the app extent against
// a model kept in memory.  Keys and values come from a seed the grader
// picks (grade/test_app.py); a value starts "v<version>:" and the rest is
// a function of (seed, key, version), so a value read back is checked
// whole.
//
//   kvtest SEED               one boot: arguments, random puts, overwrites,
//                             deletes and gets, reopening (recovery) along
//                             the way, a torn record at the tail, the
//                             extent's limits, records at a block's edge,
//                             a full extent, a full index
//   kvtest failing SEED       puts and deletes whose disk write fails
//   kvtest fill SEED N        format; put N keys, overwrite some, delete some
//   kvtest verify SEED N      (after a reboot) the store holds what fill left
//   kvtest crash SEED         put forever, key i%64 gets version i; prints
//                             "kvtest: done <i>" after every 8th put
//   kvtest aftercrash SEED I  (after the grader killed the machine during
//                             crash, whose last line said done I) every put
//                             up to I is there, and what is there is a
//                             prefix of the puts
#include "lib.h"
#include "kv.h"

static uint64 seed;
static char val[KV_MAXVAL + 1], got[KV_MAXVAL + 16];
static char raw[BSIZE] __attribute__((aligned(BSIZE)));

static uint64 mix(uint64 x)              // splitmix64's finaliser
{
  x += 0x9E3779B97F4A7C15UL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
  return x ^ (x >> 31);
}

static uint64 rng;
static uint64 rnd(uint64 n) { rng = mix(rng); return rng % n; }

// The name of key k of set `set` (a letter).
static void key_name(char *key, int set, uint64 k)
{
  snprintf(key, KV_MAXKEY + 1, "%c%x.%lu", set, (uint32)mix(seed ^ (k << 8) ^ set), k);
}

// Version ver of key k's value, in val; its length.  Mostly short, now and
// then up to KV_MAXVAL (big is 0 for at most 200 bytes).
static int make_val(uint64 k, uint64 ver, int big)
{
  uint64 x = mix(seed * 31 + mix(k * 1000003 + ver));
  int n = snprintf(val, 24, "v%lu:", ver);
  int len = n + (big && x % 8 == 0 ? (x >> 8) % (KV_MAXVAL - n + 1) : (x >> 8) % 200);
  for (int i = n; i < len; i++) {
    x = mix(x);
    val[i] = 33 + x % 94;                  // printable, never 0
  }
  return len;
}

// Key k (set, version ver; ver < 0: deleted) must read back right.
static int check_key(int set, uint64 k, int64 ver, int big, const char *when)
{
  char key[KV_MAXKEY + 1];
  key_name(key, set, k);
  memset(got, 0, sizeof got);
  int r = kv_get(key, got, KV_MAXVAL);
  if (ver < 0)
    return check(r == -E_NOENT, "%s: get %s (deleted): %d, not E_NOENT", when, key, r);
  int n = make_val(k, ver, big);
  if (!check(r == n, "%s: get %s: %d (%s), want %d bytes", when, key, r, r < 0 ? errstr(r) : "", n))
    return 0;
  return check(memcmp(got, val, n) == 0, "%s: get %s: wrong value %.20s..., want %.20s...", when,
               key, got, val);
}

static int put_key(int set, uint64 k, uint64 ver, int big)
{
  char key[KV_MAXKEY + 1];
  key_name(key, set, k);
  int n = make_val(k, ver, big);
  int r = kv_put(key, val, n);
  check(r == 0, "put %s (%d bytes): %s", key, n, errstr(r));
  return r;
}

static int del_key(int set, uint64 k)
{
  char key[KV_MAXKEY + 1];
  key_name(key, set, k);
  int r = kv_del(key);
  check(r == 0, "del %s: %s", key, errstr(r));
  return r;
}

static int reopen(const char *when)
{
  int r = kv_open(app_start, app_count, 0);
  return check(r == 0, "%s: kv_open (recovery): %s", when, errstr(r));
}

// ---- records of a chosen size, at chosen places in a block ----

// Put key with a value that makes its record exactly size bytes (a
// multiple of 4); the value is a function of the key, so fetch() checks it.
static int make_sized(const char *key, uint64 size)
{
  int n = size - sizeof(struct kvrec) - strlen(key);
  for (int i = 0; i < n; i++)
    val[i] = 'A' + (key[i % strlen(key)] + i) % 26;
  return n;
}

static int put_sized(const char *key, uint64 size)
{
  int n = make_sized(key, size);
  int r = kv_put(key, val, n);
  check(r == 0, "put %s (a %lu-byte record): %s", key, size, errstr(r));
  return r;
}

// key reads back as put_sized(key, size) left it (size 0: it is not there).
static int fetch(const char *key, uint64 size, const char *when)
{
  int r = kv_get(key, got, KV_MAXVAL);
  if (!size)
    return check(r == -E_NOENT, "%s: get %s: %d, not E_NOENT", when, key, r);
  int n = make_sized(key, size);
  return check(r == n && memcmp(got, val, n) == 0, "%s: get %s: %d (%s), want %d right bytes",
               when, key, r, r < 0 ? errstr(r) : "", n);
}

// The store's counts are these.
static int counts(uint64 keys, uint64 records, uint64 blocks, const char *when)
{
  struct kv_stats s;
  kv_get_stats(&s);
  if (!blocks)                             // (not checked)
    blocks = s.blocks;
  return check(s.keys == keys && s.records == records && s.blocks == blocks,
               "%s: %lu keys, %lu records, %lu blocks in use; want %lu, %lu, %lu", when,
               s.keys, s.records, s.blocks, keys, records, blocks);
}

// ---- kvtest SEED ----

static void arguments(void)
{
  char key[40];
  expect_err(kv_get("nokey", got, 10), E_NOENT, "get of a key never put");
  expect_err(kv_del("nokey"), E_NOENT, "del of a key never put");
  expect_err(kv_put("", "x", 1), E_INVAL, "put of an empty key");
  memset(key, 'k', 32);
  key[32] = 0;
  expect_err(kv_put(key, "x", 1), E_INVAL, "put of a 32-byte key");
  key[31] = 0;
  check(kv_put(key, "x", 1) == 0 && kv_get(key, got, 10) == 1 && got[0] == 'x', "a 31-byte key");
  expect_err(kv_put("big", val, KV_MAXVAL + 1), E_INVAL, "put of KV_MAXVAL+1 bytes");
  expect_err(kv_put("neg", val, -1), E_INVAL, "put of -1 bytes");
  for (int i = 0; i < KV_MAXVAL; i++)
    val[i] = 'a' + i % 26;
  check(kv_put("big", val, KV_MAXVAL) == 0, "put of KV_MAXVAL bytes");
  check(kv_get("big", got, KV_MAXVAL) == KV_MAXVAL && memcmp(got, val, KV_MAXVAL) == 0,
        "get of KV_MAXVAL bytes");
  check(kv_put("empty", "", 0) == 0 && kv_get("empty", got, 10) == 0, "an empty value");
  // a small buffer gets a prefix; the result is the whole length
  memset(got, '#', 20);
  check(kv_get("big", got, 10) == KV_MAXVAL && memcmp(got, val, 10) == 0 && got[10] == '#',
        "get into a 10-byte buffer");
  got[0] = '#';
  check(kv_get("big", got, 0) == KV_MAXVAL && got[0] == '#', "get into no buffer: the length");
  check(kv_del("empty") == 0, "del");
  expect_err(kv_get("empty", got, 10), E_NOENT, "get after del");
  expect_err(kv_del("empty"), E_NOENT, "del after del");
  struct kv_stats s;
  kv_get_stats(&s);
  check(s.keys == 2, "%lu keys, want 2", s.keys);
  // a new store (format) and a reopened one hold none of the old keys
  check(kv_open(app_start, app_count, KV_FORMAT) == 0, "format");
  expect_err(kv_get("big", got, 10), E_NOENT, "get after a format");
  reopen("after a format");
  expect_err(kv_get("big", got, 10), E_NOENT, "get after a format and a reopen");
  kv_get_stats(&s);
  check(s.keys == 0, "%lu keys after a format, want 0", s.keys);
}

#define NK 300
static int64 model[NK];                  // version of each key, -1: not there

static int verify_all(int set, const char *when)
{
  int bad = 0;
  uint64 live = 0;
  for (int k = 0; k < NK; k++) {
    bad += !check_key(set, k, model[k], 1, when);
    live += model[k] >= 0;
    if (bad > 5)
      return 0;
  }
  struct kv_stats s;
  kv_get_stats(&s);
  return check(s.keys == live, "%s: %lu keys, want %lu", when, s.keys, live) && !bad;
}

// Random puts, deletes and gets over NK keys; a reopen every 500.
static void random_ops(int set, int nops, uint64 *ver)
{
  char when[48];
  for (int i = 0; i < nops; i++) {
    uint64 k = rnd(NK), op = rnd(100);
    snprintf(when, sizeof when, "op %d", i);
    if (op < 55) {
      if (put_key(set, k, *ver, 1) == 0)
        model[k] = *ver;
      ++*ver;
    } else if (op < 70) {
      if (model[k] < 0) {
        char key[KV_MAXKEY + 1];
        key_name(key, set, k);
        expect_err(kv_del(key), E_NOENT, "del of a deleted key");
      } else if (del_key(set, k) == 0) {
        model[k] = -1;
      }
    } else if (!check_key(set, k, model[k], 1, when)) {
      return;
    }
    if (i % 500 == 499) {
      if (!reopen(when) || !verify_all(set, when))
        return;
    }
  }
}

// A crash left a torn record after the last one in the tail block, and a
// stale block after that: recovery must ignore both.  (Uses the format of
// kv.h: the tail is the last block in use, records packed from its start.)
static void torn_tail(void)
{
  struct kv_stats s;
  kv_get_stats(&s);
  uint64 tail = app_start + s.blocks - 1;
  if (!check(s.blocks >= 2 && sys_blk_io(BLK_READ, app_start, raw, 1) == 0, "read the header"))
    return;
  uint32 epoch = ((struct kvhdr *)raw)->epoch;
  if (!check(sys_blk_io(BLK_READ, tail, raw, 1) == 0, "read the tail block"))
    return;
  uint64 end = BSIZE;
  while (end > 0 && raw[end - 1] == 0)
    end--;
  end = (end + 3) & ~3UL;                  // the end of the last record
  struct kvrec bad = { .sum = 0x12345678, .epoch = epoch, .klen = 5, .vlen = 3 };
  if (end + sizeof bad + 8 <= BSIZE) {
    memcpy(raw + end, &bad, sizeof bad);
    memcpy(raw + end + sizeof bad, "tornxabc", 8);
    bad.sum = kv_sum((struct kvrec *)(raw + end)) + 1;   // wrong by one
    memcpy(raw + end, &bad, sizeof bad);
    check(sys_blk_io(BLK_WRITE, tail, raw, 1) == 0, "write a torn record");
  }
  if (s.blocks < app_count) {
    memset(raw, 0, BSIZE);
    memcpy(raw, &bad, sizeof bad);
    memcpy(raw + sizeof bad, "tornxabc", 8);
    check(sys_blk_io(BLK_WRITE, tail + 1, raw, 1) == 0, "write a stale block");
  }
  if (!reopen("after a torn record") || !verify_all('r', "after a torn record"))
    return;
  expect_err(kv_get("tornx", got, 10), E_NOENT, "get of the torn record's key");
}

// kv_rec_ok on records made here with the store's epoch and a right sum:
// only the lengths, or where the record sits, are wrong.  (A recovery that
// took a key longer than KV_MAXKEY would copy it past its buffer.)
static int rec_at(uint64 off, uint32 epoch, int klen, int vlen)
{
  static char block[2 * BSIZE];             // (room for the sum of one that runs over)
  memset(block, 'k', sizeof block);
  struct kvrec *r = (struct kvrec *)(block + off);
  r->epoch = epoch;
  r->klen = klen;
  r->vlen = vlen;
  r->sum = kv_sum(r);
  return kv_rec_ok(r, off);
}

static void bad_lengths(void)
{
  if (!check(sys_blk_io(BLK_READ, app_start, raw, 1) == 0, "read the header"))
    return;
  uint32 epoch = ((struct kvhdr *)raw)->epoch;
  uint64 big = kv_recsize(KV_MAXKEY, KV_MAXVAL);
  check(rec_at(0, epoch, KV_MAXKEY, KV_MAXVAL) == 1, "kv_rec_ok: the longest key and value");
  check(rec_at(0, epoch, 1, KV_TOMB) == 1, "kv_rec_ok: a deletion of a 1-byte key");
  check(rec_at(BSIZE - big, epoch, KV_MAXKEY, KV_MAXVAL) == 1, "kv_rec_ok: a record ending the block");
  check(rec_at(0, epoch, KV_MAXKEY + 1, 3) == 0, "kv_rec_ok took a key of KV_MAXKEY + 1 bytes");
  check(rec_at(0, epoch, 0, 3) == 0, "kv_rec_ok took a key of 0 bytes");
  check(rec_at(0, epoch, 4, KV_MAXVAL + 1) == 0, "kv_rec_ok took a value of KV_MAXVAL + 1 bytes");
  check(rec_at(BSIZE - big + 4, epoch, KV_MAXKEY, KV_MAXVAL) == 0,
        "kv_rec_ok took a record running past its block");
  check(rec_at(0, epoch + 1, 4, 4) == 0, "kv_rec_ok took a record of another epoch");
}

// Write a record header into block b of the store at start, at offset
// off: the store's epoch, klen and vlen, a value of '#'s, a wrong sum.
static int forge(uint64 start, uint64 b, uint64 off, int klen, int vlen)
{
  if (!check(sys_blk_io(BLK_READ, start, raw, 1) == 0, "read the header"))
    return 0;
  struct kvrec r = { .epoch = ((struct kvhdr *)raw)->epoch, .klen = klen, .vlen = vlen };
  if (!check(sys_blk_io(BLK_READ, start + b, raw, 1) == 0, "read block %lu", b))
    return 0;
  uint64 n = off + sizeof r + klen + vlen <= BSIZE ? klen + vlen : 0;
  memset(raw + off + sizeof r, '#', n);
  memcpy(raw + off, &r, sizeof r);
  if (n)
    r.sum = kv_sum((struct kvrec *)(raw + off)) ^ 1;
  memcpy(raw + off, &r, sizeof r);
  return check(sys_blk_io(BLK_WRITE, start + b, raw, 1) == 0, "write block %lu", b);
}

// Does block b of the store on the app extent hold zeros from offset off on?
static int zeros(uint64 b, uint64 off)
{
  if (!check(sys_blk_io(BLK_READ, app_start + b, raw, 1) == 0, "read block %lu", b))
    return 0;
  while (off < BSIZE && raw[off] == 0)
    off++;
  return off == BSIZE;
}

// Fill block b of the store on the app extent with '#'s from offset off on.
static int smudge(uint64 b, uint64 off)
{
  if (!check(sys_blk_io(BLK_READ, app_start + b, raw, 1) == 0, "read block %lu", b))
    return 0;
  memset(raw + off, '#', BSIZE - off);
  return check(sys_blk_io(BLK_WRITE, app_start + b, raw, 1) == 0, "write block %lu", b);
}

// kv_open's limits: 2 blocks (one of log) is the smallest store and
// KV_MAXBLOCKS the largest; a header for a store of another size is not
// this store; an open that fails leaves no store open; an open recovers
// an empty log whatever store was open before; a torn record in a store's
// last block is cleared without a write past the store.
static void limits(void)
{
  expect_err(kv_open(app_start, 0, KV_FORMAT), E_INVAL, "open of 0 blocks");
  expect_err(kv_open(app_start, 1, KV_FORMAT), E_INVAL, "open of 1 block");
  expect_err(kv_open(app_start, KV_MAXBLOCKS + 1, 0), E_INVAL, "open of KV_MAXBLOCKS + 1 blocks");
  expect_err(kv_put("closed", "x", 1), E_INVAL, "put after a failed open");
  expect_err(kv_get("closed", got, 1), E_INVAL, "get after a failed open");
  if (!check(kv_open(app_start, 2, KV_FORMAT) == 0, "format a 2-block store"))
    return;
  put_sized("two", 1024);
  put_sized("two.", 1024);
  put_sized("two-", 1024);
  put_sized("two+", 1024);
  expect_err(kv_put("three", "x", 1), E_NOSPC, "put into a full 2-block store");
  counts(4, 4, 2, "a full 2-block store");
  check(kv_open(app_start, 3, 0) == 0, "open the 2-block store as 3 blocks");
  counts(0, 0, 2, "a 2-block store opened as 3 blocks (a new store)");
  fetch("two", 0, "a 2-block store opened as 3 blocks");
  check(kv_open(app_start, KV_MAXBLOCKS, KV_FORMAT) == 0, "format a store of KV_MAXBLOCKS blocks");
  put_sized("max", 100);
  fetch("max", 100, "a store of KV_MAXBLOCKS blocks");
  expect_err(kv_open(app_start, 1, 0), E_INVAL, "open of 1 block");
  expect_err(kv_get("max", got, 1), E_INVAL, "get after a failed open (a store was open)");
  // a store with an empty log, opened after one with records
  check(kv_open(app_start + 8, 2, KV_FORMAT) == 0, "format a store at block 8");
  check(kv_open(app_start, 3, KV_FORMAT) == 0, "format a 3-block store");
  put_sized("three", 100);
  if (!check(kv_open(app_start + 8, 2, 0) == 0, "reopen the empty store at block 8"))
    return;
  counts(0, 0, 2, "an empty store");
  put_sized("eight", 100);
  if (check(kv_open(app_start + 8, 2, 0) == 0, "reopen the store at block 8"))
    fetch("eight", 100, "the store at block 8 reopened");
  // a torn record in the last block of a store that ends where the extent does
  uint64 end = app_start + app_count - 2;
  check(kv_open(end, 2, KV_FORMAT) == 0, "format a store at the extent's end");
  put_sized("end", 1024);
  if (forge(end, 1, 1024, 3, 1000) &&
      check(kv_open(end, 2, 0) == 0, "open a store at the extent's end, a torn record in its last block")) {
    counts(1, 1, 2, "a torn record in a store's last block");
    fetch("end", 1024, "a torn record in a store's last block");
  }
}

// Records at a block's edges (records of 1,024 bytes, four to a block):
// one that exactly fills the rest of a block stays in it; a long torn
// record after the tail is gone for good once recovery has passed it,
// even when a shorter put takes its place and the next put starts the
// next block; a record header in a block's last 12 bytes (a record that
// would run past the block) ends the log, whatever valid records follow,
// and a put that starts the next block is in the log at the next reopen;
// after an empty record header the rest of a block is unused, whatever it
// holds.
// And the counts, and a block read before a reopen.
static void block_edges(void)
{
  if (!check(kv_open(app_start, app_count, KV_FORMAT) == 0, "format"))
    return;
  counts(0, 0, 2, "a new store");
  put_sized("e1", 1024);
  put_sized("e2", 1024);
  put_sized("e3", 1024);
  put_sized("e4", 1024);
  counts(4, 4, 2, "a block filled exactly");
  put_sized("e5", 16);
  check(kv_del("e5") == 0, "del e5");
  counts(4, 6, 3, "a put and a delete in block 2");
  fetch("e2", 1024, "before a reopen");
  if (!reopen("block 1 full"))
    return;
  counts(4, 6, 3, "after a reopen");
  fetch("e2", 1024, "after a reopen");
  fetch("e5", 0, "after a reopen");
  if (!reopen("a second reopen"))
    return;
  counts(4, 6, 3, "after a second reopen");

  // block 2: 32 bytes so far; to 3,072, then a torn record of 1,020
  put_sized("f1", 1024);
  put_sized("f2", 1024);
  put_sized("f3", 992);
  if (!forge(app_start, 2, 3072, 2, 1006) || !reopen("a torn record"))
    return;
  counts(7, 9, 3, "after a torn record");
  put_sized("t1", 120);                    // where the torn record was
  put_sized("t2", 1024);                   // block 3
  counts(9, 11, 4, "after a torn record and two puts");
  if (!reopen("after a torn record and two puts"))
    return;
  counts(9, 11, 4, "reopened after a torn record and two puts");
  fetch("t1", 120, "reopened after a torn record");
  fetch("t2", 1024, "reopened after a torn record");

  // block 3: 1,024 bytes so far; to 4,084, then a put that starts block 4
  put_sized("h1", 1024);
  put_sized("h2", 1024);
  put_sized("h3", 1012);
  put_sized("z1", 100);
  counts(13, 15, 5, "a record ending 12 bytes before its block's end");
  if (!forge(app_start, 3, BSIZE - sizeof(struct kvrec), 1, 0) || !reopen("a header in a block's last 12 bytes"))
    return;
  counts(12, 14, 4, "a header in a block's last 12 bytes");
  fetch("h3", 1012, "a header in a block's last 12 bytes");
  fetch("z1", 0, "after the log's end");
  check(zeros(3, BSIZE - sizeof(struct kvrec)) && zeros(4, 0),
        "recovery cleared the header after the log's end, and the next block");
  if (!reopen("a second reopen after the log's end"))
    return;
  counts(12, 14, 4, "a second reopen after the log's end");
  fetch("z1", 0, "a second reopen after the log's end");
  put_sized("z2", 100);                    // block 4, after the forged header
  if (!reopen("a put after the log's end"))
    return;
  counts(13, 15, 5, "a put after the log's end");
  fetch("z2", 100, "a put after the log's end");
  fetch("z1", 0, "a put after the log's end");
  fetch("e1", 1024, "a put after the log's end");

  // block 4: to 3,044, then an empty record header and '#'s to the end:
  // the rest of the block is unused, whatever it holds
  put_sized("k1", 1024);
  put_sized("k2", 1024);
  put_sized("k3", 896);
  if (!smudge(4, 3044 + sizeof(struct kvrec)) || !reopen("'#'s after an empty record header"))
    return;
  counts(16, 18, 5, "'#'s after an empty record header");
  put_sized("y1", 20);
  put_sized("y2", 1036);                   // block 5
  if (reopen("two puts after '#'s")) {
    counts(18, 20, 6, "two puts after '#'s");
    fetch("y1", 20, "two puts after '#'s");
    fetch("y2", 1036, "two puts after '#'s");
  }
}

// A store of 4 blocks (3 of log) fills up: E_NOSPC, and nothing is lost.
static void full_extent(void)
{
  if (!check(kv_open(app_start, 4, KV_FORMAT) == 0, "format a 4-block store"))
    return;
  char key[16];
  int n = 0, r = 0;
  for (int i = 0; i < 100; i++) {
    snprintf(key, sizeof key, "full%d", i);
    memset(val, 'a' + i % 26, 1000);
    if ((r = kv_put(key, val, 1000)) < 0)
      break;
    n++;
  }
  check(r == -E_NOSPC, "put into a full store: %s, not E_NOSPC", errstr(r));
  check(n >= 9 && n <= 12, "%d puts of 1,000 bytes fit in 3 blocks", n);
  expect_err(kv_get(key, got, 10), E_NOENT, "get of the key a full store refused");
  check(kv_open(app_start, 4, 0) == 0, "reopen the full store");
  for (int i = 0; i < n; i++) {
    snprintf(key, sizeof key, "full%d", i);
    memset(val, 'a' + i % 26, 1000);
    if (!check(kv_get(key, got, 1000) == 1000 && memcmp(got, val, 1000) == 0,
               "get %s from the full store", key))
      break;
  }
  // 16 bytes are left in the last block: room for the smallest record
  put_sized("s", 16);
  counts(n + 1, n + 1, 4, "the last 16 bytes of a full store");
  expect_err(kv_put("t", "", 0), E_NOSPC, "put into a store with no byte left");
  if (check(kv_open(app_start, 4, 0) == 0, "reopen the full store"))
    fetch("s", 16, "the full store reopened");
}

// KV_NKEYS keys: the next new key is refused, an old one can still change.
static void full_index(void)
{
  if (!check(kv_open(app_start, app_count, KV_FORMAT) == 0, "format"))
    return;
  char key[16];
  for (int i = 0; i < KV_NKEYS; i++) {
    snprintf(key, sizeof key, "n%d", i);
    memset(val, 'a' + i % 26, 100);
    memcpy(val, key, strlen(key));
    if (!check(kv_put(key, val, 100) == 0, "put %s of %d", key, KV_NKEYS))
      return;
  }
  expect_err(kv_put("onemore", "x", 1), E_NOSPC, "put of a key past KV_NKEYS");
  check(kv_put("n7", "seven", 5) == 0, "overwrite with the index full");
  check(kv_del("n8") == 0 && kv_put("onemore", "x", 1) == 0, "a key for a deleted one");
  if (!reopen("a full index"))
    return;
  struct kv_stats s;
  kv_get_stats(&s);
  check(s.keys == KV_NKEYS, "%lu keys, want %d", s.keys, KV_NKEYS);
  check(kv_get("n7", got, 10) == 5 && memcmp(got, "seven", 5) == 0, "n7 after reopen");
  snprintf(key, sizeof key, "n%d", KV_NKEYS - 1);
  check(kv_get(key, got, 10) == 100 && memcmp(got, key, strlen(key)) == 0, "%s after reopen", key);
  expect_err(kv_get("n8", got, 10), E_NOENT, "n8 after reopen");
}

static int one_boot(void)
{
  int r = kv_open(app_start, app_count, KV_FORMAT);
  if (!check(r == 0, "kv_open (format): %s", errstr(r)))
    return check_report();
  arguments();
  if (!check_failures())
    limits();
  if (!check_failures())
    block_edges();
  if (check_failures() || !check(kv_open(app_start, app_count, KV_FORMAT) == 0, "format"))
    return check_report();
  uint64 ver = 1;
  for (int k = 0; k < NK; k++)
    model[k] = -1;
  random_ops('r', 2000, &ver);
  if (!check_failures())
    torn_tail();
  if (!check_failures())
    bad_lengths();
  if (!check_failures())
    random_ops('r', 500, &ver);
  if (!check_failures() && reopen("the end"))
    verify_all('r', "the end");
  if (!check_failures())
    full_extent();
  if (!check_failures())
    full_index();
  return check_report();
}

// ---- kvtest fill / verify SEED N ----

static int fill_or_verify(int fill, uint64 n)
{
  if (n > NK)
    n = NK;
  int r = kv_open(app_start, app_count, fill ? KV_FORMAT : 0);
  if (!check(r == 0, "kv_open: %s", errstr(r)))
    return check_report();
  // the same operations in both: all n keys, a quarter overwritten, an
  // eighth deleted (the model is what they leave)
  for (uint64 k = 0; k < n; k++) {
    model[k] = k;
    if (fill && put_key('p', k, k, 0) < 0)
      return check_report();
  }
  for (uint64 i = 0; i < n / 4; i++) {
    uint64 k = rnd(n);
    model[k] = n + i;
    if (fill && put_key('p', k, n + i, 0) < 0)
      return check_report();
  }
  for (uint64 i = 0; i < n / 8; i++) {
    uint64 k = rnd(n);
    if (model[k] >= 0 && fill && del_key('p', k) < 0)
      return check_report();
    model[k] = -1;
  }
  uint64 live = 0;
  for (uint64 k = 0; k < n; k++) {
    live += model[k] >= 0;
    if (!check_key('p', k, model[k], 0, fill ? "fill" : "verify"))
      break;
  }
  printf("kvtest: %lu keys, %lu live\n", n, live);
  return check_report();
}

// ---- kvtest failing SEED ----
//
// Writes that fail.  A child runs the store on the app extent, which this
// env grants it when it asks, and takes back when it asks: a write in
// between fails (E_PERM, as a disk error would fail it).  A put
// or a delete whose write failed must return the error and leave nothing a
// later put, get or recovery sees: not its record, not part of it.  A get
// whose read failed returns the error too.

enum { ASK_BREAK = 1, ASK_MEND };
static envid_t keeper;                   // the parent, who holds the extent

static void ask(int what)
{
  struct pct_msg m;
  int64 r = sys_pct_call_wait(keeper, what, 0, 0, 0, 0, &m);
  check(r == 0 && (int64)m.w[0] >= 0, "ask the parent (%d): %s", what,
        errstr(r < 0 ? r : (int64)m.w[0]));
}

static int failing_child(void)
{
  mem_private();                         // the store's buffers, which the disk fills (docs/disk.md)
  ask(ASK_MEND);                         // the extent
  int r = kv_open(app_start, app_count, KV_FORMAT);
  if (!check(r == 0, "format: %s", errstr(r)))
    return 1;
  // block 1: 3,072 bytes of records; a 1,020-byte put fails there
  put_sized("w1", 1024);
  put_sized("w2", 1024);
  put_sized("w3", 1024);
  ask(ASK_BREAK);
  int n = make_sized("bad1", 1020);
  expect_err(kv_put("bad1", val, n), E_PERM, "a put whose write failed");
  expect_err(kv_del("w2"), E_PERM, "a delete whose write failed");
  ask(ASK_MEND);
  counts(3, 3, 2, "after a put and a delete that failed");
  fetch("bad1", 0, "after its put failed");
  fetch("w2", 1024, "after its delete failed");
  // a shorter put where it would have gone, and one that starts block 2
  put_sized("ok1", 120);
  put_sized("ok2", 1024);
  counts(5, 5, 3, "after two puts");
  // block 2: to 3,068 bytes, then a put that starts block 3 fails
  put_sized("ok3", 1024);
  put_sized("ok4", 1020);
  ask(ASK_BREAK);
  n = make_sized("bad2", 1040);
  expect_err(kv_put("bad2", val, n), E_PERM, "a put starting a block, whose write failed");
  ask(ASK_MEND);
  fetch("bad2", 0, "after its put failed");
  put_sized("ok5", 16);
  check(kv_del("ok3") == 0, "del ok3");
  if (!reopen("after writes that failed"))
    return 1;
  counts(7, 9, 0, "reopened after writes that failed");
  const char *keys[] = { "w1", "w2", "w3", "ok1", "ok2", "ok4" };
  uint64 sizes[] = { 1024, 1024, 1024, 120, 1024, 1020 };
  for (int i = 0; i < 6; i++)
    fetch(keys[i], sizes[i], "reopened after writes that failed");
  fetch("ok5", 16, "reopened after writes that failed");
  fetch("ok3", 0, "reopened after writes that failed");
  fetch("bad1", 0, "reopened after writes that failed");
  fetch("bad2", 0, "reopened after writes that failed");
  // a get whose read fails returns the error, and caches nothing
  fetch("ok2", 1024, "before a read that fails");                // block 2, cached
  ask(ASK_BREAK);
  expect_err(kv_get("w1", got, KV_MAXVAL), E_PERM, "a get whose read failed");   // block 1
  ask(ASK_MEND);
  fetch("w2", 1024, "after a read that failed");                 // block 1 again
  fetch("ok4", 1020, "after a read that failed");                // block 2 again
  return check_failures() != 0;
}

static int failing(void)
{
  keeper = sys_getenvid();
  sys_irq_claim(IRQ_CHILD, 0);           // a child that exits wakes my pct_recv
  envid_t child = fork();
  if (child < 0)
    return check(0, "fork: %s", errstr(child)), check_report();
  if (child == 0)
    exit(failing_child());
  int slot = -1;                         // the child's, once it asks
  // serve the child's requests until it exits
  int status = -1;
  struct pct_msg m;
  for (;;) {
    envid_t w = wait_nohang(&status);
    if (w == child || w < 0)
      break;
    if (sys_pct_recv(0, &m) != child)
      continue;                            // an interrupt: has the child exited?
    int64 r = m.w[0] == ASK_BREAK ? sys_blk_revoke(child, slot)
                                  : (slot = sys_blk_grant(child, app_start, app_count, BLK_R | BLK_W));
    sys_pct_reply(child, r, 0, 0, 0);
  }
  check(status == 0, "the child running the store: exit status %d", status);
  return check_report();
}

// ---- kvtest crash / aftercrash ----

#define NCRASH 64

static int crash(void)
{
  int r = kv_open(app_start, app_count, KV_FORMAT);
  if (!check(r == 0, "kv_open (format): %s", errstr(r)))
    return check_report();
  for (uint64 i = 0; i < 20000; i++) {
    if (put_key('c', i % NCRASH, i, 0) < 0)
      return check_report();
    if (i % 8 == 7)
      printf("kvtest: done %lu\n", i);
  }
  printf("kvtest: all puts done\n");
  return check_report();
}

static int aftercrash(int64 last)
{
  int r = kv_open(app_start, app_count, 0);
  if (!check(r == 0, "kv_open (recovery): %s", errstr(r)))
    return check_report();
  // The newest version of each key; the newest of all is how far it got.
  int64 newest = -1;
  for (uint64 k = 0; k < NCRASH; k++) {
    char key[KV_MAXKEY + 1];
    key_name(key, 'c', k);
    r = kv_get(key, got, KV_MAXVAL);
    model[k] = r >= 0 ? strtol(got + 1, 0, 10) : -1;
    if (model[k] > newest)
      newest = model[k];
  }
  check(newest >= last, "the last put reported done was %ld; the newest on the disk is %ld",
        last, newest);
  // A prefix: the version of key k is the last put to k at or before newest.
  for (uint64 k = 0; k < NCRASH; k++) {
    int64 want = newest < (int64)k ? -1 : newest - (newest - (int64)k) % NCRASH;
    if (!check_key('c', k, want, 0, "after the crash"))
      break;
  }
  printf("kvtest: recovered through put %ld\n", newest);
  return check_report();
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    printf("usage: kvtest SEED | failing SEED | fill SEED N | verify SEED N | crash SEED | aftercrash SEED I\n");
    return 1;
  }
  if (!app_count) {
    printf("kvtest: no app extent (run it alone, in the foreground)\n");
    return 1;
  }
  const char *mode = argc > 2 ? argv[1] : "";
  seed = strtol(argv[argc > 2 ? 2 : 1], 0, 0);
  rng = seed;
  if (strcmp(mode, "fill") == 0 || strcmp(mode, "verify") == 0)
    return fill_or_verify(mode[0] == 'f', argc > 3 ? strtol(argv[3], 0, 0) : 100);
  if (strcmp(mode, "crash") == 0)
    return crash();
  if (strcmp(mode, "failing") == 0)
    return failing();
  if (strcmp(mode, "aftercrash") == 0 && argc > 3)
    return aftercrash(strtol(argv[3], 0, 0));
  return one_boot();
}
