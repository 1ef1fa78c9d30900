// The file server's blocks and inodes: block allocation, the on-disk
// inodes, block mapping (bmap), truncation and reading and writing file
// contents.  Part of the file system core (fs.c lists its files).
#include "lib.h"
#include "fsformat.h"
#include "fs.h"
#include "fsint.h"

// ---- blocks ----

// bhint: where to look for a free block next; ihint: a free inode.
uint32 bhint, ihint = 1;

// Inode generations (in memory, since mount): a client's working
// directory is an inode number and the generation it had then, so that a
// directory removed and its number reused is not taken for the old one.
uint16 *igen;

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
uint32 ialloc(int type, int *err)
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
  igen[inum]++;                                 // (a client's old name for it is stale now)
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
