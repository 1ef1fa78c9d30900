// netkern: tests of the kernel's network calls (SYS_net_filter, _ring,
// _send, _revoke) made with raw system calls, no library stack.  The
// grader (grade/test_net.py) boots it with a NIC and drives it:
//
//   netkern recv PORT N [quiet]  take UDP frames for PORT (IPv4, no
//                                options) into a ring and print each one:
//                                "frame LEN CRC" (CRC-32 of its bytes);
//                                quiet prints only the "sync" lines.  A
//                                frame whose UDP payload starts "SYNC"
//                                prints a sync line, "STOP" ends, and so
//                                does the N-th frame (N 0: no limit)
//   netkern send                 bad sends refused; good ones printed
//                                "sent LEN CRC" for the host to compare
//   netkern steal                filter checks and who may take whose frames
//   netkern ring                 bad rings refused; slots, wrap, IRQ_NET; a
//                                ring page freed while posted
//   netkern norights             no RIGHT_NET, no network; net_revoke
//   netkern kill                 killing an env that has a ring, frames
//                                arriving and frames in flight loses no page
//   netkern stats                the kernel's counters
//
// steal, ring, norights and kill send frames to themselves: they want the
// loopback NIC (the grader's net="loop", make qemu NETPORT=loop).
#include "lib.h"

#define RINGVA   0x20000000UL             // receive rings
#define RINGVA2  0x20100000UL
#define RINGVA3  0x20200000UL
#define SHVA     0x21000000UL             // a page shared with children
#define TXVA     0x22000000UL             // frames to send: 32 buffers of 2 KiB
#define SCRATCH  0x23000000UL             // pages for the bad cases
#define KERNADDR 0xFFFFFFC080200000UL     // the kernel image, in the kernel's map
#define NTXBUF   32

#define PORT_UDP(f) ((f)[36] << 8 | (f)[37])

static uint8 mymac[6];
static uint32 crctab[256];
static int ntx;                           // frames sent (picks the next buffer)

// ---- helpers ----

static void crc_init(void)
{
  for (uint32 i = 0; i < 256; i++) {
    uint32 c = i;
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    crctab[i] = c;
  }
}

