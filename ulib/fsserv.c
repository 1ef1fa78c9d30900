// The file server: an env that holds the disk capability, mounts the file
// system and answers requests over PCT, one at a time.
//
//   client --pct_call FS_OPEN (page: the path)--> server: reply w0 = file
//          id, page: the open file's shared page (the client maps it as
//          its file descriptor, PTE_SHARE, so fork and dup share it)
//   client --pct_call FS_READ(handle|n, offset)--> server: reply w0 = bytes,
//          w1 = where they start in the page granted (a cache page, read-only)
//   client --pct_call FS_WRITE(handle|n, offset) (page: the bytes)--> server
//
// A handle is the open file's index and a random secret (id | secret<<32):
// a client can name only open files it was given (or shares by fork).
//
// An open file lives while some env maps its shared page: the server
// counts the page's mappings in the public page records (UPAGES), so a
// client that exits or dies without closing leaks nothing.  A file whose
// last name is removed while open is freed when the last opener lets go
// (or at the next mount, after a crash).
#include "lib.h"
#include "fd.h"
#include "fs.h"

static struct open {
  uint32 inum;
  int mode;                     // O_RDONLY, O_WRONLY, O_RDWR (the server's copy)
  uint32 secret;                // a request must name it: ids are not guessable
  envid_t opener;               // for the per-env limit
} opens[NOPEN];
static int nopen_hint;
#define NOPEN_ENV 64            // open files one env may hold (its children count apart)

// A 32-bit number nobody can predict from outside: the counters mixed
// (splitmix64).  Never 0.
static uint32 new_secret(void)
{
  static uint64 state;
  state += 0x9E3779B97F4A7C15UL ^ rdcycle() ^ (rdtime() << 17);
  uint64 z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
  z ^= z >> 31;
  return (uint32)z ? (uint32)z : 1;
}

#define OPAGE(i) (SRVFD + (uint64)(i) * PGSIZE)

static int open_live(int i)
{
  pte_t pte = uvpt_pte(OPAGE(i));
  return (pte & PTE_V) != 0;
}

// Is inode inum open in a live entry?
static int inode_open(uint32 inum)
{
  for (int i = 0; i < NOPEN; i++)
    if (opens[i].inum == inum && open_live(i))
      return 1;
  return 0;
}

// Free inode inum if nothing names it and nobody has it open.
static int maybe_free(uint32 inum)
{
  int err;
  struct dinode *d = iget(inum, 0, &err);
  if (!d)
    return err;
  if (d->type == 0 || d->nlink > 0 || inode_open(inum))
    return 0;
  if ((err = ifree(inum)) < 0) {
    fs_abort();
    return err;
  }
  return fs_commit();
}

// Close entries whose page only the server still maps (every client
// closed it, exited or died); free the inodes that were waiting for that.
static void collect(void)
{
  for (int i = 0; i < NOPEN; i++) {
    pte_t pte = uvpt_pte(OPAGE(i));
    if (!(pte & PTE_V) || upages[PTE_PPN(pte) - PPN_BASE].refs > 1)
      continue;
    page_unmap(OPAGE(i));
    maybe_free(opens[i].inum);
  }
}

// A free entry for opener (the caller has run collect() already, outside
// any transaction).  Its index, or an error.
static int open_alloc(envid_t opener, int mode)
{
  int mine = 0, free = -1;
  for (int n = 0; n < NOPEN; n++) {
    int i = (nopen_hint + n) % NOPEN;
    if (!open_live(i)) {
      if (free < 0)
        free = i;
    } else if (opens[i].opener == opener)
      mine++;
  }
  if (free < 0 || mine >= NOPEN_ENV)
    return -E_MFILE;
  if (page_map(OPAGE(free), PTE_R | PTE_W) < 0)
    return -E_NO_MEM;
  opens[free].inum = 0;
  opens[free].mode = mode;
  opens[free].opener = opener;
  opens[free].secret = new_secret();
  nopen_hint = free + 1;
  return free;
}

// The open file a request names: w1 = id | n << 16 | secret << 32.
static struct open *lookup_open(uint64 w1)
{
  uint64 id = w1 & 0xFFFF;
  if (id >= NOPEN || !open_live(id) || opens[id].secret != (uint32)(w1 >> 32) || !opens[id].inum)
    return 0;
  return &opens[id];
}

