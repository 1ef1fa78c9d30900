// nettest: the library's network stack (ulib/net.c, ulib/udp.c) checked
// inside one guest.
//   nettest       the socket rules, which need a NIC but no traffic back:
//                 binding, a port taken twice, close removing the filter,
//                 another env's socket, bad arguments
//   nettest loop  (booted with `make qemu NETPORT=loop`: every frame the
//                 guest sends comes back to it) also: ping to our own
//                 address (in this env and from the ping program), UDP
//                 to our own sockets (every size, queueing, connect,
//                 timeouts), two udpecho envs each answering on its own
//                 port, the ARP responder and a resolver's transient
//                 filter, and malformed frames dropped and counted
//   nettest loop bench   and prints what the echo and bulk data cost in
//                 instructions (one hart, under -icount: make ICOUNT=1 CPUS=1)
// It ends with "nettest: all OK" or FAIL lines and exit status 1.
#include "lib.h"
#include "net.h"

#define ME      NET_MYIP
#define PORT_A  7100
#define PORT_B  7101
#define ECHO1   7001
#define ECHO2   7002
#define ECHO2_COUNT 20                          // datagrams udpecho ECHO2 echoes, then exits
#define WAIT_MS 2000                            // for anything that should come back

static uint8 mymac[6];
static int bench;                               // print the costs (instructions)
static char buf[2048], buf2[2048];
static uint8 fbuf[1600] __attribute__((aligned(8)));   // raw frames, built at fbuf + 2

static void put16(uint8 *p, uint16 v) { p[0] = v >> 8, p[1] = v; }
static void put32(uint8 *p, uint32 v) { p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v; }

static int child_gone(envid_t pid)
{
  return uenvs[ENVX(pid)].id != pid || uenvs[ENVX(pid)].status == ENV_EXITED;
}

// Run fn in a fork child that holds RIGHT_NET (fork does not pass it on:
// the child waits for the grant); its exit status.
static int in_child(int (*fn)(uint64), uint64 arg)
{
  envid_t c = fork();
  if (c < 0)
    return -1000;
  if (c == 0) {
    while (!(thisenv->rights & RIGHT_NET))
      sys_yield(0);
    exit(fn(arg));
  }
  int st;
  if (sys_env_grant(c, RIGHT_NET) < 0 || waitenv(c, &st) < 0)
    return -1000;
  return st;
}

// 0: bound it; 1: E_BUSY; 2: another error.
static int bind_port(uint64 port)
{
  int fd = udp_socket();
  if (fd < 0)
    return 3;
  int r = udp_bind(fd, port);
  return r == 0 ? 0 : r == -E_BUSY ? 1 : 2;
}

static int use_socket(uint64 fd) { return udp_sendto(fd, "x", 1, ME, 9) == -E_PERM ? 0 : 1; }

// ---- the socket rules (no traffic needed) ----

