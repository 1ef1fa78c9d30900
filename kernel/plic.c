// Interrupts and device registers exported to envs.  An env holding a
// device's right may map its registers and claim its PLIC source.  When the
// source fires, the kernel claims it at the PLIC, leaves it claimed (so it
// stays masked), and tells the owner through PCT (sender 0).  The owner
// services the device and calls SYS_irq_ack; only then is the source
// completed and able to fire again.  The kernel's own devices (PLIC,
// virtio, CLINT) are not in the device table: never mappable or claimable.
#include "defs.h"

#define NIRQ 32
#define PLIC_PRIORITY(s)  (PLIC + 4 * (s))
#define PLIC_SCTX(h)      (2 * (h) + 1)                 // hart h's S-mode context
#define PLIC_ENABLE(h)    (PLIC + 0x2000 + 0x80 * PLIC_SCTX(h))
#define PLIC_THRESHOLD(h) (PLIC + 0x200000 + 0x1000 * PLIC_SCTX(h))
#define PLIC_CLAIM(h)     (PLIC_THRESHOLD(h) + 4)

static volatile uint32 *reg(uint64 pa) { return (volatile uint32 *)KVA(pa); }

static const struct device {
  uint32 right;                  // RIGHT_* needed
  uint64 pa;                     // its registers: one page
  int irq;                       // its PLIC source
} devices[] = {
  [DEV_UART] = { RIGHT_UART, UART0, IRQ_UART },
};
#define NDEV ((int)(sizeof devices / sizeof devices[0]))

static struct {
  envid_t owner;                 // 0: unclaimed
  int hart;                      // hart that claimed it at the PLIC, or -1
} irqs[NIRQ];

void plicinit(void)
{
  for (int i = 0; i < NIRQ; i++)
    irqs[i].hart = -1;
}

// This hart takes every enabled source (threshold 0) in S mode.
void plicinit_hart(void)
{
  int h = mycpu()->hartid;
  *reg(PLIC_THRESHOLD(h)) = 0;
  acquire(&klock);                          // sources claimed before we started
  for (int i = 0; i < NIRQ; i++)
    if (irqs[i].owner)
      reg(PLIC_ENABLE(h))[i / 32] |= 1U << (i % 32);
  if (disk_blocks) {                        // the kernel's own: the disk
    *reg(PLIC_PRIORITY(VIRTIO_IRQ)) = 1;
    reg(PLIC_ENABLE(h))[0] |= 1U << VIRTIO_IRQ;
  }
  if (net_present) {                        // and the NIC
    *reg(PLIC_PRIORITY(NET_IRQ)) = 1;
    reg(PLIC_ENABLE(h))[0] |= 1U << NET_IRQ;
  }
  release(&klock);
  CSR_SET(sie, SIE_SEIE);
}

static const struct device *device_for_irq(uint64 irq)
{
  for (int i = 0; i < NDEV; i++)
    if ((uint64)devices[i].irq == irq)
      return &devices[i];
  return 0;
}

static void irq_enable(int irq, int on)
{
  for (int h = 0; h < NCPU; h++)
    if (cpus[h].started) {
      volatile uint32 *en = reg(PLIC_ENABLE(h)) + irq / 32;
      *en = on ? *en | (1U << (irq % 32)) : *en & ~(1U << (irq % 32));
    }
  *reg(PLIC_PRIORITY(irq)) = on ? 1 : 0;
}

static void irq_complete(int irq)
{
  if (irqs[irq].hart >= 0) {
    *reg(PLIC_CLAIM(irqs[irq].hart)) = irq;
    irqs[irq].hart = -1;
  }
}

// SYS_irq_claim(irq): the caller becomes the owner of a device's source.
uint64 sys_irq_claim(uint64 irq, uint64 flags, uint64 a2, uint64 a3, uint64 a4, uint64 a5)
{
  (void)a2, (void)a3, (void)a4, (void)a5;
  struct env *e = mycpu()->env;
  const struct device *d = device_for_irq(irq);
  int64 r = 0;
  if ((irq == IRQ_CHILD || irq == IRQ_DISK || irq == IRQ_NET) && (flags & ~(uint64)IRQ_UPCALL) == 0) {
    acquire(&klock);                       // events about the caller itself:
    if (irq == IRQ_CHILD)                  // no device is claimed
      e->child_notify = 1;
    else if (irq == IRQ_DISK)
      e->disk_notify = 1;
    else
      r = net_notify_on(e);                // (E_PERM without RIGHT_NET)
    if (r == 0)
      e->irq_upcall = flags & IRQ_UPCALL;
    release(&klock);
    return r;
  }
  if (!d || (flags & ~(uint64)IRQ_UPCALL))
    return -E_INVAL;
  acquire(&klock);
  struct env *o = irqs[irq].owner ? env_lookup(irqs[irq].owner) : 0;
  if (!(e->rights & d->right))
    r = -E_PERM;
  else if (o && o != e && o->status != ENV_EXITED)
    r = -E_BUSY;
  else {
    irqs[irq].owner = e->id;
    e->irq_owner = 1;
    e->irq_upcall = flags & IRQ_UPCALL;
    irq_enable(irq, 1);
  }
  release(&klock);
  return r;
}