// The path in the client's page, copied out first (another env sharing
// that page could change it under us): NUL-terminated within MAXPATH.
// Relative paths start at the client's working directory, an inode
// number and its generation (stat_reply), sent after the two paths (any
// number: there are no permissions, and a walk checks that each step is
// a directory, and that the first is still the one the client meant).
static char pathbuf[2][MAXPATH];
static const char *path_arg(struct pct_msg *m, int second)
{
  if (!(m->perm & PTE_R))
    return 0;
  memcpy(pathbuf[second], (const char *)SRVRECV + (second ? MAXPATH : 0), MAXPATH);
  uint64 wd;
  memcpy(&wd, (const char *)SRVRECV + 2 * MAXPATH, sizeof wd);
  walk_start = (uint32)wd;
  walk_gen = wd >> 32;
  for (int i = 0; i < MAXPATH; i++)
    if (pathbuf[second][i] == 0)
      return pathbuf[second];
  return 0;
}

// Finish a changing operation: commit it, or forget it on error.
static int64 done(int64 r)
{
  if (r < 0) {
    fs_abort();
    return r;
  }
  int c = fs_commit();
  return c < 0 ? c : r;
}

struct reply {
  uint64 w[3];
  uint64 page;                  // va | perm, or 0
};

static int64 do_open(struct pct_msg *m, envid_t from, struct reply *rp)
{
  const char *path = path_arg(m, 0);
  int flags = m->w[1], err = 0, existed = 0, mode = flags & 3;
  if (!path)
    return -E_NAMETOOLONG;
  if (mode == 3)
    return -E_INVAL;
  uint32 inum;
  collect();
  int id = open_alloc(from, mode);            // (before the transaction starts)
  if (id < 0)
    return id;
  int follow = !(flags & O_NOFOLLOW);
  if (flags & O_CREATE)
    inum = fs_create(path, T_FILE, 0, 0, follow, &existed, &err);
  else
    inum = namei(path, follow, &err);
  struct dinode *d = inum ? iget(inum, 0, &err) : 0;
  if (d && d->type == T_DIR && mode != O_RDONLY)
    err = -E_ISDIR;
  else if (d && d->type == T_SYMLINK && mode != O_RDONLY)
    err = -E_INVAL;                           // (O_NOFOLLOW: a link is read, not written)
  else if (d && (flags & O_TRUNC) && d->type == T_FILE && mode != O_RDONLY)
    err = itrunc(inum);
  if (!inum && !err)
    err = -E_NOENT;
  if ((err = done(err)) < 0) {
    page_unmap(OPAGE(id));
    return err;
  }
  opens[id].inum = inum;
  d = iget(inum, 0, &err);
  if (!d)
    return err;
  struct fdesc *f = (struct fdesc *)OPAGE(id);
  f->dev = FD_FILE;
  f->mode = mode;
  f->offset = 0;
  f->handle = (uint64)id | (uint64)opens[id].secret << 32;
  f->inum = inum;
  rp->w[1] = d->size;
  rp->w[2] = (uint64)(uint16)d->type | (uint64)(uint16)d->major << 16;
  rp->page = OPAGE(id) | PTE_R | PTE_W;
  return id;
}

static int64 do_read(struct pct_msg *m, struct reply *rp)
{
  struct open *o = lookup_open(m->w[1]);
  uint64 n = (m->w[1] >> 16) & 0xFFFF;
  if (!o || o->mode == O_WRONLY)
    return -E_BADF;
  uint64 va, in;
  int r = readi_block(o->inum, m->w[2], n, &va, &in);
  if (r > 0) {
    rp->w[1] = in;
    rp->page = va | PTE_R;
  }
  return r;
}

static int64 do_write(struct pct_msg *m, struct reply *rp)
{
  struct open *o = lookup_open(m->w[1]);
  uint64 n = (m->w[1] >> 16) & 0xFFFF, off = m->w[2];
  int err;
  if (!o || o->mode == O_RDONLY)
    return -E_BADF;
  if (n > PGSIZE || !(m->perm & PTE_R))
    return -E_INVAL;
  struct dinode *d = iget(o->inum, 0, &err);
  if (!d)
    return err;
  if (d->type == T_DIR)
    return -E_ISDIR;
  if (off == ~0UL)                         // append
    off = d->size;
  int64 r = done(writei(o->inum, (const void *)SRVRECV, off, n));
  rp->w[1] = off;
  return r;
}

