// The network's benchmarks, counted in guest instructions (run under
// -icount, one hart, with the NIC looped back: make bench does).
//   netbench demux   the cost of choosing a frame's owner with 1 filter and
//                    with 64: it sends frames to itself and reads the
//                    kernel's count of instructions spent in the
//                    demultiplexer (syspub.net_demux_instret);
//   netbench udp     udp_echo: a datagram echoed by a forked server, from
//                    the trap of the request's interrupt to the reply's
//                    hand-over to the NIC; udp_throughput: receiving 1472-byte
//                    datagrams, per KiB: the kernel's part (trap to the end
//                    of the interrupt's handling, syspub.net_rx_instret)
//                    plus the library's (udp_recvfrom of frames already in
//                    the ring).
#include "lib.h"
#include "net.h"

#define RING      0x50000000UL            // my receive ring
#define TXPAGE    (RING + NET_RINGPAGES * PGSIZE)
#define NSLOTS    (NET_RINGPAGES * NET_SLOTS_PER_PAGE)
#define FRAMES    NSLOTS                  // per measurement: one ring's worth

static void report(const char *name, uint64 insn, uint64 n, const char *unit)
{
  printf("bench %s %lu insn/%s\n", name, (insn + n / 2) / n, unit);
}

static void fail(const char *what, int r)
{
  printf("netbench: FAIL: %s: %s\n", what, errstr(r));
  exit(1);
}

// Frames the kernel has looked at (those of the right size), ever.
static uint64 demuxed(void) { return usys->net_rx + usys->net_nomatch + usys->net_ringfull; }

// The filter of an IPv4 UDP destination port (an IP header of 20 bytes).
static int udp_port_filter(uint16 port)
{
  struct netfilter f = { .ntests = 3 };
  f.t[0] = (struct nettest){ .off = 12, .size = 2, .mask = 0xffff, .value = 0x0800 };
  f.t[1] = (struct nettest){ .off = 23, .size = 1, .mask = 0xff, .value = 17 };
  f.t[2] = (struct nettest){ .off = 36, .size = 2, .mask = 0xffff, .value = port };
  return sys_net_filter(NETF_ADD, (uint64)&f);
}

// A minimal UDP frame to myself, for port (checksums are not looked at).
static uint64 udp_frame(uint8 *p, uint16 port)
{
  memset(p, 0, 64);
  for (int i = 0; i < 6; i++)
    p[i] = p[6 + i] = usys->net_mac >> (8 * i);
  p[12] = 0x08;
  p[14] = 0x45;                          // IPv4, 20-byte header
  p[17] = 46;                            // total length
  p[22] = 64;                            // TTL
  p[23] = 17;                            // UDP
  p[36] = port >> 8;
  p[37] = port;
  p[39] = 26;                            // UDP length
  return 60;
}

// Send n frames for port, then wait until the kernel has looked at all of
// them (the ring holds them all), and empty the ring.
static void send_and_drain(uint16 port, int n)
{
  uint64 want = demuxed() + n;
  uint8 *tx = (uint8 *)TXPAGE;
  uint64 len = udp_frame(tx, port);
  for (int i = 0; i < n; i++) {
    int r;
    while ((r = sys_net_send(tx, len)) == -E_BUSY)
      sys_yield(0);
    if (r < 0)
      fail("send", r);
  }
  uint64 t0 = rdtime();
  while (demuxed() < want) {
    if (rdtime() - t0 > 10 * usys->timebase) {
      printf("netbench: FAIL: %lu of %d frames came back\n", demuxed() - (want - n), n);
      exit(1);
    }
    sys_yield(0);
  }
  for (int s = 0; s < NSLOTS; s++)
    ((volatile struct netslot *)(RING + s * NET_SLOT))->full = 0;
}

static uint64 demux_cost(uint16 port)
{
  send_and_drain(port, 4);                // warm up
  uint64 i0 = usys->net_demux_instret, n0 = demuxed();
  send_and_drain(port, FRAMES);
  return (usys->net_demux_instret - i0) / (demuxed() - n0);
}

static void bench_demux(void)
{
  int r;
  for (uint64 va = RING; va <= TXPAGE; va += PGSIZE)
    if ((r = page_map(va, PTE_R | PTE_W)) < 0)
      fail("page_map", r);
  if ((r = sys_net_ring((void *)RING, NET_RINGPAGES)) < 0)
    fail("net_ring", r);
  int ids[64];
  if ((ids[0] = r = udp_port_filter(7)) < 0)
    fail("filter", r);
  uint64 one = demux_cost(7);
  for (int i = 1; i < 64; i++)
    if ((ids[i] = r = udp_port_filter(1000 + i)) < 0)
      fail("filter", r);
  uint64 many = demux_cost(7), last = demux_cost(1063);
  report("net_demux1", one, 1, "frame");
  report("net_demux64", many > last ? many : last, 1, "frame");
  for (int i = 0; i < 64; i++)
    sys_net_filter(NETF_DEL, ids[i]);
  sys_net_ring(0, 0);
}

