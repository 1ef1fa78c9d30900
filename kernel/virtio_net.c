// The network: a virtio-net NIC (virtio 1.x over MMIO, slot 1, PLIC source
// 2).  As with the disk, the kernel keeps the rings and the DMA and
// nothing else.  Received frames are demultiplexed by packet filters
// (netfilt.c) and copied into the receive ring of the filter's owner:
// pages the owner posted, pinned while posted.  A frame is sent from a
// page of the sender's, pinned until the NIC has read it.  Protocols
// (ARP, IP, UDP) are the library's.  Every function needs klock.
#include "defs.h"
#include "virtio.h"

#define R(off) vio_reg(VIRTIO1, off)
#define NQ       32               // entries per queue
#define NRX      NQ               // receive buffers, two per kernel page
#define RXBUF    2048
#define HDRLEN   12               // struct virtio_net_hdr (version 1)
#define RXOFF    2                // a buffer's header at +2: the frame at +14, as in a slot
#define F_MAC    (1U << 5)        // feature: the MAC address is in the config space

static struct virtq rxq, txq;
static uint8 *rxbuf[NRX];         // kernel address of buffer i
static uint16 rx_seen, tx_seen;
static uint8 txfree[NQ];
static uint8 txhdr[NQ][16];       // zero: no offloads
static struct { uint64 ppn; } txreq[NQ];   // by head descriptor
int net_present;

// Each env's receive ring (by env index; cleared when the env goes).
static struct ring {
  envid_t id;                     // the env it belongs to, 0: none
  int npages;                     // 0: no ring
  int next;                       // the slot the next frame goes to
  int notify;                     // the env claimed IRQ_NET
  uint64 ppn[NET_RINGPAGES];
} rings[NENV];

static struct ring *ring_of(struct env *e)
{
  struct ring *r = &rings[ENVX(e->id)];
  if (r->id != e->id) {           // a new env in the slot: start afresh
    memset(r, 0, sizeof *r);
    r->id = e->id;
  }
  return r;
}

static void rx_post(int i)
{
  rxq.desc[i] = (struct desc){ kpa(rxbuf[i]) + RXOFF, RXBUF - RXOFF, D_WRITE, 0 };
  virtq_push(&rxq, i);
}

void virtio_net_init(void)
{
  int64 f = virtio_begin(VIRTIO1, 1, F_MAC);
  if (f < 0)
    return;
  if (virtio_queue(VIRTIO1, 0, NQ, &rxq) < 0 || virtio_queue(VIRTIO1, 1, NQ, &txq) < 0)
    return virtio_fail(VIRTIO1);
  for (int i = 0; i < NRX; i += 2) {
    uint64 ppn = page_alloc(PG_KERNEL, 0);
    if (!ppn)
      panic("virtio-net: out of memory at boot");
    rxbuf[i] = ppn2kva(ppn);
    rxbuf[i + 1] = rxbuf[i] + RXBUF;
  }
  for (int i = 0; i < NQ; i++)
    txfree[i] = 1;
  uint64 mac = 0x563412005452UL;  // QEMU's default, 52:54:00:12:34:56
  if (f & F_MAC) {
    mac = 0;
    for (int i = 0; i < 6; i++)
      mac |= (uint64)(*(volatile uint8 *)KVA(VIRTIO1 + VIO_CONFIG + i)) << (8 * i);
  }
  syspub.net_mac = mac;
  virtio_go(VIRTIO1);
  for (int i = 0; i < NRX; i++)
    rx_post(i);
  *R(VIO_QUEUE_NTFY) = 0;
  net_present = 1;
}

// Copy a frame into e's next receive slot and tell e.  The buffer and the
// slot both hold the frame at offset 14 of an 8-aligned place, so the copy
// goes by words; the 6 bytes before the frame land on the slot's len and
// pad, which are written after.
static void deliver(envid_t id, const uint8 *buf, uint32 len)
{
  struct env *e = env_lookup(id);
  struct ring *r = e ? &rings[ENVX(id)] : 0;
  if (!r || r->id != id || !r->npages || e->status == ENV_EXITED) {
    syspub.net_ringfull++;
    return;
  }
  int s = r->next;
  struct netslot *ns = (struct netslot *)((uint8 *)ppn2kva(r->ppn[s / NET_SLOTS_PER_PAGE]) +
                                          (s % NET_SLOTS_PER_PAGE) * NET_SLOT);
  if (*(volatile uint64 *)&ns->full) {
    syspub.net_ringfull++;
    return;
  }
  memcpy((uint8 *)ns + 8, buf + 8, (len + 6 + 7) & ~7UL);
  memset(ns->frame + len, 0, 8);  // (what the word copy took past the frame: an older one's)
  ns->len = len;
  ns->pad = 0;
  __sync_synchronize();
  *(volatile uint64 *)&ns->full = 1;
  r->next = (s + 1) % (r->npages * NET_SLOTS_PER_PAGE);
  syspub.net_rx++;
  uint64 w = kpa(&ns->full);
  if (pflags[(w >> PGSHIFT) - PPN_BASE] & PF_WAITED)
    wait_wake_pa(w);
  if (r->notify) {
    irq_notify_env(e, IRQ_NET);
    wake_idle();
  }
}

