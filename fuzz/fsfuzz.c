// fsfuzz: the file server's core (ulib/bio.c, log.c, inode.c, dir.c, fs.c)
// on corrupted images, on the host.  The core is compiled into this file
// (with fuzz/fsshim.h in place of the library OS), so one process mounts,
// reads and changes image after image.  See fuzz/README.md.
//
//   fsfuzz [-s seed] [-n cases] [-k first] [-m mkfs] [-v] fs.img
//
// Each case corrupts a base image (fs.img plus directories, symbolic links
// and a file with double-indirect blocks, made here at start) with a few
// seeded mutations: bit flips, random bytes, block swaps, and nasty values
// in the superblock, inodes, directory entries, the log header and
// indirect blocks.  Then it mounts (with log recovery), lists and reads
// every file, creates, writes, links and removes files, and mounts again.
// Errors are fine; a crash (AddressSanitizer/UBSan when built with them),
// a block request outside the image, or a case that runs longer than
// CASE_SECONDS is a failure: the case number is printed, and
// `-k <case> -n 1` repeats it alone.  With -m, `mkfs -c` also runs on each
// corrupted image as a subprocess: it must exit (no signal, within
// CASE_SECONDS) and must not change the image file.
//
// Built with -DLIBFUZZER, the same mutations are driven by libFuzzer's
// input instead (LLVMFuzzerTestOneInput; the base image is $FSFUZZ_IMG or
// fs.img).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../ulib/bio.c"
#include "../ulib/log.c"
#include "../ulib/inode.c"
#include "../ulib/dir.c"
#include "../ulib/fs.c"

#define CASE_SECONDS 3

// ---- the shim (fsshim.h): pages, the disk, messages ----

struct shim_sys shim_sys;
struct pagepub shim_pages[1];
unsigned char *shim_disk;
uint64 shim_nblocks;
int shim_verbose;
static unsigned char *dirty;           // per block: changed since the base image
static long curcase = -1;

#define WINLO  LOGHDR                  // the server's fixed pages (fs.h)
#define WINHI  (BCACHE + (uint64)NBUF * PGSIZE)

// Report this case's failure (what, then the message) and stop.
static void vfail(const char *what, const char *fmt, va_list ap) __attribute__((noreturn));
static void vfail(const char *what, const char *fmt, va_list ap)
{
  fprintf(stderr, "fsfuzz: case %ld: FAIL: %s", curcase, what);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  abort();
}

static void fail(const char *fmt, ...) __attribute__((noreturn));
static void fail(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vfail("", fmt, ap);
}

pte_t uvpt_pte(uint64 va) { (void)va; return 0; }   // (no page is shared here)

int page_map(uint64 va, uint64 perm)
{
  if (va < WINLO || va >= WINHI || va % PGSIZE)
    fail("page_map(%#lx) outside the server's window", va);
  if (mprotect((void *)va, PGSIZE, PROT_READ | PROT_WRITE) < 0)
    return -E_NO_MEM;
  memset((void *)va, 0, PGSIZE);
  if (!(perm & PTE_W))
    mprotect((void *)va, PGSIZE, PROT_READ);
  return 0;
}

int page_unmap(uint64 va)
{
  if (va < WINLO || va >= WINHI || va % PGSIZE)
    fail("page_unmap(%#lx) outside the server's window", va);
  return mprotect((void *)va, PGSIZE, PROT_NONE) < 0 ? -E_INVAL : 0;
}

int64 sys_page_alloc(envid_t env) { (void)env; return -E_NO_MEM; }
int sys_page_free(uint64 ppn) { (void)ppn; return -E_INVAL; }
int sys_pte_set(envid_t env, uint64 va, pte_t pte) { (void)env, (void)va, (void)pte; return -E_INVAL; }
int sys_pte_set_from(envid_t env, uint64 va, pte_t pte, uint64 srcva)
{
  (void)env, (void)va, (void)pte, (void)srcva;
  return -E_INVAL;
}

