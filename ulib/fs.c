// The file system proper: a buffer cache, the write-ahead log, inodes,
// directories and path names.  It runs inside the file-server env
// (fsserv.c), which holds the disk capability; one request at a time, so
// there are no locks.  The on-disk format is in fsformat.h.
//
// Every operation that changes the disk is one transaction: the blocks it
// changes are marked with log_write() as it goes, and fs_commit() writes
// them to the log, commits the header, copies them home and clears the
// header.  An operation that fails half-way calls fs_abort(), which throws
// its changed blocks out of the cache: the disk never saw them.
#include "lib.h"
#include "fsformat.h"
#include "fs.h"

struct superblock sb;

// ---- the buffer cache: one page per block, at BCACHE + slot * PGSIZE ----

#define NHASH 1024
struct buf {
  uint32 blockno;
  uint8  valid;                 // holds blockno's contents
  uint8  logged;                // changed by the current operation
  int16  prev, next;            // LRU list: head is the most recent
  int16  hnext;                 // hash chain
};
static struct buf bufs[NBUF];
static int16 htab[NHASH];
static int lru_head = -1, lru_tail = -1, nslots;
static uint64 cache_hits, cache_misses;

#define BDATA(i) ((void *)(BCACHE + (uint64)(i) * PGSIZE))
static inline int slot(struct buf *b) { return b - bufs; }
void *bdata(struct buf *b) { return BDATA(slot(b)); }
uint64 bva(struct buf *b) { return (uint64)BDATA(slot(b)); }

static void lru_unlink(int i)
{
  struct buf *b = &bufs[i];
  if (b->prev >= 0) bufs[b->prev].next = b->next; else lru_head = b->next;
  if (b->next >= 0) bufs[b->next].prev = b->prev; else lru_tail = b->prev;
}

static void lru_front(int i)
{
  bufs[i].prev = -1;
  bufs[i].next = lru_head;
  if (lru_head >= 0) bufs[lru_head].prev = i;
  lru_head = i;
  if (lru_tail < 0) lru_tail = i;
}

static void hash_remove(int i)
{
  int16 *p = &htab[bufs[i].blockno % NHASH];
  while (*p >= 0 && *p != i)
    p = &bufs[*p].hnext;
  if (*p == i)
    *p = bufs[i].hnext;
  bufs[i].valid = 0;
}

static struct buf *lookup(uint32 blockno)
{
  for (int i = htab[blockno % NHASH]; i >= 0; i = bufs[i].hnext)
    if (bufs[i].blockno == blockno && bufs[i].valid) {
      if (lru_head != i) {
        lru_unlink(i);
        lru_front(i);
      }
      return &bufs[i];
    }
  return 0;
}

// Give slot i a page of its own again if a client still maps its page (a
// read lends cache pages, read-only): the client keeps the old page as it
// is, and never sees another block, or changes, in it.  0 or an error.
static int unshare(int i, int copy)
{
  uint64 va = (uint64)BDATA(i);
  pte_t pte = uvpt_pte(va);
  if (!(pte & PTE_V) || upages[PTE_PPN(pte) - PPN_BASE].refs <= 1)
    return 0;
  int64 ppn = sys_page_alloc(0);
  if (ppn < 0)
    return ppn;
  int r = sys_pte_set(0, SRVTMP, PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D));
  if (r == 0 && copy)
    memcpy((void *)(SRVTMP), (void *)va, PGSIZE);
  if (r == 0)
    r = page_unmap(va);                     // (the client's mapping keeps the old page)
  if (r == 0)
    r = sys_pte_set_from(0, va, PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D), SRVTMP);
  sys_pte_set(0, SRVTMP, 0);
  if (r < 0)
    sys_page_free(ppn);
  return r;
}

