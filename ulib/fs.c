// The file system proper: a buffer cache, the write-ahead log, inodes,
// directories and path names.  It runs inside the file-server env
// (fsserv.c), which holds the disk capability; one request at a time, so
// there are no locks.  The on-disk format is in fsformat.h.
//
// The core, one mechanism a file (as in xv6):
//   bio.c    the buffer cache
//   log.c    the write-ahead log: every change to the disk is a transaction
//   inode.c  block allocation, inodes, block mapping, reading and writing
//   dir.c    directories, path walks, create, symlink, unlink, link
//   fs.c     the superblock, mount and statistics (this file)
// fs.h is the core's interface to fsserv.c; fsint.h what its files share.
#include "lib.h"
#include "fsformat.h"
#include "fs.h"
#include "fsint.h"

struct superblock sb;

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
  // (pages of their own, not the heap: the early labs' trees have no sbrk)
  uint64 igen_pages = (sb.ninodes * sizeof *igen + PGSIZE - 1) / PGSIZE;
  for (uint64 i = 0; i < 65536 * sizeof *igen / PGSIZE; i++)
    page_unmap(IGEN + i * PGSIZE);              // (a mount before this one)
  for (uint64 i = 0; i < igen_pages; i++)
    if (page_map(IGEN + i * PGSIZE, PTE_R | PTE_W) < 0)
      return -E_NO_MEM;
  igen = (uint16 *)IGEN;                         // all 0: page_map's pages are zeroed
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