// The target of the symbolic link at path: lent like a read, as the
// cache page holding it, read-only.
static int64 do_readlink(struct pct_msg *m, struct reply *rp)
{
  const char *path = path_arg(m, 0);
  int err;
  if (!path)
    return -E_NAMETOOLONG;
  uint32 inum = namei(path, 0, &err);
  if (!inum)
    return err;
  struct dinode *d = iget(inum, 0, &err);
  if (!d)
    return err;
  if (d->type != T_SYMLINK)
    return -E_INVAL;
  if (d->size == 0 || d->size >= MAXPATH)
    return -E_CORRUPT;
  uint64 va, in;
  int r = readi_block(inum, 0, d->size, &va, &in);
  if (r > 0) {
    rp->w[1] = in;
    rp->page = va | PTE_R;
  }
  return r;
}

static int64 stat_reply(uint32 inum, struct reply *rp)
{
  int err;
  struct dinode *d = iget(inum, 0, &err);
  if (!d)
    return err;
  rp->w[1] = (uint64)(uint16)d->type | (uint64)(uint16)d->nlink << 16 | (uint64)inum << 32;
  rp->w[2] = d->size | (uint64)igen[inum] << 48;   // (the generation: for chdir)
  return 0;
}

static int64 handle(struct pct_msg *m, envid_t from, struct reply *rp)
{
  const char *path = 0, *path2 = 0;
  int err = 0, existed;
  uint32 inum;
  switch (m->w[0]) {
  case FS_OPEN:
    return do_open(m, from, rp);
  case FS_READ:
    return do_read(m, rp);
  case FS_WRITE:
    return do_write(m, rp);
  case FS_FSTAT: {
    struct open *o = lookup_open(m->w[1]);
    return o ? stat_reply(o->inum, rp) : -E_BADF;
  }
  case FS_STAT:
    if (!(path = path_arg(m, 0)))
      return -E_NAMETOOLONG;
    return (inum = namei(path, !(m->w[1] & O_NOFOLLOW), &err)) ? stat_reply(inum, rp) : err;
  case FS_READLINK:
    return do_readlink(m, rp);
  case FS_MKDIR:
  case FS_MKNOD:
    if (!(path = path_arg(m, 0)))
      return -E_NAMETOOLONG;
    if (m->w[0] == FS_MKDIR)
      inum = fs_create(path, T_DIR, 0, 0, 0, &existed, &err);   // (only a device has numbers)
    else
      inum = fs_create(path, T_DEVICE, m->w[1] & 0xFFFF, (m->w[1] >> 16) & 0xFFFF, 0, &existed, &err);
    if (inum && existed)
      err = -E_EXIST;
    return done(inum && !existed ? 0 : err);
  case FS_UNLINK:
    if (!(path = path_arg(m, 0)))
      return -E_NAMETOOLONG;
    collect();
    if ((err = done(fs_unlink(path, &inum))) < 0)
      return err;
    return inum ? maybe_free(inum) : 0;
  case FS_LINK:
    if (!(path = path_arg(m, 0)) || !(path2 = path_arg(m, 1)))
      return -E_NAMETOOLONG;
    return done(fs_link(path, path2));
  case FS_SYMLINK:
    if (!(path = path_arg(m, 0)) || !(path2 = path_arg(m, 1)))
      return -E_NAMETOOLONG;
    return done(fs_symlink(path2, path));
  case FS_STATS: {
    uint64 h, mi, c;
    fs_stats(&h, &mi, &c);
    rp->w[1] = h;
    rp->w[2] = mi;
    return c;
  }
  }
  return -E_INVAL;
}

// The cache gives memory back when the kernel asks (CAUSE_REVOKE).  The
// server tells the kernel that what it holds above its other pages plus
// CACHE_KEEP is a cache (sys_mem_soft: set at start and after each
// shrink, as its other pages change), so it is asked first, by any env
// short of memory, even while it is below its share.  A request comes as
// an upcall, also while the server waits for a call (the kernel restarts
// its pct_recv after it).  In the middle of a request the cache is in use:
// the upcall only notes how much is wanted, and the serve loop gives it
// when the request is done.  busy is also what keeps a second upcall from
// shrinking inside the first.
static volatile int busy = 1, shrink_want;