// A block request must lie inside the image: one outside is the bug this
// harness looks for (the guest's kernel would refuse it, but the core must
// never ask).
int sys_blk_io(int op, uint64 block, void *va, uint64 n)
{
  if (n == 0 || block >= shim_nblocks || n > shim_nblocks - block)
    fail("block request outside the image: %s %lu (+%lu) of %lu blocks",
         (op & 1) == BLK_WRITE ? "write" : "read", block, n, shim_nblocks);
  unsigned char *d = shim_disk + block * BSIZE;
  if ((op & ~BLK_ASYNC) == BLK_READ)
    memcpy(va, d, n * BSIZE);
  else if ((op & ~BLK_ASYNC) == BLK_WRITE) {
    memcpy(d, va, n * BSIZE);
    memset(dirty + block, 1, n);
  } else
    return -E_INVAL;
  return (op & BLK_ASYNC) ? 0 : 0;     // (async: done at once, tag 0)
}

int64 sys_blk_wait(uint64 tags, uint64 *failed)
{
  *failed = 0;
  return tags ? tags : 1;
}

const char *errstr(int err)
{
  static char s[32];
  snprintf(s, sizeof s, "error %d", err);
  return s;
}

int lab_todo(const char *lab, const char *what)
{
  (void)lab, (void)what;
  return -E_NOSYS;
}

void shim_panic(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vfail("the server panicked: ", fmt, ap);
}

int shim_printf(const char *fmt, ...)
{
  if (!shim_verbose)
    return 0;
  va_list ap;
  va_start(ap, fmt);
  int n = vfprintf(stderr, fmt, ap);
  va_end(ap);
  return n;
}

// Forget everything the core remembers, as a fresh server env would.
// (Every variable of its files, static or not, must be here: bio.c, log.c,
// inode.c, dir.c, fs.c.  Not lh, which never changes, nor the contents of
// nopage[] and logged[] past nnopage and nlogged.)
static void fs_reset(void)
{
  memset(&sb, 0, sizeof sb);                                  // fs.c
  memset(bufs, 0, sizeof bufs);                               // bio.c
  memset(htab, 0, sizeof htab);
  lru_head = lru_tail = -1;
  nslots = 0;
  nnopage = 0;
  cache_hits = cache_misses = 0;
  nlogged = 0;                                                // log.c
  ncommits = 0;
  bhint = 0;                                                  // inode.c
  ihint = 1;
  walk_start = 0;                                             // dir.c
}

// ---- driving the file system as fsserv.c does ----

// Commit a changing operation, or forget it on error (fsserv.c's done()).
static int finish(int r)
{
  if (r < 0) {
    fs_abort();
    return r;
  }
  int c = fs_commit();
  return c < 0 ? c : r;
}

// Free inum if its last name went (fsserv.c's maybe_free; nothing is open).
static void maybe_free(uint32 inum)
{
  int err;
  struct dinode *d = iget(inum, 0, &err);
  if (d && d->type != 0 && d->nlink <= 0)
    finish(ifree(inum));
}

static int budget;                     // names the walk may still visit
static long mounts;                    // cases whose image mounted

// Read a file as a client would (a page at a time, at most 64 pages),
// touching the first and last byte lent each time.
static volatile unsigned sink;
static void read_file(uint32 inum)
{
  unsigned sum = 0;
  for (uint64 off = 0; off < 64 * BSIZE;) {
    uint64 va, in;
    int n = readi_block(inum, off, BSIZE, &va, &in);
    if (n <= 0)
      return;
    sum += ((unsigned char *)va)[in] + ((unsigned char *)va)[in + n - 1];
    off += n;
  }
  sink += sum;
}

// List directory path (inode dir: its first 16 blocks) and visit
// everything in it.
static void walk(const char *path, uint32 dir, int depth)
{
  struct dirent de[64];
  int err;
  for (uint64 off = 0; budget > 0 && off < 16 * BSIZE; off += sizeof de) {
    int n = readi(dir, de, off, sizeof de);
    if (n <= 0)
      return;
    for (int i = 0; i < n / (int)sizeof de[0] && budget > 0; i++) {
      char name[DIRSIZ + 1], sub[MAXPATH];
      if (!de[i].inum)
        continue;
      memcpy(name, de[i].name, DIRSIZ);
      name[DIRSIZ] = 0;
      if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
        continue;
      budget--;
      snprintf(sub, sizeof sub, "%s/%s", depth ? path : "", name);
      namei(sub, 0, &err);
      uint32 inum = namei(sub, 1, &err);
      struct dinode *d = inum ? iget(inum, 0, &err) : 0;
      if (!d)
        continue;
      if (d->type == T_DIR && depth < 6)
        walk(sub, inum, depth + 1);
      else if (d->type != T_DIR)
        read_file(inum);
    }
  }
}