// Frames the NIC has sent: their pages are unpinned, their descriptors free.
static void tx_reclaim(void)
{
  while (tx_seen != txq.used->idx) {
    __sync_synchronize();
    uint32 head = txq.used->ring[tx_seen % NQ].id;
    tx_seen++;
    if (head >= NQ || txfree[head])
      continue;
    page_unpin(txreq[head].ppn);
    txreq[head].ppn = 0;
    txfree[head] = 1;
    txfree[txq.desc[head].next % NQ] = 1;
  }
}

// The NIC interrupted: sent frames are reclaimed, received ones handed out.
void virtio_net_intr(void)
{
  if (!net_present)
    return;
  *R(VIO_INT_ACK) = *R(VIO_INT_STATUS) & 3;
  __sync_synchronize();
  tx_reclaim();
  int posted = 0;
  while (rx_seen != rxq.used->idx) {
    __sync_synchronize();
    uint32 i = rxq.used->ring[rx_seen % NQ].id, n = rxq.used->ring[rx_seen % NQ].len;
    rx_seen++;
    if (i >= NRX)
      continue;
    uint32 len = n - HDRLEN;
    if (n < HDRLEN + NET_MINFRAME || len > NET_MAXFRAME) {
      syspub.net_bad++;
    } else {
      uint64 t0 = rdinstret_k();
      envid_t id = netf_demux(rxbuf[i] + RXOFF + HDRLEN, len);
      syspub.net_demux_instret += rdinstret_k() - t0;
      if (id)
        deliver(id, rxbuf[i], len);
      else
        syspub.net_nomatch++;
    }
    rx_post(i);
    posted = 1;
  }
  if (posted)
    *R(VIO_QUEUE_NTFY) = 0;
}

// May e use the network now?  (Checked under klock: SYS_net_revoke on
// another hart cannot slip in between the check and the use.)
int net_allowed(struct env *e)
{
  if (!(e->rights & RIGHT_NET))
    return -E_PERM;
  return net_present ? 0 : -E_INVAL;
}

// The page e maps at va with perm, if e owns it (a page lent to e, or
// mapped into it by its parent, is not e's to give the NIC: the lender
// could take the mapping back while the kernel still used the page); 0 if
// not.
static uint64 own_page(struct env *e, uint64 va, uint64 perm)
{
  pte_t *p = walk(e, va, 0);
  uint64 need = PTE_V | PTE_U | perm;
  if (!p || (*p & need) != need || !page_valid(PTE_PPN(*p)))
    return 0;
  struct pagepub *pg = &pagepubs[PTE_PPN(*p) - PPN_BASE];
  return pg->kind == PG_USER && pg->owner == e->id && !(pg->flags & PGF_RELEASED) ? PTE_PPN(*p) : 0;
}

// SYS_net_ring(va, npages): frames the caller's filters take go into the
// npages pages at va (each NET_SLOTS_PER_PAGE struct netslot; the kernel
// clears their full words), replacing any earlier ring; (0, 0): no ring.
// Each page must be the caller's own RAM, mapped readable and writable; it
// is pinned while it is in the ring.
uint64 sys_net_ring(uint64 va, uint64 npages, uint64 a2, uint64 a3, uint64 a4, uint64 a5)
{
  (void)a2, (void)a3, (void)a4, (void)a5;
  struct env *e = mycpu()->env;
  if (npages > NET_RINGPAGES || (npages == 0) != (va == 0))
    return -E_INVAL;
  if ((va & (PGSIZE - 1)) || va >= UTOP || npages > (UTOP - va) / PGSIZE)
    return -E_BAD_VA;
  uint64 ppn[NET_RINGPAGES];
  acquire(&klock);
  int64 r = net_allowed(e);
  for (uint64 i = 0; r == 0 && i < npages; i++)
    if (!(ppn[i] = own_page(e, va + i * PGSIZE, PTE_R | PTE_W)))
      r = -E_FAULT;
  if (r < 0) {
    release(&klock);
    return r;
  }
  struct ring *rg = ring_of(e);
  for (int i = 0; i < rg->npages; i++)
    page_unpin(rg->ppn[i]);
  rg->npages = npages;
  rg->next = 0;
  for (uint64 i = 0; i < npages; i++) {
    rg->ppn[i] = ppn[i];
    page_pin(ppn[i]);
    for (int s = 0; s < NET_SLOTS_PER_PAGE; s++)
      ((struct netslot *)((uint8 *)ppn2kva(ppn[i]) + s * NET_SLOT))->full = 0;
  }
  release(&klock);
  return 0;
}

