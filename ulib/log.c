// The file server's write-ahead log.  Part of the file system core (fs.c
// lists its files).
//
// Every operation that changes the disk is one transaction: the blocks it
// changes are marked with log_write() as it goes, and fs_commit() writes
// them to the log, commits the header, copies them home and clears the
// header.  An operation that fails half-way calls fs_abort(), which throws
// its changed blocks out of the cache: the disk never saw them.
#include "lib.h"
#include "fsformat.h"
#include "fs.h"
#include "fsint.h"

// ---- the log ----

static int16 logged[LOGSIZE];   // the slots the current operation changed
static int nlogged;
struct logheader *lh = (struct logheader *)LOGHDR;
uint64 ncommits;

// Mark b as changed by the current operation.
int log_write(struct buf *b)
{
  if (b->logged)
    return 0;
  if (nlogged == LOGSIZE)
    return -E_NOSPC;                        // the operation is too big
  int r = unshare(slot(b), 1);              // a reader must not see it change
  if (r < 0)
    return r;
  b->logged = 1;
  logged[nlogged++] = slot(b);
  return 0;
}

// Write n cache slots to disk blocks dst[] (or their own homes if dst is
// 0), several requests in flight at once.
static int write_slots(const int16 *slots, int n, uint32 dst0)
{
  // BEGIN LAB fs: write_slots: write slot i to block dst0 + i (its own home if dst0 is 0), with several asynchronous requests in flight (when the device is busy, collect finished ones); wait for all; 0, or -E_IO if any failed, or the error that stopped it
  uint64 busy = 0;
  int err = 0;
  for (int i = 0; i < n; i++) {
    uint32 to = dst0 ? dst0 + i : bufs[slots[i]].blockno;
    int64 tag;
    while ((tag = sys_blk_io(BLK_WRITE | BLK_ASYNC, to, BDATA(slots[i]), 1)) == -E_BUSY && busy) {
      uint64 failed;
      int64 done = sys_blk_wait(busy, &failed);   // the queue is full: wait for some
      if (done < 0)
        break;
      busy &= ~done;
      if (failed)
        err = -E_IO;
    }
    if (tag < 0) {
      err = tag;
      break;                                // (the ones in flight are waited for)
    }
    busy |= 1UL << tag;
  }
  while (busy) {
    uint64 failed;
    int64 done = sys_blk_wait(busy, &failed);
    if (done < 0)
      return done;                          // (cannot happen: they are outstanding)
    busy &= ~done;
    if (failed)
      err = -E_IO;
  }
  return err;
  // END LAB fs: for (int i = 0; i < n; i++) { int r = sys_blk_io(BLK_WRITE, dst0 ? dst0 + i : bufs[slots[i]].blockno, BDATA(slots[i]), 1); if (r < 0) return r; } return 0;
}

static void log_done(void)
{
  for (int i = 0; i < nlogged; i++)
    bufs[logged[i]].logged = 0;
  nlogged = 0;
}

// BEGIN LAB fs: the commit: write_header(n) writes the log header naming the first n logged blocks; fs_commit() makes the current operation durable: its blocks to the log, the header (the commit point), the blocks home, the header cleared; before the commit point a failure undoes the operation (fs_abort), after it the disk must not be used until the next mount recovers
static int write_header(uint32 n)
{
  lh->n = n;
  for (uint32 i = 0; i < n; i++)
    lh->block[i] = bufs[logged[i]].blockno;
  return sys_blk_io(BLK_WRITE, sb.logstart, lh, 1);
}

// Make the current operation durable: log, commit point, install, clear.
int fs_commit(void)
{
  if (nlogged == 0)
    return 0;
  int r = write_slots(logged, nlogged, sb.logstart + 1);
  if (r == 0)
    r = write_header(nlogged);          // the commit point
  if (r < 0) {
    fs_abort();                         // not committed: the cache must not run
    return r;                           // ahead of the disk
  }
  // Committed: the operation has happened.  If the disk fails now, the log
  // must not be reused while its header is on the disk; stop, and let the
  // next mount install it.
  if ((r = write_slots(logged, nlogged, 0)) < 0 || (r = write_header(0)) < 0)
    panic("fs: the disk failed after a commit (%s); reboot to recover", errstr(r));
  log_done();
  ncommits++;
  return 0;
}
// END LAB fs: int fs_commit(void) { if (nlogged == 0) return 0; int r = write_slots(logged, nlogged, 0); if (r < 0) { fs_abort(); return r; } log_done(); ncommits++; return 0; }

// Forget the current operation: its blocks are read again from the disk,
// and the allocation hints start over (they may point past what it freed).
void fs_abort(void)
{
  for (int i = 0; i < nlogged; i++)
    hash_remove(logged[i]);
  log_done();
  bhint = sb.datastart;
  ihint = 1;
}

// At mount: copy a committed log home.
int recover(void)
{
  // BEGIN LAB fs: recover: read the log header; a committed log (n > 0) must be sane (-E_CORRUPT: too long, or naming blocks outside the inodes, bitmap and data); copy each logged block home (through the cache, as a commit would) and clear the header
  int r = sys_blk_io(BLK_READ, sb.logstart, lh, 1);
  if (r < 0)
    return r;
  if (lh->n > LOGSIZE)
    return -E_CORRUPT;
  for (uint32 i = 0; i < lh->n; i++) {
    if (lh->block[i] < sb.inodestart || lh->block[i] >= sb.size)
      return -E_CORRUPT;
    struct buf *b = bzero_new(lh->block[i], &r);
    if (!b || (r = sys_blk_io(BLK_READ, sb.logstart + 1 + i, bdata(b), 1)) < 0)
      return r;
    if ((r = log_write(b)) < 0)
      return r;
  }
  if (lh->n)
    printf("fs: recovered %d blocks from the log\n", lh->n);
  // Install and clear, as a commit does (the log blocks are already there).
  if (nlogged && ((r = write_slots(logged, nlogged, 0)) < 0 || (r = write_header(0)) < 0))
    return r;
  log_done();
  return 0;
  // END LAB fs: return 0;
}