static void api_checks(void)
{
  int a = udp_socket(), b = udp_socket(), r;
  uint32 ip;
  uint16 port;
  if (!check(a >= 0 && b >= 0, "udp_socket: %s", errstr(a < 0 ? a : b)))
    return;
  uint8 mac[6];
  memset(mac, 0xa5, 6);
  r = arp_resolve(ME, mac);
  check(r == 0 && memcmp(mac, mymac, 6) == 0, "arp_resolve of our own address: %s, %02x:%02x:..",
        errstr(r), mac[0], mac[1]);
  r = udp_recvfrom(a, buf, 10, &ip, &port);
  check(r == -E_INVAL, "receive on an unbound socket: %d", r);
  r = read(a, buf, 10);
  check(r == -E_INVAL, "read on an unconnected socket: %d", r);
  r = write(a, buf, 10);
  check(r == -E_INVAL, "write on an unconnected socket: %d", r);
  r = udp_bind(a, PORT_A);
  check(r == 0, "bind %d: %s", PORT_A, errstr(r));
  r = udp_port(a);
  check(r == PORT_A, "udp_port says %d", r);
  r = udp_bind(a, PORT_A + 1);
  check(r == -E_INVAL, "a socket bound again: %d", r);
  r = udp_bind(b, PORT_A);
  check(r == -E_BUSY, "two sockets of one env on one port: %d", r);
  r = in_child(bind_port, PORT_A);
  check(r == 1, "another env binds my port: status %d (1: E_BUSY)", r);
  r = in_child(use_socket, a);
  check(r == 0, "another env used my socket (want E_PERM)");
  int d = dup(a);
  close(a);
  r = udp_bind(b, PORT_A);
  check(r == -E_BUSY, "a dup keeps the port after close: %d", r);
  close(d);
  r = udp_bind(b, PORT_A);
  check(r == 0, "bind after close: %s", errstr(r));
  close(b);
  r = in_child(bind_port, PORT_A);
  check(r == 0, "another env binds a closed port: status %d", r);

  int c = udp_socket();
  r = udp_sendto(c, buf, UDP_MAXDATA + 1, ME, 9);
  check(r == -E_INVAL, "a datagram too big: %d", r);
  r = udp_sendto(c, buf, 1, IP4(10, 0, 3, 1), 9);
  check(r == -E_INVAL, "an address off our link: %d", r);
  r = udp_sendto(c, (void *)0x1000, 10, ME, 9);
  check(r == -E_FAULT, "a bad buffer: %d", r);
  r = udp_bind(0, 1);
  check(r == -E_BADF, "bind on the console: %d", r);
  r = udp_bind(NFD + 3, 1);
  check(r == -E_BADF, "bind on no descriptor: %d", r);
  r = udp_port(c);
  check(r >= 49152, "a send bound the socket to a free port: %d", r);
  close(c);
  c = udp_socket();
  r = udp_bind(c, 0);
  check(r == 0 && udp_port(c) >= 49152, "bind to any port: %d, port %d", r, udp_port(c));
  close(c);
  r = udp_port(c);
  check(r == -E_BADF, "a closed socket: %d", r);
}

// ---- raw frames to ourselves ----

// A UDP datagram from ME:sport to ME:dport in fbuf + 2 (the IPv4 header
// 4-aligned, as the stack lays frames out); its length.
static uint8 *frame(void) { return fbuf + 2; }
static int mkudp(uint16 sport, uint16 dport, const void *data, int n)
{
  uint8 *f = frame(), *ip = f + 14, *u = ip + 20;
  memcpy(f, mymac, 6);
  memcpy(f + 6, mymac, 6);
  put16(f + 12, 0x0800);
  ip[0] = 0x45, ip[1] = 0;
  put16(ip + 2, 20 + 8 + n);
  put16(ip + 4, 77);
  put16(ip + 6, 0);
  ip[8] = 64, ip[9] = 17;
  put16(ip + 10, 0);
  put32(ip + 12, ME);
  put32(ip + 16, ME);
  *(uint16 *)(ip + 10) = net_checksum(ip, 20);
  put16(u, sport);
  put16(u + 2, dport);
  put16(u + 4, 8 + n);
  put16(u + 6, 0);
  memcpy(u + 8, data, n);
  static uint8 ps[1600] __attribute__((aligned(8)));   // pseudo-header, then the datagram
  memcpy(ps, ip + 12, 8);
  ps[8] = 0, ps[9] = 17;
  put16(ps + 10, 8 + n);
  memcpy(ps + 12, u, 8 + n);
  uint16 sum = net_checksum(ps, 12 + 8 + n);
  *(uint16 *)(u + 6) = sum ? sum : 0xffff;
  return 14 + 20 + 8 + n;
}

static void fix_ip_sum(void)
{
  uint8 *ip = frame() + 14;
  put16(ip + 10, 0);
  *(uint16 *)(ip + 10) = net_checksum(ip, 20);
}

static uint64 stat_of(int which)
{
  struct net_stats s;
  net_get_stats(&s);
  return ((uint64 *)&s)[which];
}
#define STAT(field) stat_of(__builtin_offsetof(struct net_stats, field) / sizeof(uint64))

// Send the raw frame in fbuf (len bytes) and then a good datagram to
// socket fd: the frame is handled by the time the good one arrives (they
// come back in order).  Did the good one come, and none before it?
static int then_control(int fd, int len, int k)
{
  int r = net_send_raw(frame(), len);
  if (r < 0)
    return check(0, "raw send: %s", errstr(r));
  char ctl[16];
  int n = snprintf(ctl, sizeof ctl, "control %d", k);
  if ((r = udp_sendto(fd, ctl, n, ME, udp_port(fd))) < 0)
    return check(0, "control send: %s", errstr(r));
  uint32 ip;
  uint16 port;
  r = udp_recvfrom(fd, buf, sizeof buf, &ip, &port);
  return check(r == n && memcmp(buf, ctl, n) == 0, "control datagram %d: %d bytes (%s)", k, r,
               r < 0 ? errstr(r) : "");
}

