// The virtio-blk disk (virtio 1.x over MMIO, slot 0, PLIC source 1).  The
// kernel keeps the virtqueue, because DMA cannot be made safe otherwise,
// and exports 4096-byte blocks: an env reads or writes blocks between the
// disk and pages it may use, checked against its block capabilities
// (extents with rights).  Pages are pinned while the device may use them,
// so unmapping or exiting during I/O is safe and the page is not reused.
#include "defs.h"

#define R(off) ((volatile uint32 *)KVA(VIRTIO0 + (off)))
#define MAGIC      0x000
#define VERSION    0x004
#define DEVICE_ID  0x008
#define DEV_FEAT   0x010
#define DEV_FSEL   0x014
#define DRV_FEAT   0x020
#define DRV_FSEL   0x024
#define QUEUE_SEL  0x030
#define QUEUE_MAX  0x034
#define QUEUE_NUM  0x038
#define QUEUE_RDY  0x044
#define QUEUE_NTFY 0x050
#define INT_STATUS 0x060
#define INT_ACK    0x064
#define STATUS     0x070
#define DESC_LO    0x080
#define DESC_HI    0x084
#define AVAIL_LO   0x090
#define AVAIL_HI   0x094
#define USED_LO    0x0a0
#define USED_HI    0x0a4
#define CONFIG     0x100          // capacity in 512-byte sectors, 64 bits

#define ST_ACK         1
#define ST_DRIVER      2
#define ST_DRIVER_OK   4
#define ST_FEATURES_OK 8
#define F_VERSION_1    32         // feature bit: modern device

#define NDESC      64
#define NOTAG      (1UL << 63)    // never a tag (a head): a mask of tags stays positive
#define D_NEXT     1
#define D_WRITE    2              // the device writes this buffer
#define T_IN       0              // read from the disk
#define T_OUT      1              // write to the disk

struct desc { uint64 addr; uint32 len; uint16 flags; uint16 next; };
struct avail { uint16 flags; uint16 idx; uint16 ring[NDESC]; };
struct used_elem { uint32 id; uint32 len; };
struct used { uint16 flags; uint16 idx; struct used_elem ring[NDESC]; };
struct blkhdr { uint32 type; uint32 reserved; uint64 sector; };

static struct desc *desc;
static volatile struct avail *avail;
static volatile struct used *used;
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

static void init_failed(void) { *R(STATUS) = 128; }     // FAILED: we give up on it

// Find the disk and set up its queue.  No disk is not an error.
void virtio_disk_init(void)
{
  if (*R(MAGIC) != 0x74726976 || *R(VERSION) != 2 || *R(DEVICE_ID) != 2)
    return;
  *R(STATUS) = 0;
  *R(STATUS) = ST_ACK | ST_DRIVER;
  *R(DEV_FSEL) = 1;
  if (!(*R(DEV_FEAT) & (1U << (F_VERSION_1 - 32))))
    return init_failed();
  *R(DRV_FSEL) = 0;
  *R(DRV_FEAT) = 0;
  *R(DRV_FSEL) = 1;
  *R(DRV_FEAT) = 1U << (F_VERSION_1 - 32);
  *R(STATUS) = ST_ACK | ST_DRIVER | ST_FEATURES_OK;
  if (!(*R(STATUS) & ST_FEATURES_OK))
    return init_failed();
  *R(QUEUE_SEL) = 0;
  if (*R(QUEUE_RDY) || *R(QUEUE_MAX) < NDESC)
    return init_failed();
  *R(QUEUE_NUM) = NDESC;
  uint64 p1 = page_alloc(PG_KERNEL, 0), p2 = page_alloc(PG_KERNEL, 0), p3 = page_alloc(PG_KERNEL, 0);
  if (!p1 || !p2 || !p3)
    panic("virtio: out of memory at boot");
  desc = ppn2kva(p1);
  avail = ppn2kva(p2);
  used = ppn2kva(p3);
  *R(DESC_LO) = pa(desc);
  *R(DESC_HI) = pa(desc) >> 32;
  *R(AVAIL_LO) = pa((const void *)avail);
  *R(AVAIL_HI) = pa((const void *)avail) >> 32;
  *R(USED_LO) = pa((const void *)used);
  *R(USED_HI) = pa((const void *)used) >> 32;
  *R(QUEUE_RDY) = 1;
  for (int i = 0; i < NDESC; i++)
    freed[i] = 1;
  *R(STATUS) = ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK;
  disk_blocks = (*R(CONFIG) | ((uint64) * R(CONFIG + 4) << 32)) / (PGSIZE / 512);
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
  desc[d[0]] = (struct desc){ pa(&r->hdr), sizeof r->hdr, D_NEXT, d[1] };
  for (uint64 i = 0; i < n; i++) {
    r->ppn[i] = ppn[i];
    page_pin(ppn[i]);                // pinned until the device is done
    desc[d[i + 1]] = (struct desc){ ppn[i] << PGSHIFT, PGSIZE,
                                    D_NEXT | (op == BLK_READ ? D_WRITE : 0), d[i + 2] };
  }
  desc[d[n + 1]] = (struct desc){ pa((const void *)&r->status), 1, D_WRITE, 0 };
  avail->ring[avail->idx % NDESC] = head;
  __sync_synchronize();
  avail->idx++;
  __sync_synchronize();
  *R(QUEUE_NTFY) = 0;
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
  *R(INT_ACK) = *R(INT_STATUS) & 3;
  __sync_synchronize();
  while (used_seen != used->idx) {
    __sync_synchronize();            // the index before the entries it covers
    uint32 head = used->ring[used_seen % NDESC].id;
    used_seen++;
    if (head >= NDESC || !reqs[head].e)
      continue;                      // not a request of ours
    struct req *r = &reqs[head];
    for (int i = 0; i < r->n; i++)
      page_unpin(r->ppn[i]);         // (freed if nobody else holds it)
    for (int i = head, more = 1; more; i = desc[i].next) {
      more = desc[i].flags & D_NEXT;
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
