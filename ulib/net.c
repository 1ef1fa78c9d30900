// The network stack: Ethernet, ARP, IPv4, ICMP echo and UDP, as ordinary
// library code over the kernel's packet filters (docs/net-lib.md).  The
// kernel copies the frames this env's filters take into a receive ring of
// its own pages; this file empties the ring, in order, whenever the program
// is inside a network call (there is no background thread), so an env
// answers ARP and ping while it waits for a datagram or sends one.
//
// Frames are laid out so that every header is aligned: in a ring slot the
// frame starts at +14, in a transmit page at +TXOFF, which puts the IPv4
// header on a 4-byte boundary and the UDP header and data on 8: checksums
// go by 64-bit words, and a datagram is copied once, straight between
// the frame and the caller's buffer.
#include "lib.h"
#include "netint.h"

#define RINGPAGES   8                           // receive ring: 16 slots
#define NSLOTS      (RINGPAGES * NET_SLOTS_PER_PAGE)
#define NTX         4                           // transmit pages, used round robin
#define TXOFF       6                           // a frame's offset in its transmit page
#define NARP        16                          // ARP cache entries
#define ARP_TRIES   4                           // requests sent before giving up,
#define ARP_WAIT_MS 250                         //   this long apart
#define ARP_BUSY_MS 20                          // another env resolves it: look again after

#define ETH_IP      0x0800
#define ETH_ARP     0x0806
#define IPPROTO_ICMP 1
#define IPPROTO_UDP 17
#define IP_DF       0x4000
#define IP_MF       0x2000
#define IP_OFFMASK  0x1fff
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO   8

// On-the-wire headers.  All fields are naturally aligned at the offsets the
// layout above gives them, so none needs packing; multi-byte fields are
// big-endian (network order).
struct eth  { uint8 dst[6], src[6]; uint16 type; };
struct arp  { uint16 htype, ptype; uint8 hlen, plen; uint16 op; uint8 sha[6], spa[4], tha[6], tpa[4]; };
struct ip   { uint8 vhl, tos; uint16 len, id, frag; uint8 ttl, proto; uint16 sum; uint32 src, dst; };
struct udp  { uint16 sport, dport, len, sum; };
struct icmp { uint8 type, code; uint16 sum, id, seq; };
_Static_assert(sizeof(struct eth) == 14 && sizeof(struct arp) == 28 && sizeof(struct ip) == 20 &&
               sizeof(struct udp) == 8 && sizeof(struct icmp) == 8, "header sizes");
#define HDRS (sizeof(struct eth) + sizeof(struct ip))   // 34: where ICMP and UDP start

// (By hand: without libgcc, __builtin_bswap32 would call __bswapsi2.)
static inline uint16 htons(uint16 x) { return x << 8 | x >> 8; }
static inline uint32 htonl(uint32 x) { return x << 24 | (x & 0xff00) << 8 | ((x >> 8) & 0xff00) | x >> 24; }
#define ntohs htons
#define ntohl htonl

// Words that may alias the frame bytes they are loaded from.
typedef uint64 __attribute__((may_alias)) u64a;
typedef uint32 __attribute__((may_alias)) u32a;
typedef uint16 __attribute__((may_alias)) u16a;

static struct {
  envid_t env;                    // the env that set the stack up (0: nobody yet)
  uint32 next;                    // the ring slot to look at next
  uint32 txnext;                  // the transmit page to use next
  uint8 mac[6];
  uint16 ipid;                    // IPv4 identification of the next datagram
  int arp_filter, icmp_filter;    // responder filters, -1: another env answers
  uint64 retry_at;                // when a non-responder next asks to become one
  uint32 arp_want;                // the address being resolved (0: none)
  int arp_got;                    //   and its reply came
} net;

static struct net_stats st;
static struct arpent { uint32 ip; uint8 mac[6]; } arpcache[NARP];
static int arp_victim, arp_last;                  // the next to replace; the last learned
struct sock socks[NSOCK];

// A receive waiting on a socket: the next datagram for it goes straight
// into the caller's buffer instead of into the socket's queue.
static struct {
  struct sock *s;                 // 0: nobody waits
  uint8 *buf;
  int n;
  int done, got;                  // it came: its length (cut to n)
  uint32 ip;
  uint16 port;
} want;

// ---- the Internet checksum ----
// A ones'-complement sum of 16-bit words does not depend on byte order
// (RFC 1071): we add the words as the little-endian machine loads them
// and store the folded result the same way, which puts the right bytes
// in memory.  64-bit loads add four words at once; a carry out of the top
// comes back in at the bottom.

static inline uint64 add_c(uint64 a, uint64 b)
{
  a += b;
  return a + (a < b);
}

// 64 bits of partial sums down to the 16-bit ones'-complement sum.
static inline uint16 fold(uint64 a)
{
  a = (a & 0xffffffff) + (a >> 32);
  a = (a & 0xffffffff) + (a >> 32);
  a = (a & 0xffff) + (a >> 16);
  a = (a & 0xffff) + (a >> 16);
  return a;
}

