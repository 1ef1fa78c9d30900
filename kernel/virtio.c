// Bringing up a virtio 1.x device over MMIO (virtio 1.1, section 3.1 and
// 4.2.3): what the disk and the NIC drivers share.
#include "defs.h"
#include "virtio.h"

#define F_VERSION_1 32             // feature bit: a modern device

int64 virtio_begin(uint64 base, uint32 device_id, uint32 wanted)
{
  if (*vio_reg(base, VIO_MAGIC) != 0x74726976 || *vio_reg(base, VIO_VERSION) != 2 ||
      *vio_reg(base, VIO_DEVICE_ID) != device_id)
    return -1;
  *vio_reg(base, VIO_STATUS) = 0;
  *vio_reg(base, VIO_STATUS) = VIO_ST_ACK | VIO_ST_DRIVER;
  *vio_reg(base, VIO_DEV_FSEL) = 1;
  if (!(*vio_reg(base, VIO_DEV_FEAT) & (1U << (F_VERSION_1 - 32)))) {
    virtio_fail(base);
    return -1;
  }
  *vio_reg(base, VIO_DEV_FSEL) = 0;
  uint32 got = *vio_reg(base, VIO_DEV_FEAT) & wanted;
  *vio_reg(base, VIO_DRV_FSEL) = 0;
  *vio_reg(base, VIO_DRV_FEAT) = got;
  *vio_reg(base, VIO_DRV_FSEL) = 1;
  *vio_reg(base, VIO_DRV_FEAT) = 1U << (F_VERSION_1 - 32);
  *vio_reg(base, VIO_STATUS) = VIO_ST_ACK | VIO_ST_DRIVER | VIO_ST_FEATURES_OK;
  if (!(*vio_reg(base, VIO_STATUS) & VIO_ST_FEATURES_OK)) {
    virtio_fail(base);
    return -1;
  }
  return got;
}

int virtio_queue(uint64 base, int q, int n, struct virtq *vq)
{
  *vio_reg(base, VIO_QUEUE_SEL) = q;
  if (*vio_reg(base, VIO_QUEUE_RDY) || *vio_reg(base, VIO_QUEUE_MAX) < (uint32)n)
    return -1;
  *vio_reg(base, VIO_QUEUE_NUM) = n;
  uint64 p1 = page_alloc(PG_KERNEL, 0), p2 = page_alloc(PG_KERNEL, 0), p3 = page_alloc(PG_KERNEL, 0);
  if (!p1 || !p2 || !p3)
    panic("virtio: out of memory at boot");
  vq->n = n;
  vq->desc = ppn2kva(p1);
  vq->avail = ppn2kva(p2);
  vq->used = ppn2kva(p3);
  *vio_reg(base, VIO_DESC_LO) = p1 << PGSHIFT;
  *vio_reg(base, VIO_DESC_HI) = p1 >> (32 - PGSHIFT);
  *vio_reg(base, VIO_AVAIL_LO) = p2 << PGSHIFT;
  *vio_reg(base, VIO_AVAIL_HI) = p2 >> (32 - PGSHIFT);
  *vio_reg(base, VIO_USED_LO) = p3 << PGSHIFT;
  *vio_reg(base, VIO_USED_HI) = p3 >> (32 - PGSHIFT);
  *vio_reg(base, VIO_QUEUE_RDY) = 1;
  return 0;
}

void virtio_go(uint64 base)
{
  *vio_reg(base, VIO_STATUS) = VIO_ST_ACK | VIO_ST_DRIVER | VIO_ST_FEATURES_OK | VIO_ST_DRIVER_OK;
}

void virtio_fail(uint64 base) { *vio_reg(base, VIO_STATUS) = VIO_ST_FAILED; }