// A slot for blockno (not yet valid): a fresh page while the cache grows,
// then the least recently used block that the current operation has not
// changed.  Its page stays mapped: evicting only forgets the contents.
static struct buf *claim(uint32 blockno)
{
  int i;
  if (nslots < NBUF) {
    i = nslots;
    if (page_map((uint64)BDATA(i), PTE_R | PTE_W) < 0)
      return 0;
    nslots++;
  } else {
    for (i = lru_tail; i >= 0 && bufs[i].logged; i = bufs[i].prev)
      ;
    if (i < 0)
      return 0;
    if (unshare(i, 0) < 0)
      return 0;
    lru_unlink(i);
    hash_remove(i);
  }
  struct buf *b = &bufs[i];
  b->blockno = blockno;
  b->logged = 0;
  b->hnext = htab[blockno % NHASH];
  htab[blockno % NHASH] = i;
  lru_front(i);
  return b;
}

// The cached block, read from the disk if need be.  0 and *err on failure.
struct buf *bread(uint32 blockno, int *err)
{
  struct buf *b = lookup(blockno);
  if (b) {
    cache_hits++;
    return b;
  }
  cache_misses++;
  if (blockno >= sb.size && sb.size) {
    *err = -E_CORRUPT;
    return 0;
  }
  if (!(b = claim(blockno))) {
    *err = -E_NO_MEM;
    return 0;
  }
  int r = sys_blk_io(BLK_READ, blockno, bdata(b), 1);
  if (r < 0) {
    hash_remove(slot(b));
    *err = r;
    return 0;
  }
  b->valid = 1;
  return b;
}

// A cache slot for a block about to be overwritten whole: zeroed, no read.
static struct buf *bzero_new(uint32 blockno, int *err)
{
  struct buf *b = lookup(blockno);
  if (!b && !(b = claim(blockno))) {
    *err = -E_NO_MEM;
    return 0;
  }
  memset(bdata(b), 0, BSIZE);
  b->valid = 1;
  return b;
}

// ---- the log ----

static int16 logged[LOGSIZE];   // the slots the current operation changed
static int nlogged;
static struct logheader *lh = (struct logheader *)LOGHDR;
static uint64 ncommits;

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
}

static int write_header(uint32 n)
{
  lh->n = n;
  for (uint32 i = 0; i < n; i++)
    lh->block[i] = bufs[logged[i]].blockno;
  return sys_blk_io(BLK_WRITE, sb.logstart, lh, 1);
}

