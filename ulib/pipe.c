// Pipes on shared pages, with no kernel support beyond mapping: the buffer
// is a page mapped (shared) at the data page of both descriptors.  Who is
// still at either end is read from the public page records: the buffer
// page is mapped once per open end, the read descriptor's page once per
// reader, so writers = refs(buffer) - refs(read end), and the other way.
// An empty read, a full write and a taken lock sleep in the kernel
// (SYS_mwait on the position or lock word); the other side wakes them
// (SYS_mwake) only when the page says someone sleeps there.  When an end
// closes or its env dies, the buffer page loses a mapping, and the kernel
// wakes every sleeper on the page, who then sees who is left.  As in
// Unix, a write of at most PIPEBUF bytes is never split by another writer.
#include "lib.h"
#include "fd.h"

#define PIPEBUF (PGSIZE - 64)

struct pipe {                      // the shared buffer page
  volatile uint64 rpos, wpos;      // free-running positions
  uint64 rfd_ppn, wfd_ppn;         // the pages of the two descriptors
  volatile uint32 lock;            // 1 while a reader or writer is inside
  volatile int32 holder;           // and which env that is (one word with lock: shared_lock)
  volatile uint32 rsleep, wsleep;  // readers, writers asleep on wpos, rpos
  volatile uint32 lsleep;          // envs asleep on the lock word
  uint32 pad;
  char buf[PIPEBUF];
};

// Sleep in the kernel while *w still holds seen, announced in *count so
// that the other side knows to wake us (it looks after changing *w; we
// look again after announcing, so no wake-up is lost).  The other wake-up,
// an end closing or dying, comes from the kernel when the buffer page
// loses a mapping; bufrefs is its mapping count from when we looked at who
// is left, so if that happened since, the kernel does not let us sleep.
// Each wait below first gives the CPU away once instead (sys_yield): in a
// pipeline the other end usually runs and answers at once, with no sleep
// and no wake call; only a wait that outlasts that sleeps.
static void sleep_on(volatile uint64 *w, uint64 seen, volatile uint32 *count, uint32 bufrefs)
{
  __atomic_fetch_add(count, 1, __ATOMIC_SEQ_CST);
  if (*w == seen)
    sys_mwait_refs(w, seen, 0, bufrefs);
  __atomic_fetch_sub(count, 1, __ATOMIC_SEQ_CST);
}

// Leave the lock after moving *pos (a position): wake whoever sleeps on
// the lock, and on *pos those counted in *count.  One fence for both
// looks (it orders our stores before them: see sleep_on).
static void unlock_wake(struct pipe *p, volatile uint64 *pos, volatile uint32 *count)
{
  shared_unlock(&p->lock, &p->lsleep);     // (its fence covers our look at *count)
  if (*count)
    sys_mwake(pos, 0);
}

static struct pipe *pipe_of(int fd) { return (struct pipe *)(FDDATA + (uint64)fd * PGSIZE); }
static uint32 refs(uint64 ppn) { return upages[ppn - PPN_BASE].refs; }

// How many open descriptors are at the other end (an estimate that may be
// high for an instant, never low: close() unmaps the descriptor's page
// before the buffer, so the buffer's count is read first).  *bufrefs gets
// the buffer's count, for sleep_on.
static uint32 others(struct pipe *p, int reading, uint32 *bufrefs)
{
  *bufrefs = refs(PTE_PPN(uvpt_pte((uint64)p)));
  __sync_synchronize();
  return *bufrefs - refs(reading ? p->rfd_ppn : p->wfd_ppn);
}

