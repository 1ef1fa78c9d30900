// The network's benchmarks, counted in guest instructions (run under
// -icount with the NIC looped back: make bench does).  "netbench demux"
// prints the cost of choosing a frame's owner with 1 filter and with 64:
// it sends frames to itself and reads the kernel's count of instructions
// spent in the demultiplexer (syspub.net_demux_instret).
#include "lib.h"

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
  if ((r = udp_port_filter(7)) < 0)
    fail("filter", r);
  uint64 one = demux_cost(7);
  for (int i = 1; i < 64; i++)
    if ((r = udp_port_filter(1000 + i)) < 0)
      fail("filter", r);
  uint64 many = demux_cost(7), last = demux_cost(1063);
  report("net_demux1", one, 1, "frame");
  report("net_demux64", many > last ? many : last, 1, "frame");
  sys_net_ring(0, 0);
}

int main(int argc, char **argv)
{
  if (!usys->net_mac) {
    printf("netbench: no NIC (boot with one: make qemu NETPORT=loop)\n");
    return 1;
  }
  if (argc < 2 || strcmp(argv[1], "demux") == 0)
    bench_demux();
  return 0;
}
