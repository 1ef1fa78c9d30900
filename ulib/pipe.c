// Pipes on shared pages, with no kernel support beyond mapping: the buffer
// is a page mapped (shared) at the data page of both descriptors.  Who is
// still at either end is read from the public page records: the buffer
// page is mapped once per open end, the read descriptor's page once per
// reader, so writers = refs(buffer) - refs(read end), and the other way.
// An empty read or a full write yields the CPU instead of spinning.
#include "lib.h"
#include "fd.h"

#define PIPEBUF (PGSIZE - 32)

struct pipe {                      // the shared buffer page
  volatile uint64 rpos, wpos;      // free-running positions
  uint64 rfd_ppn, wfd_ppn;         // the pages of the two descriptors
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
  while (p->rpos == p->wpos) {
    if (others(p, 1) == 0)
      return 0;                            // every writer is gone: end of file
    sys_yield(0);
  }
  uint64 avail = p->wpos - p->rpos;
  int m = avail < (uint64)n ? (int)avail : n;
  ring_copy(p, p->rpos, buf, m, 0);
  __sync_synchronize();                    // the bytes are out before the space is free
  p->rpos += m;
  return m;
}

static int pipe_write(int fd, struct fdesc *f, const void *buf, int n)
{
  (void)f;
  struct pipe *p = pipe_of(fd);
  int i = 0;
  while (i < n) {
    if (others(p, 0) == 0)
      return i ? i : -E_PIPE;              // nobody will ever read it
    uint64 room = PIPEBUF - (p->wpos - p->rpos);
    if (room == 0) {
      sys_yield(0);
      continue;
    }
    int m = room < (uint64)(n - i) ? (int)room : n - i;
    ring_copy(p, p->wpos, (char *)buf + i, m, 1);
    __sync_synchronize();                  // the bytes are in before they count
    p->wpos += m;
    i += m;
  }
  return i;
}

struct dev dev_pipe = { "pipe", pipe_read, pipe_write };
