// Files: the client side of the file server (fsserv.c), behind the
// file-descriptor layer.  The working directory is the library's, per env,
// inherited by fork and spawn: the inode number of the directory (and its
// generation: a number reused after an rmdir is not the old directory),
// not its path, so it may be as deep as the file system allows.  Paths go to the
// server as written, with that number; the server walks a relative path
// from it, and ".." through each directory's own ".." entry.
#include "lib.h"
#include "fd.h"

envid_t fs_env;
static uint64 cwd;                         // the working directory: inode | generation << 32 (0: the root)

// One call to the file server, queued while it is busy with another
// client.  Returns the server's result word (w0) or a PCT error.
static int64 fscall(uint64 op, uint64 a, uint64 b, uint64 page, struct pct_msg *m)
{
  if (!fs_env)
    return -E_NOENT;                       // no file system
  int64 r = sys_pct_call_wait(fs_env, op, a, b, page, UIPC, m);
  return r < 0 ? r : (int64)m->w[0];
}

static int iobuf(void)
{
  if (!(uvpt_pte(UIOBUF) & PTE_V) && page_map(UIOBUF, PTE_R | PTE_W) < 0)
    return -E_NO_MEM;
  return 0;
}

// Put a path from the program in the I/O page at off.
static int put_path(const char *path, uint64 off)
{
  if (!user_str_ok(path, MAXPATH))
    return -E_FAULT;
  uint64 n = strlen(path);
  if (n >= MAXPATH)
    return -E_NAMETOOLONG;
  memcpy((char *)UIOBUF + off, path, n + 1);
  return 0;
}

// Put one or two paths in the I/O page, and after them the working
// directory they are relative to.
static int path_page(const char *p1, const char *p2)
{
  int r;
  if ((r = iobuf()) < 0 || (r = put_path(p1, 0)) < 0)
    return r;
  if (p2 && (r = put_path(p2, MAXPATH)) < 0)
    return r;
  memcpy((char *)UIOBUF + 2 * MAXPATH, &cwd, sizeof cwd);
  return 0;
}

int open(const char *path, int flags)
{
  struct pct_msg m;
  int r = path_page(path, 0);
  if (r < 0)
    return r;
  int fd;
  for (fd = 0; fd < NFD && fd_isopen(fd); fd++)
    ;
  if (fd == NFD)
    return -E_MFILE;
  int64 id = fscall(FS_OPEN, flags & ~O_APPEND, 0, UIOBUF | PTE_R, &m);
  if (id < 0)
    return id;
  if (!(m.perm & PTE_W))
    return -E_INVAL;
  pte_t pte = uvpt_pte(UIPC);
  r = sys_pte_set_from(0, (uint64)FD(fd), PPN_PTE(PTE_PPN(pte), PTE_V | PTE_U | PTE_R | PTE_W | PTE_SHARE), UIPC);
  sys_pte_set(0, UIPC, 0);
  if (r < 0)
    return r;
  struct fdesc *f = FD(fd);
  f->append = (flags & O_APPEND) != 0;
  int type = m.w[2] & 0xFFFF, major = (m.w[2] >> 16) & 0xFFFF;
  if (type == T_DEVICE) {
    if (major != 1) {                      // the console is the only device
      close(fd);
      return -E_NOENT;
    }
    f->dev = FD_CONS;
  }
  return fd;
}

// The offset is shared by every env that holds the descriptor (the fdesc
// page is shared across fork), so each transfer of a page at most takes
// the descriptor's lock, reads the offset, calls the server and moves the
// offset on, as xv6 does under the inode's lock: envs reading or writing
// through one descriptor at once lose nothing and never leave a gap for a
// later write to land beyond the end of the file.
static int file_read(int fd, struct fdesc *f, void *buf, int n)
{
  (void)fd;
  struct pct_msg m;
  int done = 0;
  while (done < n) {
    uint64 want = n - done < (int)PGSIZE ? n - done : PGSIZE;
    shared_lock(&f->lock, &f->lsleep);
    int64 r = fscall(FS_READ, f->handle | want << 16, f->offset, 0, &m);
    if (r > 0 && (!m.perm || r > (int64)want || m.w[1] + r > PGSIZE))
      r = -E_INVAL;
    if (r > 0)
      f->offset += r;
    shared_unlock(&f->lock, &f->lsleep);
    if (r <= 0) {
      if (r < 0 && done == 0)
        done = r;
      break;
    }
    memcpy((char *)buf + done, (char *)UIPC + m.w[1], r);
    done += r;
  }
  if (uvpt_pte(UIPC) & PTE_V)
    sys_pte_set(0, UIPC, 0);               // let go of the server's cache page
  return done;
}