static void malformed_checks(int fd)
{
  uint16 p = udp_port(fd);
  const char *data = "malformed";
  int len, k = 0;
  struct { const char *what; int field; } cases[] = {
    { "bad IPv4 checksum", __builtin_offsetof(struct net_stats, drop_ip_csum) },
    { "a first fragment (MF)", __builtin_offsetof(struct net_stats, drop_ip_frag) },
    { "a later fragment (offset)", __builtin_offsetof(struct net_stats, drop_ip_frag) },
    { "IPv4 length past the frame", __builtin_offsetof(struct net_stats, drop_ip_len) },
    { "IPv4 length 19, below the header", __builtin_offsetof(struct net_stats, drop_ip_len) },
    { "IPv4 length 20, the header alone (no UDP header)",
      __builtin_offsetof(struct net_stats, drop_udp_len) },
    { "UDP length past the payload", __builtin_offsetof(struct net_stats, drop_udp_len) },
    { "bad UDP checksum", __builtin_offsetof(struct net_stats, drop_udp_csum) },
  };
  for (uint32 i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    len = mkudp(9999, p, data, 9);
    uint8 *ip = frame() + 14, *u = ip + 20;
    switch (i) {
    case 0: ip[10] ^= 0x40; break;
    case 1: put16(ip + 6, 0x2000); fix_ip_sum(); break;
    case 2: put16(ip + 6, 0x0010); fix_ip_sum(); break;
    case 3: put16(ip + 2, 20 + 8 + 9 + 40); fix_ip_sum(); break;
    case 4: put16(ip + 2, 19); fix_ip_sum(); break;
    case 5: put16(ip + 2, 20); fix_ip_sum(); break;
    case 6: put16(u + 4, 8 + 9 + 1); break;
    case 7: u[8] ^= 1; break;
    }
    uint64 before = stat_of(cases[i].field / sizeof(uint64));
    then_control(fd, len, k++);
    uint64 after = stat_of(cases[i].field / sizeof(uint64));
    check(after == before + 1, "%s: counted %lu times, want 1", cases[i].what, after - before);
  }
  // Checksum 0 means none; Ethernet padding past the IPv4 length is fine.
  len = mkudp(9999, p, data, 9);
  put16(frame() + 14 + 20 + 6, 0);
  memset(frame() + len, 0xee, 60 - len > 0 ? 60 - len : 0);
  net_send_raw(frame(), len < 60 ? 60 : len);
  uint32 ip;
  uint16 port;
  int r = udp_recvfrom(fd, buf, sizeof buf, &ip, &port);
  check(r == 9 && memcmp(buf, data, 9) == 0 && port == 9999 && ip == ME,
        "no checksum, padded frame: %d bytes from port %d", r, port);
  // An echo request with a bad checksum gets no answer.
  uint64 before = STAT(drop_icmp), answered = STAT(icmp_answered);
  uint8 *f = frame(), *iph = f + 14, *ic = iph + 20;
  len = mkudp(1, 1, "", 0);                      // (the Ethernet and IPv4 headers)
  iph[9] = 1;
  put16(iph + 2, 20 + 16);
  fix_ip_sum();
  memset(ic, 0, 16);
  ic[0] = 8;
  put16(ic + 2, 0x1234);                          // (wrong)
  then_control(fd, 14 + 20 + 16, k++);
  check(STAT(drop_icmp) == before + 1 && STAT(icmp_answered) == answered,
        "an echo request with a bad checksum: dropped %lu, answered %lu", STAT(drop_icmp) - before,
        STAT(icmp_answered) - answered);
}