// SYS_net_send(va, len): hand the frame at va (len bytes, within one page
// of the caller's own that it may read) to the NIC.  The page stays pinned until the NIC
// has read it; the frame should not be changed until then (its public
// pin count falls back).  -E_BUSY when the transmit queue is full: yield
// and try again.
uint64 sys_net_send(uint64 va, uint64 len, uint64 a2, uint64 a3, uint64 a4, uint64 a5)
{
  (void)a2, (void)a3, (void)a4, (void)a5;
  struct env *e = mycpu()->env;
  if (len < NET_MINFRAME || len > NET_MAXFRAME)
    return -E_INVAL;
  if (va >= UTOP || (va & (PGSIZE - 1)) + len > PGSIZE)
    return -E_BAD_VA;
  acquire(&klock);
  int64 r = net_allowed(e);
  uint64 ppn = r ? 0 : own_page(e, va & ~(PGSIZE - 1), PTE_R);
  if (r == 0 && !ppn)
    r = -E_FAULT;
  int h = -1, d = -1;
  if (r == 0) {
    tx_reclaim();
    for (int i = 0; i < NQ && d < 0; i++)
      if (txfree[i]) {
        if (h < 0)
          h = i;
        else
          d = i;
      }
    if (d < 0)
      r = -E_BUSY;
  }
  if (r < 0) {
    release(&klock);
    return r;
  }
  txfree[h] = txfree[d] = 0;
  txreq[h].ppn = ppn;
  page_pin(ppn);
  txq.desc[h] = (struct desc){ kpa(txhdr[h]), HDRLEN, D_NEXT, d };
  txq.desc[d] = (struct desc){ (ppn << PGSHIFT) + (va & (PGSIZE - 1)), len, 0, 0 };
  virtq_push(&txq, h);
  syspub.net_tx++;
  syspub.net_tx_instret = rdinstret_k();
  *R(VIO_QUEUE_NTFY) = 1;
  release(&klock);
  return 0;
}

// SYS_irq_claim(IRQ_NET, flags): e wants IRQ_NET when a frame lands in its ring.
int net_notify_on(struct env *e)
{
  int r = net_allowed(e);
  if (r == 0)
    ring_of(e)->notify = 1;
  return r;
}

// e is going away, or is losing RIGHT_NET: its ring and filters go.  (An
// env without the right has neither: most envs pay nothing here.)
void net_env_gone(struct env *e)
{
  if (!(e->rights & RIGHT_NET))
    return;
  struct ring *r = &rings[ENVX(e->id)];
  if (r->id == e->id) {
    for (int i = 0; i < r->npages; i++)
      page_unpin(r->ppn[i]);
    memset(r, 0, sizeof *r);
  }
  netf_env_gone(e);
}

// Does e hold the network by a chain of grants from a?
static int net_granted_by(struct env *e, struct env *a)
{
  for (int n = 0; n < NENV && e && (e->rights & RIGHT_NET); n++) {
    if (e->net_from == a->id)
      return 1;
    e = env_lookup(e->net_from);
  }
  return 0;
}

// SYS_net_revoke(envid, keep): take the network away from a descendant
// (or oneself) and from every env below it: its descendants, and any env
// holding the right by a chain of grants from it (a grandchild whose
// parent exited is no longer below it in the env tree, but still is in
// the grant tree).  RIGHT_NET, filters and rings go.  With keep = 1,
// envid keeps its own.  (A walk of the env table per env: NENV times the
// depth of the trees, with interrupts off, a few hundred thousand steps
// at worst.)
uint64 sys_net_revoke(uint64 id, uint64 keep, uint64 a2, uint64 a3, uint64 a4, uint64 a5)
{
  (void)a2, (void)a3, (void)a4, (void)a5;
  struct env *e;
  if (keep > 1)
    return -E_INVAL;
  acquire(&klock);
  int64 r = env_get_any(mycpu()->env, id, &e);
  if (r == 0)
    for (int i = 0; i < NENV; i++) {
      struct env *x = &envs[i];
      if (x->status == ENV_FREE || (keep && x == e))
        continue;
      if (env_descends(x, e) || net_granted_by(x, e)) {
        net_env_gone(x);
        x->rights &= ~RIGHT_NET;
        env_publish(x);
      }
    }
  release(&klock);
  return r;
}

#ifdef KCHECK
// The pages the NIC or a ring holds pinned, one entry per pin (kcheck.c
// compares them with the pin counts).  How many, at most max.
int kcheck_net_pages(uint64 *ppns, int max)
{
  int n = 0;
  for (int i = 0; i < NQ && n < max; i++)
    if (!txfree[i] && txreq[i].ppn)
      ppns[n++] = txreq[i].ppn;
  for (int i = 0; i < NENV; i++)
    for (int j = 0; rings[i].id && j < rings[i].npages && n < max; j++)
      ppns[n++] = rings[i].ppn[j];
  return n;
}
#endif