static void log_done(void)
{
  for (int i = 0; i < nlogged; i++)
    bufs[logged[i]].logged = 0;
  nlogged = 0;
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

// bhint: where to look for a free block next; ihint: a free inode.
static uint32 bhint, ihint = 1;

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
static int recover(void)
{
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
}

// ---- blocks ----

// A zeroed free block, marked used.  0 and *err if the disk is full.
static uint32 balloc(int *err)
{
  for (uint32 n = 0; n < sb.size; n += BPB) {
    uint32 base = (bhint / BPB) * BPB;
    struct buf *bm = bread(BBLOCK(base, sb), err);
    if (!bm)
      return 0;
    uchar *bits = bdata(bm);
    for (uint32 b = bhint > base ? bhint : base; b < base + BPB && b < sb.size; b++) {
      if (b < sb.datastart || (bits[(b % BPB) / 8] & (1 << (b % 8))))
        continue;
      if ((*err = log_write(bm)) < 0)
        return 0;
      bits[(b % BPB) / 8] |= 1 << (b % 8);
      struct buf *z = bzero_new(b, err);
      if (!z || (*err = log_write(z)) < 0)
        return 0;
      bhint = b + 1;
      return b;
    }
    bhint = base + BPB >= sb.size ? 0 : base + BPB;
  }
  *err = -E_NOSPC;
  return 0;
}

static int bfree(uint32 b)
{
  int err;
  if (b < sb.datastart || b >= sb.size)
    return -E_CORRUPT;
  struct buf *bm = bread(BBLOCK(b, sb), &err);
  if (!bm)
    return err;
  uchar *bits = bdata(bm);
  if (!(bits[(b % BPB) / 8] & (1 << (b % 8))))
    return -E_CORRUPT;                      // freeing a free block
  if ((err = log_write(bm)) < 0)
    return err;
  bits[(b % BPB) / 8] &= ~(1 << (b % 8));
  if (b < bhint)
    bhint = b;
  return 0;
}

// ---- inodes ----

// The on-disk inode inum in the cache; *bp is its block (for log_write).
struct dinode *iget(uint32 inum, struct buf **bp, int *err)
{
  if (inum == 0 || inum >= sb.ninodes) {
    *err = -E_CORRUPT;
    return 0;
  }
  struct buf *b = bread(IBLOCK(inum, sb), err);
  if (!b)
    return 0;
  if (bp)
    *bp = b;
  return (struct dinode *)bdata(b) + inum % IPB;
}


// A free inode of this type, nlink 0; 0 and *err if none.
static uint32 ialloc(int type, int *err)
{
  for (uint32 n = 1; n < sb.ninodes; n++) {
    uint32 inum = (ihint + n - 1) % sb.ninodes;
    if (inum == 0)
      continue;
    struct buf *b;
    struct dinode *d = iget(inum, &b, err);
    if (!d)
      return 0;
    if (d->type != 0)
      continue;
    if ((*err = log_write(b)) < 0)
      return 0;
    memset(d, 0, sizeof *d);
    d->type = type;
    ihint = inum + 1;
    return inum;
  }
  *err = -E_NOSPC;
  return 0;
}

// A block number read from an inode or an indirect block must be a data
// block: a corrupt file system gets an error, not a wild write.
static int checked(uint32 b, int *err)
{
  if (b != 0 && (b < sb.datastart || b >= sb.size)) {
    *err = -E_CORRUPT;
    return 0;
  }
  return 1;
}

// ---- block mapping: which disk block holds block fbn of a file ----
//
//   addrs[0..10]   11 data blocks                      fbn 0 .. 10
//   addrs[11]      an indirect block: 1024 data blocks  fbn 11 .. 1034
//   addrs[12]      a double-indirect block: 1024 indirect blocks, each of
//                  1024 data blocks                     fbn 1035 .. 1049610
//
// With alloc, a missing block (data or indirect) is allocated (zeroed) and
// its number recorded, all in the caller's transaction.

// The block named by the inode's addrs[i], allocated first if it is
// missing and alloc.  0 for a missing block (without alloc), or on error
// (*err set; it is left alone otherwise).
static uint32 inode_slot(uint32 inum, int i, int alloc, int *err)
{
  struct buf *ib;
  struct dinode *d = iget(inum, &ib, err);
  if (!d || !checked(d->addrs[i], err))
    return 0;
  if (d->addrs[i] || !alloc)
    return d->addrs[i];
  uint32 nb = balloc(err);
  if (!nb)
    return 0;
  d = iget(inum, &ib, err);                     // (balloc may have evicted it)
  if (!d || (*err = log_write(ib)) < 0)
    return 0;
  d->addrs[i] = nb;
  return nb;
}

// The block named by slot i of indirect block ind, allocated first if it
// is missing and alloc.  0 and *err as inode_slot.
static uint32 ind_slot(uint32 ind, uint32 i, int alloc, int *err)
{
  struct buf *ib = bread(ind, err);
  if (!ib)
    return 0;
  uint32 b = ((uint32 *)bdata(ib))[i];
  if (!checked(b, err))
    return 0;
  if (b || !alloc)
    return b;
  if (!(b = balloc(err)) || !(ib = bread(ind, err)) || (*err = log_write(ib)) < 0)
    return 0;
  ((uint32 *)bdata(ib))[i] = b;
  return b;
}

// Block fbn of the double-indirect range (fbn counts from its start, so
// 0 <= fbn < NINDIRECT * NINDIRECT): addrs[NDIRECT+1] names a block of
// indirect blocks.  0 for a hole (without alloc) or on error, as bmap.
static uint32 bmap_dind(uint32 inum, uint64 fbn, int alloc, int *err)
{
  // BEGIN LAB fs: map block fbn through the double-indirect block (inode_slot, ind_slot)
  uint32 dind = inode_slot(inum, NDIRECT + 1, alloc, err);
  uint32 ind = dind ? ind_slot(dind, fbn / NINDIRECT, alloc, err) : 0;
  return ind ? ind_slot(ind, fbn % NINDIRECT, alloc, err) : 0;
  // END LAB fs: return lab_todo("fs", "the double-indirect block (bmap_dind)"), (void)inum, (void)fbn, (void)alloc, *err = -E_FBIG, 0;
}

// The disk block holding block fbn of the file: direct, indirect or
// double-indirect.  With alloc, missing blocks (and indirect blocks) are
// allocated.  0 for a hole (without alloc, *err = 0) or on error (*err <
// 0; E_FBIG past the largest file).
uint32 bmap(uint32 inum, uint64 fbn, int alloc, int *err)
{
  *err = 0;
  if (fbn < NDIRECT)
    return inode_slot(inum, fbn, alloc, err);
  fbn -= NDIRECT;
  if (fbn < NINDIRECT) {
    uint32 ind = inode_slot(inum, NDIRECT, alloc, err);
    return ind ? ind_slot(ind, fbn, alloc, err) : 0;
  }
  fbn -= NINDIRECT;
  if (fbn < (uint64)NINDIRECT * NINDIRECT)
    return bmap_dind(inum, fbn, alloc, err);
  *err = -E_FBIG;
  return 0;
}

// Free the data blocks indirect block ind names, then ind itself.
static int free_ind(uint32 ind)
{
  int err;
  if (ind < sb.datastart || ind >= sb.size)
    return -E_CORRUPT;
  for (int i = 0; i < NINDIRECT; i++) {
    struct buf *ib = bread(ind, &err);          // (again each time: bfree reads the bitmap)
    if (!ib)
      return err;
    uint32 b = ((uint32 *)bdata(ib))[i];
    if (b && (err = bfree(b)) < 0)
      return err;
  }
  return bfree(ind);
}

// Free double-indirect block dind: the indirect blocks it names (and
// their data blocks), then dind itself.  0 or an error.
static int free_dind(uint32 dind)
{
  // BEGIN LAB fs: free every indirect block dind names (free_ind), then dind
  int err;
  if (dind < sb.datastart || dind >= sb.size)
    return -E_CORRUPT;
  for (int i = 0; i < NINDIRECT; i++) {
    struct buf *db = bread(dind, &err);
    if (!db)
      return err;
    uint32 ind = ((uint32 *)bdata(db))[i];
    if (ind && (err = free_ind(ind)) < 0)
      return err;
  }
  return bfree(dind);
  // END LAB fs: return lab_todo("fs", "freeing the double-indirect block (free_dind)"), (void)dind, -E_NOSYS;
}

// Free every block of the file and set its size to 0 (one transaction:
// only the inode and bitmap blocks change).
int itrunc(uint32 inum)
{
  int err;
  struct buf *ibuf;
  struct dinode *d = iget(inum, &ibuf, &err);
  if (!d)
    return err;
  uint32 a[NDIRECT + 2];
  memcpy(a, d->addrs, sizeof a);
  if ((err = log_write(ibuf)) < 0)
    return err;
  memset(d->addrs, 0, sizeof d->addrs);
  d->size = 0;
  for (int i = 0; i < NDIRECT; i++)
    if (a[i] && (err = bfree(a[i])) < 0)
      return err;
  if (a[NDIRECT] && (err = free_ind(a[NDIRECT])) < 0)
    return err;
  if (a[NDIRECT + 1] && (err = free_dind(a[NDIRECT + 1])) < 0)
    return err;
  return 0;
}

// Free an inode nobody names or has open: its blocks, then the inode.
int ifree(uint32 inum)
{
  int err = itrunc(inum);
  struct buf *b;
  struct dinode *d;
  if (err < 0 || !(d = iget(inum, &b, &err)) || (err = log_write(b)) < 0)
    return err;
  d->type = 0;
  if (inum < ihint)
    ihint = inum;
  return 0;
}

// Read: the page holding byte off of the file (a cache page) in *va at
// offset *inpage, and how many bytes of it (at most n) belong to the file
// from there; 0 at the end of the file.  A hole is E_CORRUPT: writei never
// leaves one, so one means a damaged size or block map (and a size of
// 4 GiB over holes would otherwise read as gigabytes of zeros).
int readi_block(uint32 inum, uint64 off, uint64 n, uint64 *va, uint64 *inpage)
{
  int err;
  struct dinode *d = iget(inum, 0, &err);
  if (!d)
    return err;
  if (off >= d->size)
    return 0;
  uint64 size = d->size;
  if (n > size - off)
    n = size - off;
  if (n > BSIZE - off % BSIZE)
    n = BSIZE - off % BSIZE;
  uint32 b = bmap(inum, off / BSIZE, 0, &err);
  struct buf *bp;
  if (b && (bp = bread(b, &err)))
    *va = bva(bp);
  else
    return err < 0 ? err : -E_CORRUPT;
  *inpage = off % BSIZE;
  return n;
}

// Copy n bytes at off of the file into dst.  Bytes read, or an error.
int readi(uint32 inum, void *dst, uint64 off, uint64 n)
{
  uint64 done = 0;
  while (done < n) {
    uint64 va, in;
    int m = readi_block(inum, off + done, n - done, &va, &in);
    if (m <= 0)
      return m < 0 ? m : done;
    memcpy((char *)dst + done, (char *)va + in, m);
    done += m;
  }
  return done;
}

// Write n bytes from src at off (at most the end of the file: no holes).
// Bytes written (fewer if the disk fills), or an error.  Part of the
// caller's transaction.
int writei(uint32 inum, const void *src, uint64 off, uint64 n)
{
  int err;
  struct buf *ibuf;
  struct dinode *d = iget(inum, &ibuf, &err);
  if (!d)
    return err;
  if (off > d->size)
    return -E_INVAL;
  if (off + n > MAXFILE * BSIZE || off + n > 0xFFFFFFFFUL)
    return -E_FBIG;
  uint64 done = 0;
  while (done < n) {
    uint64 o = off + done, m = BSIZE - o % BSIZE;
    if (m > n - done)
      m = n - done;
    uint32 b = bmap(inum, o / BSIZE, 1, &err);
    if (!b)
      break;
    struct buf *db = bread(b, &err);
    if (!db || (err = log_write(db)) < 0)
      break;
    memcpy((char *)bdata(db) + o % BSIZE, (const char *)src + done, m);
    done += m;
  }
  if (done == 0 && err < 0)
    return err;
  d = iget(inum, &ibuf, &err);
  if (!d)
    return err;
  if (off + done > d->size) {
    if ((err = log_write(ibuf)) < 0)
      return err;
    d->size = off + done;
  }
  return done;
}

// ---- directories ----

// The entry name in directory dir: its inode number (0 if none); *offp is
// the entry's offset, or of a free slot (the end if none) when missing.
static uint32 dirlookup(uint32 dir, const char *name, uint64 *offp, int *err)
{
  struct dinode *d = iget(dir, 0, err);
  if (!d)
    return 0;
  uint64 size = d->size, freeoff = size;
  *err = 0;
  for (uint64 off = 0; off < size; off += BSIZE) {
    uint64 va, in;
    int n = readi_block(dir, off, BSIZE, &va, &in);
    if (n < 0) {
      *err = n;
      return 0;
    }
    struct dirent *de = (struct dirent *)va;
    for (int i = 0; i < n / (int)sizeof *de; i++) {
      if (de[i].inum == 0) {
        if (freeoff == size)
          freeoff = off + i * sizeof *de;
        continue;
      }
      if (strncmp(de[i].name, name, DIRSIZ) == 0) {
        if (offp)
          *offp = off + i * sizeof *de;
        return de[i].inum;
      }
    }
  }
  if (offp)
    *offp = freeoff;
  return 0;
}

static int dirlink(uint32 dir, const char *name, uint32 inum)
{
  int err;
  uint64 off;
  if (dirlookup(dir, name, &off, &err))
    return -E_EXIST;
  if (err < 0)
    return err;
  struct dirent de;
  memset(&de, 0, sizeof de);
  de.inum = inum;
  strncpy(de.name, name, DIRSIZ);
  int n = writei(dir, &de, off, sizeof de);
  return n == sizeof de ? 0 : n < 0 ? n : -E_NOSPC;
}

// 1 if directory dir has no entries but "." and ".." (its first two), 0
// if it has, or an error.
static int dir_empty(uint32 dir)
{
  for (uint64 off = 0;; off += BSIZE) {
    uint64 va, in;
    int n = readi_block(dir, off, BSIZE, &va, &in);
    if (n <= 0)
      return n < 0 ? n : 1;
    struct dirent *de = (struct dirent *)va;
    for (int i = off ? 0 : 2; i < n / (int)sizeof *de; i++)
      if (de[i].inum)
        return 0;
  }
}

// ---- path names (absolute: the client library adds the working directory) ----

// Copy the next element of *path into name; advance *path.  0 at the
// end, -E_NAMETOOLONG for an element longer than DIRSIZ.
static int next_elem(const char **path, char *name)
{
  const char *p = *path;
  while (*p == '/')
    p++;
  if (!*p)
    return 0;
  const char *s = p;
  while (*p && *p != '/')
    p++;
  if (p - s > DIRSIZ)
    return -E_NAMETOOLONG;
  memset(name, 0, DIRSIZ + 1);
  memcpy(name, s, p - s);
  *path = p;
  return 1;
}

// A path walk met symbolic link inum in directory dir: go on along the
// link's target (its contents: 1 to MAXPATH-1 bytes, no NUL) instead.
// buf (MAXPATH bytes) holds the path being walked and *rest points into
// it, at what is left after the link's name.  Make buf the target
// followed by that rest, point *rest at its start, and set *cur to the
// directory to walk on from: the root for an absolute target, dir for a
// relative one.  *nfollow counts the links this walk has followed: more
// than MAXSYMLINKS is E_LOOP (a cycle, or too deep); a result of MAXPATH
// bytes or more is E_NAMETOOLONG; a link of another size is E_CORRUPT.
// 0 or an error.
static int follow_link(uint32 inum, uint32 dir, char *buf, const char **rest, uint32 *cur,
                       int *nfollow)
{
  // BEGIN LAB fs: read the link's target (readi) and splice it in front of *rest; count; set *cur
  char target[MAXPATH];
  int err;
  if (++*nfollow > MAXSYMLINKS)
    return -E_LOOP;
  struct dinode *d = iget(inum, 0, &err);
  if (!d)
    return err;
  uint32 n = d->size;
  if (n == 0 || n >= MAXPATH)
    return -E_CORRUPT;
  if ((err = readi(inum, target, 0, n)) != (int)n)
    return err < 0 ? err : -E_CORRUPT;
  uint64 m = strlen(*rest);
  if (n + m >= MAXPATH)
    return -E_NAMETOOLONG;
  memmove(buf + n, *rest, m + 1);               // (*rest is inside buf)
  memcpy(buf, target, n);
  *rest = buf;
  *cur = target[0] == '/' ? ROOTINO : dir;
  return 0;
  // END LAB fs: return lab_todo("fs", "following symbolic links (follow_link)"), (void)inum, (void)dir, (void)buf, (void)rest, (void)cur, (void)nfollow, -E_NOSYS;
}

// Walk path (absolute) from the root.  A symbolic link met on the way is
// followed (follow_link), except as the last element unless follow.  With
// parent, stop one element early: return the directory that holds the
// last element, and leave that element in name (never followed).
static uint32 walkpath(const char *path, int parent, int follow, char *name, int *err)
{
  char buf[MAXPATH];                            // the path, with links' targets spliced in
  const char *p = buf;
  uint32 cur = ROOTINO;
  int nfollow = 0, r;
  *err = 0;
  if (strlen(path) >= MAXPATH) {
    *err = -E_NAMETOOLONG;
    return 0;
  }
  strcpy(buf, path);
  while ((r = next_elem(&p, name)) > 0) {
    struct dinode *d = iget(cur, 0, err);
    if (!d)
      return 0;
    if (d->type != T_DIR) {
      *err = -E_NOTDIR;
      return 0;
    }
    const char *after = p;
    char tmp[DIRSIZ + 1];
    if ((r = next_elem(&after, tmp)) < 0) {
      *err = r;
      return 0;
    }
    int last = r == 0;
    if (parent && last)
      return cur;                               // name is the last element
    uint32 next = dirlookup(cur, name, 0, err);
    if (!next) {
      if (*err == 0)
        *err = -E_NOENT;
      return 0;
    }
    if (!(d = iget(next, 0, err)))
      return 0;
    if (d->type == T_SYMLINK && (follow || !last)) {
      if ((*err = follow_link(next, cur, buf, &p, &cur, &nfollow)) < 0)
        return 0;
      continue;
    }
    cur = next;
  }
  if (r < 0) {
    *err = r;
    return 0;
  }
  if (parent) {                                 // "/" has no parent
    *err = -E_INVAL;
    return 0;
  }
  return cur;
}

// The inode path names; if follow, a symbolic link at the end is followed
// too (stat, open), else it is the answer (lstat, readlink, O_NOFOLLOW).
uint32 namei(const char *path, int follow, int *err)
{
  char name[DIRSIZ + 1];
  return walkpath(path, 0, follow, name, err);
}

// Make a new inode of type at path (the caller commits).  Its number;
// *existed if the path named a file already (allowed only for T_FILE:
// open's O_CREATE; with follow, through a symbolic link to a file).
uint32 fs_create(const char *path, int type, int major, int minor, int follow, int *existed,
                 int *err)
{
  char name[DIRSIZ + 1];
  *existed = 0;
  uint32 dir = walkpath(path, 1, 1, name, err);
  if (!dir)
    return 0;
  if (!strcmp(name, ".") || !strcmp(name, "..")) {
    *err = -E_EXIST;
    return 0;
  }
  uint32 inum = dirlookup(dir, name, 0, err);
  if (inum) {
    struct dinode *d = iget(inum, 0, err);
    if (d && d->type == T_SYMLINK && type == T_FILE && follow) {
      inum = namei(path, 1, err);               // (a dangling link: E_NOENT)
      d = inum ? iget(inum, 0, err) : 0;
    }
    if (d && type == T_FILE && (d->type == T_FILE || d->type == T_DEVICE)) {
      *existed = 1;
      return inum;
    }
    *err = d ? -E_EXIST : *err;
    return 0;
  }
  if (*err < 0 || !(inum = ialloc(type, err)))
    return 0;
  struct buf *b;
  struct dinode *d = iget(inum, &b, err);
  if (!d)
    return 0;
  d->major = major;
  d->minor = minor;
  d->nlink = 1;
  if (type == T_DIR) {
    if ((*err = dirlink(inum, ".", inum)) < 0 || (*err = dirlink(inum, "..", dir)) < 0)
      return 0;
    struct dinode *pd = iget(dir, &b, err);     // ".." names the parent
    if (pd && pd->nlink >= MAXLINK)
      *err = -E_MLINK;
    if (!pd || *err < 0 || (*err = log_write(b)) < 0)
      return 0;
    pd->nlink++;
  }
  if ((*err = dirlink(dir, name, inum)) < 0)
    return 0;
  return inum;
}

// A symbolic link at path whose contents are target (kept as given: a
// relative target is resolved, when the link is followed, from the
// directory holding the link).  Part of the caller's transaction, like
// fs_create.  0 or an error (E_NOENT for an empty target, E_NAMETOOLONG
// for one of MAXPATH bytes or more, E_EXIST if path names something).
int fs_symlink(const char *target, const char *path)
{
  // BEGIN LAB fs: make a T_SYMLINK inode at path (fs_create) holding target (writei)
  int existed, err;
  uint64 n = strlen(target);
  if (n == 0)
    return -E_NOENT;
  if (n >= MAXPATH)
    return -E_NAMETOOLONG;
  uint32 inum = fs_create(path, T_SYMLINK, 0, 0, 0, &existed, &err);
  if (!inum)
    return err;
  int w = writei(inum, target, 0, n);
  return w == (int)n ? 0 : w < 0 ? w : -E_NOSPC;
  // END LAB fs: return lab_todo("fs", "creating symbolic links (fs_symlink)"), (void)target, (void)path, -E_NOSYS;
}

// Remove the name path.  *gone gets the inode if its last name went (the
// caller frees it unless it is open).
int fs_unlink(const char *path, uint32 *gone)
{
  char name[DIRSIZ + 1];
  int err;
  *gone = 0;
  uint32 dir = walkpath(path, 1, 1, name, &err);
  if (!dir)
    return err;
  if (!strcmp(name, ".") || !strcmp(name, ".."))
    return -E_INVAL;
  uint64 off;
  uint32 inum = dirlookup(dir, name, &off, &err);
  if (!inum)
    return err < 0 ? err : -E_NOENT;
  struct buf *b;
  struct dinode *d = iget(inum, &b, &err);
  if (!d)
    return err;
  int isdir = d->type == T_DIR;
  if (isdir && (err = dir_empty(inum)) <= 0)
    return err < 0 ? err : -E_NOTEMPTY;
  struct dirent de;
  memset(&de, 0, sizeof de);
  if ((err = writei(dir, &de, off, sizeof de)) < 0)
    return err;
  if (isdir) {                                  // its ".." no longer names dir
    struct dinode *pd = iget(dir, &b, &err);
    if (!pd || (err = log_write(b)) < 0)
      return err;
    pd->nlink--;
  }
  d = iget(inum, &b, &err);
  if (!d || (err = log_write(b)) < 0)
    return err;
  if (--d->nlink <= 0)
    *gone = inum;
  return 0;
}

// A second name for a file (a symbolic link at old is not followed: new
// names the link itself).
int fs_link(const char *old, const char *new)
{
  int err;
  char name[DIRSIZ + 1];
  uint32 inum = namei(old, 0, &err);
  if (!inum)
    return err;
  struct buf *b;
  struct dinode *d = iget(inum, &b, &err);
  if (!d)
    return err;
  if (d->type == T_DIR)
    return -E_ISDIR;
  uint32 dir = walkpath(new, 1, 1, name, &err);
  if (!dir)
    return err;
  if (d->nlink >= MAXLINK)
    return -E_MLINK;
  if ((err = dirlink(dir, name, inum)) < 0)
    return err;
  d = iget(inum, &b, &err);
  if (!d || (err = log_write(b)) < 0)
    return err;
  d->nlink++;
  return 0;
}

// ---- mount ----

// Read the superblock, replay the log, free inodes that were unlinked
// while open when the machine stopped.
int fs_mount(void)
{
  for (int i = 0; i < NHASH; i++)
    htab[i] = -1;
  if (page_map(LOGHDR, PTE_R | PTE_W) < 0)
    return -E_NO_MEM;
  int r = sys_blk_io(BLK_READ, 1, lh, 1);
  if (r < 0)
    return r;
  memcpy(&sb, lh, sizeof sb);
  if (sb.magic != FSMAGIC)
    return -E_CORRUPT;
  if (sb.size < 16 || sb.size > usys->disk_blocks || sb.nlog != LOGSIZE + 1 ||
      sb.logstart < 2 || sb.inodestart != sb.logstart + sb.nlog ||
      sb.bmapstart < sb.inodestart + (sb.ninodes + IPB - 1) / IPB || sb.ninodes > 65536 ||
      sb.datastart <= sb.bmapstart ||
      sb.datastart >= sb.size || sb.ninodes < 2 || (sb.size + BPB - 1) / BPB > sb.datastart - sb.bmapstart) {
    sb.size = 0;
    return -E_CORRUPT;
  }
  if ((r = recover()) < 0)
    return r;
  bhint = sb.datastart;
  for (uint32 inum = 1; inum < sb.ninodes; inum++) {
    struct dinode *d = iget(inum, 0, &r);
    if (!d)
      return r;
    if (d->type != 0 && d->nlink <= 0) {
      if ((r = ifree(inum)) < 0 || (r = fs_commit()) < 0) {
        fs_abort();                             // (leave it: mount anyway)
        printf("fs: cannot free inode %d (unlinked while open): %s\n", inum, errstr(r));
        continue;
      }
      printf("fs: freed inode %d (unlinked while open before a crash)\n", inum);
    }
  }
  return 0;
}

void fs_stats(uint64 *hits, uint64 *misses, uint64 *commits)
{
  *hits = cache_hits;
  *misses = cache_misses;
  *commits = ncommits;
}