// Mount and use the image in shim_disk: every call may fail, none may
// crash or hang.
static void exercise(void)
{
  int err, existed;
  uint32 inum, gone;
  static char data[3 * BSIZE + 100];
  fs_reset();
  if (fs_mount() < 0)
    return;
  mounts++;
  budget = 200;
  walk("/", ROOTINO, 0);
  // Create and write, as open(O_CREATE) and write do.
  inum = fs_create("/fzA", T_FILE, 0, 0, 1, &existed, &err);
  if (finish(inum ? 0 : err) == 0) {
    memset(data, 'a', sizeof data);
    finish(writei(inum, data, 0, sizeof data));
    finish(writei(inum, data, 2 * BSIZE, 100));
    read_file(inum);
  }
  inum = fs_create("/d1/fzD", T_DIR, 0, 0, 0, &existed, &err);
  finish(inum && !existed ? 0 : err);
  finish(fs_link("/fzA", "/d1/fzD/fzL"));
  finish(fs_symlink("/d1/fzD/fzL", "/fzS"));
  inum = namei("/fzS", 1, &err);
  if (inum)
    read_file(inum);
  // Truncate (open's O_TRUNC) and remove files that were there.
  if ((inum = namei("/README.md", 1, &err)) && iget(inum, 0, &err))
    finish(itrunc(inum));
  const char *victims[] = { "/fzA", "/d1/fzD/fzL", "/fzS", "/d1/fzD", "/big", "/d1/f", "/d1/d2/g",
                            "/cat", "/sl" };
  for (unsigned i = 0; i < sizeof victims / sizeof victims[0]; i++)
    if (finish(fs_unlink(victims[i], &gone)) == 0 && gone)
      maybe_free(gone);
  // Mount again: recovery and the free of unlinked inodes on what is left.
  fs_reset();
  if (fs_mount() < 0)
    return;
  budget = 50;
  walk("/", ROOTINO, 0);
}

// ---- the base image ----

static unsigned char *base;            // the image each case starts from

// Give the image what fs.img lacks: directories, symbolic links and a file
// with indirect and double-indirect blocks.  Exits if it cannot.
static void enrich(void)
{
  int err = 0, existed, line;
  static char chunk[32 * BSIZE];
  fs_reset();
  if ((err = fs_mount()) < 0) {
    fprintf(stderr, "fsfuzz: the base image does not mount (%d)\n", err);
    exit(2);
  }
  const char *dirs[] = { "/d1", "/d1/d2", "/d1/d2/d3" };
  for (int i = 0; i < 3; i++)
    if (finish(fs_create(dirs[i], T_DIR, 0, 0, 0, &existed, &err) ? 0 : err) < 0)
      { line = __LINE__; goto bad; }
  const char *files[] = { "/d1/f", "/d1/d2/g", "/big" };
  uint32 inum = 0;
  for (int i = 0; i < 3; i++) {
    if (!(inum = fs_create(files[i], T_FILE, 0, 0, 1, &existed, &err)) || finish(0) < 0)
      { line = __LINE__; goto bad; }
    memset(chunk, 'A' + i, sizeof chunk);
    if (finish(writei(inum, chunk, 0, 1000 + i * 5000)) < 0)
      { line = __LINE__; goto bad; }
  }
  // /big: past the indirect block into the double-indirect range, and
  // symbolic links: as far as they go (in a student tree whose lab fs is
  // not written yet, they stop with E_FBIG or E_NOSYS).
  for (uint64 off = 0; off < (NDIRECT + NINDIRECT + 40) * (uint64)BSIZE; off += sizeof chunk)
    if (finish(writei(inum, chunk, off, sizeof chunk)) != sizeof chunk)
      break;
  finish(fs_symlink("/d1/f", "/sl"));
  finish(fs_symlink("d2/g", "/d1/rel"));
  finish(fs_symlink("/d1/loop", "/d1/loop"));
  return;
bad:
  fprintf(stderr, "fsfuzz: cannot build the base image (line %d: %d)\n", line, err);
  exit(2);
}