// SYS_irq_ack(irq): the owner has serviced the device: complete the
// source at the PLIC so it can interrupt again.
uint64 sys_irq_ack(uint64 irq, uint64 a1, uint64 a2, uint64 a3, uint64 a4, uint64 a5)
{
  (void)a1, (void)a2, (void)a3, (void)a4, (void)a5;
  struct env *e = mycpu()->env;
  int64 r = 0;
  if (irq >= NIRQ)
    return -E_INVAL;
  if (irq == IRQ_CHILD || irq == IRQ_DISK || irq == IRQ_NET)
    return 0;                              // nothing to complete
  acquire(&klock);
  if (irqs[irq].owner != e->id)
    r = -E_PERM;
  else
    irq_complete(irq);
  release(&klock);
  return r;
}

// SYS_dev_map(dev, va): map a device's registers (read/write, never
// executable) at va in the caller, which must hold the device's right.
uint64 sys_dev_map(uint64 dev, uint64 va, uint64 a2, uint64 a3, uint64 a4, uint64 a5)
{
  (void)a2, (void)a3, (void)a4, (void)a5;
  struct env *e = mycpu()->env;
  int64 r;
  if (dev >= (uint64)NDEV)
    return -E_INVAL;
  if ((va & (PGSIZE - 1)) || va >= UTOP)
    return -E_BAD_VA;
  if (!(e->rights & devices[dev].right))
    return -E_PERM;
  acquire(&klock);
  r = pte_store(e, va, PPN_PTE(devices[dev].pa >> PGSHIFT, PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D));
  release(&klock);
  return r;
}

// An external interrupt on this hart: claim it and tell its owner.  Returns
// the owner if it is now runnable (the caller may switch to it).  Needs
// klock.
struct env *plic_intr(void)
{
  int h = mycpu()->hartid;
  uint32 irq = *reg(PLIC_CLAIM(h));
  if (irq == 0 || irq >= NIRQ)
    return 0;
  if (irq == VIRTIO_IRQ) {                 // the kernel's disk
    virtio_disk_intr();
    *reg(PLIC_CLAIM(h)) = irq;
    return 0;
  }
  if (irq == NET_IRQ) {                    // and its NIC
    syspub.irq_instret = mycpu()->stamp;
    syspub.irq_hart = h;
    virtio_net_intr();
    *reg(PLIC_CLAIM(h)) = irq;
    syspub.net_rx_instret += rdinstret_k() - mycpu()->stamp;
    return 0;
  }
  syspub.irq_instret = mycpu()->stamp;
  syspub.irq_hart = h;
  irqs[irq].hart = h;
  struct env *o = irqs[irq].owner ? env_lookup(irqs[irq].owner) : 0;
  if (!o || o->status == ENV_EXITED) {
    irq_complete(irq);                     // nobody to service it (complete
    irq_enable(irq, 0);                    // first: a disabled source ignores it)
    return 0;
  }
  irq_notify_env(o, irq);
  return o->ipc == IPC_NONE && o->status == ENV_RUNNABLE && o->hart < 0 && !o->dying ? o : 0;
}

// Tell e that interrupt irq happened: a pending bit (so nothing is lost
// while e is busy), delivered as a PCT message (sender 0) if e waits in
// pct_recv, else as an upcall if e asked for those.  Needs klock.
void irq_notify_env(struct env *e, int irq)
{
  e->irq_notify |= 1U << irq;
  pct_notify(e);
  if (e->irq_notify && e->irq_upcall && e->upcall) {
    wait_cancel(e);                        // (asleep in mwait: it wakes)
    e->upcall_pending = 1;                 // delivered when it next resumes:
    if (e->hart >= 0 && e->hart != mycpu()->hartid)
      sbi_send_ipi(1UL << e->hart);        // make it trap if it runs elsewhere
  }
}

// A child of p exited: count it in p's public record (waking whoever
// waits on that word) and tell p, if it asked, as interrupt IRQ_CHILD.
void child_exited(struct env *p)
{
  if (!p)
    return;
  uint64 *w = (uint64 *)&envpubs[ENVX(p->id)].child_exits;
  (*w)++;
  if (pflags[(kpa(w) >> PGSHIFT) - PPN_BASE] & PF_WAITED)
    wait_page_event(kpa(w) >> PGSHIFT);
  if (!p->child_notify || p->status == ENV_EXITED)
    return;
  irq_notify_env(p, IRQ_CHILD);
  wake_idle();
}

// e is going away: its sources are disabled and completed.
void irq_env_gone(struct env *e)
{
  if (!e->irq_owner)
    return;                                // it never claimed a device's source
  for (int i = 0; i < NIRQ; i++)
    if (irqs[i].owner == e->id) {
      irq_complete(i);
      irq_enable(i, 0);
      irqs[i].owner = 0;
    }
}