// CRC-32 as zlib computes it (grade/net.py's crc), continuing from c.
static uint32 crc32(uint32 c, const uint8 *p, uint64 n)
{
  c = ~c;
  while (n--)
    c = crctab[(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}

static uint64 secs(int s) { return rdtime() + s * usys->timebase; }

static void must(int64 r, const char *what)
{
  if (r < 0) {
    printf("%s: FAIL: %s: %s\n", progname, what, errstr(r));
    exit(1);
  }
}

// A UDP filter: IPv4 without options, protocol 17, destination port.
static void filter_udp(struct netfilter *f, int port)
{
  memset(f, 0, sizeof *f);
  f->ntests = 4;
  f->t[0] = (struct nettest){ 12, 2, 0, 0xFFFF, 0x0800 };
  f->t[1] = (struct nettest){ 14, 1, 0, 0xFF, 0x45 };
  f->t[2] = (struct nettest){ 23, 1, 0, 0xFF, 17 };
  f->t[3] = (struct nettest){ 36, 2, 0, 0xFFFF, port };
}

static int add_udp(int port)
{
  struct netfilter f;
  filter_udp(&f, port);
  return sys_net_filter(NETF_ADD, (uint64)&f);
}

static int add(struct netfilter *f) { return sys_net_filter(NETF_ADD, (uint64)f); }

// Map n fresh pages at va and post them as my ring.
// (Shared with children I fork, not copy-on-write: a ring page must stay
// the page the kernel writes into.)
static int ring_make(uint64 va, int n)
{
  for (int i = 0; i < n; i++)
    if (page_map(va + i * PGSIZE, PTE_R | PTE_W | PTE_SHARE) < 0)
      return -E_NO_MEM;
  return sys_net_ring((void *)va, n);
}

static void unmap_range(uint64 va, int n)
{
  for (int i = 0; i < n; i++)
    page_unmap(va + i * PGSIZE);
}

static volatile struct netslot *slot_at(uint64 va, int i)
{
  return (volatile struct netslot *)(va + (i / NET_SLOTS_PER_PAGE) * PGSIZE +
                                     (i % NET_SLOTS_PER_PAGE) * NET_SLOT);
}

// A receive ring as I read it: slots in order from 0.
struct ring {
  uint64 va;
  int nslots, next;
};

// The next slot once it is full, or 0 after `timeout` seconds.
static volatile struct netslot *ring_wait(struct ring *r, int timeout)
{
  volatile struct netslot *s = slot_at(r->va, r->next);
  uint64 deadline = secs(timeout);
  while (!s->full) {
    if (rdtime() >= deadline)
      return 0;
    sys_mwait(&s->full, 0, deadline);
  }
  __sync_synchronize();
  return s;
}

// Give the slot back (zeroed, so stale bytes cannot pass for the kernel's).
static void ring_done(struct ring *r, volatile struct netslot *s)
{
  memset((void *)s->frame, 0, s->len + 8 <= sizeof s->frame ? s->len + 8 : sizeof s->frame);
  s->len = 0;
  __sync_synchronize();
  s->full = 0;
  r->next = (r->next + 1) % r->nslots;
}

// Empty the ring without waiting; how many frames it held.
static int ring_drain(struct ring *r)
{
  int n = 0;
  volatile struct netslot *s;
  while ((s = slot_at(r->va, r->next))->full) {
    __sync_synchronize();
    ring_done(r, s);
    n++;
  }
  return n;
}

// A UDP datagram to PORT from me to me (the loopback NIC returns it):
// paylen bytes of payload that start with tag.  Its length.
static int build_udp(uint8 *f, int port, int paylen, uint32 tag)
{
  for (int i = 0; i < 6; i++)
    f[i] = f[6 + i] = mymac[i];
  f[12] = 0x08, f[13] = 0x00;
  uint8 *ip = f + 14, *u = f + 34;
  int total = 28 + paylen;
  memset(ip, 0, 28);
  ip[0] = 0x45, ip[2] = total >> 8, ip[3] = total, ip[8] = 64, ip[9] = 17;
  ip[12] = 10, ip[13] = 0, ip[14] = 2, ip[15] = 15;
  memcpy(ip + 16, ip + 12, 4);
  u[0] = 1234 >> 8, u[1] = 1234 & 0xFF, u[2] = port >> 8, u[3] = port;
  u[4] = (8 + paylen) >> 8, u[5] = 8 + paylen;
  for (int i = 0; i < paylen; i++)
    u[8 + i] = i < 4 ? tag >> (24 - 8 * i) : (uint8)(tag * 31 + i);
  return 42 + paylen;
}

// Send a frame, waiting while the transmit queue is full.
static int send_frame(const void *f, uint64 len)
{
  int r;
  uint64 deadline = secs(5);
  while ((r = sys_net_send(f, len)) == -E_BUSY && rdtime() < deadline)
    sys_yield(0);
  return r;
}

// A transmit buffer nobody has used for the last NTXBUF frames (the NIC
// holds at most 16 at once and sends them in order, so the frame that was
// in this one has gone).
static uint8 *txbuf(void) { return (uint8 *)(TXVA + (ntx++ % NTXBUF) * 2048); }

// Send a UDP frame to port (to myself, on the loopback NIC).
static int send_udp(int port, int paylen, uint32 tag)
{
  uint8 *f = txbuf();
  return send_frame(f, build_udp(f, port, paylen, tag));
}

struct counters {
  uint64 rx, tx, nomatch, ringfull, bad;
};

static void counters(struct counters *c)
{
  c->rx = usys->net_rx;
  c->tx = usys->net_tx;
  c->nomatch = usys->net_nomatch;
  c->ringfull = usys->net_ringfull;
  c->bad = usys->net_bad;
}

static uint64 frames_seen(void)
{
  return usys->net_rx + usys->net_nomatch + usys->net_ringfull + usys->net_bad;
}

// Wait until the NIC has been quiet (no frame counted) for 100 ms, at
// most 5 s: the loopback NIC's frames have all come back.
static void settle(void)
{
  uint64 end = secs(5), last = frames_seen(), since = rdtime();
  while (rdtime() < end) {
    sys_yield(0);
    uint64 now = frames_seen();
    if (now != last) {
      last = now;
      since = rdtime();
    } else if (rdtime() - since > usys->timebase / 10) {
      return;
    }
  }
}

// Wait (5 s at most) until the counters have moved by at least want.
static int wait_counts(const struct counters *base, uint64 rx, uint64 nomatch, uint64 ringfull)
{
  uint64 end = secs(5);
  while (rdtime() < end) {
    if (usys->net_rx - base->rx >= rx && usys->net_nomatch - base->nomatch >= nomatch &&
        usys->net_ringfull - base->ringfull >= ringfull)
      return 1;
    sys_yield(0);
  }
  return 0;
}

// Exactly these counter deltas since base (after the NIC settles)?
static int deltas(const char *what, const struct counters *base, uint64 rx, uint64 nomatch,
                  uint64 ringfull)
{
  wait_counts(base, rx, nomatch, ringfull);
  settle();
  struct counters c;
  counters(&c);
  return check(c.rx - base->rx == rx && c.nomatch - base->nomatch == nomatch &&
                 c.ringfull - base->ringfull == ringfull && c.bad == base->bad,
               "%s: counters moved rx +%lu nomatch +%lu ringfull +%lu bad +%lu, expected +%lu +%lu "
               "+%lu +0", what, c.rx - base->rx, c.nomatch - base->nomatch,
               c.ringfull - base->ringfull, c.bad - base->bad, rx, nomatch, ringfull);
}

static void print_stats(const char *when)
{
  struct counters c;
  counters(&c);
  printf("%s: stats%s rx=%lu tx=%lu nomatch=%lu ringfull=%lu bad=%lu\n", progname, when, c.rx,
         c.tx, c.nomatch, c.ringfull, c.bad);
}

// ---- children and the page they share with me ----

struct shared {
  volatile uint64 step;                   // how far the parent has got
  volatile uint64 ready[4];               // how far each child has got
  volatile int64 fid[4];                  // filters the children installed
  volatile uint64 got[4];                 // frames the children received
  volatile uint64 id[4];                  // the children's own children
  volatile uint64 ppn[4][NET_RINGPAGES];  // their ring pages
  volatile uint64 ask[4], done[4];        // requests to servants (steal_order), answered
  volatile int64 op[4], arg[4], res[4];
  struct netfilter req[4];
};
#define SH ((struct shared *)SHVA)

static void shared_init(void)
{
  must(page_map(SHVA, PTE_R | PTE_W | PTE_SHARE), "map the shared page");
  memset((void *)SHVA, 0, PGSIZE);
}

// Wait (10 s at most) until *w reaches want.
static int await(volatile uint64 *w, uint64 want, const char *what)
{
  uint64 end = secs(10);
  while (*w < want) {
    if (rdtime() >= end)
      return check(0, "timed out waiting for %s (%lu, want %lu)", what, *w, want);
    sys_yield(0);
  }
  return 1;
}

// In a child: wait for the parent to grant RIGHT_NET.
static void await_right(void)
{
  uint64 end = secs(10);
  while (!(thisenv->rights & RIGHT_NET)) {
    if (rdtime() >= end) {
      check(0, "RIGHT_NET never came");
      exit(1);
    }
    sys_yield(0);
  }
}

static int fail_base;                     // failures my parent had when it forked me

// fork, for a child that ends with child_exit().
static envid_t child(void)
{
  envid_t c = fork();
  must(c, "fork");
  if (c == 0)
    fail_base = check_failures();
  return c;
}

static void child_exit(void) { exit(check_failures() - fail_base); }

static envid_t child_with_net(void)
{
  envid_t c = child();
  if (c > 0)
    must(sys_env_grant(c, RIGHT_NET), "grant RIGHT_NET");
  else
    await_right();
  return c;
}

static void reap(envid_t c, const char *what)
{
  int status = -1;
  check(waitenv(c, &status) == c, "%s: waitenv", what);
  check(status == 0, "%s: exit status %d", what, status);
}

// A child's loop: count the frames that reach its ring r into SH->got[i]
// until SH->step reaches until.
static void child_count(int i, struct ring *r, uint64 until)
{
  while (SH->step < until) {
    int n = ring_drain(r);
    if (n)
      SH->got[i] += n;
    else
      sys_yield(0);
  }
}

// ---- recv ----

static int cmd_recv(int port, int limit, int quiet)
{
  struct census_mark mark;
  census_mark(&mark);
  int fid = add_udp(port);
  must(fid, "install the filter");
  must(ring_make(RINGVA, NET_RINGPAGES), "post the ring");
  struct ring r = { RINGVA, NET_RINGPAGES * NET_SLOTS_PER_PAGE, 0 };
  printf("%s: recv ready port %d filter %d\n", progname, port, fid);
  print_stats(" before");
  uint64 frames = 0, bytes = 0, leaks = 0, seqerr = 0;
  int64 lastseq = -1;
  uint32 all = 0, since = 0;
  uint64 nsince = 0;
  struct counters end;
  for (;;) {
    volatile struct netslot *s = ring_wait(&r, 60);
    if (!s) {
      check(0, "recv: no frame for 60 s (%lu so far)", frames);
      counters(&end);
      break;
    }
    uint32 len = s->len;
    const uint8 *f = (const uint8 *)s->frame;
    if (!check(len >= NET_MINFRAME && len <= NET_MAXFRAME, "recv: slot length %u", len)) {
      counters(&end);
      break;
    }
    // the kernel copies by words: nothing of its buffer may show past the frame
    for (uint32 i = len; i < ((len + 6 + 7) & ~7U) - 6; i++)
      if (f[i])
        leaks++;
    uint32 c = crc32(0, f, len);
    all = crc32(all, f, len);
    since = crc32(since, f, len);
    frames++, nsince++, bytes += len;
    if (!quiet)
      printf("frame %u %08x\n", len, c);
    const uint8 *p = f + 42;
    int plen = len >= 42 ? len - 42 : 0, stop = 0;
    if (plen >= 4 && !memcmp(p, "SYNC", 4)) {
      char tag[25];
      int n = 0;
      while (n < plen && n < 24 && p[n] > ' ' && p[n] < 127) {
        tag[n] = p[n];
        n++;
      }
      tag[n] = 0;
      printf("%s: sync %s frames=%lu crc=%08x\n", progname, tag, nsince, since);
      nsince = 0, since = 0;
    } else if (plen >= 4 && !memcmp(p, "STOP", 4)) {
      stop = 1;
    } else if (plen >= 8 && !memcmp(p, "SEQ:", 4)) {
      int64 seq = (int64)p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7];
      if (seq <= lastseq)
        seqerr++;
      lastseq = seq;
    }
    ring_done(&r, s);
    if (stop || (limit > 0 && frames == (uint64)limit)) {
      counters(&end);
      break;
    }
  }
  printf("%s: recv done frames=%lu bytes=%lu crc=%08x\n", progname, frames, bytes, all);
  printf("%s: stats after rx=%lu tx=%lu nomatch=%lu ringfull=%lu bad=%lu\n", progname, end.rx,
         end.tx, end.nomatch, end.ringfull, end.bad);
  check(leaks == 0, "recv: %lu bytes past frame ends were not zero: the kernel copied stale "
        "bytes of its buffer (other frames) into my ring", leaks);
  check(seqerr == 0, "recv: %lu SEQ frames out of order or repeated", seqerr);
  check(sys_net_ring(0, 0) == 0, "recv: take the ring down");
  check(sys_net_filter(NETF_DEL, fid) == 0, "recv: remove the filter");
  unmap_range(RINGVA, NET_RINGPAGES);
  census_check(&mark);
  return check_report();
}

// ---- send ----

// Fill n bytes at f with a frame to the host (broadcast, ethertype 0x88B5,
// a local experimental type) whose bytes depend on seed.
static void fill_frame(uint8 *f, int n, int seed)
{
  for (int i = 0; i < n; i++)
    f[i] = (uint8)(seed * 13 + i * 7 + (i >> 8));
  for (int i = 0; i < 6 && i < n; i++)
    f[i] = 0xFF;
  for (int i = 0; i < 6 && 6 + i < n; i++)
    f[6 + i] = mymac[i];
  if (n >= 14)
    f[12] = 0x88, f[13] = 0xB5;
}

static void sent_ok(const uint8 *f, int len, const char *what)
{
  int r = send_frame(f, len);
  if (check(r == 0, "send %s: %s", what, errstr(r)))
    printf("%s: sent %d %08x\n", progname, len, crc32(0, f, len));
}

static int cmd_send(void)
{
  struct census_mark mark;
  census_mark(&mark);
  uint64 pg = SCRATCH;
  must(page_map(pg, PTE_R | PTE_W), "map");
  fill_frame((uint8 *)pg, PGSIZE, 1);
  uint64 tx0 = usys->net_tx;
  // refused
  expect_err(sys_net_send((void *)pg, 0), E_INVAL, "send 0 bytes");
  expect_err(sys_net_send((void *)pg, NET_MINFRAME - 1), E_INVAL, "send 13 bytes (no header)");
  expect_err(sys_net_send((void *)pg, NET_MAXFRAME + 1), E_INVAL, "send 1515 bytes");
  expect_err(sys_net_send((void *)pg, 1UL << 40), E_INVAL, "send 2^40 bytes");
  expect_err(sys_net_send((void *)pg, -1UL), E_INVAL, "send -1 bytes");
  expect_err(sys_net_send((void *)(pg + PGSIZE - 50), 100), E_BAD_VA, "send across a page end");
  expect_err(sys_net_send((void *)(pg + PGSIZE - 1), NET_MINFRAME), E_BAD_VA,
             "send 14 bytes from a page's last byte");
  expect_err(sys_net_send((void *)UTOP, 60), E_BAD_VA, "send from UTOP (my page tables)");
  expect_err(sys_net_send((void *)USYS, 60), E_BAD_VA, "send from USYS");
  expect_err(sys_net_send((void *)UENVS, 60), E_BAD_VA, "send from UENVS");
  expect_err(sys_net_send((void *)KERNADDR, 60), E_BAD_VA, "send from a kernel address");
  expect_err(sys_net_send((void *)-64UL, 60), E_BAD_VA, "send from the top of the address space");
  expect_err(sys_net_send((void *)(SCRATCH + 16 * PGSIZE), 60), E_FAULT, "send from an unmapped page");
  int64 xp = sys_page_alloc(0);
  must(xp, "page");
  must(sys_pte_set(0, pg + PGSIZE, PPN_PTE(xp, PTE_V | PTE_U | PTE_X)), "map execute-only");
  expect_err(sys_net_send((void *)(pg + PGSIZE), 60), E_FAULT, "send from an execute-only page");
  page_unmap(pg + PGSIZE);
  check(usys->net_tx == tx0, "refused sends were counted as sent (%lu)", usys->net_tx - tx0);

  // sent: the host checks each against these lines
  // (each from bytes of its own: a frame must not change until the NIC has read it)
  uint8 *f = (uint8 *)pg, *e1 = (uint8 *)(SCRATCH + 4 * PGSIZE), *e2 = e1 + PGSIZE;
  must(page_map((uint64)e1, PTE_R | PTE_W), "map");
  must(page_map((uint64)e2, PTE_R | PTE_W), "map");
  fill_frame(f, NET_MINFRAME, 3);
  fill_frame(f + 16, 60, 4);
  fill_frame(f + 80, NET_MAXFRAME, 5);
  fill_frame(e1 + PGSIZE - 200, 200, 6);
  fill_frame(e2 + PGSIZE - NET_MAXFRAME, NET_MAXFRAME, 7);
  sent_ok(f, NET_MINFRAME, "a bare header");
  sent_ok(f + 16, 60, "60 bytes");
  sent_ok(f + 80, NET_MAXFRAME, "1514 bytes");
  sent_ok(e1 + PGSIZE - 200, 200, "200 bytes ending at the page end");
  sent_ok(e2 + PGSIZE - NET_MAXFRAME, NET_MAXFRAME, "1514 bytes ending at the page end");
  check(usys->net_tx == tx0 + 5, "net_tx moved by %lu for 5 frames", usys->net_tx - tx0);

  // a frame's page freed as soon as it is handed over (pinned until sent)
  must(page_map(SCRATCH + 2 * PGSIZE, PTE_R | PTE_W), "map");
  uint8 *g = (uint8 *)(SCRATCH + 2 * PGSIZE);
  fill_frame(g, 300, 2);
  uint32 c = crc32(0, g, 300);
  check(send_frame(g, 300) == 0, "send from a page about to be freed");
  page_unmap((uint64)g);
  printf("%s: sent 300 %08x\n", progname, c);

  // many at once: the queue fills (E_BUSY) and drains; none lost
  uint32 all = 0;
  int busy = 0;
  for (int i = 0; i < 200; i++) {
    uint8 *b = txbuf();
    int len = 60 + (i * 37) % 1400;
    fill_frame(b, len, 100 + i);
    all = crc32(all, b, len);
    int r;
    uint64 deadline = secs(10);
    while ((r = sys_net_send(b, len)) == -E_BUSY && rdtime() < deadline) {
      busy++;
      sys_yield(0);
    }
    check(r == 0, "burst frame %d: %s", i, errstr(r));
  }
  printf("%s: sent burst 200 crc=%08x\n", progname, all);
  page_unmap(pg);
  page_unmap((uint64)e1);
  page_unmap((uint64)e2);
  census_check(&mark);
  return check_report();
}

// ---- steal ----

// Who may take whose frames: a child's filter against its sibling, its
// own child and its parent (an ancestor may take over; the newer filter
// wins); the default owner; filters going with their env.
static void steal_family(void)
{
  shared_init();
  struct netfilter f;
  struct counters base;
  struct ring mine = { RINGVA, 2, 0 };
  must(ring_make(RINGVA, 1), "my ring");
  envid_t a = child_with_net();
  if (a == 0) {
    int fid = add_udp(5000);
    check(fid >= 0, "A: port 5000: %s", errstr(fid));
    SH->fid[0] = fid;
    must(ring_make(RINGVA2, 1), "A: ring");
    struct ring ar = { RINGVA2, 2, 0 };
    envid_t a1 = child_with_net();
    if (a1 == 0) {
      expect_err(add_udp(5000), E_BUSY, "A1: port 5000, my parent A's");
      struct netfilter g;
      filter_udp(&g, 5000);
      g.t[4] = (struct nettest){ 34, 2, 0, 0xFFFF, 1234 };
      g.ntests = 5;
      expect_err(add(&g), E_BUSY, "A1: a narrower filter inside A's");
      child_exit();
    }
    reap(a1, "A1");
    SH->ready[0] = 1;
    child_count(0, &ar, 2);
    expect_err(add_udp(5000), E_BUSY, "A: port 5000 again, now that my parent has taken it");
    SH->ready[0] = 2;
    child_count(0, &ar, 4);
    child_exit();
  }
  await(&SH->ready[0], 1, "A's filter");
  envid_t b = child_with_net();
  if (b == 0) {
    struct netfilter g;
    expect_err(add_udp(5000), E_BUSY, "B: port 5000, my sibling A's");
    memset(&g, 0, sizeof g);
    g.ntests = 2;
    g.t[0] = (struct nettest){ 12, 2, 0, 0xFFFF, 0x0800 };
    g.t[1] = (struct nettest){ 36, 1, 0, 0xFF, 5000 >> 8 };
    expect_err(add(&g), E_BUSY, "B: IPv4 frames with 0x13 at byte 36 (A's among them)");
    g.ntests = 1;
    expect_err(add(&g), E_BUSY, "B: every IPv4 frame");
    g.t[0] = (struct nettest){ 36, 2, 0, 0xFFFF, 5000 };
    expect_err(add(&g), E_BUSY, "B: every frame with 5000 at byte 36");
    g.t[0] = (struct nettest){ 34, 4, 0, 0x0000FFFF, 5000 };
    expect_err(add(&g), E_BUSY, "B: the same as a 4-byte test at byte 34");
    g.ntests = 4;                              // A's tests, last offset first
    g.t[0] = (struct nettest){ 36, 2, 0, 0xFFFF, 5000 };
    g.t[1] = (struct nettest){ 23, 1, 0, 0xFF, 17 };
    g.t[2] = (struct nettest){ 14, 1, 0, 0xFF, 0x45 };
    g.t[3] = (struct nettest){ 12, 2, 0, 0xFFFF, 0x0800 };
    expect_err(add(&g), E_BUSY, "B: A's filter with its tests in falling offset order");
    // frames A's filter never takes: each differs from A's in one byte
    // (test t replaces A's test at, and a fifth test, if any, is added)
    struct { struct nettest t, fifth; int at; const char *what; } apart[] = {
      { { 14, 1, 0, 0xF0, 0x40 }, { 14, 1, 0, 0x0F, 0x06 }, 1, "header length 6, tested after the version" },
      { { 14, 1, 0, 0x0F, 0x06 }, { 14, 1, 0, 0xF0, 0x40 }, 1, "header length 6, tested before the version" },
      { { 12, 1, 0, 0xFF, 0x09 }, { 0 }, 0, "0x09 at byte 12 (A's first byte)" },
      { { 37, 1, 0, 0xFF, 5001 & 0xFF }, { 36, 1, 0, 0xFF, 5000 >> 8 }, 3,
        "the port's low byte of 5001 (A's last byte)" },
    };
    for (uint64 i = 0; i < sizeof apart / sizeof apart[0]; i++) {
      filter_udp(&g, 5000);
      g.t[apart[i].at] = apart[i].t;
      if (apart[i].fifth.size)
        g.t[g.ntests++] = apart[i].fifth;
      int id = add(&g);
      if (check(id >= 0, "B: a filter with %s refused: %s", apart[i].what, errstr(id)))
        check(sys_net_filter(NETF_DEL, id) == 0, "B: remove it");
    }
    int r = add_udp(5001);
    if (check(r >= 0, "B: port 5001: %s", errstr(r)))
      check(sys_net_filter(NETF_DEL, r) == 0, "B: remove port 5001");
    filter_udp(&g, 5000);
    g.t[2].value = 6;
    r = add(&g);
    if (check(r >= 0, "B: TCP port 5000 (A's filter takes UDP only): %s", errstr(r)))
      check(sys_net_filter(NETF_DEL, r) == 0, "B: remove TCP port 5000");
    expect_err(sys_net_filter(NETF_DEL, SH->fid[0]), E_PERM, "B: remove A's filter");
    child_exit();
  }
  reap(b, "B");
  counters(&base);
  check(send_udp(5000, 20, 1) == 0, "send to 5000");
  await(&SH->got[0], 1, "A to receive a frame for 5000");
  deltas("a frame for A", &base, 1, 0, 0);
  // an ancestor may take over a descendant's frames: the newer filter wins
  int pf = add_udp(5000);
  check(pf >= 0, "parent: port 5000 over my child's filter: %s", errstr(pf));
  counters(&base);
  check(send_udp(5000, 20, 2) == 0, "send to 5000");
  check(ring_wait(&mine, 5) != 0, "parent: the frame for 5000 did not come to me");
  ring_drain(&mine);
  deltas("a frame for the parent", &base, 1, 0, 0);
  check(SH->got[0] == 1, "A received %lu frames, expected 1", SH->got[0]);
  SH->step = 2;
  await(&SH->ready[0], 2, "A's try");
  expect_err(sys_net_filter(NETF_DEL, SH->fid[0]), E_PERM, "parent: remove my child's filter");
  check(sys_net_filter(NETF_DEL, pf) == 0, "parent: remove my port 5000");
  counters(&base);
  check(send_udp(5000, 20, 3) == 0, "send to 5000");
  await(&SH->got[0], 2, "A to receive again");
  deltas("A's again", &base, 1, 0, 0);
  // the default owner takes what no filter takes; a child cannot take it over
  memset(&f, 0, sizeof f);
  int d = add(&f);
  check(d >= 0, "parent: become the default owner: %s", errstr(d));
  envid_t e = child_with_net();
  if (e == 0) {
    expect_err(add(&f), E_BUSY, "E: become the default owner instead of my parent");
    child_exit();
  }
  reap(e, "E");
  counters(&base);
  check(send_udp(5999, 20, 4) == 0, "send to 5999");
  check(ring_wait(&mine, 5) != 0, "parent: the frame for 5999 did not come to the default owner");
  ring_drain(&mine);
  deltas("a frame for the default owner", &base, 1, 0, 0);
  check(sys_net_filter(NETF_DEL, d) == 0, "parent: stop being the default owner");
  counters(&base);
  check(send_udp(5999, 20, 5) == 0, "send to 5999");
  deltas("a frame for nobody", &base, 0, 1, 0);
  check(SH->got[0] == 2, "A received %lu frames, expected 2", SH->got[0]);
  SH->step = 4;
  reap(a, "A");
  // A's filter went with it: a new child may have port 5000
  envid_t g = child_with_net();
  if (g == 0) {
    int r = add_udp(5000);
    check(r >= 0, "D: port 5000 once A has gone: %s", errstr(r));
    child_exit();
  }
  reap(g, "D");
  check(sys_net_ring(0, 0) == 0, "parent: take my ring down");
  unmap_range(RINGVA, 1);
  page_unmap(SHVA);
}

// Install filters of one test each, each of its own shape, until one is
// refused: exactly NETF_SHAPES_PER_ENV must fit.  Then remove them.
static int shapes_fit(const char *when)
{
  int ids[40], n = 0;
  for (int i = 0; i < 40; i++) {
    struct netfilter f;
    memset(&f, 0, sizeof f);
    f.ntests = 1;
    f.t[0] = (struct nettest){ 100 + i, 1, 0, 0xFF, i };
    int r = add(&f);
    if (r == -E_NO_MEM)
      break;
    if (!check(r >= 0, "a filter of shape %d%s: %s", i, when, errstr(r)))
      break;
    ids[n++] = r;
  }
  check(n == NETF_SHAPES_PER_ENV, "%d shapes of filter fit one env%s (NETF_SHAPES_PER_ENV is %d)",
        n, when, NETF_SHAPES_PER_ENV);
  for (int i = 0; i < n; i++)
    check(sys_net_filter(NETF_DEL, ids[i]) == 0, "remove filter %d", ids[i]);
  return n;
}

// The tables' limits: NETF_PER_ENV filters each, a bounded number of
// shapes; refused with E_NO_MEM, and demultiplexing right afterwards.
static void steal_limits(void)
{
  int ids[NETF_PER_ENV], n = 0, r;
  for (int i = 0; i < NETF_PER_ENV; i++) {
    r = add_udp(6000 + i);
    if (!check(r >= 0, "filter %d of %d: %s", i + 1, NETF_PER_ENV, errstr(r)))
      break;
    ids[n++] = r;
  }
  expect_err(add_udp(6000 + NETF_PER_ENV), E_NO_MEM, "one filter more than NETF_PER_ENV");
  for (int i = 0; i < n; i++)
    check(sys_net_filter(NETF_DEL, ids[i]) == 0, "remove filter %d", ids[i]);
  printf("%s: %d filters of different shapes fit\n", progname, shapes_fit(""));
  // still right afterwards
  struct ring mine = { RINGVA, 2, 0 };
  must(ring_make(RINGVA, 1), "my ring");
  int fid = add_udp(5002);
  check(fid >= 0, "port 5002: %s", errstr(fid));
  struct counters base;
  counters(&base);
  check(send_udp(5002, 20, 6) == 0 && send_udp(5003, 20, 7) == 0, "send to 5002, 5003");
  deltas("after the limits", &base, 1, 1, 0);
  check(ring_drain(&mine) == 1, "the frame for 5002 is not in my ring");
  check(sys_net_filter(NETF_DEL, fid) == 0, "remove port 5002");
  check(sys_net_ring(0, 0) == 0, "take my ring down");
  unmap_range(RINGVA, 1);
}

// ---- steal: which filter takes a frame ----

// A servant is a child that installs and removes filters when its parent
// asks (through the shared page) and counts the frames that reach its
// ring into SH->got[i].
enum { DO_ADD = 1, DO_DEL, DO_EXIT };

static void servant(int i)
{
  must(ring_make(RINGVA2, 1), "servant: ring");
  struct ring r = { RINGVA2, 2, 0 };
  uint64 seen = 0;
  for (;;) {
    int n = ring_drain(&r);
    SH->got[i] += n;
    if (SH->ask[i] == seen) {
      if (!n)
        sys_yield(0);
      continue;
    }
    __sync_synchronize();
    seen = SH->ask[i];
    if (SH->op[i] == DO_EXIT)
      break;
    struct netfilter f = SH->req[i];
    SH->res[i] = SH->op[i] == DO_ADD ? add(&f) : sys_net_filter(NETF_DEL, SH->arg[i]);
    __sync_synchronize();
    SH->done[i] = seen;
  }
  check(sys_net_ring(0, 0) == 0, "servant: take my ring down");
  child_exit();
}

// Ask servant i to add filter f (its id or error) or remove filter id.
static int64 ask(int i, int op, const struct netfilter *f, int64 id)
{
  if (f)
    SH->req[i] = *f;
  SH->op[i] = op;
  SH->arg[i] = id;
  __sync_synchronize();
  uint64 n = SH->ask[i] + 1;
  SH->ask[i] = n;
  if (op == DO_EXIT || !await(&SH->done[i], n, "a servant's answer"))
    return -1000;
  __sync_synchronize();
  return SH->res[i];
}

static int64 kid_add(int i, const struct netfilter *f) { return ask(i, DO_ADD, f, 0); }
static int64 kid_del(int i, int64 id) { return ask(i, DO_DEL, 0, id); }

#define PARENT   10
#define NOBODY   11
#define LOST     12
static const char *whoname(int w)
{
  static const char *kid[] = { "servant 0", "servant 1" };
  return w == PARENT ? "me" : w == NOBODY ? "nobody" : w == LOST ? "(the frame never came back)" : kid[w];
}

// Send a frame; who took it: servant i, PARENT (into ring mine), NOBODY
// (no filter and no default owner), or LOST.
static int who(struct ring *mine, const uint8 *frame, int len)
{
  uint64 got[2] = { SH->got[0], SH->got[1] }, nomatch = usys->net_nomatch;
  uint8 *b = txbuf();
  memcpy(b, frame, len);
  if (send_frame(b, len) != 0)
    return LOST;
  uint64 end = secs(5);
  while (rdtime() < end) {
    if (ring_drain(mine))
      return PARENT;
    for (int i = 0; i < 2; i++)
      if (SH->got[i] != got[i])
        return i;
    if (usys->net_nomatch != nomatch)
      return NOBODY;
    sys_yield(0);
  }
  return LOST;
}

// A UDP frame from port sport to port dport, byte 14 (IP version and
// header length) set to vhl.  Its length.
static int udp_to(uint8 *f, int dport, int sport, int vhl)
{
  int len = build_udp(f, dport, 20, dport);
  f[34] = sport >> 8, f[35] = sport;
  f[14] = vhl;
  return len;
}

static int expect_who(struct ring *mine, int dport, int sport, int vhl, int want, const char *what)
{
  uint8 f[64];
  int w = who(mine, f, udp_to(f, dport, sport, vhl));
  return check(w == want, "%s: a frame to port %d from %d (byte 14 %#x) went to %s, not %s", what,
               dport, sport, vhl, whoname(w), whoname(want));
}

// A filter of n tests.
static void filter_of(struct netfilter *f, int n, const struct nettest *t)
{
  memset(f, 0, sizeof *f);
  f->ntests = n;
  memcpy(f->t, t, n * sizeof *t);
}

static const struct nettest ipv4_udp[] = {
  { 12, 2, 0, 0xFFFF, 0x0800 }, { 14, 1, 0, 0xFF, 0x45 }, { 23, 1, 0, 0xFF, 17 },
};

// The full table's filters: port tport(i), taken by town[i] (PARENT,
// servant 0, or NOBODY once removed) with filter tfid[i].  The ports
// differ in both bytes, so that some share a hash chain (ports that differ
// in one byte only may never do).
static int64 tfid[2 * NETF_PER_ENV];
static int town[2 * NETF_PER_ENV];
static int tport(int i) { return 1000 + 300 * i; }

static int port_add(int i, int w)
{
  struct netfilter f;
  filter_udp(&f, tport(i));
  int64 r = w == PARENT ? add(&f) : kid_add(w, &f);
  if (!check(r >= 0, "a filter for port %d (%d filters in the table): %s", tport(i), i, errstr(r)))
    return 0;
  tfid[i] = r, town[i] = w;
  return 1;
}

static void port_del(int i)
{
  if (town[i] != NOBODY)
    check((town[i] == PARENT ? sys_net_filter(NETF_DEL, tfid[i]) : kid_del(town[i], tfid[i])) == 0,
          "remove the filter for port %d", tport(i));
  town[i] = NOBODY;
}

// Each port's frame goes to its filter's env, and frames to 256 other
// ports (in most hash chains) to nobody; at most 3 failures shown.
static void ports_check(struct ring *mine, const char *what)
{
  for (int i = 0, bad = 0; i < 2 * NETF_PER_ENV + 256 && bad < 3; i++)
    bad += i < 2 * NETF_PER_ENV ? !expect_who(mine, tport(i), 1234, 0x45, town[i], what)
                                : !expect_who(mine, 40000 + 7 * i, 1234, 0x45, NOBODY, what);
}

// The order in which overlapping filters take a frame (the more specific
// first, then the newer; in any order their shapes were made and their
// tests given), short frames, and a full table with deletions in it:
// servants 0 and 1 own filters that my own, broader or as specific,
// overlap.
static void steal_order(void)
{
  shared_init();
  struct ring mine = { RINGVA, 2, 0 };
  must(ring_make(RINGVA, 1), "my ring");
  envid_t kid[2];
  for (int i = 0; i < 2; i++)
    if ((kid[i] = child_with_net()) == 0)
      servant(i);
  struct netfilter f, broad, dummy, bysrc;
  filter_of(&broad, 3, ipv4_udp);              // every UDP datagram: 32 bits
  struct nettest d[] = {                        // 80 bits, a frame type of its own
    { 12, 2, 0, 0xFFFF, 0x88B5 }, { 14, 4, 0, 0xFFFFFFFF, 0x01020304 },
    { 18, 4, 0, 0xFFFFFFFF, 0x05060708 },
  };
  filter_of(&dummy, 3, d);
  struct nettest y[] = {                        // from port 1234: 48 bits, as specific as a
    { 12, 2, 0, 0xFFFF, 0x0800 }, { 14, 1, 0, 0xFF, 0x45 },   // port filter
    { 23, 1, 0, 0xFF, 17 }, { 34, 2, 0, 0xFFFF, 1234 },
  };
  filter_of(&bysrc, 4, y);
  int64 r, r2, pb, pd;

  // my shapes while another env's filter has the first shape made
  filter_udp(&f, 7000);
  r = kid_add(0, &f);
  check(r >= 0, "servant 0: port 7000: %s", errstr(r));
  shapes_fit(" while another env has a filter");
  check(kid_del(0, r) == 0, "servant 0: remove port 7000");
  // servant 0's broad filter, its shape and place those of its port 7000
  // filter a moment ago (what they tested past the broad filter's bytes
  // must not count): servant 1, its sibling, may have no UDP port
  r = kid_add(0, &broad);
  check(r >= 0, "servant 0: every UDP datagram: %s", errstr(r));
  filter_udp(&f, 300);
  r2 = kid_add(1, &f);
  check(r2 == -E_BUSY, "servant 1: port 300, when its sibling takes every UDP datagram: %s, "
        "expected E_BUSY", errstr(r2));
  check(kid_del(0, r) == 0, "servant 0: remove its filter");

  // the more specific filter wins, though older; its shape made after a
  // more specific one (mine, removed), whose place the broad shape takes
  pd = add(&dummy);
  check(pd >= 0, "a filter of 80 bits: %s", errstr(pd));
  struct nettest s[] = {                        // port 5000, IPv4 version only, tests
    { 36, 2, 0, 0xFFFF, 5000 }, { 23, 1, 0, 0xFF, 17 },       // last offset first: 44 bits
    { 14, 1, 0, 0xF0, 0x40 }, { 12, 2, 0, 0xFFFF, 0x0800 },
  };
  filter_of(&f, 4, s);
  r = kid_add(0, &f);
  check(r >= 0, "servant 0: port 5000, IPv4, tests last offset first: %s", errstr(r));
  check(sys_net_filter(NETF_DEL, pd) == 0, "remove the filter of 80 bits");
  pb = add(&broad);
  check(pb >= 0, "every UDP datagram, over my child's port 5000: %s", errstr(pb));
  expect_who(&mine, 5000, 1234, 0x45, 0, "the more specific filter, though older");
  expect_who(&mine, 5000, 1234, 0x46, 0, "IPv4 only (the header length is not tested)");
  expect_who(&mine, 5001, 1234, 0x45, PARENT, "the broad filter");
  expect_who(&mine, 5001, 1234, 0x46, NOBODY, "neither filter");
  check(sys_net_filter(NETF_DEL, pb) == 0 && kid_del(0, r) == 0, "remove them");

  // again, the broad shape made after the specific one (and after a
  // third, IPv6, less specific than both); the specific filter tests
  // byte 14 twice
  struct nettest v6 = { 12, 2, 0, 0xFFFF, 0x86DD };
  filter_of(&f, 1, &v6);
  pd = add(&f);
  check(pd >= 0, "every IPv6 frame: %s", errstr(pd));
  struct nettest t[] = {
    { 12, 2, 0, 0xFFFF, 0x0800 }, { 14, 1, 0, 0xF0, 0x40 }, { 14, 1, 0, 0x0F, 0x05 },
    { 23, 1, 0, 0xFF, 17 }, { 36, 2, 0, 0xFFFF, 5002 },
  };
  filter_of(&f, 5, t);
  r = kid_add(1, &f);
  check(r >= 0, "servant 1: port 5002, byte 14 in two tests: %s", errstr(r));
  pb = add(&broad);
  check(pb >= 0, "every UDP datagram, over my child's port 5002: %s", errstr(pb));
  expect_who(&mine, 5002, 1234, 0x45, 1, "the more specific filter, older, its shape older");
  expect_who(&mine, 5002, 1234, 0x46, NOBODY, "header length 6, which neither filter takes");
  expect_who(&mine, 5003, 1234, 0x45, PARENT, "the broad filter");
  check(sys_net_filter(NETF_DEL, pb) == 0 && kid_del(1, r) == 0 &&
        sys_net_filter(NETF_DEL, pd) == 0, "remove them");

  // as specific: the newer wins, even when its shape (same bytes and
  // masks) was made once before the older's and removed
  pd = add(&dummy);
  r2 = add(&bysrc);
  check(pd >= 0 && r2 >= 0, "filters of 80 bits and from port 1234: %s %s", errstr(pd), errstr(r2));
  check(sys_net_filter(NETF_DEL, pd) == 0 && sys_net_filter(NETF_DEL, r2) == 0, "remove them");
  filter_udp(&f, 5002);
  r = kid_add(1, &f);
  check(r >= 0, "servant 1: port 5002: %s", errstr(r));
  r2 = add(&bysrc);
  check(r2 >= 0, "from port 1234, over my child's port 5002: %s", errstr(r2));
  expect_who(&mine, 5002, 1234, 0x45, PARENT, "as specific, the newer filter");
  expect_who(&mine, 5002, 1235, 0x45, 1, "only the port filter");
  expect_who(&mine, 5003, 1234, 0x45, PARENT, "only the source port filter");
  check(sys_net_filter(NETF_DEL, r2) == 0 && kid_del(1, r) == 0, "remove them");

  // a frame that ends before a byte the filter tests is not its, whatever
  // the receive buffer held past its end (the last frames there: to port
  // 5000, TCP, which nobody takes)
  filter_udp(&f, 5000);
  r = kid_add(0, &f);
  check(r >= 0, "servant 0: port 5000: %s", errstr(r));
  uint8 fr[64];
  int len = udp_to(fr, 5000, 1234, 0x45);
  fr[23] = 6;
  for (int i = 0; i < 40; i++)
    if (!check(who(&mine, fr, len) == NOBODY, "a TCP frame to port 5000 was taken"))
      break;
  fr[23] = 17;
  int w = who(&mine, fr, 37);
  check(w == NOBODY, "a UDP frame to port 5000 cut after byte 36 went to %s", whoname(w));
  w = who(&mine, fr, 38);
  check(w == 0, "a UDP frame to port 5000 cut after byte 37 went to %s, not servant 0", whoname(w));
  check(kid_del(0, r) == 0, "remove port 5000");

  // a full table: NETF_PER_ENV filters each, NNETF in all; the last a
  // filter of a new shape, made after the default owner came and went
  for (int i = 0; i < 2 * NETF_PER_ENV; i++)
    town[i] = NOBODY;
  for (int i = 0; i < NETF_PER_ENV; i++)
    if (!port_add(i, PARENT) || (i < NETF_PER_ENV - 1 && !port_add(NETF_PER_ENV + i, 0)))
      break;
  memset(&f, 0, sizeof f);
  r = add(&f);
  check(r >= 0, "become the default owner: %s", errstr(r));
  expect_who(&mine, 6200, 1234, 0x45, PARENT, "no filter's, the default owner's");
  check(sys_net_filter(NETF_DEL, r) == 0, "stop being the default owner");
  pd = kid_add(0, &dummy);
  check(pd >= 0, "servant 0: a filter of a new shape: %s", errstr(pd));
  filter_udp(&f, 6200);
  r = kid_add(1, &f);
  check(r == -E_NO_MEM, "a filter with %d in the table: %s, expected E_NO_MEM", 2 * NETF_PER_ENV,
        errstr(r));
  ports_check(&mine, "a full table");
  // every third removed, then their places taken again by the other env
  for (int i = 0; i < NETF_PER_ENV; i += 3)
    port_del(i), port_del(NETF_PER_ENV + i);
  ports_check(&mine, "every third filter removed");
  for (int i = 0; i < NETF_PER_ENV - 1; i += 3)
    if (!port_add(i, 0) || !port_add(NETF_PER_ENV + i, PARENT))
      break;
  ports_check(&mine, "removed filters' places taken again");
  // the oldest half removed (in a shared chain, the older filters come last)
  for (int i = 0; i < NETF_PER_ENV / 2; i++)
    if (i % 3)
      port_del(i), port_del(NETF_PER_ENV + i);
  ports_check(&mine, "the oldest filters removed");
  for (int i = 0; i < 2 * NETF_PER_ENV; i++)
    port_del(i);
  check(kid_del(0, pd) == 0, "servant 0: remove the filter of a new shape");
  for (int i = 0; i < 2; i++) {
    ask(i, DO_EXIT, 0, 0);
    reap(kid[i], "a servant");
  }
  check(sys_net_ring(0, 0) == 0, "take my ring down");
  unmap_range(RINGVA, 1);
  page_unmap(SHVA);
}

// Filters: malformed ones refused (E_INVAL, E_FAULT), edge cases that are
// fine; then who may take whose frames, and the tables' limits.
static int cmd_steal(void)
{
  struct netfilter f;
  int r;
  // malformed filters
  struct { struct nettest t; const char *what; } bad[] = {
    { { 12, 3, 0, 0xFF, 0 }, "size 3" },
    { { 12, 0, 0, 0xFF, 0 }, "size 0" },
    { { 12, 8, 0, 0xFF, 0 }, "size 8" },
    { { 12, 2, 0, 0, 0 }, "mask 0" },
    { { 12, 1, 0, 0x1FF, 0 }, "mask outside 1 byte" },
    { { 12, 2, 0, 0x10000, 0 }, "mask outside 2 bytes" },
    { { 12, 2, 0, 0xFF00, 0x0001 }, "value outside the mask" },
    { { 1514, 1, 0, 0xFF, 0 }, "offset 1514" },
    { { 1513, 2, 0, 0xFFFF, 0 }, "a field past byte 1513" },
    { { 1511, 4, 0, 0xFF, 0 }, "a 4-byte field past byte 1513" },
    { { 0xFFFF, 1, 0, 0xFF, 0 }, "offset 65535" },
    { { 12, 2, 1, 0xFFFF, 0x0800 }, "pad not 0" },
  };
  for (uint64 i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memset(&f, 0, sizeof f);
    f.ntests = 1;
    f.t[0] = bad[i].t;
    char what[80];
    snprintf(what, sizeof what, "a filter with %s", bad[i].what);
    expect_err(add(&f), E_INVAL, what);
  }
  memset(&f, 0, sizeof f);                               // (the control: valid)
  f.ntests = 1;
  f.t[0] = (struct nettest){ 12, 4, 0, 0xFFFFFFFF, 0x0800 };
  r = add(&f);
  if (check(r >= 0, "a valid 4-byte test refused: %s", errstr(r)))
    check(sys_net_filter(NETF_DEL, r) == 0, "remove it");
  filter_udp(&f, 7);
  f.ntests = NETF_MAXTESTS + 1;
  expect_err(add(&f), E_INVAL, "a filter of 9 tests");
  f.ntests = 0xFFFFFFFF;
  expect_err(add(&f), E_INVAL, "a filter of 2^32-1 tests");
  filter_udp(&f, 7);
  f.flags = 1;
  expect_err(add(&f), E_INVAL, "a filter with flags");
  filter_udp(&f, 7);
  f.t[4] = (struct nettest){ 36, 2, 0, 0xFFFF, 8 };
  f.ntests = 5;
  expect_err(add(&f), E_INVAL, "port 7 and port 8");
  f.t[4] = (struct nettest){ 37, 1, 0, 0xFF, 8 };
  expect_err(add(&f), E_INVAL, "port 7 and a low byte of 8");
  f.t[4] = (struct nettest){ 14, 1, 0, 0x40, 0x00 };
  expect_err(add(&f), E_INVAL, "version bit 0x40 both set and clear");
  expect_err(sys_net_filter(NETF_ADD, 0), E_FAULT, "a filter at address 0");
  expect_err(sys_net_filter(NETF_ADD, KERNADDR), E_FAULT, "a filter at a kernel address");
  must(page_map(SCRATCH, PTE_R | PTE_W), "map");
  ((struct netfilter *)(SCRATCH + PGSIZE - 8))->ntests = 1;   // (its tests on the next page,
  ((struct netfilter *)(SCRATCH + PGSIZE - 8))->flags = 0;    // which is not mapped)
  expect_err(sys_net_filter(NETF_ADD, SCRATCH + PGSIZE - 8), E_FAULT,
             "a filter running off the end of a page");
  page_unmap(SCRATCH);
  expect_err(sys_net_filter(2, (uint64)&f), E_INVAL, "op 2");
  expect_err(sys_net_filter(NETF_DEL, 5), E_PERM, "remove a free filter");
  expect_err(sys_net_filter(NETF_DEL, 128), E_PERM, "remove the default owner, not being it");
  expect_err(sys_net_filter(NETF_DEL, -1UL), E_PERM, "remove filter -1");
  // edge cases that are fine
  memset(&f, 0, sizeof f);
  f.ntests = 2;
  f.t[0] = (struct nettest){ 1513, 1, 0, 0xFF, 0x11 };
  f.t[1] = (struct nettest){ 1510, 4, 0, 0xFFFFFF00, 0x22334400 };
  r = add(&f);
  if (check(r >= 0, "tests of the last bytes refused: %s", errstr(r)))
    check(sys_net_filter(NETF_DEL, r) == 0, "remove it");
  filter_udp(&f, 7);
  f.t[4] = (struct nettest){ 14, 1, 0, 0xF0, 0x40 };        // the same byte, agreeing
  f.t[5] = (struct nettest){ 14, 1, 0, 0x0F, 0x05 };
  f.t[6] = (struct nettest){ 36, 1, 0, 0xFF, 0x00 };        // the port's high byte again
  f.t[7] = (struct nettest){ 12, 4, 0, 0xFFFF0000, 0x08000000 };
  f.ntests = 8;
  r = add(&f);
  if (check(r >= 0, "8 agreeing tests refused: %s", errstr(r))) {
    int r2 = add(&f);                                        // my own overlap: fine
    check(r2 >= 0 && r2 != r, "the same filter twice, mine both times: %d", r2);
    check(sys_net_filter(NETF_DEL, r) == 0 && sys_net_filter(NETF_DEL, r2) == 0, "remove them");
    expect_err(sys_net_filter(NETF_DEL, r), E_PERM, "remove a removed filter");
  }
  steal_family();
  steal_limits();
  steal_order();
  return check_report();
}

// ---- ring ----

static uint8 cowbuf[PGSIZE] __attribute__((aligned(4096)));

// Pages a child maps but does not own (lent by its parent, or freed by
// it while still mapped) are not the child's to give the NIC: its owner
// could take them back while the kernel still wrote frames into them.
static void lent_pages(void)
{
  shared_init();
  envid_t c = child_with_net();
  if (c == 0) {
    await(&SH->step, 1, "the lent page");
    expect_err(sys_net_ring((void *)SCRATCH, 1), E_FAULT, "a ring on a page my parent lent me");
    expect_err(sys_net_send((void *)SCRATCH, 60), E_FAULT, "send from a page my parent lent me");
    int64 mine = sys_page_alloc(0);
    must(mine, "page");
    must(sys_pte_set(0, SCRATCH + PGSIZE, PPN_PTE(mine, PTE_V | PTE_U | PTE_R | PTE_W)), "map");
    must(sys_page_free(mine), "free it, still mapped");
    expect_err(sys_net_ring((void *)(SCRATCH + PGSIZE), 1), E_FAULT, "a ring on a page I freed");
    expect_err(sys_net_send((void *)(SCRATCH + PGSIZE), 60), E_FAULT, "send from a page I freed");
    child_exit();
  }
  int64 lent = sys_page_alloc(0);
  must(lent, "page");
  must(sys_pte_set(c, SCRATCH, PPN_PTE(lent, PTE_V | PTE_U | PTE_R | PTE_W)), "lend a page");
  SH->step = 1;
  reap(c, "the child with a lent page");
  check(upages[lent - PPN_BASE].pins == 0, "the lent page is pinned (%d)", upages[lent - PPN_BASE].pins);
  sys_page_free(lent);
}

static int cmd_ring(void)
{
  struct census_mark mark;
  census_mark(&mark);
  envid_t me = thisenv->id;
  // refused
  expect_err(sys_raw(SYS_net_ring, RINGVA, NET_RINGPAGES + 1, 0, 0, 0, 0), E_INVAL, "a ring of 17 pages");
  expect_err(sys_raw(SYS_net_ring, RINGVA, -1UL, 0, 0, 0, 0), E_INVAL, "a ring of -1 pages");
  expect_err(sys_net_ring((void *)RINGVA, 0), E_INVAL, "0 pages at a non-zero address");
  expect_err(sys_net_ring(0, 1), E_INVAL, "1 page at address 0");
  expect_err(sys_net_ring((void *)(RINGVA + 8), 1), E_BAD_VA, "an unaligned ring");
  expect_err(sys_net_ring((void *)(RINGVA + 2048), 1), E_BAD_VA, "a ring at half a page");
  expect_err(sys_net_ring((void *)UTOP, 1), E_BAD_VA, "a ring at UTOP (my page tables)");
  expect_err(sys_net_ring((void *)UENVS, 1), E_BAD_VA, "a ring on UENVS");
  expect_err(sys_net_ring((void *)USYS, 1), E_BAD_VA, "a ring on USYS");
  expect_err(sys_net_ring((void *)UPAGES, 1), E_BAD_VA, "a ring on UPAGES");
  expect_err(sys_net_ring((void *)KERNADDR, 1), E_BAD_VA, "a ring at a kernel address");
  expect_err(sys_net_ring((void *)(UTOP - PGSIZE), 2), E_BAD_VA, "a ring across UTOP");
  expect_err(sys_raw(SYS_net_ring, -4096UL, 1, 0, 0, 0, 0), E_BAD_VA, "a ring at the last page");
  expect_err(sys_net_ring((void *)RINGVA, 1), E_FAULT, "a ring on an unmapped page");
  expect_err(sys_net_ring((void *)UTEXT, 1), E_FAULT, "a ring on my program's text");
  int64 ro = sys_page_alloc(0);
  must(ro, "page");
  must(sys_pte_set(0, SCRATCH, PPN_PTE(ro, PTE_V | PTE_U | PTE_R)), "map read-only");
  must(page_map(SCRATCH + PGSIZE, PTE_R | PTE_W), "map");
  uint64 rw = PTE_PPN(uvpt_pte(SCRATCH + PGSIZE));
  expect_err(sys_net_ring((void *)SCRATCH, 1), E_FAULT, "a ring on a read-only page");
  expect_err(sys_net_ring((void *)SCRATCH, 2), E_FAULT, "a ring of a read-only and a writable page");
  expect_err(sys_net_ring((void *)(SCRATCH + PGSIZE), 2), E_FAULT,
             "a ring of a writable and an unmapped page");
  check(upages[rw - PPN_BASE].pins == 0, "a refused ring left its good page pinned (%d)",
        upages[rw - PPN_BASE].pins);
  unmap_range(SCRATCH, 2);
  sys_page_free(ro);
  cowbuf[0] = 1;
  envid_t c = fork();
  if (c == 0)
    exit(0);
  reap(c, "the child");
  if (uvpt_pte((uint64)cowbuf) & PTE_COW)
    expect_err(sys_net_ring(cowbuf, 1), E_FAULT, "a ring on a copy-on-write page");
  else
    printf("%s: (fork shares no page copy-on-write here: that case is skipped)\n", progname);
  check(sys_net_ring(0, 0) == 0, "no ring, taken down");
  lent_pages();

  // a good ring: its full words cleared, its pages pinned
  for (int i = 0; i < 2; i++)
    must(page_map(RINGVA + i * PGSIZE, PTE_R | PTE_W | PTE_SHARE), "map");
  for (int i = 0; i < 4; i++)
    slot_at(RINGVA, i)->full = 1;
  uint64 p0 = PTE_PPN(uvpt_pte(RINGVA)), p1 = PTE_PPN(uvpt_pte(RINGVA + PGSIZE));
  check(sys_net_ring((void *)RINGVA, 2) == 0, "post a ring of 2 pages");
  for (int i = 0; i < 4; i++)
    check(slot_at(RINGVA, i)->full == 0, "slot %d: full word not cleared", i);
  check(upages[p0 - PPN_BASE].pins == 1 && upages[p1 - PPN_BASE].pins == 1,
        "ring pages pinned %d and %d times, expected once", upages[p0 - PPN_BASE].pins,
        upages[p1 - PPN_BASE].pins);
  check(sys_net_ring((void *)RINGVA, 2) == 0, "post the same ring again");
  check(upages[p0 - PPN_BASE].pins == 1 && upages[p1 - PPN_BASE].pins == 1,
        "ring posted twice: pages pinned %d and %d times, expected once",
        upages[p0 - PPN_BASE].pins, upages[p1 - PPN_BASE].pins);

  // frames land whole, in order, and wrap; a full ring drops
  struct ring r = { RINGVA, 4, 0 };
  int fid = add_udp(5100);
  must(fid, "port 5100");
  struct counters base;
  counters(&base);
  uint8 want[128];
  int n = build_udp(want, 5100, 30, 0xA0000001);
  check(send_udp(5100, 30, 0xA0000001) == 0, "send");
  volatile struct netslot *s = ring_wait(&r, 5);
  if (check(s != 0, "the frame never came")) {
    check(s->len == (uint32)n && !memcmp((void *)s->frame, want, n), "slot 0 holds %u bytes, not "
          "the %d sent", s->len, n);
    ring_done(&r, s);
  }
  for (uint32 t = 2; t <= 6; t++)
    check(send_udp(5100, 30 + t, 0xA0000000 | t) == 0, "send %u", t);
  deltas("6 frames, 4 slots, the first emptied", &base, 5, 0, 1);
  for (int i = 0; i < 4; i++) {
    volatile struct netslot *x = slot_at(RINGVA, (1 + i) % 4);
    const uint8 *p = (const uint8 *)x->frame;
    uint32 tag = p[42] << 24 | p[43] << 16 | p[44] << 8 | p[45];
    check(x->full && x->len == (uint32)(72 + 2 + i) && tag == (0xA0000002U + i),
          "slot %d: full %lu, %u bytes, tag %x: expected frame %d", (1 + i) % 4, x->full, x->len,
          tag, 2 + i);
  }
  check(ring_drain(&r) == 4, "ring: not 4 frames to take");

  // IRQ_NET: a frame in my ring is an interrupt for me
  expect_err(sys_irq_claim(IRQ_NET, 0x100), E_INVAL, "claim IRQ_NET with unknown flags");
  check(sys_irq_claim(IRQ_NET, 0) == 0, "claim IRQ_NET");
  counters(&base);
  check(send_udp(5100, 40, 7) == 0, "send");
  check(wait_counts(&base, 1, 0, 0), "the frame never came");
  printf("%s: waiting for IRQ_NET\n", progname);
  struct pct_msg m;
  int64 from = sys_pct_recv(0, &m);
  check(from == 0 && (m.w[0] & (1U << IRQ_NET)), "IRQ_NET: pct_recv gave %ld, mask %lx", from, m.w[0]);
  check(sys_irq_ack(IRQ_NET) == 0, "acknowledge IRQ_NET");
  ring_drain(&r);

  // another ring replaces it: the old pages are unpinned
  must(page_map(RINGVA2, PTE_R | PTE_W), "map");
  uint64 p2 = PTE_PPN(uvpt_pte(RINGVA2));
  check(sys_net_ring((void *)RINGVA2, 1) == 0, "post a new ring");
  check(upages[p0 - PPN_BASE].pins == 0 && upages[p1 - PPN_BASE].pins == 0 &&
        upages[p2 - PPN_BASE].pins == 1, "after a new ring: pins %d %d (old), %d (new)",
        upages[p0 - PPN_BASE].pins, upages[p1 - PPN_BASE].pins, upages[p2 - PPN_BASE].pins);

  // I free the ring's page while it is posted: it stays mine and pinned,
  // the kernel writes into it, and it is freed when the ring goes
  uint64 free0 = usys->nfree;
  int32 np0 = thisenv->npages;
  page_unmap(RINGVA2);
  volatile struct pagepub *pp = &upages[p2 - PPN_BASE];
  check(pp->refs == 0 && pp->pins == 1 && pp->owner == me && pp->kind == PG_USER &&
          (pp->flags & PGF_RELEASED), "a freed ring page: refs %u pins %u owner %x kind %u flags %x",
        pp->refs, pp->pins, pp->owner, pp->kind, pp->flags);
  check(usys->nfree == free0, "the freed ring page went to the free list while pinned");
  counters(&base);
  for (int i = 0; i < 3; i++)
    check(send_udp(5100, 50, 0xB0 + i) == 0, "send");
  deltas("3 frames into a freed 2-slot ring", &base, 2, 0, 1);
  check(sys_net_ring(0, 0) == 0, "take the ring down");
  check(pp->pins == 0 && pp->owner != me && thisenv->npages == np0 - 1,
        "the freed ring page did not come back: pins %u owner %x, my pages %d (were %d)", pp->pins,
        pp->owner, thisenv->npages, np0);
  check(usys->nfree >= free0 + 1, "free pages %lu, %lu before the ring went", usys->nfree, free0);

  // without the filter, frames for 5100 are nobody's
  check(sys_net_filter(NETF_DEL, fid) == 0, "remove the filter");
  counters(&base);
  check(send_udp(5100, 20, 9) == 0, "send");
  deltas("a frame with no filter", &base, 0, 1, 0);
  unmap_range(RINGVA, 2);
  census_check(&mark);
  return check_report();
}

// ---- norights ----

// net_revoke while the child is in the middle of net_filter and net_ring
// calls (on another hart): once net_revoke has returned, the child holds
// no filter and no ring, whatever it was doing.  A call that checked the
// right before net_revoke took it must not install anything after.
// The grant tree: A gives the network to C, C to G, and C exits.  G is
// handed to the first env, out of A's subtree, but it holds the network by
// A's grant still: net_revoke(0, keep) in A reaches it, and A keeps its own.
static void grant_tree(void)
{
  memset((void *)SHVA, 0, PGSIZE);
  envid_t a = child_with_net();
  if (a == 0) {
    envid_t c = child_with_net();
    if (c == 0) {
      envid_t g = child_with_net();
      if (g == 0) {
        check(add_udp(6004) >= 0, "G: port 6004");
        SH->ready[2] = 1;
        await(&SH->step, 5, "A's revocation");
        expect_err(add_udp(6005), E_PERM, "G: a filter after A's net_revoke(0, 1)");
        SH->ready[2] = 2;
        child_exit();
      }
      SH->id[2] = g;
      await(&SH->ready[2], 1, "G's filter");
      child_exit();                       // G is an orphan now
    }
    reap(c, "C");
    envid_t g = SH->id[2];
    check(uenvs[ENVX(g)].parent != thisenv->id && (uenvs[ENVX(g)].rights & RIGHT_NET),
          "G after C's exit: parent %x, rights %x", uenvs[ENVX(g)].parent, uenvs[ENVX(g)].rights);
    expect_err(sys_net_revoke(g, 0), E_BAD_ENV, "A names G, no longer its descendant");
    check(sys_net_revoke(0, 1) == 0, "A: net_revoke(0, keep)");
    check(!(uenvs[ENVX(g)].rights & RIGHT_NET), "G kept RIGHT_NET after A revoked what it granted");
    check(thisenv->rights & RIGHT_NET, "A lost its own RIGHT_NET with keep = 1");
    SH->step = 5;
    await(&SH->ready[2], 2, "G's try");
    child_exit();
  }
  reap(a, "A");
  await(&SH->ready[2], 2, "G");
  envid_t g = SH->id[2];
  for (uint64 end = secs(10); uenvs[ENVX(g)].id == g && uenvs[ENVX(g)].status != ENV_EXITED && rdtime() < end;)
    sys_yield(0);
  if (uenvs[ENVX(g)].parent == thisenv->id)
    waitenv(g, 0);                        // (the first env is its heir: I am, when I boot first)
}

static void revoke_race(int rounds)
{
  int leaks = 0;
  for (int round = 0; round < rounds; round++) {
    memset((void *)SHVA, 0, PGSIZE);
    envid_t r = child_with_net();
    if (r == 0) {
      must(page_map(RINGVA2, PTE_R | PTE_W), "R: map");
      SH->ppn[0][0] = PTE_PPN(uvpt_pte(RINGVA2));
      SH->ready[0] = 1;
      for (;;) {
        int a = sys_net_ring((void *)RINGVA2, 1);
        int b = add_udp(6300);
        if (b >= 0)
          b = sys_net_filter(NETF_DEL, b);
        SH->got[0]++;
        if (a == -E_PERM && b == -E_PERM)
          break;
      }
      SH->ready[0] = 2;
      while (SH->step < 1)
        sys_yield(0);
      child_exit();
    }
    await(&SH->ready[0], 1, "R");
    uint64 n = SH->got[0] + 1 + round % 7;
    while (SH->got[0] < n && SH->ready[0] == 1)
      ;
    check(sys_net_revoke(r, 0) == 0, "revoke R's network");
    await(&SH->ready[0], 2, "R to see E_PERM");
    struct counters base;
    counters(&base);
    check(send_udp(6300, 20, round) == 0, "send to 6300");
    wait_counts(&base, 0, 1, 0);
    settle();
    volatile struct pagepub *pp = &upages[SH->ppn[0][0] - PPN_BASE];
    if (usys->net_nomatch != base.nomatch + 1 || pp->pins != 0) {
      leaks++;
      check(0, "round %d: after net_revoke(R) returned, R still had %s (nomatch +%lu, ring "
            "page pins %u)", round, pp->pins ? "a ring" : "a filter",
            usys->net_nomatch - base.nomatch, pp->pins);
    }
    SH->step = 1;
    reap(r, "R");
  }
  printf("%s: net_revoke against calls in flight: %d rounds, %d leaks\n", progname, rounds, leaks);
}

static int cmd_norights(void)
{
  shared_init();
  envid_t me = thisenv->id;
  envid_t c = child();
  if (c == 0) {
    check(!(thisenv->rights & RIGHT_NET), "a forked child holds RIGHT_NET");
    struct netfilter f;
    filter_udp(&f, 6000);
    must(page_map(SCRATCH, PTE_R | PTE_W), "map");
    expect_err(add(&f), E_PERM, "add a filter without RIGHT_NET");
    expect_err(sys_net_filter(NETF_ADD, 0), E_PERM, "add a filter at 0 without RIGHT_NET");
    expect_err(sys_net_filter(NETF_DEL, 0), E_PERM, "remove a filter without RIGHT_NET");
    expect_err(sys_net_ring((void *)SCRATCH, 1), E_PERM, "post a ring without RIGHT_NET");
    expect_err(sys_net_ring(0, 0), E_PERM, "take down a ring without RIGHT_NET");
    expect_err(sys_net_send((void *)SCRATCH, 60), E_PERM, "send without RIGHT_NET");
    expect_err(sys_env_grant(0, RIGHT_NET), E_PERM, "grant myself RIGHT_NET");
    expect_err(sys_net_revoke(me, 0), E_BAD_ENV, "revoke my parent's network");
    check(sys_net_revoke(0, 0) == 0, "revoke my own network (none)");
    child_exit();
  }
  reap(c, "the child without RIGHT_NET");

  // D and its child G lose the network together
  envid_t d = child_with_net();
  if (d == 0) {
    SH->fid[0] = add_udp(6000);
    check(SH->fid[0] >= 0, "D: port 6000: %s", errstr(SH->fid[0]));
    must(ring_make(RINGVA2, 2), "D: ring");
    SH->ppn[0][0] = PTE_PPN(uvpt_pte(RINGVA2));
    SH->ppn[0][1] = PTE_PPN(uvpt_pte(RINGVA2 + PGSIZE));
    envid_t g = child_with_net();
    if (g == 0) {
      SH->fid[1] = add_udp(6001);
      check(SH->fid[1] >= 0, "G: port 6001: %s", errstr(SH->fid[1]));
      must(ring_make(RINGVA3, 1), "G: ring");
      SH->ppn[1][0] = PTE_PPN(uvpt_pte(RINGVA3));
      SH->ready[1] = 1;
      struct ring gr = { RINGVA3, 2, 0 };
      child_count(1, &gr, 3);
      check(!(thisenv->rights & RIGHT_NET), "G: RIGHT_NET survived my parent's revocation");
      expect_err(add_udp(6001), E_PERM, "G: add a filter after the revocation");
      child_exit();
    }
    SH->id[0] = g;
    await(&SH->ready[1], 1, "G");
    SH->ready[0] = 1;
    struct ring dr = { RINGVA2, 4, 0 };
    child_count(0, &dr, 2);
    check(!(thisenv->rights & RIGHT_NET), "D: RIGHT_NET survived net_revoke");
    expect_err(add_udp(6000), E_PERM, "D: add a filter after net_revoke");
    expect_err(sys_net_ring((void *)RINGVA2, 2), E_PERM, "D: post a ring after net_revoke");
    expect_err(sys_net_send((void *)RINGVA2, 60), E_PERM, "D: send after net_revoke");
    SH->ready[0] = 2;
    await_right();
    int r = add_udp(6000);
    check(r >= 0, "D: port 6000 again after a new grant: %s", errstr(r));
    SH->ready[0] = 3;
    reap(g, "G");
    child_exit();
  }
  await(&SH->ready[0], 1, "D and G");
  envid_t g = SH->id[0];
  struct counters base;
  counters(&base);
  check(send_udp(6000, 20, 1) == 0 && send_udp(6001, 20, 2) == 0, "send to 6000, 6001");
  await(&SH->got[0], 1, "D's frame");
  await(&SH->got[1], 1, "G's frame");
  deltas("frames for D and G", &base, 2, 0, 0);
  expect_err(sys_net_revoke(me + 4096 * 7, 0), E_BAD_ENV, "revoke an env that does not exist");
  check(sys_net_revoke(d, 0) == 0, "revoke D's network");
  check(!(uenvs[ENVX(d)].rights & RIGHT_NET) && !(uenvs[ENVX(g)].rights & RIGHT_NET),
        "after net_revoke(D): D's rights %x, G's %x", uenvs[ENVX(d)].rights, uenvs[ENVX(g)].rights);
  check(upages[SH->ppn[0][0] - PPN_BASE].pins == 0 && upages[SH->ppn[0][1] - PPN_BASE].pins == 0 &&
          upages[SH->ppn[1][0] - PPN_BASE].pins == 0, "revoked rings still pinned");
  counters(&base);
  check(send_udp(6000, 20, 3) == 0 && send_udp(6001, 20, 4) == 0, "send to 6000, 6001");
  deltas("frames for the revoked D and G", &base, 0, 2, 0);
  check(SH->got[0] == 1 && SH->got[1] == 1, "D and G received %lu and %lu frames, expected 1 and 1",
        SH->got[0], SH->got[1]);
  SH->step = 2;
  await(&SH->ready[0], 2, "D's tries");
  must(sys_env_grant(d, RIGHT_NET), "grant D the network again");
  SH->step = 3;
  await(&SH->ready[0], 3, "D's new filter");
  reap(d, "D");

  revoke_race(30);
  grant_tree();

  // revoking my own network
  must(ring_make(RINGVA, 1), "ring");
  uint64 p = PTE_PPN(uvpt_pte(RINGVA));
  check(add_udp(6002) >= 0, "port 6002");
  check(sys_net_revoke(0, 0) == 0, "revoke my own network");
  check(!(thisenv->rights & RIGHT_NET), "RIGHT_NET survived revoking it from myself");
  check(upages[p - PPN_BASE].pins == 0, "my ring is still pinned after revoking my network");
  expect_err(add_udp(6003), E_PERM, "add a filter after revoking my own network");
  unmap_range(RINGVA, 1);
  return check_report();
}

// ---- kill ----

static int cmd_kill(int rounds)
{
  shared_init();
  struct census_mark mark;
  census_mark(&mark);
  for (int round = 0; round < rounds; round++) {
    memset((void *)SHVA, 0, PGSIZE);
    envid_t k = child_with_net();
    if (k == 0) {
      must(add_udp(6100), "K: port 6100");
      must(ring_make(RINGVA2, NET_RINGPAGES), "K: ring");
      for (int i = 0; i < NET_RINGPAGES; i++)
        SH->ppn[0][i] = PTE_PPN(uvpt_pte(RINGVA2 + i * PGSIZE));
      if (round % 2)                       // half the ring freed while posted
        unmap_range(RINGVA2, NET_RINGPAGES / 2);
      SH->ready[0] = 1;
      for (uint32 n = 0;; n++)             // my own frames come back to me, and
        send_udp(6100, 100, n);            // the ring is never emptied
    }
    await(&SH->ready[0], 1, "K's ring");
    for (int i = 0; i < 50; i++)
      check(send_udp(6100, 200, i) == 0, "send");
    uint64 rf = usys->net_ringfull, end = secs(10);
    while (usys->net_ringfull < rf + 20 && rdtime() < end)
      sys_yield(0);
    check(usys->net_ringfull >= rf + 20, "round %d: K's ring never filled", round);
    check(sys_env_destroy(k) == 0, "round %d: kill K", round);
    int status;
    check(waitenv(k, &status) == k, "round %d: reap K", round);
    settle();
    for (int i = 0; i < NET_RINGPAGES; i++) {
      volatile struct pagepub *pp = &upages[SH->ppn[0][i] - PPN_BASE];
      check(pp->pins == 0 && pp->owner != k, "round %d: K's ring page %d: pins %u owner %x",
            round, i, pp->pins, pp->owner);
    }
    struct counters base;
    counters(&base);
    for (int i = 0; i < 10; i++)
      check(send_udp(6100, 50, i) == 0, "send");
    deltas("frames for the dead K", &base, 0, 10, 0);
    census_check(&mark);
    printf("%s: round %d: K killed with its ring full, %d checks failed so far\n", progname,
           round, check_failures());
  }
  return check_report();
}

int main(int argc, char **argv)
{
  crc_init();
  uint64 mac = usys->net_mac;
  for (int i = 0; i < 6; i++)
    mymac[i] = mac >> (8 * i);
  if (!mac) {
    printf("%s: FAIL: no NIC (boot with one: make qemu, or the grader's net=)\n", progname);
    return 1;
  }
  const char *cmd = argc > 1 ? argv[1] : "";
  if (!strcmp(cmd, "stats")) {
    print_stats("");
    return 0;
  }
  for (int i = 0; i < NTXBUF / 2; i++)     // the transmit buffers
    must(page_map(TXVA + i * PGSIZE, PTE_R | PTE_W), "map");
  if (!strcmp(cmd, "recv") && argc >= 4)
    return cmd_recv(atoi(argv[2]), atoi(argv[3]), argc > 4 && !strcmp(argv[4], "quiet"));
  if (!strcmp(cmd, "kill"))
    return cmd_kill(argc > 2 ? atoi(argv[2]) : 4);
  if (!strcmp(cmd, "send"))
    return cmd_send();
  if (!strcmp(cmd, "steal"))
    return cmd_steal();
  if (!strcmp(cmd, "ring"))
    return cmd_ring();
  if (!strcmp(cmd, "norights"))
    return cmd_norights();
  printf("usage: netkern recv PORT N [quiet] | send | steal | ring | norights | kill [ROUNDS] | "
         "stats\n");
  return 2;
}
