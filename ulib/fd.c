// File descriptors.  Each open descriptor is a page at FDTABLE + fd*PGSIZE,
// mapped shared (PTE_SHARE), so fork gives the child the same open files
// (and the same offsets), as Unix programs expect; a device may keep a
// data page at FDDATA + fd*PGSIZE (a pipe keeps its buffer there).  The
// device switch sends read and write to the console, pipe, file or socket
// code, and close to a device that holds more than the pages.
#include "lib.h"
#include "fd.h"

#define SHARED_RW (PTE_V | PTE_U | PTE_R | PTE_W | PTE_SHARE)

// The devices every program may meet.  Others register when first used
// (fd_device), so that a program that never opens a socket does not carry
// the network stack: it cannot inherit one (sockets are close-on-spawn).
static struct dev *devs[NDEVS] = { [FD_CONS] = &dev_cons, [FD_PIPE] = &dev_pipe, [FD_FILE] = &dev_file };

void fd_device(int dev, struct dev *d)
{
  if (dev >= 0 && dev < NDEVS)
    devs[dev] = d;
}

static uint32 cloexec;              // fds spawn does not pass on (mine only)

// Keep fd from programs I spawn (the shell's saved and spare pipe ends).
void fd_cloexec(int fd, int on)
{
  if (fd >= 0 && fd < NFD)
    cloexec = on ? cloexec | (1U << fd) : cloexec & ~(1U << fd);
}

int fd_spawnable(int fd) { return fd_isopen(fd) && !(cloexec & (1U << fd)); }

int fd_isopen(int fd)
{
  return fd >= 0 && fd < NFD && (uvpt_pte((uint64)FD(fd)) & PTE_V);
}

// The lowest free descriptor, with a fresh shared page mapped for it.
int fd_alloc(int dev, int mode)
{
  for (int fd = 0; fd < NFD; fd++) {
    if (fd_isopen(fd))
      continue;
    int r = page_map((uint64)FD(fd), PTE_R | PTE_W | PTE_SHARE);
    if (r < 0)
      return r;
    FD(fd)->dev = dev;
    FD(fd)->mode = mode;
    FD(fd)->offset = 0;
    return fd;
  }
  return -E_BADF;
}

static struct fdesc *lookup(int fd)
{
  return fd_isopen(fd) && FD(fd)->dev >= 0 && FD(fd)->dev < NDEVS && devs[FD(fd)->dev] ? FD(fd) : 0;
}

int read(int fd, void *buf, int n)
{
  struct fdesc *f = lookup(fd);
  if (!f || f->mode == O_WRONLY)
    return -E_BADF;
  if (n > 0 && !user_ok(buf, n, 1))
    return -E_FAULT;
  return n <= 0 ? 0 : devs[f->dev]->read(fd, f, buf, n);
}

int write(int fd, const void *buf, int n)
{
  struct fdesc *f = lookup(fd);
  if (!f || f->mode == O_RDONLY)
    return -E_BADF;
  if (n > 0 && !user_ok(buf, n, 0))
    return -E_FAULT;
  return n <= 0 ? 0 : devs[f->dev]->write(fd, f, buf, n);
}

// Unmap the descriptor page first, then its data page: while it happens,
// counts that subtract one from the other err on the side of "open".  A
// device that holds something besides the pages (a socket's filter) lets
// go of it first.
int close(int fd)
{
  if (!fd_isopen(fd))
    return -E_BADF;
  struct fdesc *f = lookup(fd);
  if (f && devs[f->dev]->close)
    devs[f->dev]->close(fd, f);
  fd_cloexec(fd, 0);
  page_unmap((uint64)FD(fd));
  page_unmap(FDDATA + fd * PGSIZE);
  return 0;
}

// Make newfd another name for oldfd's open file (data page first).
int dup2(int oldfd, int newfd)
{
  if (!fd_isopen(oldfd) || newfd < 0 || newfd >= NFD)
    return -E_BADF;
  if (oldfd == newfd)
    return newfd;
  close(newfd);
  fd_cloexec(newfd, 0);
  uint64 data = FDDATA + oldfd * PGSIZE, ndata = FDDATA + newfd * PGSIZE;
  pte_t d = uvpt_pte(data), f = uvpt_pte((uint64)FD(oldfd));
  int r = 0;
  if (d & PTE_V)
    r = sys_pte_set_from(0, ndata, PPN_PTE(PTE_PPN(d), d & (SHARED_RW | PTE_X)), data);
  if (r == 0)
    r = sys_pte_set_from(0, (uint64)FD(newfd), PPN_PTE(PTE_PPN(f), f & SHARED_RW), (uint64)FD(oldfd));
  if (r < 0) {
    sys_pte_set(0, ndata, 0);
    return r;
  }
  return newfd;
}

int dup(int fd)
{
  for (int n = 0; n < NFD; n++)
    if (!fd_isopen(n))
      return dup2(fd, n);
  return -E_BADF;
}

// ---- the console device: calls to the console env ----

static int cons_read(int fd, struct fdesc *f, void *buf, int n)
{
  (void)fd, (void)f;
  struct pct_msg m;
  int64 r;
  if (n > (int)PGSIZE)
    n = PGSIZE;
  for (;;) {
    r = sys_pct_call_wait(cons_env, CONS_READ, n, 0, 0, UIPC, &m);
    if (r == 0 && (int64)m.w[0] == -E_BUSY) {
      nap();                               // its reader queue is full, or it is polled
      continue;                            // (no interrupts yet): ask again soon
    }
    break;
  }
  if (r < 0)
    return r;
  int got = (int64)m.w[0];
  if (got > 0 && m.perm)
    memcpy(buf, (void *)UIPC, got);
  if (m.perm)
    sys_pte_set(0, UIPC, 0);               // the line's page is freed with this
  return got;
}

static int cons_write(int fd, struct fdesc *f, const void *buf, int n)
{
  (void)fd, (void)f;
  if (!(uvpt_pte(UIOBUF) & PTE_V) && page_map(UIOBUF, PTE_R | PTE_W) < 0)
    return -E_NO_MEM;
  int done = 0;
  while (done < n) {
    int m = n - done < (int)PGSIZE ? n - done : (int)PGSIZE;
    memcpy((void *)UIOBUF, (const char *)buf + done, m);
    struct pct_msg reply;
    int64 r;
    r = sys_pct_call_wait(cons_env, CONS_WRITE, m, 0, UIOBUF | PTE_R, 0, &reply);
    if (r < 0)
      return done ? done : r;
    done += m;
  }
  return done;
}

struct dev dev_cons = { "cons", cons_read, cons_write };

// Open fds 0, 1 and 2 on the console (init does this once; every env
// inherits them through fork).
int fd_init_console(void)
{
  for (int i = 0; i < 3; i++) {
    int fd = i == 0 ? fd_alloc(FD_CONS, O_RDWR) : dup(0);
    if (fd != i)
      return fd < 0 ? fd : -E_BADF;
  }
  return 0;
}