#define ECHO_PORT  7
#define BULK_PORT  9
#define NECHO      200
#define NBULK      14                     // a burst that fits the library's ring (16 slots)

static char buf[UDP_MAXDATA];

// A forked child may use the network once I have granted it the right.
static envid_t fork_net(void)
{
  envid_t c = fork();
  if (c == 0) {
    while (!(thisenv->rights & RIGHT_NET))
      sys_yield(0);
    return 0;
  }
  if (c > 0)
    sys_env_grant(c, RIGHT_NET);
  return c;
}

// The echo server: answers n datagrams, then reports the mean cost of
// each, from the request's interrupt to the reply's hand-over.
static void echo_server(int n)
{
  int fd = udp_socket(), r;
  if (fd < 0 || (r = udp_bind(fd, ECHO_PORT)) < 0)
    fail("echo: bind", fd < 0 ? fd : r);
  uint64 sum = 0;
  for (int i = 0; i < n; i++) {
    uint32 ip;
    uint16 port;
    int len = udp_recvfrom(fd, buf, sizeof buf, &ip, &port);
    if (len < 0)
      fail("echo: receive", len);
    uint64 irq = usys->irq_instret;       // (the request's: nothing else comes meanwhile)
    if ((r = udp_sendto(fd, buf, len, ip, port)) < 0)
      fail("echo: send", r);
    if (i >= 10)                          // (the first ones warm up)
      sum += usys->net_tx_instret - irq;
  }
  report("udp_echo", sum, n - 10, "datagram");
  exit(0);
}

static void bench_udp(void)
{
  int r;
  envid_t srv = fork_net();
  if (srv < 0)
    fail("fork", srv);
  if (srv == 0)
    echo_server(NECHO);
  int fd = udp_socket();
  if (fd < 0 || (r = udp_bind(fd, 0)) < 0)
    fail("client: bind", fd < 0 ? fd : r);
  // The first datagram is sent again until the server, starting, answers
  // (no pipe: the benchmark needs nothing of the other labs).
  for (int i = 0, tries = 0; i < NECHO; i++) {
    uint32 ip;
    uint16 port;
    udp_timeout(fd, i == 0 ? 100 : 5000);
    if ((r = udp_sendto(fd, "ping", 4, NET_MYIP, ECHO_PORT)) < 0 ||
        (r = udp_recvfrom(fd, buf, sizeof buf, &ip, &port)) != 4) {
      if (i == 0 && r == -E_TIMEOUT && ++tries < 100) {
        i--;
        continue;
      }
      fail("client: echo", r < 0 ? r : -E_INVAL);
    }
  }
  int st;
  waitenv(srv, &st);

  // Bulk receive: a child sends a burst to my port while I make no
  // network call (the frames wait in my ring), then I receive them.
  int in = udp_socket();
  if (in < 0 || (r = udp_bind(in, BULK_PORT)) < 0)
    fail("bulk: bind", in < 0 ? in : r);
  uint64 rx0 = usys->net_rx, k0 = usys->net_rx_instret;
  envid_t snd = fork_net();
  if (snd == 0) {
    int out = udp_socket();
    memset(buf, 0x5a, sizeof buf);
    for (int i = 0; i < NBULK; i++)
      if ((r = udp_sendto(out, buf, UDP_MAXDATA, NET_MYIP, BULK_PORT)) < 0)
        fail("bulk: send", r);
    exit(0);
  }
  waitenv(snd, &st);
  for (uint64 t0 = rdtime(); usys->net_rx - rx0 < NBULK; sys_yield(0))
    if (rdtime() - t0 > 10 * usys->timebase)
      fail("bulk: frames lost", -E_TIMEOUT);
  uint64 kernel = usys->net_rx_instret - k0;
  uint64 l0 = rdinstret();
  for (int i = 0; i < NBULK; i++) {
    uint32 ip;
    uint16 port;
    if ((r = udp_recvfrom(in, buf, sizeof buf, &ip, &port)) != UDP_MAXDATA)
      fail("bulk: receive", r < 0 ? r : -E_INVAL);
  }
  uint64 lib = rdinstret() - l0;
  report("udp_throughput", (kernel + lib) * 1024, (uint64)NBULK * UDP_MAXDATA, "KiB");
  close(in);
  close(fd);
}

int main(int argc, char **argv)
{
  if (!usys->net_mac) {
    printf("netbench: no NIC (boot with one: make qemu NETPORT=loop)\n");
    return 1;
  }
  if (argc < 2 || strcmp(argv[1], "demux") == 0)
    bench_demux();
  if (argc < 2 || strcmp(argv[1], "udp") == 0)
    bench_udp();
  return 0;
}