static void set_mark(void)
{
  sys_mem_soft(0, uenvs[ENVX(thisenv->id)].npages - cache_pages() + CACHE_KEEP);
}

static void shrink_pending(void)
{
  for (;;) {
    while (shrink_want) {
      // (one instruction: a request posted meanwhile is not wiped out)
      int n = __atomic_exchange_n(&shrink_want, 0, __ATOMIC_SEQ_CST);
      cache_shrink(n);
      set_mark();
    }
    busy = 0;
    if (!shrink_want)
      return;
    busy = 1;
  }
}

static int on_revoke(struct uframe *f)
{
  __atomic_fetch_add(&shrink_want, (int)f->tval, __ATOMIC_SEQ_CST);
  if (!busy) {
    busy = 1;
    shrink_pending();
  }
  return 1;
}

// Serve forever; the first thing to do is to answer caller.
static void serve(envid_t caller)
{
  struct pct_msg m;
  set_handler(CAUSE_REVOKE, on_revoke);
  set_mark();
  shrink_pending();                         // (busy until now)
  int64 from = sys_pct_reply_recv(caller, 0, 0, 0, 0, SRVRECV, &m);
  if (from < 0)
    from = sys_pct_recv(SRVRECV, &m);
  for (;;) {
    if (from < 0)
      panic("file server: %s", errstr(from));
    struct reply rp = { { 0, 0, 0 }, 0 };
    if (from == 0 || m.kind != PCT_CALL) {  // interrupts, sends: nothing to answer
      if (m.perm)
        sys_pte_set(0, SRVRECV, 0);
      from = sys_pct_recv(SRVRECV, &m);
      continue;
    }
    busy = 1;
    int64 r = handle(&m, from, &rp);
    if (m.perm)
      sys_pte_set(0, SRVRECV, 0);           // the client's page: done with it
    shrink_pending();
    envid_t caller = from;
    from = sys_pct_reply_recv(caller, r, rp.w[1], rp.w[2], rp.page, SRVRECV, &m);
    if (from < 0 && from != -E_BAD_ENV && rp.page)  // it takes no page there
      from = sys_pct_reply_recv(caller, -E_FAULT, 0, 0, 0, SRVRECV, &m);
    if (from == -E_BAD_ENV)
      from = sys_pct_recv(SRVRECV, &m);     // the caller went away
  }
}

// Start the file server (init does this): a child env that gets the whole
// disk from me and mounts it.  Its id, or why it could not mount.
envid_t fs_start(void)
{
  envid_t e = fork();
  if (e < 0)
    return e;
  if (e == 0) {
    struct pct_msg m;
    int64 from;
    mem_private();                           // (answering revocation must not need memory)
    while ((from = sys_pct_recv(0, &m)) != thisenv->parent)
      ;                                      // wait for the disk
    int r = fs_mount();
    if (r < 0) {
      sys_pct_reply(from, r, 0, 0, 0);
      exit(1);
    }
    serve(from);
  }
  // The file system's part of the disk goes to the server; the swap and
  // app areas after it stay mine, to hand out (ulib/swap.c, ulib/kv.c).
  struct pct_msg m;
  uint64 fsblocks = usys->disk_blocks, disk = fsblocks;
  if (page_map(UIOBUF, PTE_R | PTE_W) == 0 && sys_blk_io(BLK_READ, 1, (void *)UIOBUF, 1) == 0) {
    struct superblock *s = (struct superblock *)UIOBUF;
    if (s->magic == FSMAGIC && s->size <= fsblocks && s->swapstart >= s->size &&
        s->swapstart + (uint64)s->nswap <= fsblocks) {
      fsblocks = s->size;
      swap_start = s->swapstart;
      swap_count = s->nswap;
      if (s->napp && s->appstart >= s->swapstart + (uint64)s->nswap &&
          s->appstart + (uint64)s->napp <= disk) {
        app_start = s->appstart;
        app_count = s->napp;
      }
    }
  }
  int64 r = sys_blk_grant(e, 0, fsblocks, BLK_R | BLK_W);
  if (r == 0)
    r = sys_pct_call_wait(e, 0, 0, 0, 0, 0, &m);   // mount: the answer is the result
  if (r == 0)
    r = m.w[0];
  if (r < 0) {
    sys_env_destroy(e);
    sys_env_destroy(e);
    return r;
  }
  fs_env = e;
  return e;
}
