// The virtio-blk disk (virtio 1.x over MMIO, slot 0, PLIC source 1).  The
// kernel keeps the virtqueue, because DMA cannot be made safe otherwise,
// and exports 4096-byte blocks: an env reads or writes blocks between the
// disk and pages it may use, checked against its block capabilities
// (extents with rights).  Pages are pinned while the device may use them,
// so unmapping or exiting during I/O is safe and the page is not reused.
#include "defs.h"
#include "virtio.h"

#define R(off) vio_reg(VIRTIO0, off)

#define NDESC      64
#define NOTAG      (1UL << 63)    // never a tag (a head): a mask of tags stays positive
#define T_IN       0              // read from the disk
#define T_OUT      1              // write to the disk

struct blkhdr { uint32 type; uint32 reserved; uint64 sector; };

static struct virtq vq;
static uint8 freed[NDESC];
static uint16 used_seen;
static struct req {               // one in-flight request, by head descriptor
  struct env *e;
  envid_t id;
  uint64 ppn[BLK_MAXPAGES];
  int n;
  int async;                      // the env does not wait in blk_io
  struct blkhdr hdr;
  volatile uint8 status;
} reqs[NDESC];
uint64 disk_blocks;               // 0 when there is no disk

static uint64 pa(const void *p) { return kpa(p); }

// Find the disk and set up its queue.  No disk is not an error.
void virtio_disk_init(void)
{
  if (virtio_begin(VIRTIO0, 2, 0) < 0)
    return;
  if (virtio_queue(VIRTIO0, 0, NDESC, &vq) < 0)
    return virtio_fail(VIRTIO0);
  for (int i = 0; i < NDESC; i++)
    freed[i] = 1;
  virtio_go(VIRTIO0);
  disk_blocks = (*R(VIO_CONFIG) | ((uint64) * R(VIO_CONFIG + 4) << 32)) / (PGSIZE / 512);
  syspub.disk_blocks = disk_blocks;
}

// A free descriptor whose number is not in avoid (tags the env has not
// collected yet must not be reused), or -1.
static int alloc_desc(uint64 avoid)
{
  for (int i = 0; i < NDESC; i++)
    if (freed[i] && !(avoid & (1UL << i))) {
      freed[i] = 0;
      return i;
    }
  return -1;
}

// SYS_blk_io(op, block, va, n): read (op BLK_READ) or write n blocks
// between the disk and the caller's pages at va.  Waits for the device,
// unless op has BLK_ASYNC: then it returns the request's tag at once.
// Called from slow_syscall with klock held; returns only to resume e.
void blk_io(struct env *e)
{
  struct trapframe *tf = &e->tf;
  uint64 op = tf->a0 & ~(uint64)BLK_ASYNC, block = tf->a1, va = tf->a2, n = tf->a3;
  int async = (tf->a0 & BLK_ASYNC) != 0;
  int64 err = 0;
  if (!disk_blocks)
    err = -E_INVAL;
  else if ((op != BLK_READ && op != BLK_WRITE) || n == 0 || n > BLK_MAXPAGES)
    err = -E_INVAL;
  else if (block >= disk_blocks || n > disk_blocks - block)
    err = -E_BAD_BLOCK;
  else if (!blkcap_covers(e, block, n, op == BLK_READ ? BLK_R : BLK_W))
    err = -E_PERM;
  else if ((va & (PGSIZE - 1)) || va >= UTOP || n > (UTOP - va) / PGSIZE)
    err = -E_BAD_VA;
  uint64 ppn[BLK_MAXPAGES];
  for (uint64 i = 0; !err && i < n; i++) {
    pte_t *p = walk(e, va + i * PGSIZE, 0);
    uint64 need = PTE_V | PTE_U | (op == BLK_READ ? PTE_W : PTE_R);
    if (!p || (*p & need) != need || !page_valid(PTE_PPN(*p)))
      err = -E_FAULT;
    else
      ppn[i] = PTE_PPN(*p);
  }
  int head = -1, d[BLK_MAXPAGES + 2];
  for (uint64 i = 0; !err && i < n + 2; i++)
    if ((d[i] = alloc_desc(i == 0 ? e->io_busy | e->io_done | NOTAG : 0)) < 0) {
      for (uint64 j = 0; j < i; j++)
        freed[d[j]] = 1;
      err = -E_BUSY;                 // the queue is full: try again
    }
  if (err) {
    tf->a0 = err;
    return;
  }
  head = d[0];
  struct req *r = &reqs[head];
  r->e = e;
  r->id = e->id;
  r->n = n;
  r->hdr = (struct blkhdr){ op == BLK_READ ? T_IN : T_OUT, 0, block * (PGSIZE / 512) };
  r->status = 0xff;
  vq.desc[d[0]] = (struct desc){ pa(&r->hdr), sizeof r->hdr, D_NEXT, d[1] };
  for (uint64 i = 0; i < n; i++) {
    r->ppn[i] = ppn[i];
    page_pin(ppn[i]);                // pinned until the device is done
    vq.desc[d[i + 1]] = (struct desc){ ppn[i] << PGSHIFT, PGSIZE,
                                    D_NEXT | (op == BLK_READ ? D_WRITE : 0), d[i + 2] };
  }
  vq.desc[d[n + 1]] = (struct desc){ pa((const void *)&r->status), 1, D_WRITE, 0 };
  virtq_push(&vq, head);
  *R(VIO_QUEUE_NTFY) = 0;
  r->async = async;
  if (async) {
    e->io_busy |= 1UL << head;
    tf->a0 = head;                   // the tag
    return;
  }
  e->io_wait = 0;
  e->ipc = IPC_IO;                   // blocked until the completion interrupt
  schedule();
}

