// The file system core's internals: what its files (bio.c, log.c, inode.c,
// dir.c, fs.c) share among themselves.  Nothing else includes this; the
// request loop (fsserv.c) uses fs.h.
#ifndef ULIB_FSINT_H
#define ULIB_FSINT_H
#include "lib.h"
#include "fsformat.h"
#include "fs.h"

// ---- bio.c: the buffer cache ----

#define NHASH 1024
struct buf {
  uint32 blockno;
  uint8  valid;                 // holds blockno's contents
  uint8  logged;                // changed by the current operation
  int16  prev, next;            // LRU list: head is the most recent
  int16  hnext;                 // hash chain
};
extern struct buf bufs[NBUF];
extern int16 htab[NHASH];               // hash chains' heads (fs_mount empties them)
extern uint64 cache_hits, cache_misses;

#define BDATA(i) ((void *)(BCACHE + (uint64)(i) * PGSIZE))
static inline int slot(struct buf *b) { return b - bufs; }

int    unshare(int i, int copy);        // a page of slot i's own, if a client maps it
void   hash_remove(int i);              // forget slot i's contents
struct buf *bzero_new(uint32 blockno, int *err);

// ---- log.c: the write-ahead log ----

extern struct logheader *lh;            // the header's page (LOGHDR)
extern uint64 ncommits;
int    recover(void);                   // at mount: copy a committed log home

// ---- inode.c: blocks and inodes ----

extern uint32 bhint, ihint;             // where to look for a free block, inode
uint32 ialloc(int type, int *err);

#endif