// Add n bytes at p (p even: a frame's fields are) to the sum acc.
static uint64 csum_add(uint64 acc, const void *buf, uint64 n)
{
  const uint8 *p = buf;
  while (n >= 2 && ((uint64)p & 7)) {           // up to an 8-byte boundary
    acc = add_c(acc, *(const u16a *)p);
    p += 2;
    n -= 2;
  }
  const u64a *w = (const u64a *)p;
  for (; n >= 32; n -= 32, w += 4) {
    uint64 a = w[0], b = w[1], c = w[2], d = w[3];
    acc = add_c(add_c(add_c(add_c(acc, a), b), c), d);
  }
  for (; n >= 8; n -= 8)
    acc = add_c(acc, *w++);
  p = (const uint8 *)w;
  uint64 t = 0;                                  // the tail, zero-padded, as in memory
  for (uint64 i = 0; i < n; i++)
    t |= (uint64)p[i] << (8 * i);
  return add_c(acc, t);
}

// Copy n bytes from src to dst and add them to acc.  One of the two is in
// a frame (and even); if both are 8-aligned, one pass does both.
static uint64 csum_copy(void *dst, const void *src, uint64 n, uint64 acc)
{
  if ((((uint64)dst | (uint64)src) & 7) == 0) {
    u64a *d = dst;
    const u64a *s = src;
    for (; n >= 64; n -= 64, d += 8, s += 8) {  // (the loop is most of a datagram's cost)
      uint64 a = s[0], b = s[1], c = s[2], e = s[3], f = s[4], g = s[5], h = s[6], i = s[7];
      d[0] = a, d[1] = b, d[2] = c, d[3] = e, d[4] = f, d[5] = g, d[6] = h, d[7] = i;
      acc = add_c(add_c(add_c(add_c(acc, a), b), c), e);
      acc = add_c(add_c(add_c(add_c(acc, f), g), h), i);
    }
    for (; n >= 8; n -= 8) {
      uint64 a = *s++;
      *d++ = a;
      acc = add_c(acc, a);
    }
    if (n) {
      memcpy(d, s, n);
      acc = csum_add(acc, s, n);
    }
    return acc;
  }
  memcpy(dst, src, n);
  return csum_add(acc, ((uint64)src & 1) ? dst : src, n);   // the even one
}

uint16 net_checksum(const void *buf, int n) { return ~fold(csum_add(0, buf, n)); }

// An IPv4 header of 20 bytes (4-aligned): five 32-bit words need no carries.
static inline uint64 sum20(const void *p)
{
  const u32a *w = p;
  return (uint64)w[0] + w[1] + w[2] + w[3] + w[4];
}

// The UDP pseudo-header's part of the sum: addresses, protocol, length
// (ulen_raw: the length field as it sits in the frame).
static inline uint64 pseudo(const struct ip *ip, uint16 ulen_raw)
{
  return (uint64)ip->src + ip->dst + (IPPROTO_UDP << 8) + ulen_raw;
}

// ---- addresses ----

static inline void mac_copy(uint8 *d, const uint8 *s)
{
  ((u16a *)d)[0] = ((const u16a *)s)[0];         // (both are 2-aligned in frames)
  ((u16a *)d)[1] = ((const u16a *)s)[1];
  ((u16a *)d)[2] = ((const u16a *)s)[2];
}

static inline int mac_eq(const uint8 *a, const uint8 *b)
{
  return ((const u16a *)a)[0] == ((const u16a *)b)[0] && ((const u16a *)a)[1] == ((const u16a *)b)[1] &&
         ((const u16a *)a)[2] == ((const u16a *)b)[2];
}