// The responder answers an ARP request for our address and learns the
// asker; a datagram to the asker then needs no ARP request.
static void arp_responder_check(int fd)
{
  static const uint8 hismac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
  uint8 *f = frame(), *a = f + 14;
  memset(f, 0xff, 6);
  memcpy(f + 6, hismac, 6);
  put16(f + 12, 0x0806);
  put16(a, 1), put16(a + 2, 0x0800), a[4] = 6, a[5] = 4, put16(a + 6, 1);
  memcpy(a + 8, hismac, 6);
  put32(a + 14, IP4(10, 0, 2, 2));
  memset(a + 18, 0, 6);
  put32(a + 24, ME);
  uint64 answered = STAT(arp_answered), asked = STAT(arp_requests);
  // not for Ethernet and IPv4: dropped, counted, not answered
  struct { int off, size; uint32 val; const char *what; } bad[] = {
    { 0, 2, 6, "hardware type 6" }, { 2, 2, 0x86DD, "protocol IPv6" },
    { 4, 1, 8, "hardware length 8" }, { 5, 1, 16, "protocol length 16" },
  };
  for (uint32 i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8 keep[4];
    memcpy(keep, a + bad[i].off, 4);
    if (bad[i].size == 2)
      put16(a + bad[i].off, bad[i].val);
    else
      a[bad[i].off] = bad[i].val;
    uint64 dropped = STAT(drop_arp);
    then_control(fd, 14 + 28, 90 + i);
    check(STAT(drop_arp) == dropped + 1 && STAT(arp_answered) == answered,
          "an ARP request for us with %s: dropped %lu times, answered %lu", bad[i].what,
          STAT(drop_arp) - dropped, STAT(arp_answered) - answered);
    memcpy(a + bad[i].off, keep, 4);
  }
  then_control(fd, 14 + 28, 100);
  check(STAT(arp_answered) == answered + 1, "an ARP request for us: answered %lu times",
        STAT(arp_answered) - answered);
  int r = udp_sendto(fd, "hi", 2, IP4(10, 0, 2, 2), 9);
  check(r == 2 && STAT(arp_requests) == asked, "send to the asker: %d, %lu ARP requests", r,
        STAT(arp_requests) - asked);
}

// A resolver takes ARP replies with a transient filter: children resolve
// 10.0.2.77 while we (the only one who could) forge its replies.
static const uint8 mac77[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x4d };
static volatile uint64 resolved[PGSIZE / 8] __attribute__((aligned(PGSIZE)));   // shared

// Two children resolve it at once: the second's filter is refused (the
// first's takes the same replies) until the first's resolve has returned,
// then it has its turn.  Each stays alive until both have resolved (or
// the parent gives up), so a filter left installed after a resolve would
// keep the other out until its ARP gave up.
static void arp_resolver_check(void)
{
  int r = page_map((uint64)resolved, PTE_R | PTE_W | PTE_SHARE);
  if (!check(r == 0, "map a shared page: %s", errstr(r)))
    return;
  envid_t c[2];
  for (int k = 0; k < 2; k++) {
    if ((c[k] = fork()) < 0) {
      check(0, "fork: %s", errstr(c[k]));
      return;
    }
    if (c[k] == 0) {
      while (!(thisenv->rights & RIGHT_NET))
        sys_yield(0);
      uint8 mac[6];
      int st = (r = arp_resolve(IP4(10, 0, 2, 77), mac)) < 0 ? 2
               : memcmp(mac, mac77, 6) != 0            ? 1
               : STAT(arp_replies) == 0                ? 3    // (the reply it took, counted)
                                                       : 0;
      __atomic_fetch_add(&resolved[0], 1, __ATOMIC_SEQ_CST);
      while (resolved[0] < 2 && !resolved[1])
        sys_yield(0);
      if (r < 0)
        printf("nettest: child %d: arp_resolve: %s\n", k, errstr(r));
      exit(st);
    }
    sys_env_grant(c[k], RIGHT_NET);
  }
  uint8 *f = frame(), *a = f + 14;
  for (int i = 0; i < 100 && resolved[0] < 2; i++) {
    memset(f, 0xff, 6);                           // (to anyone: we do not know its MAC)
    memcpy(f + 6, mac77, 6);
    put16(f + 12, 0x0806);
    put16(a, 1), put16(a + 2, 0x0800), a[4] = 6, a[5] = 4, put16(a + 6, 2);
    memcpy(a + 8, mac77, 6);
    put32(a + 14, IP4(10, 0, 2, 77));
    memcpy(a + 18, mymac, 6);
    put32(a + 24, ME);
    net_send_raw(f, 14 + 28);
    net_wait(50);
  }
  resolved[1] = 1;                                // (let them go in any case)
  for (int k = 0; k < 2; k++) {
    int st;
    waitenv(c[k], &st);
    check(st == 0, "child %d resolving 10.0.2.77 through forged replies: status %d", k, st);
  }
}