static int file_write(int fd, struct fdesc *f, const void *buf, int n)
{
  (void)fd;
  struct pct_msg m;
  int done = 0, r;
  if ((r = iobuf()) < 0)
    return r;
  while (done < n) {
    uint64 want = n - done < (int)PGSIZE ? n - done : PGSIZE;
    memcpy((void *)UIOBUF, (const char *)buf + done, want);
    shared_lock(&f->lock, &f->lsleep);
    int64 w = fscall(FS_WRITE, f->handle | want << 16, f->append ? ~0UL : f->offset,
                     UIOBUF | PTE_R, &m);
    if (w > 0)
      f->offset = m.w[1] + w;              // (appends: the server picked the place)
    shared_unlock(&f->lock, &f->lsleep);
    if (w <= 0) {
      if (done == 0)
        done = w < 0 ? w : -E_NOSPC;
      break;
    }
    done += w;
    if ((uint64)w < want)
      break;                               // the disk is full
  }
  return done;
}

struct dev dev_file = { "file", file_read, file_write };

int64 seek(int fd, int64 off)
{
  if (!fd_isopen(fd) || FD(fd)->dev != FD_FILE)
    return -E_BADF;
  if (off < 0)
    return -E_INVAL;
  FD(fd)->offset = off;
  return off;
}

static void fill_stat(struct pct_msg *m, struct stat *st)
{
  st->dev = 1;
  st->type = m->w[1] & 0xFFFF;
  st->nlink = (m->w[1] >> 16) & 0xFFFF;
  st->ino = m->w[1] >> 32;
  st->size = m->w[2] & ((1UL << 48) - 1);   // (above: the inode's generation)
}

static int stat_flags(const char *path, struct stat *st, int flags)
{
  struct pct_msg m;
  if (!user_ok(st, sizeof *st, 1))
    return -E_FAULT;
  int64 r = path_page(path, 0);
  if (r == 0 && (r = fscall(FS_STAT, flags, 0, UIOBUF | PTE_R, &m)) == 0)
    fill_stat(&m, st);
  return r;
}

int stat(const char *path, struct stat *st) { return stat_flags(path, st, 0); }
int lstat(const char *path, struct stat *st) { return stat_flags(path, st, O_NOFOLLOW); }

int fstat(int fd, struct stat *st)
{
  struct pct_msg m;
  if (!fd_isopen(fd))
    return -E_BADF;
  if (!user_ok(st, sizeof *st, 1))
    return -E_FAULT;
  struct fdesc *f = FD(fd);
  if (f->handle) {                         // a file, or the console opened by name
    int64 r = fscall(FS_FSTAT, f->handle, 0, 0, &m);
    if (r == 0)
      fill_stat(&m, st);
    return r;
  }
  memset(st, 0, sizeof *st);               // a pipe or the console
  st->type = T_DEVICE;
  st->nlink = 1;
  return 0;
}

static int path_op(uint64 op, const char *p1, const char *p2, uint64 arg)
{
  struct pct_msg m;
  int r = path_page(p1, p2);
  return r < 0 ? r : fscall(op, arg, 0, UIOBUF | PTE_R, &m);
}

int mkdir(const char *path) { return path_op(FS_MKDIR, path, 0, 0); }
// Whether path's last element is "." or ".." (trailing slashes ignored).
// Those are refused before the path is resolved, where they would vanish:
// "d/." resolves to "d", and unlink would remove d itself.
static int ends_in_dots(const char *path)
{
  uint64 n = strlen(path);
  while (n > 1 && path[n - 1] == '/')
    n--;
  uint64 s = n;
  while (s > 0 && path[s - 1] != '/')
    s--;
  return (n - s == 1 && path[s] == '.') || (n - s == 2 && path[s] == '.' && path[s + 1] == '.');
}

int unlink(const char *path)
{
  if (!user_str_ok(path, MAXPATH))
    return -E_FAULT;
  if (ends_in_dots(path))
    return -E_INVAL;
  return path_op(FS_UNLINK, path, 0, 0);
}
int link(const char *old, const char *new) { return path_op(FS_LINK, old, new, 0); }