// Collect e's finished asynchronous requests in mask: their tags in a0
// (tags are 0..62, so the mask is positive and never reads as an error),
// those that failed in a1.  0 if none of them has finished.
static int collect(struct env *e, uint64 mask)
{
  uint64 done = e->io_done & mask;
  if (!done)
    return 0;
  e->tf.a0 = done;
  e->tf.a1 = e->io_err & done;
  e->io_done &= ~done;
  e->io_err &= ~done;
  return 1;
}

// SYS_blk_wait(tags): wait until one of the asynchronous requests in the
// mask (0: any) has finished; return the finished ones (a1: those that
// failed) and forget them.  -E_INVAL if none of them is outstanding.
void blk_wait(struct env *e)
{
  uint64 mask = e->tf.a0 ? e->tf.a0 : ~0UL;
  if (collect(e, mask))
    return;
  if (!(e->io_busy & mask)) {
    e->tf.a0 = -E_INVAL;
    return;
  }
  e->io_wait = mask;
  e->ipc = IPC_IO;
  schedule();
}

// The disk interrupted: finish every completed request.  Needs klock.
void virtio_disk_intr(void)
{
  if (!disk_blocks)
    return;
  *R(VIO_INT_ACK) = *R(VIO_INT_STATUS) & 3;
  __sync_synchronize();
  while (used_seen != vq.used->idx) {
    __sync_synchronize();            // the index before the entries it covers
    uint32 head = vq.used->ring[used_seen % NDESC].id;
    used_seen++;
    if (head >= NDESC || !reqs[head].e)
      continue;                      // not a request of ours
    struct req *r = &reqs[head];
    for (int i = 0; i < r->n; i++)
      page_unpin(r->ppn[i]);         // (freed if nobody else holds it)
    for (int i = head, more = 1; more; i = vq.desc[i].next) {
      more = vq.desc[i].flags & D_NEXT;
      freed[i] = 1;
    }
    struct env *e = env_lookup(r->id);
    uint64 bit = 1UL << head;
    if (e && e == r->e && r->async) {
      e->io_busy &= ~bit;
      e->io_done |= bit;
      if (r->status != 0)
        e->io_err |= bit;
      if (e->disk_notify)
        irq_notify_env(e, IRQ_DISK);
      if (e->ipc == IPC_IO && (e->io_wait & bit)) {
        collect(e, e->io_wait);      // it (and any others finished)
        e->ipc = IPC_NONE;
        wake_idle();
      }
    } else if (e && e == r->e && e->ipc == IPC_IO && !e->io_wait) {
      e->tf.a0 = r->status == 0 ? 0 : -E_IO;
      e->ipc = IPC_NONE;
      wake_idle();
    }
    r->e = 0;
  }
}

#ifdef KCHECK
// The pages of every request the device still has, one entry per page per
// request (kcheck.c compares them with the pins).  How many, at most max.
int kcheck_disk_pages(uint64 *ppns, int max)
{
  int n = 0;
  for (int i = 0; i < NDESC; i++)
    for (int j = 0; reqs[i].e && j < reqs[i].n && n < max; j++)
      ppns[n++] = reqs[i].ppn[j];
  return n;
}
#endif