int pipe(int fds[2])
{
  if (!user_ok(fds, 2 * sizeof fds[0], 1))
    return -E_FAULT;
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

// A lock in a page several envs share (a pipe's buffer, a descriptor's
// page): lock[0] is 1 while held, lock[1] the holder's env id (one 64-bit
// word, 8-aligned), *sleepers counts envs asleep on it.  A holder that
// died is noticed and its lock broken; the page losing its mapping wakes
// those asleep.
void shared_lock(volatile uint32 *lock, volatile uint32 *sleepers)
{
  volatile uint64 *word = (volatile uint64 *)lock;   // lock and holder
  int tries = 0;
  while (__sync_lock_test_and_set(lock, 1)) {
    uint32 pagerefs = refs(PTE_PPN(uvpt_pte((uint64)lock)));  // (before the holder: see sleep_on)
    __sync_synchronize();
    uint64 seen = *word;
    envid_t h = seen >> 32;
    volatile const struct envpub *e = &uenvs[ENVX(h)];
    if (h && (e->id != h || e->status == ENV_EXITED || e->status == ENV_FREE)) {
      lock[1] = 0;                         // its holder is gone
      __sync_lock_release(lock);
    } else if (tries++ == 0) {
      sys_yield(h);                        // (see sleep_on)
    } else if ((uint32)seen) {
      sleep_on(word, seen, sleepers, pagerefs);   // (a dead holder's unmapping wakes us)
    }
  }
  lock[1] = thisenv->id;
}

void shared_unlock(volatile uint32 *lock, volatile uint32 *sleepers)
{
  lock[1] = 0;
  __sync_lock_release(lock);
  __sync_synchronize();
  if (*sleepers)
    sys_mwake((volatile uint64 *)lock, 1);
}

// Several envs may read (or write) one pipe at once: each copy-and-advance
// happens under a lock in the shared page.
static void pipe_lock(struct pipe *p) { shared_lock(&p->lock, &p->lsleep); }
static void pipe_unlock(struct pipe *p) { shared_unlock(&p->lock, &p->lsleep); }

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
  // BEGIN LAB ipc: pipe_read: sleep (sleep_on wpos) until there are bytes or every writer is gone; take up to n bytes under the lock and wake sleeping writers
  int tries = 0;
  for (;;) {
    uint64 seen = p->wpos;
    if (p->rpos != seen) {                 // (looked at without the lock first)
      pipe_lock(p);
      if (p->rpos != p->wpos)
        break;
      pipe_unlock(p);                      // another reader was quicker
      continue;
    }
    if (tries++ == 0) {
      sys_yield(0);                        // (see sleep_on)
      continue;
    }
    uint32 bufrefs;
    if (others(p, 1, &bufrefs) == 0) {
      __sync_synchronize();                // a last write may have come first
      if (p->rpos == p->wpos)
        return 0;                          // every writer is gone: end of file
      continue;
    }
    sleep_on(&p->wpos, seen, &p->rsleep, bufrefs);  // a write or a writer's going wakes us
  }
  uint64 avail = p->wpos - p->rpos;
  int m = avail < (uint64)n ? (int)avail : n;
  ring_copy(p, p->rpos, buf, m, 0);
  __sync_synchronize();                    // the bytes are out before the space is free
  p->rpos += m;
  unlock_wake(p, &p->rpos, &p->wsleep);    // and writers waiting for room
  return m;
  // END LAB ipc: return lab_todo("ipc", "pipe_read"), (void)p, (void)buf, (void)n, -E_NOSYS;
}

static int pipe_write(int fd, struct fdesc *f, const void *buf, int n)
{
  (void)f;
  struct pipe *p = pipe_of(fd);
  // BEGIN LAB ipc: pipe_write: copy all n bytes into the ring under the lock, sleeping (sleep_on rpos) while it is full and waking sleeping readers; writes of at most PIPEBUF bytes stay whole; -E_PIPE with no reader
  int i = 0, tries = 0;
  while (i < n) {
    uint32 bufrefs;
    if (others(p, 0, &bufrefs) == 0)
      return i ? i : -E_PIPE;              // nobody will ever read it
    pipe_lock(p);
    uint64 seen = p->rpos, room = PIPEBUF - (p->wpos - seen);
    if (room == 0 || (n <= PIPEBUF && room < (uint64)n)) {   // small writes stay whole
      pipe_unlock(p);
      if (tries++ == 0)
        sys_yield(0);                      // (see sleep_on)
      else
        sleep_on(&p->rpos, seen, &p->wsleep, bufrefs);   // a read or a reader's going wakes us
      continue;
    }
    int m = room < (uint64)(n - i) ? (int)room : n - i;
    ring_copy(p, p->wpos, (char *)buf + i, m, 1);
    __sync_synchronize();                  // the bytes are in before they count
    p->wpos += m;
    unlock_wake(p, &p->wpos, &p->rsleep);  // and readers waiting for bytes
    i += m;
  }
  return i;
  // END LAB ipc: return lab_todo("ipc", "pipe_write"), (void)p, (void)buf, (void)n, (void)ring_copy, (void)pipe_lock, (void)pipe_unlock, (void)others, (void)sleep_on, (void)unlock_wake, -E_NOSYS;
}

struct dev dev_pipe = { "pipe", pipe_read, pipe_write };
