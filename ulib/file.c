// Files: the client side of the file server (fsserv.c), behind the
// file-descriptor layer.  Path names are made absolute here (the working
// directory is the library's, per env, inherited by fork and spawn); the
// server sees only absolute paths.
#include "lib.h"
#include "fd.h"

envid_t fs_env;
static char cwd[MAXPATH] = "/";

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

// Resolve path against the working directory into out (MAXPATH bytes):
// absolute, no "." or ".." elements, no repeated '/'.
int abspath(const char *path, char *out)
{
  char tmp[2 * MAXPATH];
  if (!user_str_ok(path, MAXPATH))
    return -E_FAULT;
  uint64 n = strlen(path);
  if (n >= MAXPATH)
    return -E_NAMETOOLONG;
  if (path[0] == '/')
    strcpy(tmp, path);
  else {
    strcpy(tmp, cwd);
    strcpy(tmp + strlen(tmp), "/");
    strcpy(tmp + strlen(tmp), path);
  }
  int len = 0;                             // out[0..len) is the result so far
  for (char *p = tmp; *p;) {
    while (*p == '/')
      p++;
    char *s = p;
    while (*p && *p != '/')
      p++;
    int el = p - s;
    if (el == 0 || (el == 1 && s[0] == '.'))
      continue;
    if (el == 2 && s[0] == '.' && s[1] == '.') {
      while (len > 0 && out[len - 1] != '/')
        len--;
      if (len > 0)
        len--;                             // drop the '/' too
      continue;
    }
    if (len + 1 + el >= MAXPATH)
      return -E_NAMETOOLONG;
    out[len++] = '/';
    memcpy(out + len, s, el);
    len += el;
  }
  if (len == 0)
    out[len++] = '/';
  out[len] = 0;
  return 0;
}

// Put one or two resolved paths in the I/O page.
static int path_page(const char *p1, const char *p2)
{
  int r;
  if ((r = iobuf()) < 0 || (r = abspath(p1, (char *)UIOBUF)) < 0)
    return r;
  if (p2 && (r = abspath(p2, (char *)UIOBUF + MAXPATH)) < 0)
    return r;
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
// page is shared across fork), so a read or write first claims its whole
// range [off, off + n) with one atomic add: envs reading or writing
// through one descriptor at once get disjoint ranges and lose nothing.
// What a short transfer did not use is handed back if nobody has claimed
// more since.
static uint64 claim(struct fdesc *f, int n)
{
  return __atomic_fetch_add(&f->offset, (uint64)n, __ATOMIC_SEQ_CST);
}

static void unclaim(struct fdesc *f, uint64 off, int n, int done)
{
  uint64 end = off + n;
  if (done < n)
    __atomic_compare_exchange_n(&f->offset, &end, off + done, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static int file_read(int fd, struct fdesc *f, void *buf, int n)
{
  (void)fd;
  struct pct_msg m;
  int done = 0;
  uint64 off = claim(f, n);
  while (done < n) {
    uint64 want = n - done < (int)PGSIZE ? n - done : PGSIZE;
    int64 r = fscall(FS_READ, f->handle | want << 16, off + done, 0, &m);
    if (r <= 0) {
      if (r < 0 && done == 0)
        done = r;
      break;
    }
    if (!m.perm || r > (int64)want || m.w[1] + r > PGSIZE) {
      sys_pte_set(0, UIPC, 0);
      done = -E_INVAL;
      break;
    }
    memcpy((char *)buf + done, (char *)UIPC + m.w[1], r);
    done += r;
  }
  unclaim(f, off, n, done > 0 ? done : 0);
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
  uint64 off = f->append ? 0 : claim(f, n);  // (appends: the server picks the place)
  while (done < n) {
    uint64 want = n - done < (int)PGSIZE ? n - done : PGSIZE;
    memcpy((void *)UIOBUF, (const char *)buf + done, want);
    int64 w = fscall(FS_WRITE, f->handle | want << 16, f->append ? ~0UL : off + done,
                     UIOBUF | PTE_R, &m);
    if (w <= 0) {
      if (done == 0)
        done = w < 0 ? w : -E_NOSPC;
      break;
    }
    if (f->append)
      f->offset = m.w[1] + w;
    done += w;
    if ((uint64)w < want)
      break;                               // the disk is full
  }
  if (!f->append)
    unclaim(f, off, n, done > 0 ? done : 0);
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
  st->size = m->w[2];
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
  char abs[MAXPATH];
  struct stat st;
  int r = abspath(path, abs);
  if (r < 0 || (r = stat(abs, &st)) < 0)
    return r;
  if (st.type != T_DIR)
    return -E_NOTDIR;
  strcpy(cwd, abs);
  return 0;
}

const char *getcwd(void) { return cwd; }

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
void cwd_set(const char *dir)
{
  if (strlen(dir) < MAXPATH)
    strcpy(cwd, dir);
}
