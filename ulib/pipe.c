// Pipes on shared pages, with no kernel support beyond mapping: the buffer
// is a page mapped (shared) at the data page of both descriptors.  Who is
// still at either end is read from the public page records: the buffer
// page is mapped once per open end, the read descriptor's page once per
// reader, so writers = refs(buffer) - refs(read end), and the other way.
// An empty read or a full write yields the CPU instead of spinning.  As in
// Unix, a write of at most PIPEBUF bytes is never split by another writer.
#include "lib.h"
#include "fd.h"

#define PIPEBUF (PGSIZE - 48)

struct pipe {                      // the shared buffer page
  volatile uint64 rpos, wpos;      // free-running positions
  uint64 rfd_ppn, wfd_ppn;         // the pages of the two descriptors
  volatile uint32 lock;            // 1 while a reader or writer is inside
  volatile int32 holder;           // and which env that is
  char buf[PIPEBUF];
};

static struct pipe *pipe_of(int fd) { return (struct pipe *)(FDDATA + (uint64)fd * PGSIZE); }
static uint32 refs(uint64 ppn) { return upages[ppn - PPN_BASE].refs; }

// How many open descriptors are at the other end (an estimate that may be
// high for an instant, never low: see close() and the kernel's promise to
// unmap from the top down).
static uint32 others(struct pipe *p, int reading)
{
  uint64 buf = PTE_PPN(uvpt_pte((uint64)p));
  return refs(buf) - refs(reading ? p->rfd_ppn : p->wfd_ppn);
}

int pipe(int fds[2])
{
  int r = fd_alloc(FD_PIPE, O_RDONLY), w;
  if (r < 0)
    return r;
  if ((w = fd_alloc(FD_PIPE, O_WRONLY)) < 0) {
    close(r);
    return w;
  }
  int err = page_map((uint64)pipe_of(r), PTE_R | PTE_W | PTE_SHARE);
  pte_t pte = uvpt_pte((uint64)pipe_of(r));
  if (err == 0)
    err = sys_pte_set(0, (uint64)pipe_of(w), pte & ~(PTE_A | PTE_D));
  if (err < 0) {
    close(r);
    close(w);
    return err;
  }
  struct pipe *p = pipe_of(r);
  p->rfd_ppn = PTE_PPN(uvpt_pte((uint64)FD(r)));
  p->wfd_ppn = PTE_PPN(uvpt_pte((uint64)FD(w)));
  fds[0] = r;
  fds[1] = w;
  return 0;
}

// Several envs may read (or write) one pipe at once: each copy-and-advance
// happens under a lock in the shared page.  The holder's env id is kept
// beside it, so a holder that died is noticed and its lock broken.
static void pipe_lock(struct pipe *p)
{
  while (__sync_lock_test_and_set(&p->lock, 1)) {
    envid_t h = p->holder;
    volatile const struct envpub *e = &uenvs[ENVX(h)];
    if (h && (e->id != h || e->status == ENV_EXITED || e->status == ENV_FREE)) {
      p->holder = 0;                       // its holder is gone
      __sync_lock_release(&p->lock);
    } else {
      sys_yield(h);
    }
  }
  p->holder = thisenv->id;
}

static void pipe_unlock(struct pipe *p)
{
  p->holder = 0;
  __sync_lock_release(&p->lock);
}

// Copy between the ring and a flat buffer: n bytes at ring position pos.
static void ring_copy(struct pipe *p, uint64 pos, char *flat, int n, int into_ring)
{
  while (n > 0) {
    uint64 off = pos % PIPEBUF;
    int m = PIPEBUF - off < (uint64)n ? (int)(PIPEBUF - off) : n;
    if (into_ring)
      memcpy(p->buf + off, flat, m);
    else
      memcpy(flat, p->buf + off, m);
    flat += m;
    pos += m;
    n -= m;
  }
}

static int pipe_read(int fd, struct fdesc *f, void *buf, int n)
{
  (void)f;
  struct pipe *p = pipe_of(fd);
  // BEGIN LAB ipc: pipe_read: wait (yielding) for bytes or for every writer to be gone; take up to n bytes under the lock
  for (;;) {
    if (p->rpos != p->wpos) {              // (looked at without the lock first)
      pipe_lock(p);
      if (p->rpos != p->wpos)
        break;
      pipe_unlock(p);                      // another reader was quicker
      continue;
    }
    if (others(p, 1) == 0) {
      __sync_synchronize();                // a last write may have come first
      if (p->rpos == p->wpos)
        return 0;                          // every writer is gone: end of file
      continue;
    }
    sys_yield(0);
  }
  uint64 avail = p->wpos - p->rpos;
  int m = avail < (uint64)n ? (int)avail : n;
  ring_copy(p, p->rpos, buf, m, 0);
  __sync_synchronize();                    // the bytes are out before the space is free
  p->rpos += m;
  pipe_unlock(p);
  return m;
  // END LAB ipc: return lab_todo("ipc", "pipe_read"), (void)p, (void)buf, (void)n, -E_NOSYS;
}

static int pipe_write(int fd, struct fdesc *f, const void *buf, int n)
{
  (void)f;
  struct pipe *p = pipe_of(fd);
  // BEGIN LAB ipc: pipe_write: copy all n bytes into the ring under the lock, yielding while it is full; writes of at most PIPEBUF bytes stay whole; -E_PIPE with no reader
  int i = 0;
  while (i < n) {
    if (others(p, 0) == 0)
      return i ? i : -E_PIPE;              // nobody will ever read it
    pipe_lock(p);
    uint64 room = PIPEBUF - (p->wpos - p->rpos);
    if (room == 0 || (n <= PIPEBUF && room < (uint64)n)) {   // small writes stay whole
      pipe_unlock(p);
      sys_yield(0);
      continue;
    }
    int m = room < (uint64)(n - i) ? (int)room : n - i;
    ring_copy(p, p->wpos, (char *)buf + i, m, 1);
    __sync_synchronize();                  // the bytes are in before they count
    p->wpos += m;
    pipe_unlock(p);
    i += m;
  }
  return i;
  // END LAB ipc: return lab_todo("ipc", "pipe_write"), (void)p, (void)buf, (void)n, (void)ring_copy, (void)pipe_lock, (void)pipe_unlock, (void)others, -E_NOSYS;
}

struct dev dev_pipe = { "pipe", pipe_read, pipe_write };