static uint32 get32(const uint8 *p) { return (uint32)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static void put32(uint8 *p, uint32 v) { p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v; }

int ip_parse(const char *s, uint32 *ip)
{
  uint32 v = 0;
  for (int i = 0; i < 4; i++) {
    if (*s < '0' || *s > '9')
      return -E_INVAL;
    uint32 b = 0;
    for (int k = 0; *s >= '0' && *s <= '9'; k++, s++)
      if (k == 3 || (b = b * 10 + (*s - '0')) > 255)
        return -E_INVAL;
    if (*s != (i < 3 ? '.' : 0))
      return -E_INVAL;
    s++;
    v = v << 8 | b;
  }
  *ip = v;
  return 0;
}

char *ip_str(uint32 ip, char buf[16])
{
  snprintf(buf, 16, "%d.%d.%d.%d", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
  return buf;
}

// ---- filters ----

#define TEST(o, sz, v) ((struct nettest){ (o), (sz), 0, (sz) == 4 ? ~0U : (1U << 8 * (sz)) - 1, (v) })

static int filter_add(const struct nettest *t, int n)
{
  struct netfilter f;
  memset(&f, 0, sizeof f);
  f.ntests = n;
  memcpy(f.t, t, n * sizeof *t);
  return sys_net_filter(NETF_ADD, (uint64)&f);
}

// IPv4 with a 20-byte header, addressed to us, of protocol proto, and the
// extra tests (the transport header's fields at fixed offsets, which the
// header-length test makes right).
static int ip_filter(uint8 proto, const struct nettest *extra, int nextra)
{
  struct nettest t[NETF_MAXTESTS] = {
    TEST(12, 2, ETH_IP), TEST(14, 1, 0x45), TEST(23, 1, proto), TEST(30, 4, NET_MYIP),
  };
  for (int i = 0; i < nextra; i++)
    t[4 + i] = extra[i];
  return filter_add(t, 4 + nextra);
}

// Try to become this address's responder: ARP requests for NET_MYIP and
// ICMP echo requests to it.  An env another env's filter already covers
// (E_BUSY: that env answers) carries on without, and asks again now and
// then (net_run), so that someone answers after that env has gone.  Both
// filters are narrow, so that other envs' resolvers and pingers can take
// ARP replies and echo replies for themselves.
static void take_responder(void)
{
  if (net.arp_filter < 0) {
    struct nettest t[] = { TEST(12, 2, ETH_ARP), TEST(20, 2, 1), TEST(38, 4, NET_MYIP) };
    net.arp_filter = filter_add(t, 3);
  }
  if (net.icmp_filter < 0) {
    struct nettest t[] = { TEST(34, 1, ICMP_ECHO) };
    net.icmp_filter = ip_filter(IPPROTO_ICMP, t, 1);
  }
  net.retry_at = rdtime() + usys->timebase;
}

int net_responder(void) { return net.env == thisenv->id && net.arp_filter >= 0 && net.icmp_filter >= 0; }

// ---- setting up ----

static void unmap_pages(void)
{
  for (int i = 0; i < RINGPAGES; i++)
    page_unmap(UNETRING + i * PGSIZE);
  for (int i = 0; i < NTX; i++)
    page_unmap(UNETTX + i * PGSIZE);
}

// A fork child finds its parent's stack in its memory: the ring and
// transmit pages (shared, PTE_SHARE, so that the fork did not make the
// parent's pinned pages copy-on-write) and its sockets, whose filters are
// the parent's.  It lets go of all of it and starts afresh.
static void forget_parent(void)
{
  unmap_pages();
  for (int i = 0; i < NSOCK; i++)
    for (struct dgram *d = socks[i].head, *next; d; d = next) {
      next = d->next;
      free(d);
    }
  memset(socks, 0, sizeof socks);
  memset(&net, 0, sizeof net);
  memset(&st, 0, sizeof st);
  memset(arpcache, 0, sizeof arpcache);
  arp_victim = arp_last = 0;
  memset(&want, 0, sizeof want);
}

// Set up this env's stack: a receive ring (pinned by the kernel while
// registered) and transmit pages, all mapped PTE_SHARE (see forget_parent),
// and the responder filters if nobody answers yet.  0, or -E_INVAL (no
// NIC), -E_PERM (no RIGHT_NET), -E_NO_MEM.
int net_init(void)
{
  if (net.env == thisenv->id)
    return 0;
  if (net.env)
    forget_parent();
  if (!usys->net_mac)
    return -E_INVAL;
  if (!(thisenv->rights & RIGHT_NET))
    return -E_PERM;
  int r = 0;
  unmap_pages();                                  // (a failed attempt's)
  for (int i = 0; i < RINGPAGES && r == 0; i++)
    r = page_map(UNETRING + i * PGSIZE, PTE_R | PTE_W | PTE_SHARE);
  for (int i = 0; i < NTX && r == 0; i++)
    r = page_map(UNETTX + i * PGSIZE, PTE_R | PTE_W | PTE_SHARE);
  if (r == 0)
    r = sys_net_ring((void *)UNETRING, RINGPAGES);
  if (r < 0) {
    unmap_pages();
    return r;
  }
  for (int i = 0; i < 6; i++)
    net.mac[i] = usys->net_mac >> (8 * i);
  net.next = 0;
  net.ipid = thisenv->id;
  net.arp_filter = net.icmp_filter = -1;
  for (int i = 0; i < NSOCK; i++)
    socks[i].filter = -1;
  take_responder();
  net.env = thisenv->id;
  return 0;
}

// ---- sending ----

// The next transmit page, once the NIC is done with it (its pin count is
// back to 0: this rarely waits); the frame goes at TXOFF.  0 if the page
// was taken from us (the abort protocol) and cannot be had again.
static uint8 *tx_get(void)
{
  uint64 va = UNETTX + net.txnext * PGSIZE;
  net.txnext = (net.txnext + 1) % NTX;
  pte_t pte = uvpt_pte(va);
  if (!(pte & PTE_V)) {
    if (page_map(va, PTE_R | PTE_W | PTE_SHARE) < 0)
      return 0;
    pte = uvpt_pte(va);
  }
  while (upages[PTE_PPN(pte) - PPN_BASE].pins)
    sys_yield(0);
  return (uint8 *)va + TXOFF;
}

static int tx_send(const uint8 *frame, uint32 len)
{
  int r;
  while ((r = sys_net_send(frame, len)) == -E_BUSY)
    sys_yield(0);                                 // the NIC's queue is full
  if (r == 0)
    st.tx++;
  return r;
}

int net_send_raw(const void *frame, int len)
{
  int r = net_init();
  if (r < 0)
    return r;
  if (len < NET_MINFRAME || len > NET_MAXFRAME || !user_ok(frame, len, 0))
    return -E_INVAL;
  uint8 *f = tx_get();
  if (!f)
    return -E_NO_MEM;
  memcpy(f, frame, len);
  return tx_send(f, len);
}

// Fill in the Ethernet and IPv4 headers of the frame at f for a datagram
// of plen bytes of protocol proto to ip at dmac.
static void ip_header(uint8 *f, const uint8 *dmac, uint8 proto, uint32 ip, uint32 plen)
{
  struct eth *e = (struct eth *)f;
  mac_copy(e->dst, dmac);
  mac_copy(e->src, net.mac);
  e->type = htons(ETH_IP);
  struct ip *h = (struct ip *)(f + sizeof *e);
  h->vhl = 0x45;
  h->tos = 0;
  h->len = htons(sizeof *h + plen);
  h->id = htons(net.ipid++);
  h->frag = htons(IP_DF);                         // we never fragment
  h->ttl = 64;
  h->proto = proto;
  h->sum = 0;
  h->src = htonl(NET_MYIP);
  h->dst = htonl(ip);
  h->sum = ~fold(sum20(h));
}

// ---- ARP ----

static int net_run(volatile int *done, uint64 deadline);

static uint64 ms_from_now(uint64 ms) { return rdtime() + ms * (usys->timebase / 1000); }

// BEGIN LAB net: ARP: arp_input answers requests for NET_MYIP (our responder filter takes them) and takes replies; arp_learn(ip, mac) caches where an address is, from ARP and from IPv4 frames to us; arp_resolve(ip, mac) finds an on-link address (our own needs no ARP; others: the cache, else broadcast requests a few times while a transient filter takes the replies, -E_TIMEOUT at last, -E_INVAL off our link); every frame it drops is counted
static struct arpent *arp_find(uint32 ip)
{
  for (int i = 0; i < NARP; i++)
    if (arpcache[i].ip == ip)
      return &arpcache[i];
  return 0;
}

// ip is at mac (from an ARP message, or the source of an IPv4 datagram
// to us).  A full cache forgets its entries in turn.
static void arp_learn(uint32 ip, const uint8 *mac)
{
  struct arpent *a = &arpcache[arp_last];         // (a stream comes from one sender)
  if (a->ip == ip && mac_eq(a->mac, mac))
    return;
  if (ip == 0 || (mac[0] & 1))                    // no address; a multicast "source"
    return;
  if (!(a = arp_find(ip))) {
    a = &arpcache[arp_victim];
    arp_victim = (arp_victim + 1) % NARP;
    a->ip = ip;
  }
  mac_copy(a->mac, mac);
  arp_last = a - arpcache;
}

static void arp_send(uint16 op, const uint8 *dmac, const uint8 *tha, uint32 tpa)
{
  uint8 *f = tx_get();
  if (!f)
    return;
  struct eth *e = (struct eth *)f;
  struct arp *a = (struct arp *)(f + sizeof *e);
  memcpy(e->dst, dmac, 6);
  mac_copy(e->src, net.mac);
  e->type = htons(ETH_ARP);
  a->htype = htons(1);
  a->ptype = htons(ETH_IP);
  a->hlen = 6;
  a->plen = 4;
  a->op = htons(op);
  memcpy(a->sha, net.mac, 6);
  put32(a->spa, NET_MYIP);
  memcpy(a->tha, tha, 6);
  put32(a->tpa, tpa);
  tx_send(f, sizeof *e + sizeof *a);
}

static void arp_input(const uint8 *f, uint32 len)
{
  const struct arp *a = (const struct arp *)(f + sizeof(struct eth));
  if (len < sizeof(struct eth) + sizeof *a || a->htype != htons(1) || a->ptype != htons(ETH_IP) ||
      a->hlen != 6 || a->plen != 4) {
    st.drop_arp++;
    return;
  }
  uint32 spa = get32(a->spa), tpa = get32(a->tpa);
  if (a->op == htons(1) && tpa == NET_MYIP) {     // who has our address? (our filter)
    arp_learn(spa, a->sha);
    arp_send(2, a->sha, a->sha, spa);
    st.arp_answered++;
  } else if (a->op == htons(2)) {                 // the answer to a resolver's request
    arp_learn(spa, a->sha);
    st.arp_replies++;
    if (spa == net.arp_want)
      net.arp_got = 1;
  } else {
    st.drop_arp++;
  }
}

// The Ethernet address of ip (on our link).  Our own address needs no
// ARP: frames to it leave the NIC and, on a loop, come back to us.  A
// resolver takes the replies about ip with a transient filter while it
// waits; if another env is resolving ip (its filter is the same: E_BUSY),
// it looks again a little later.
int arp_resolve(uint32 ip, uint8 mac[6])
{
  int r = net_init();
  if (r < 0)
    return r;
  if (ip == NET_MYIP) {
    memcpy(mac, net.mac, 6);
    return 0;
  }
  if ((ip & NET_NETMASK) != (NET_MYIP & NET_NETMASK) || (ip & ~NET_NETMASK) == 0 ||
      (ip & ~NET_NETMASK) == ~NET_NETMASK)
    return -E_INVAL;                              // not a host on our link: no route
  struct arpent *a = arp_find(ip);
  if (a) {
    memcpy(mac, a->mac, 6);
    return 0;
  }
  struct nettest t[] = { TEST(12, 2, ETH_ARP), TEST(20, 2, 2), TEST(28, 4, ip) };
  uint64 giveup = ms_from_now(ARP_TRIES * ARP_WAIT_MS);
  int fid, never = 0;
  while ((fid = filter_add(t, 3)) == -E_BUSY && rdtime() < giveup)
    net_run(&never, ms_from_now(ARP_BUSY_MS));
  if (fid < 0)
    return fid == -E_BUSY ? -E_TIMEOUT : fid;
  static const uint8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, zero[6];
  net.arp_want = ip;
  net.arp_got = 0;
  r = -E_TIMEOUT;
  for (int i = 0; i < ARP_TRIES && r < 0; i++) {
    arp_send(1, bcast, zero, ip);
    st.arp_requests++;
    net_run(&net.arp_got, ms_from_now(ARP_WAIT_MS));
    if ((a = arp_find(ip)) != 0) {
      memcpy(mac, a->mac, 6);
      r = 0;
    }
  }
  net.arp_want = 0;
  sys_net_filter(NETF_DEL, fid);
  return r;
}
// END LAB net: static void arp_learn(uint32 ip, const uint8 *mac) { (void)ip, (void)mac; } static void arp_input(const uint8 *f, uint32 len) { (void)f, (void)len, (void)get32, (void)put32, (void)arp_learn; st.drop_arp++; } int arp_resolve(uint32 ip, uint8 mac[6]) { int r = net_init(); if (r < 0) { return r; } if (ip != NET_MYIP) { return lab_todo("net", "ARP (only our own address resolves; requests are not answered)"), -E_TIMEOUT; } memcpy(mac, net.mac, 6); return 0; }

// ---- endpoints ----

struct sock *sock_alloc(int kind)
{
  static uint64 lastgen;
  if (net_init() < 0)
    return 0;
  for (int i = 0; i < NSOCK; i++) {
    struct sock *s = &socks[i];
    if (s->kind != SK_FREE)
      continue;
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->filter = -1;
    uint64 g = rdtime();                          // unique, also across an exec
    s->gen = lastgen = g > lastgen ? g : lastgen + 1;
    return s;
  }
  return 0;
}

struct sock *sock_get(uint32 i, uint64 gen)
{
  if (net.env != thisenv->id || i >= NSOCK || socks[i].kind == SK_FREE || socks[i].gen != gen)
    return 0;
  return &socks[i];
}

void sock_free(struct sock *s)
{
  if (s->filter >= 0)
    sys_net_filter(NETF_DEL, s->filter);
  for (struct dgram *d = s->head, *next; d; d = next) {
    next = d->next;
    free(d);
  }
  memset(s, 0, sizeof *s);
  s->filter = -1;
}

// Install s's filter for port (UDP) or echo id (SK_ECHO).  -E_BUSY if
// one of my sockets has it, or the kernel refuses (another env's).
int sock_bind(struct sock *s, uint16 port)
{
  for (int i = 0; i < NSOCK; i++)
    if (socks[i].kind == s->kind && socks[i].lport == port && &socks[i] != s)
      return -E_BUSY;
  int r;
  if (s->kind == SK_UDP) {
    struct nettest t[] = { TEST(36, 2, port) };
    r = ip_filter(IPPROTO_UDP, t, 1);
  } else {
    struct nettest t[] = { TEST(34, 1, ICMP_ECHOREPLY), TEST(38, 2, port) };
    r = ip_filter(IPPROTO_ICMP, t, 2);
  }
  if (r < 0)
    return r;
  s->filter = r;
  s->lport = port;
  return 0;
}

// A datagram for s: straight into the buffer of a receive waiting on s
// (the usual case: its only copy), else onto s's queue.  If check, acc is
// the UDP checksum's sum so far (pseudo-header and header) and the data
// completes it, checked as it is copied.  1 if s has it, 0 if dropped.
static int sock_input(struct sock *s, uint32 ip, uint16 port, const uint8 *data, uint32 len,
                       int check, uint64 acc)
{
  uint8 *to;
  struct dgram *d = 0;
  uint32 n = len;
  if (want.s == s && !s->head) {
    to = want.buf;
    if (n > (uint32)want.n)
      n = want.n;
  } else {
    if (s->qlen >= SOCK_QMAX || !(d = malloc(sizeof *d + len))) {
      st.drop_queue++;
      return 0;
    }
    to = d->data;
  }
  if (!check) {
    memcpy(to, data, n);
  } else if (n == len) {
    acc = csum_copy(to, data, n, acc);
  } else {                                        // (cut short: sum it all first)
    acc = csum_add(acc, data, len);
    memcpy(to, data, n);
  }
  if (check && fold(acc) != 0xffff) {
    st.drop_udp_csum++;
    free(d);
    return 0;
  }
  if (!d) {
    want.done = 1;
    want.got = n;
    want.ip = ip;
    want.port = port;
    return 1;
  }
  d->next = 0;
  d->ip = ip;
  d->port = port;
  d->len = len;
  if (s->tail)
    s->tail->next = d;
  else
    s->head = d;
  s->tail = d;
  s->qlen++;
  return 1;
}

static struct sock *sock_find(int kind, uint16 port)
{
  static int last;                                // (a stream goes to one socket)
  if (socks[last].kind == kind && socks[last].lport == port)
    return &socks[last];
  for (int i = 0; i < NSOCK; i++)
    if (socks[i].kind == kind && socks[i].lport == port)
      return &socks[last = i];
  return 0;
}

// The next datagram for s: at most n bytes of it copied to buf, its length
// returned; blocks (handling every frame that comes meanwhile) until one
// comes, or s's timeout passes (-E_TIMEOUT).
int sock_recv(struct sock *s, void *buf, int n, uint32 *ip, uint16 *port)
{
  struct dgram *d = s->head;
  if (d) {
    if (!(s->head = d->next))
      s->tail = 0;
    s->qlen--;
    int m = d->len < n ? d->len : n;
    memcpy(buf, d->data, m);
    *ip = d->ip;
    *port = d->port;
    free(d);
    return m;
  }
  want.s = s;
  want.buf = buf;
  want.n = n;
  want.done = 0;
  int r = net_run(&want.done, s->timeout_ms ? ms_from_now(s->timeout_ms) : 0);
  want.s = 0;
  if (!want.done)
    return r;
  *ip = want.ip;
  *port = want.port;
  return want.got;
}

// ---- IPv4, ICMP, UDP ----

// A transmit page for a datagram to ip, whose Ethernet address goes in
// mac; 0 with *err set if ip cannot be resolved or no page can be had.
static uint8 *tx_to(uint32 ip, uint8 mac[6], int *err)
{
  if ((*err = arp_resolve(ip, mac)) < 0)
    return 0;
  uint8 *f = tx_get();
  if (!f)
    *err = -E_NO_MEM;
  return f;
}

// Send a UDP datagram from s to ip:port: n bytes at buf.  n, or -error.
int udp_output(struct sock *s, uint32 ip, uint16 port, const void *buf, int n)
{
  uint8 mac[6];
  int r;
  uint8 *f = tx_to(ip, mac, &r);
  if (!f)
    return r;
  struct udp *u = (struct udp *)(f + HDRS);
  u->sport = htons(s->lport);
  u->dport = htons(port);
  u->len = htons(sizeof *u + n);
  u->sum = 0;
  ip_header(f, mac, IPPROTO_UDP, ip, sizeof *u + n);
  uint64 acc = pseudo((struct ip *)(f + sizeof(struct eth)), u->len);
  acc = add_c(acc, *(u64a *)u);
  acc = csum_copy(u + 1, buf, n, acc);
  uint16 sum = ~fold(acc);
  u->sum = sum ? sum : 0xffff;                    // (0 would mean "no checksum")
  if ((r = tx_send(f, HDRS + sizeof *u + n)) < 0)
    return r;
  st.udp_out++;
  return n;
}

static void udp_input(const struct ip *ip, const uint8 *p, uint32 plen)
{
  const struct udp *u = (const struct udp *)p;
  uint32 ulen = plen >= sizeof *u ? ntohs(u->len) : 0;
  if (ulen < sizeof *u || ulen > plen) {
    st.drop_udp_len++;
    return;
  }
  uint32 src = ntohl(ip->src);
  uint16 sport = ntohs(u->sport);
  struct sock *s = sock_find(SK_UDP, ntohs(u->dport));
  if (!s || (s->rport && (s->rip != src || s->rport != sport))) {
    st.drop_udp_port++;
    return;
  }
  uint64 acc = 0;
  if (u->sum)
    acc = add_c(pseudo(ip, u->len), *(const u64a *)u);
  st.udp_in += sock_input(s, src, sport, p + sizeof *u, ulen - sizeof *u, u->sum != 0, acc);
}

// An echo request (to our responder filter) gets its reply, the same id,
// sequence number and data; an echo reply goes to the pinger with its id.
static void icmp_input(const struct eth *e, const struct ip *ip, const uint8 *p, uint32 plen)
{
  const struct icmp *ic = (const struct icmp *)p;
  if (plen < sizeof *ic || fold(csum_add(0, p, plen)) != 0xffff) {
    st.drop_icmp++;
    return;
  }
  if (ic->type == ICMP_ECHO && ic->code == 0) {
    uint8 *f = tx_get();
    if (!f)
      return;
    struct icmp *r = (struct icmp *)(f + HDRS);
    memcpy(r, p, plen);
    r->type = ICMP_ECHOREPLY;
    r->sum = 0;
    r->sum = net_checksum(r, plen);
    ip_header(f, e->src, IPPROTO_ICMP, ntohl(ip->src), plen);
    if (tx_send(f, HDRS + plen) == 0)
      st.icmp_answered++;
    return;
  }
  struct sock *s;
  if (ic->type == ICMP_ECHOREPLY && (s = sock_find(SK_ECHO, ntohs(ic->id))) != 0) {
    st.icmp_replies += sock_input(s, ntohl(ip->src), ntohs(ic->seq), p + sizeof *ic, plen - sizeof *ic, 0, 0);
    return;
  }
  st.drop_icmp++;
}

// BEGIN LAB net: ip_input(f, len): an IPv4 frame from the ring: drop and count (st.drop_ip_*) a header too short or not version 4, a wrong header checksum, a total length below the header or past the frame, a fragment, a datagram not to NET_MYIP; learn the sender's address; hand UDP and ICMP to udp_input and icmp_input with the payload the total length gives
// An IPv4 datagram: checked, its sender's address learned, handed up.
static void ip_input(const uint8 *f, uint32 len)
{
  const struct eth *e = (const struct eth *)f;
  const struct ip *ip = (const struct ip *)(f + sizeof *e);
  uint32 n = len - sizeof *e, hl = (ip->vhl & 15) * 4;
  if (n < sizeof *ip || (ip->vhl >> 4) != 4 || hl < sizeof *ip || hl > n) {
    st.drop_ip_header++;
    return;
  }
  if (fold(hl == sizeof *ip ? sum20(ip) : csum_add(0, ip, hl)) != 0xffff) {
    st.drop_ip_csum++;
    return;
  }
  uint32 tot = ntohs(ip->len);
  if (tot < hl || tot > n) {                      // (more is Ethernet padding)
    st.drop_ip_len++;
    return;
  }
  if (ip->frag & htons(IP_MF | IP_OFFMASK)) {
    st.drop_ip_frag++;
    return;
  }
  if (ip->dst != htonl(NET_MYIP)) {
    st.drop_ip_dst++;
    return;
  }
  arp_learn(ntohl(ip->src), e->src);
  const uint8 *p = (const uint8 *)ip + hl;
  if (ip->proto == IPPROTO_UDP)
    udp_input(ip, p, tot - hl);
  else if (ip->proto == IPPROTO_ICMP)
    icmp_input(e, ip, p, tot - hl);
  else
    st.drop_ip_proto++;
}
// END LAB net: static void ip_input(const uint8 *f, uint32 len) { lab_todo_once("net", "ip_input's checks (IPv4 frames are taken as they come)"); const struct ip *ip = (const struct ip *)(f + sizeof(struct eth)); if (len < sizeof(struct eth) + sizeof *ip) { st.drop_ip_header++; return; } uint32 plen = len - sizeof(struct eth) - sizeof *ip; if (ip->proto == IPPROTO_UDP) { udp_input(ip, (const uint8 *)(ip + 1), plen); } else if (ip->proto == IPPROTO_ICMP) { icmp_input((const struct eth *)f, ip, (const uint8 *)(ip + 1), plen); } else { st.drop_ip_proto++; } }

static void eth_input(const uint8 *f, uint32 len)
{
  st.rx++;
  uint16 type = len >= sizeof(struct eth) ? ((const struct eth *)f)->type : 0;
  if (type == htons(ETH_IP))
    ip_input(f, len);
  else if (type == htons(ETH_ARP))
    arp_input(f, len);
  else
    st.drop_eth++;
}

// ---- the receive ring ----

static inline struct netslot *slot(uint32 i) { return (struct netslot *)(UNETRING + (uint64)i * NET_SLOT); }
static inline volatile uint64 *full(struct netslot *s) { return (volatile uint64 *)&s->full; }

// Handle the frame in the next slot and give the slot back.
static void take_slot(struct netslot *s)
{
  __sync_synchronize();                           // the frame was written before full
  uint32 len = s->len;
  eth_input(s->frame, len <= NET_MAXFRAME ? len : 0);
  __sync_synchronize();                           // done with it before the kernel refills it
  *full(s) = 0;
  net.next = (net.next + 1) % NSLOTS;
}

// Handle frames as they come until *done, or the deadline (time CSR; 0:
// none) passes: 0 or -E_TIMEOUT (or mwait's error).  Sleeps in the kernel (mwait) on the next
// slot's full word while the ring is empty: the kernel wakes it when it
// fills the slot.
static int net_run(volatile int *done, uint64 deadline)
{
  while (!*done) {
    struct netslot *s = slot(net.next);
    if (*full(s)) {
      take_slot(s);
      continue;
    }
    uint64 now = rdtime();
    if (deadline && now >= deadline)
      return -E_TIMEOUT;
    if ((net.arp_filter < 0 || net.icmp_filter < 0) && now >= net.retry_at)
      take_responder();                           // (the responder may have gone)
    int r = sys_mwait(full(s), 0, deadline);
    if (r < 0 && r != -E_AGAIN && r != -E_TIMEOUT)
      return r;                                   // (the ring is not mapped: never loop on it)
  }
  return 0;
}

int net_poll(void)
{
  if (net_init() < 0)
    return 0;
  int n = 0;
  for (struct netslot *s; *full(s = slot(net.next)); n++)
    take_slot(s);
  return n;
}

// Handle frames as they come for ms milliseconds: a program that has
// nothing to receive keeps answering ARP and ping (and queueing datagrams).
int net_wait(int ms)
{
  int r = net_init(), never = 0;
  if (r < 0)
    return r;
  net_run(&never, ms_from_now(ms > 0 ? ms : 0));
  return 0;
}

void net_get_stats(struct net_stats *s) { *s = st; }

void net_print_stats(const char *who)
{
  static const char *names[] = {
    "rx", "tx", "arp_answered", "arp_requests", "arp_replies", "icmp_answered", "icmp_replies",
    "udp_in", "udp_out", "drop_eth", "drop_arp", "drop_ip_header", "drop_ip_csum", "drop_ip_len",
    "drop_ip_frag", "drop_ip_dst", "drop_ip_proto", "drop_icmp", "drop_udp_len", "drop_udp_csum",
    "drop_udp_port", "drop_queue",
  };
  _Static_assert(sizeof names / sizeof names[0] == sizeof st / sizeof(uint64), "one name per counter");
  char line[512];
  int k = snprintf(line, sizeof line, "%s: net:", who);
  const uint64 *c = (const uint64 *)&st;
  for (uint32 i = 0; i < sizeof names / sizeof names[0]; i++)
    if (c[i] && k < (int)sizeof line)
      k += snprintf(line + k, sizeof line - k, " %s %lu", names[i], c[i]);
  printf("%s\n", line);
}

// ---- ICMP echo: the pinger's endpoint ----

static struct sock *echo;

// Take the echo replies with my id: by default my env id's low bits; if
// another env's pinger has those, the next free id.
int icmp_echo_open(void)
{
  if (echo && sock_get(echo - socks, echo->gen))
    return echo->lport;
  int r = net_init();
  if (r < 0)
    return r;
  if (!(echo = sock_alloc(SK_ECHO)))
    return -E_NO_MEM;
  r = -E_BUSY;
  for (uint32 i = 0; i < 64 && r == -E_BUSY; i++)
    r = sock_bind(echo, (thisenv->id + i) & 0xffff ? (thisenv->id + i) & 0xffff : 1);
  if (r < 0) {
    sock_free(echo);
    echo = 0;
    return r;
  }
  return echo->lport;
}

void icmp_echo_close(void)
{
  if (echo && sock_get(echo - socks, echo->gen))
    sock_free(echo);
  echo = 0;
}

int icmp_echo_send(uint32 ip, uint16 seq, const void *data, int n)
{
  int id = icmp_echo_open();
  if (id < 0)
    return id;
  if (n < 0 || n > UDP_MAXDATA || (n && !user_ok(data, n, 0)))
    return -E_INVAL;
  uint8 mac[6];
  int r;
  uint8 *f = tx_to(ip, mac, &r);
  if (!f)
    return r;
  struct icmp *ic = (struct icmp *)(f + HDRS);
  ic->type = ICMP_ECHO;
  ic->code = 0;
  ic->sum = 0;
  ic->id = htons(id);
  ic->seq = htons(seq);
  memcpy(ic + 1, data, n);
  ic->sum = net_checksum(ic, sizeof *ic + n);
  ip_header(f, mac, IPPROTO_ICMP, ip, sizeof *ic + n);
  return tx_send(f, HDRS + sizeof *ic + n);
}

int icmp_echo_recv(uint32 *ip, uint16 *seq, void *buf, int n, int timeout_ms)
{
  int id = icmp_echo_open();
  if (id < 0)
    return id;
  if (n < 0 || (n && !user_ok(buf, n, 1)) || !user_ok(ip, sizeof *ip, 1) || !user_ok(seq, sizeof *seq, 1))
    return -E_FAULT;
  echo->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
  return sock_recv(echo, buf, n, ip, seq);
}