static void load_base(const char *path)
{
  int fd = open(path, O_RDONLY);
  struct superblock s;
  if (fd < 0 || pread(fd, &s, sizeof s, BSIZE) != sizeof s || s.magic != FSMAGIC || s.size < 16) {
    fprintf(stderr, "fsfuzz: %s: not a file-system image\n", path);
    exit(2);
  }
  shim_nblocks = s.size;               // only the file system's part
  shim_sys.disk_blocks = s.size;
  shim_sys.nfree = 1UL << 30;
  shim_disk = malloc(shim_nblocks * BSIZE);
  base = malloc(shim_nblocks * BSIZE);
  dirty = calloc(shim_nblocks, 1);
  if (!shim_disk || !base || !dirty ||
      pread(fd, shim_disk, shim_nblocks * BSIZE, 0) != (ssize_t)(shim_nblocks * BSIZE)) {
    fprintf(stderr, "fsfuzz: %s: cannot read\n", path);
    exit(2);
  }
  close(fd);
  // The server's pages: a window no one else uses, closed until mapped.
  void *w = mmap((void *)WINLO, WINHI - WINLO, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (w != (void *)WINLO) {
    fprintf(stderr, "fsfuzz: cannot reserve %#lx..%#lx: %s\n", WINLO, WINHI, strerror(errno));
    exit(2);
  }
  enrich();
  memcpy(base, shim_disk, shim_nblocks * BSIZE);
  memset(dirty, 0, shim_nblocks);
}

// Put back every block a case changed.
static void restore(void)
{
  for (uint64 b = 0; b < shim_nblocks; b++)
    if (dirty[b]) {
      memcpy(shim_disk + b * BSIZE, base + b * BSIZE, BSIZE);
      dirty[b] = 0;
    }
}

// ---- mutations ----

// Blocks worth corrupting: the superblock, the log, the inode blocks in
// use, the bitmap, and every block of a directory, an indirect block or a
// symbolic link, plus the first block of each file (found in the base).
static uint32 interesting[4096];
static int ninteresting;
static struct superblock bsb;          // the base image's superblock
static uint32 used_inodes[512], dirs[64];
static int nused, ndirs;

static void add_block(uint32 b)
{
  if (b && b < shim_nblocks && ninteresting < (int)(sizeof interesting / sizeof interesting[0]))
    interesting[ninteresting++] = b;
}

static void find_interesting(void)
{
  memcpy(&bsb, base + BSIZE, sizeof bsb);
  add_block(1);
  for (uint32 b = bsb.logstart; b < bsb.logstart + 8; b++)
    add_block(b);
  for (uint32 b = bsb.bmapstart; b < bsb.datastart; b++)
    add_block(b);
  for (uint32 i = 1; i < bsb.ninodes; i++) {
    struct dinode *d = (struct dinode *)(base + (uint64)IBLOCK(i, bsb) * BSIZE) + i % IPB;
    if (!d->type)
      continue;
    if (i % IPB == 0 || i == 1 || nused == 0)
      add_block(IBLOCK(i, bsb));
    if (nused < (int)(sizeof used_inodes / sizeof used_inodes[0]))
      used_inodes[nused++] = i;
    if (d->type == T_DIR && ndirs < (int)(sizeof dirs / sizeof dirs[0]))
      dirs[ndirs++] = i;
    int all = d->type != T_FILE;
    for (int k = 0; k < NDIRECT; k++)
      if (all || k == 0)
        add_block(d->addrs[k]);
    add_block(d->addrs[NDIRECT]);
    uint32 dind = d->addrs[NDIRECT + 1];
    add_block(dind);
    if (dind && dind < shim_nblocks)
      add_block(((uint32 *)(base + (uint64)dind * BSIZE))[0]);
  }
}

static uint64 rng;
static uint64 next(void)               // splitmix64
{
  uint64 z = (rng += 0x9E3779B97F4A7C15UL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
  return z ^ (z >> 31);
}
static uint32 below(uint32 n) { return n ? next() % n : 0; }

// A value that tends to break a check: a boundary of the layout, a
// number of a real inode or block, or anything.
static uint32 nasty(void)
{
  uint32 v[] = { 0, 1, 2, 3, ROOTINO, bsb.size - 1, bsb.size, bsb.size + 1, bsb.datastart - 1,
                 bsb.datastart, bsb.inodestart, bsb.bmapstart, bsb.logstart, bsb.ninodes - 1,
                 bsb.ninodes, 65535, 65536, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF0,
                 LOGSIZE, LOGSIZE + 1, MAXPATH, 4096, 0x10000000 };
  switch (below(4)) {
  case 0: return (uint32)next();
  case 1: return below(bsb.size);
  default: return v[below(sizeof v / sizeof v[0])];
  }
}

static void poke32(uint64 b, uint64 off, uint32 val)
{
  if (b >= shim_nblocks || off + 4 > BSIZE)
    return;
  memcpy(shim_disk + b * BSIZE + off, &val, 4);
  dirty[b] = 1;
}

static void poke16(uint64 b, uint64 off, uint16 val)
{
  if (b >= shim_nblocks || off + 2 > BSIZE)
    return;
  memcpy(shim_disk + b * BSIZE + off, &val, 2);
  dirty[b] = 1;
}

static uint64 inode_off(uint32 inum, uint64 *blk)
{
  *blk = IBLOCK(inum, bsb);
  return (inum % IPB) * sizeof(struct dinode);
}

// The disk block holding byte off of inode inum in the base image (0 if none).
static uint32 base_block(uint32 inum, uint64 off)
{
  uint64 ib, io = inode_off(inum, &ib);
  struct dinode *d = (struct dinode *)(base + ib * BSIZE + io);
  uint64 fbn = off / BSIZE;
  if (fbn < NDIRECT)
    return d->addrs[fbn];
  fbn -= NDIRECT;
  if (fbn < NINDIRECT && d->addrs[NDIRECT] && d->addrs[NDIRECT] < shim_nblocks)
    return ((uint32 *)(base + (uint64)d->addrs[NDIRECT] * BSIZE))[fbn];
  return 0;
}

// One mutation of shim_disk, chosen by the rng.  (At most one rng call
// per function argument list: C leaves their order to the compiler, and a
// case must be the same case whatever compiled it.)
static void mutate(void)
{
  uint32 b = interesting[below(ninteresting)];
  uint64 ib, io;
  switch (below(9)) {
  case 0: {                            // flip a few bits
    int n = 1 + below(8);
    uint32 off = below(BSIZE);
    if (b >= bsb.inodestart && b < bsb.bmapstart)
      off = below(IPB * sizeof(struct dinode) / 8);   // the inodes in use are at the front
    for (int i = 0; i < n; i++) {
      uint32 at = (off + below(64)) % BSIZE;
      shim_disk[(uint64)b * BSIZE + at] ^= 1 << below(8);
    }
    dirty[b] = 1;
    break;
  }
  case 1: {                            // random bytes
    uint32 off = below(BSIZE), n = 1 + below(16);
    for (uint32 i = 0; i < n && off + i < BSIZE; i++)
      shim_disk[(uint64)b * BSIZE + off + i] = next();
    dirty[b] = 1;
    break;
  }
  case 2: {                            // swap two blocks
    uint32 c = below(2) ? interesting[below(ninteresting)] : below(shim_nblocks);
    unsigned char tmp[BSIZE];
    memcpy(tmp, shim_disk + (uint64)b * BSIZE, BSIZE);
    memcpy(shim_disk + (uint64)b * BSIZE, shim_disk + (uint64)c * BSIZE, BSIZE);
    memcpy(shim_disk + (uint64)c * BSIZE, tmp, BSIZE);
    dirty[b] = dirty[c] = 1;
    break;
  }
  case 3: {                            // a superblock field
    uint32 field = below(sizeof(struct superblock) / 4);
    poke32(1, 4 * field, nasty());
    break;
  }
  case 4: {                            // an inode field
    uint32 inum = below(4) ? used_inodes[below(nused)] : nasty() % bsb.ninodes;
    io = inode_off(inum, &ib);
    uint32 field = below(4), k = below(NDIRECT + 2);
    switch (field) {
    case 0: poke16(ib, io + 2 * (k % 4), below(2) ? nasty() : below(6)); break;  // type..nlink
    case 1: poke32(ib, io + 8, nasty()); break;                                 // size
    default: poke32(ib, io + 12 + 4 * k, nasty()); break;                       // addrs
    }
    break;
  }
  case 5: {                            // a directory entry: its inode or name
    uint32 dir = dirs[below(ndirs)];
    uint64 off = below(16) * sizeof(struct dirent);
    uint32 db = base_block(dir, off);
    if (!db)
      break;
    off %= BSIZE;
    if (below(2))
      poke16(db, off, below(2) ? nasty() : dirs[below(ndirs)]);   // (a loop, often)
    else
      memset(shim_disk + (uint64)db * BSIZE + off + 2, below(2) ? 0 : 'x', DIRSIZ),
          dirty[db] = 1;
    break;
  }
  case 6: {                            // the log header: a committed log of garbage
    uint32 n = below(4) ? 1 + below(LOGSIZE) : nasty();
    poke32(bsb.logstart, 0, n);
    for (int i = 0, k = 1 + below(4); i < k; i++) {
      uint32 slot = below(LOGSIZE);
      poke32(bsb.logstart, 4 + 4 * slot, below(2) ? nasty() : interesting[below(ninteresting)]);
    }
    break;
  }
  case 7: {                            // an entry of an indirect block
    uint32 inum = used_inodes[below(nused)];
    io = inode_off(inum, &ib);
    struct dinode *d = (struct dinode *)(base + ib * BSIZE + io);
    uint32 ind = d->addrs[NDIRECT + below(2)];
    uint32 slot = below(2) ? below(4) : below(NINDIRECT);
    if (ind && ind < shim_nblocks)
      poke32(ind, 4 * slot, nasty());
    break;
  }
  case 8: {                            // a symbolic link's size or a directory's
    uint32 inum = below(2) ? dirs[below(ndirs)] : used_inodes[below(nused)];
    io = inode_off(inum, &ib);
    uint32 sizes[] = { 0, 1, 31, 33, MAXPATH - 1, MAXPATH, 0xFFFFFFFF, 0xFFFFFFE0, 0x7FFFFFE0, 1 << 20 };
    poke32(ib, io + 8, sizes[below(sizeof sizes / sizeof sizes[0])]);
    break;
  }
  }
}

// ---- mkfs -c on the same images ----

static const char *mkfs;
static char tmpimg[64];
static int tmpfd = -1;

// Bring the image file in line with shim_disk (the blocks a case changed,
// and those the last one changed back).
static void sync_file(const unsigned char *was_dirty)
{
  for (uint64 b = 0; b < shim_nblocks; b++)
    if (dirty[b] || was_dirty[b])
      if (pwrite(tmpfd, shim_disk + b * BSIZE, BSIZE, b * BSIZE) != BSIZE)
        fail("cannot write %s", tmpimg);
}

// Run mkfs -c on the image file: it must end by itself within the time
// allowed, without a signal or a sanitizer's report, and leave the file
// as it was.
static void check_mkfs(void)
{
  struct stat before, after;
  fstat(tmpfd, &before);
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    if (!shim_verbose)
      dup2(null, 2);
    alarm(CASE_SECONDS);               // (survives exec: SIGALRM kills a hang)
    execl(mkfs, mkfs, "-c", tmpimg, (char *)0);
    _exit(127);
  }
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) != pid)
    fail("cannot run %s", mkfs);
  if (WIFSIGNALED(status))
    fail("mkfs -c %s: killed by signal %d%s", tmpimg, WTERMSIG(status),
         WTERMSIG(status) == SIGALRM ? " (a hang)" : "");
  if (WEXITSTATUS(status) > 2)
    fail("mkfs -c %s: exit status %d (a sanitizer's report, or cannot run)", tmpimg,
         WEXITSTATUS(status));
  fstat(tmpfd, &after);
  if (after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
      after.st_mtim.tv_nsec != before.st_mtim.tv_nsec)
    fail("mkfs -c changed the image");
  unsigned char blk[BSIZE];            // and the blocks this case corrupted are intact
  for (uint64 b = 0; b < shim_nblocks; b++)
    if (dirty[b] && (pread(tmpfd, blk, BSIZE, b * BSIZE) != BSIZE ||
                     memcmp(blk, shim_disk + b * BSIZE, BSIZE)))
      fail("mkfs -c changed block %lu of the image", b);
}

