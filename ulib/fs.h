// The file server's private interface: the file system core (bio.c, log.c,
// inode.c, dir.c, fs.c) used by the request loop (fsserv.c).  Programs use
// the client calls in lib.h.
#ifndef ULIB_FS_H
#define ULIB_FS_H
#include "lib.h"
#include "fsformat.h"

// The server's address space (all below the heap's limit, far above any
// program's heap in practice).
#define BCACHE    0x30000000UL        // cache pages: slot i at BCACHE + i*PGSIZE
#define NBUF      2048                // 8 MiB of cache at most
#define CACHE_SPARE 256               // grow only while more pages than this are free
#define CACHE_KEEP  1                 // pages kept when asked back (the most recent, which a reply may lend)
#define LOGHDR    0x2F000000UL        // the log header being written
#define SRVRECV   0x2F002000UL        // where a client's page arrives
#define SRVTMP    0x2F003000UL        // scratch mapping
#define SRVFD     0x2F100000UL        // open file i's shared page: SRVFD + i*PGSIZE
#define NOPEN     512                 // open files, all clients together
#define IGEN      0x2F400000UL        // inode generations (inode.c): 2 bytes per inode, <= 32 pages

extern struct superblock sb;
struct buf;

void  *bdata(struct buf *b);
uint64 bva(struct buf *b);
struct buf *bread(uint32 blockno, int *err);
int    cache_shrink(int n);                 // give back up to n cache pages; how many
int    cache_pages(void);                   // pages the cache holds
int    log_write(struct buf *b);
int    fs_commit(void);
void   fs_abort(void);
int    fs_mount(void);
void   fs_stats(uint64 *hits, uint64 *misses, uint64 *commits);

struct dinode *iget(uint32 inum, struct buf **bp, int *err);
uint32 bmap(uint32 inum, uint64 fbn, int alloc, int *err);
int    itrunc(uint32 inum);
int    ifree(uint32 inum);
int    readi_block(uint32 inum, uint64 off, uint64 n, uint64 *va, uint64 *inpage);
int    readi(uint32 inum, void *dst, uint64 off, uint64 n);
int    writei(uint32 inum, const void *src, uint64 off, uint64 n);
uint32 namei(const char *path, int follow, int *err);
extern uint32 walk_start;                      // where relative paths start (0: the root)
extern uint32 walk_gen;                        // and the generation the client saw it at
extern uint16 *igen;                           // per inode: how many times it was freed
uint32 fs_create(const char *path, int type, int major, int minor, int follow, int *existed,
                 int *err);
int    fs_symlink(const char *target, const char *path);
int    fs_unlink(const char *path, uint32 *gone);
int    fs_link(const char *old, const char *new);

#endif
