// virtio 1.x over MMIO: the registers and split virtqueues that the disk
// (slot 0) and the NIC (slot 1) share (virtio.c).
#ifndef VIRTIO_H
#define VIRTIO_H

#define VIO_MAGIC      0x000
#define VIO_VERSION    0x004
#define VIO_DEVICE_ID  0x008
#define VIO_DEV_FEAT   0x010
#define VIO_DEV_FSEL   0x014
#define VIO_DRV_FEAT   0x020
#define VIO_DRV_FSEL   0x024
#define VIO_QUEUE_SEL  0x030
#define VIO_QUEUE_MAX  0x034
#define VIO_QUEUE_NUM  0x038
#define VIO_QUEUE_RDY  0x044
#define VIO_QUEUE_NTFY 0x050
#define VIO_INT_STATUS 0x060
#define VIO_INT_ACK    0x064
#define VIO_STATUS     0x070
#define VIO_DESC_LO    0x080
#define VIO_DESC_HI    0x084
#define VIO_AVAIL_LO   0x090
#define VIO_AVAIL_HI   0x094
#define VIO_USED_LO    0x0a0
#define VIO_USED_HI    0x0a4
#define VIO_CONFIG     0x100

#define VIO_ST_ACK         1
#define VIO_ST_DRIVER      2
#define VIO_ST_DRIVER_OK   4
#define VIO_ST_FEATURES_OK 8
#define VIO_ST_FAILED      128

#define D_NEXT     1               // descriptor flags: another follows
#define D_WRITE    2               //   the device writes this buffer

struct desc { uint64 addr; uint32 len; uint16 flags; uint16 next; };
struct avail { uint16 flags; uint16 idx; uint16 ring[]; };
struct used_elem { uint32 id; uint32 len; };
struct used { uint16 flags; uint16 idx; struct used_elem ring[]; };

struct virtq {                     // one queue of n entries (a power of two)
  int n;
  struct desc *desc;
  volatile struct avail *avail;
  volatile struct used *used;
};

static inline volatile uint32 *vio_reg(uint64 base, uint64 off)
{
  return (volatile uint32 *)KVA(base + off);
}
// Reset the device at base and negotiate: version 1 plus the wanted
// feature bits 0..31 it offers; their intersection, or -1 if the device is
// not there (or not device_id, or not modern).  The device is left in
// FEATURES_OK; virtio_queue sets up its queues, virtio_go starts it.
int64 virtio_begin(uint64 base, uint32 device_id, uint32 wanted);
// Queue q of n entries, in three fresh kernel pages.  0, or -1.
int virtio_queue(uint64 base, int q, int n, struct virtq *vq);
void virtio_go(uint64 base);
void virtio_fail(uint64 base);
// Put chain head on q's available ring (the device is not told yet).
static inline void virtq_push(struct virtq *vq, int head)
{
  vq->avail->ring[vq->avail->idx % vq->n] = head;
  __sync_synchronize();
  vq->avail->idx++;
  __sync_synchronize();
}
#endif