static void setup_mkfs(void)
{
  snprintf(tmpimg, sizeof tmpimg, "/tmp/fsfuzz-%d.img", getpid());
  tmpfd = open(tmpimg, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (tmpfd < 0 || pwrite(tmpfd, base, shim_nblocks * BSIZE, 0) != (ssize_t)(shim_nblocks * BSIZE))
    fail("cannot write %s", tmpimg);
}

// ---- the two drivers ----

static void __attribute__((unused)) on_alarm(int sig)
{
  (void)sig;
  char msg[96];
  int n = snprintf(msg, sizeof msg, "fsfuzz: case %ld: FAIL: no end after %d s (a hang)\n",
                   curcase, CASE_SECONDS);
  write(2, msg, n);
  _exit(3);
}

static void setup(const char *img)
{
  load_base(img);
  find_interesting();
#ifndef LIBFUZZER
  signal(SIGALRM, on_alarm);           // (libFuzzer has its own: -timeout=)
#endif
}

#ifdef LIBFUZZER
// The input is a list of 8-byte edits over the base image: a block (an
// index into the interesting blocks, or with the top bit a raw block
// number), an offset, and a 32-bit value; an offset of 0xFFFF swaps the
// block with the value's block.
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc, (void)argv;
  const char *img = getenv("FSFUZZ_IMG");
  setup(img ? img : "fs.img");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
  curcase++;
  for (size_t i = 0; i + 8 <= len && i < 8 * 16; i += 8) {
    uint16 sel, off;
    uint32 val;
    memcpy(&sel, in + i, 2);
    memcpy(&off, in + i + 2, 2);
    memcpy(&val, in + i + 4, 4);
    uint32 b = sel & 0x8000 ? (sel & 0x7FFF) % shim_nblocks : interesting[sel % ninteresting];
    if (off == 0xFFFF) {
      uint32 c = val % shim_nblocks;
      unsigned char tmp[BSIZE];
      memcpy(tmp, shim_disk + (uint64)b * BSIZE, BSIZE);
      memcpy(shim_disk + (uint64)b * BSIZE, shim_disk + (uint64)c * BSIZE, BSIZE);
      memcpy(shim_disk + (uint64)c * BSIZE, tmp, BSIZE);
      dirty[b] = dirty[c] = 1;
    } else
      poke32(b, off % (BSIZE - 3), val);
  }
  exercise();
  restore();
  return 0;
}
#else
int main(int argc, char **argv)
{
  uint64 seed = 1;
  long ncases = 1000, first = 0;
  int opt;
  while ((opt = getopt(argc, argv, "s:n:k:m:v")) != -1) {
    switch (opt) {
    case 's': seed = strtoul(optarg, 0, 0); break;
    case 'n': ncases = strtol(optarg, 0, 0); break;
    case 'k': first = strtol(optarg, 0, 0); break;
    case 'm': mkfs = optarg; break;
    case 'v': shim_verbose = 1; break;
    default: goto usage;
    }
  }
  if (optind != argc - 1)
    goto usage;
  setup(argv[optind]);
  if (mkfs)
    setup_mkfs();
  unsigned char *was_dirty = calloc(shim_nblocks, 1);
  struct timeval t0, t1;
  gettimeofday(&t0, 0);
  for (curcase = first; curcase < first + ncases; curcase++) {
    rng = seed * 0x100000001B3UL ^ (uint64)curcase * 0x9E3779B97F4A7C15UL;
    int n = 1 + below(4);
    for (int i = 0; i < n; i++)
      mutate();
    struct timeval c0, c1;
    gettimeofday(&c0, 0);
    if (mkfs) {
      sync_file(was_dirty);
      memcpy(was_dirty, dirty, shim_nblocks);   // (the file has these now)
      check_mkfs();
    }
    alarm(CASE_SECONDS);
    exercise();
    alarm(0);
    gettimeofday(&c1, 0);
    if (shim_verbose)
      fprintf(stderr, "fsfuzz: case %ld: %d mutations, %.3f s\n", curcase, n,
              (c1.tv_sec - c0.tv_sec) + (c1.tv_usec - c0.tv_usec) / 1e6);
    restore();
  }
  gettimeofday(&t1, 0);
  fprintf(stdout, "fsfuzz: %ld cases from %ld, seed %lu: all survived (%ld mounted)%s, %.1f s\n", ncases,
         first, seed, mounts, mkfs ? ", mkfs -c too" : "",
         (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6);
  if (mkfs)
    unlink(tmpimg);
  free(was_dirty);
  return 0;
usage:
  fprintf(stderr, "usage: fsfuzz [-s seed] [-n cases] [-k first] [-m mkfs] [-v] fs.img\n");
  return 2;
}
#endif