// ---- datagrams to our own sockets ----

static void self_checks(int a, int b)
{
  uint32 ip;
  uint16 port;
  int r;
  static const int sizes[] = { 0, 1, 7, 8, 9, 100, 1024, 1471, UDP_MAXDATA };
  for (uint32 i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    int n = sizes[i];
    for (int j = 0; j < n; j++)
      buf2[j] = i * 37 + j * 11;
    if ((r = udp_sendto(b, buf2, n, ME, PORT_A)) != n) {
      check(0, "send %d bytes: %d", n, r);
      continue;
    }
    memset(buf, 0, sizeof buf);
    r = udp_recvfrom(a, buf, sizeof buf, &ip, &port);
    check(r == n && memcmp(buf, buf2, n) == 0 && ip == ME && port == PORT_B,
          "a datagram of %d bytes came back as %d bytes from port %d", n, r, port);
  }
  // A shorter buffer: the datagram is cut.
  udp_sendto(b, buf2, 100, ME, PORT_A);
  r = udp_recvfrom(a, buf, 10, &ip, &port);
  check(r == 10 && memcmp(buf, buf2, 10) == 0, "a datagram cut to 10 bytes: %d", r);
  // Datagrams for a socket nobody is receiving on wait in its queue, in order.
  for (int i = 0; i < 3; i++) {
    int n = snprintf(buf2, sizeof buf2, "queued %d", i);
    udp_sendto(a, buf2, n, ME, PORT_B);
  }
  udp_sendto(b, "direct", 6, ME, PORT_A);
  r = udp_recvfrom(a, buf, sizeof buf, &ip, &port);
  check(r == 6 && memcmp(buf, "direct", 6) == 0, "past three queued datagrams: %d", r);
  for (int i = 0; i < 3; i++) {
    int n = snprintf(buf2, sizeof buf2, "queued %d", i);
    r = udp_recvfrom(b, buf, sizeof buf, &ip, &port);
    check(r == n && memcmp(buf, buf2, n) == 0 && port == PORT_A, "queued datagram %d: %d bytes", i, r);
  }
  // Timeouts.
  udp_timeout(a, 100);
  r = udp_recvfrom(a, buf, sizeof buf, &ip, &port);
  check(r == -E_TIMEOUT, "receive with nothing coming: %d (want E_TIMEOUT)", r);
  udp_timeout(a, WAIT_MS);
  udp_timeout(b, WAIT_MS);
  // Connected: read and write; datagrams from others are dropped.
  int c = udp_socket();
  r = udp_connect(c, ME, PORT_A);
  check(r == 0 && udp_port(c) > 0, "connect: %s", errstr(r));
  udp_timeout(c, WAIT_MS);
  r = write(c, "to a", 4);
  check(r == 4, "write on a connected socket: %d", r);
  r = udp_recvfrom(a, buf, sizeof buf, &ip, &port);
  check(r == 4 && port == udp_port(c), "what it wrote: %d from %d", r, port);
  uint64 dropped = STAT(drop_udp_port);
  udp_sendto(b, "not the peer", 12, ME, udp_port(c));
  udp_sendto(a, "from a", 6, ME, udp_port(c));
  r = read(c, buf, sizeof buf);
  check(r == 6 && memcmp(buf, "from a", 6) == 0, "read on a connected socket: %d", r);
  check(STAT(drop_udp_port) == dropped + 1, "a datagram from another peer: dropped %lu",
        STAT(drop_udp_port) - dropped);
  close(c);
  // An address nobody has: ARP gives up, after 4 requests.
  uint64 t0 = rdtime(), asked = STAT(arp_requests);
  r = udp_sendto(a, "x", 1, IP4(10, 0, 2, 99), 9);
  check(r == -E_TIMEOUT, "send to a host nobody has: %d (want E_TIMEOUT)", r);
  check(STAT(arp_requests) == asked + 4, "ARP for a host nobody has: %lu requests, want 4",
        STAT(arp_requests) - asked);
  printf("nettest: ARP gave up after %lu ms\n", (rdtime() - t0) / (usys->timebase / 1000));
}