// A symbolic link at path to target.  The target is stored as given (not
// made absolute: a relative one is resolved from the link's directory
// when the link is followed) and need not exist.
int symlink(const char *target, const char *path)
{
  struct pct_msg m;
  int r;
  uint64 n = 0;
  if (!user_str_ok(target, MAXPATH))
    return -E_FAULT;
  while (n < MAXPATH && target[n])
    n++;
  if (n >= MAXPATH)
    return -E_NAMETOOLONG;
  if ((r = path_page(path, 0)) < 0)
    return r;
  memcpy((char *)UIOBUF + MAXPATH, target, n + 1);
  return fscall(FS_SYMLINK, 0, 0, UIOBUF | PTE_R, &m);
}

// Copy the target of the symbolic link at path into buf: at most n bytes,
// no NUL added (as in Unix).  The number of bytes copied, or an error
// (E_INVAL if path is not a link).
int readlink(const char *path, char *buf, int n)
{
  struct pct_msg m;
  if (n < 0 || !user_ok(buf, n, 1))
    return -E_FAULT;
  int64 r = path_page(path, 0);
  if (r < 0 || (r = fscall(FS_READLINK, 0, 0, UIOBUF | PTE_R, &m)) <= 0)
    return r;
  if (!m.perm || r >= MAXPATH || m.w[1] + r > PGSIZE)
    r = -E_INVAL;
  else {
    if (r > n)
      r = n;
    memcpy(buf, (char *)UIPC + m.w[1], r);
  }
  if (uvpt_pte(UIPC) & PTE_V)
    sys_pte_set(0, UIPC, 0);               // let go of the server's cache page
  return r;
}
int mknod(const char *path, short major, short minor)
{
  return path_op(FS_MKNOD, path, 0, (uint16)major | (uint64)(uint16)minor << 16);
}

int chdir(const char *path)
{
  struct pct_msg m;
  int64 r = path_page(path, 0);
  if (r == 0 && (r = fscall(FS_STAT, 0, 0, UIOBUF | PTE_R, &m)) == 0 && (m.w[1] & 0xFFFF) != T_DIR)
    r = -E_NOTDIR;
  if (r == 0)
    cwd = (m.w[1] >> 32) | (m.w[2] >> 48) << 32;
  return r;
}

// The working directory's path, found by walking up through ".." and
// looking for each directory's name in its parent (into a static buffer;
// 0 if it is longer than MAXPATH or a directory on the way is gone).
const char *getcwd(void)
{
  static char path[MAXPATH];
  char up[MAXPATH] = "..";                 // from the working directory to the parent
  uint64 at = MAXPATH - 1;                 // path[at..] is the answer so far
  path[at] = 0;
  struct stat st;
  if (stat(".", &st) < 0)
    return 0;
  for (uint32 here = st.ino; here != ROOTINO;) {
    struct dirent de;
    int fd = open(up, O_RDONLY), found = 0;
    if (fd < 0 || fstat(fd, &st) < 0) {
      if (fd >= 0)
        close(fd);
      return 0;
    }
    while (!found && readdir(fd, &de) == 1)
      found = de.inum == here && strncmp(de.name, ".", DIRSIZ) && strncmp(de.name, "..", DIRSIZ);
    close(fd);
    if (!found)
      return 0;
    uint64 n = 0;
    while (n < DIRSIZ && de.name[n])
      n++;
    if (n + 1 > at || strlen(up) + 3 >= MAXPATH)
      return 0;
    at -= n;
    memcpy(path + at, de.name, n);
    path[--at] = '/';
    here = st.ino;
    strcpy(up + strlen(up), "/..");
  }
  return at == MAXPATH - 1 ? "/" : path + at;
}

// The next entry of the directory open at fd, skipping free slots: 1 and
// *de filled in, 0 at the end, or an error.
int readdir(int fd, struct dirent *de)
{
  int r;
  while ((r = read(fd, de, sizeof *de)) == sizeof *de)
    if (de->inum)
      return 1;
  return r < 0 ? r : 0;
}

// For spawn: the working directory goes to the child.
uint64 cwd_get(void) { return cwd; }
void cwd_set(uint64 dir) { cwd = dir; }