static void ping_checks(void)
{
  check(net_responder(), "nettest, the first env with the stack, answers ARP and ping");
  int id = icmp_echo_open();
  if (!check(id > 0, "icmp_echo_open: %d", id))
    return;
  for (int seq = 1; seq <= 3; seq++) {
    for (int j = 0; j < 32; j++)
      buf2[j] = seq + j;
    int r = icmp_echo_send(ME, seq, buf2, 32);
    uint32 ip = 0;
    uint16 got = 0;
    if (r == 0)
      r = icmp_echo_recv(&ip, &got, buf, sizeof buf, WAIT_MS);
    check(r == 32 && got == seq && ip == ME && memcmp(buf, buf2, 32) == 0,
          "ping our own address, seq %d: %d (seq %d)", seq, r, got);
  }
  icmp_echo_close();
  // The ping program, in another env: we answer its requests while we wait.
  char *argv[] = { "ping", "10.0.2.15", "2", 0 };
  envid_t c = spawn("ping", argv);
  if (!check(c > 0, "spawn ping: %s", errstr(c)))
    return;
  for (int i = 0; i < 200 && !child_gone(c); i++)
    net_wait(20);
  int st = -1;
  waitenv(c, &st);
  check(st == 0, "the ping program: status %d", st);
}

// ---- two udpecho envs ----

// Start `udpecho port [count]` with its output into a pipe; *out: the read end.
static envid_t start_echo(int port, int count, int *out)
{
  int p[2];
  if (pipe(p) < 0)
    return -E_NO_MEM;
  char ps[8], cs[8];
  snprintf(ps, sizeof ps, "%d", port);
  snprintf(cs, sizeof cs, "%d", count);
  char *argv[] = { "udpecho", ps, count ? cs : 0, 0 };
  int saved = dup(1);
  fd_cloexec(saved, 1);
  fd_cloexec(p[0], 1);
  dup2(p[1], 1);
  envid_t c = spawn("udpecho", argv);
  dup2(saved, 1);
  close(saved);
  close(p[1]);
  *out = p[0];
  return c;
}

// A line of a child's output (printed here too); its length, 0 at the end.
static int echo_line(int fd, char *line, int max)
{
  int n = 0;
  while (n < max - 1 && read(fd, line + n, 1) == 1 && line[n] != '\n')
    n++;
  line[n] = 0;
  if (n)
    printf("%s\n", line);
  return n;
}

// Send to port and expect the same bytes back from it.
static int echoes(int fd, int port, int k)
{
  int n = snprintf(buf2, sizeof buf2, "datagram %d for port %d", k, port);
  int r = udp_sendto(fd, buf2, n, ME, port);
  if (r != n)
    return check(0, "send to port %d: %d", port, r);
  uint32 ip;
  uint16 from;
  r = udp_recvfrom(fd, buf, sizeof buf, &ip, &from);
  return r == n && from == port && memcmp(buf, buf2, n) == 0 ? 1 : r == -E_TIMEOUT ? 0 : -1;
}

static void udpecho_checks(int fd)
{
  int out1, out2;
  char line[128], want[64];
  envid_t e1 = start_echo(ECHO1, 0, &out1), e2 = start_echo(ECHO2, ECHO2_COUNT, &out2);
  if (!check(e1 > 0 && e2 > 0, "spawn udpecho: %s", errstr(e1 > 0 ? e2 : e1)))
    return;
  for (int i = 0; i < 2; i++) {
    int port = i ? ECHO2 : ECHO1;
    snprintf(want, sizeof want, "udpecho: port %d ready", port);
    echo_line(i ? out2 : out1, line, sizeof line);
    check(strcmp(line, want) == 0, "udpecho %d says \"%s\"", port, line);
  }
  check(e1 != e2 && !child_gone(e1) && !child_gone(e2), "two udpecho envs");
  int sent2 = 0;
  for (int k = 0; k < 10; k++) {
    int port = k & 1 ? ECHO2 : ECHO1;
    check(echoes(fd, port, k) == 1, "datagram %d to port %d came back from it", k, port);
    sent2 += port == ECHO2;
  }
  // The first one goes: its filter with it; the other still answers.
  kill(e1);
  int st;
  waitenv(e1, &st);
  udp_timeout(fd, 300);
  check(echoes(fd, ECHO1, 100) == 0, "port %d answered after its udpecho was killed", ECHO1);
  udp_timeout(fd, WAIT_MS);
  // Time the rest (instructions, one hart, everything included).
  uint64 i0 = rdinstret(), idle0 = usys->idle_instret;
  int timed = 0;
  for (; sent2 < ECHO2_COUNT; sent2++, timed++)
    check(echoes(fd, ECHO2, 200 + sent2) == 1, "datagram to port %d after the other went", ECHO2);
  uint64 di = rdinstret() - i0 - (usys->idle_instret - idle0);
  if (bench && timed)
    printf("nettest: udp echo round trip through udpecho: %lu instructions\n", di / timed);
  while (echo_line(out2, line, sizeof line) > 0)
    ;
  waitenv(e2, &st);
  check(st == 0, "udpecho %d, after %d datagrams: status %d", ECHO2, ECHO2_COUNT, st);
  close(out1);
  close(out2);
}

// The cost of moving bulk data through the loop: 1472-byte datagrams to
// our own socket, sent and received in turn, per KiB (everything: both
// library sides, the kernel's transmit, interrupt, demultiplexing and
// copies).  Then the library's part of receiving alone: a burst that is
// already in the ring, received.  One hart, -icount (make ICOUNT=1).
static void bulk_cost(int a, int b)
{
  uint32 ip;
  uint16 port;
  int n = 64, ok = 1, burst = 8;
  uint64 i0 = rdinstret(), idle0 = usys->idle_instret;
  for (int i = 0; i < n && ok; i++)
    ok = udp_sendto(b, buf2, UDP_MAXDATA, ME, PORT_A) == UDP_MAXDATA &&
         udp_recvfrom(a, buf, sizeof buf, &ip, &port) == UDP_MAXDATA;
  uint64 di = rdinstret() - i0 - (usys->idle_instret - idle0);
  uint64 rx0 = usys->net_rx;
  for (int i = 0; i < burst && ok; i++)
    ok = udp_sendto(b, buf2, UDP_MAXDATA, ME, PORT_A) == UDP_MAXDATA;
  for (int i = 0; i < 20 && usys->net_rx - rx0 < (uint64)burst; i++)
    sleep(1);                                   // (no network call: they stay in the ring)
  uint64 l0 = rdinstret();
  for (int i = 0; i < burst && ok; i++)
    ok = udp_recvfrom(a, buf, sizeof buf, &ip, &port) == UDP_MAXDATA;
  uint64 dl = rdinstret() - l0;
  check(ok, "bulk datagrams");
  if (ok && bench)
    printf("nettest: datagrams of %d bytes through the loop: %lu instructions per KiB sent and "
           "received, of which the library's receiving %lu\n", UDP_MAXDATA,
           di * 1024 / ((uint64)n * UDP_MAXDATA), dl * 1024 / ((uint64)burst * UDP_MAXDATA));
}

int main(int argc, char **argv)
{
  int loop = argc > 1 && strcmp(argv[1], "loop") == 0;
  bench = loop && argc > 2 && strcmp(argv[2], "bench") == 0;
  if (!check(usys->net_mac != 0, "no NIC (boot with make qemu, which attaches one)"))
    return check_report();
  for (int i = 0; i < 6; i++)
    mymac[i] = usys->net_mac >> (8 * i);
  if (loop && !fs_env && fs_start() < 0)          // (booted as the first env: spawn needs it)
    check(0, "no file server");
  int r = net_init();
  if (!check(r == 0, "net_init: %s", errstr(r)))
    return check_report();
  api_checks();
  if (loop) {
    int a = udp_socket(), b = udp_socket();
    check(udp_bind(a, PORT_A) == 0 && udp_bind(b, PORT_B) == 0, "bind %d and %d", PORT_A, PORT_B);
    udp_timeout(a, WAIT_MS);
    udp_timeout(b, WAIT_MS);
    ping_checks();
    self_checks(a, b);
    malformed_checks(a);
    arp_responder_check(a);
    arp_resolver_check();
    udpecho_checks(b);
    bulk_cost(a, b);
    close(a);
    close(b);
  }
  net_print_stats("nettest");
  return check_report();
}
