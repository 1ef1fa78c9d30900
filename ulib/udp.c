// UDP sockets as file descriptors (docs/net-lib.md).  A socket lives in
// the stack of the env that made it (net.c: its filter, its queue, the
// receive ring), so its descriptor page names that env, the socket's slot
// and the slot's generation.  Another env that holds the descriptor (a
// fork child, a spawned program) cannot use it (-E_PERM), and spawn does
// not pass sockets on (close-on-spawn).  Once connected, read and write
// work; close removes the filter when the env's last descriptor for the
// socket goes.
#include "lib.h"
#include "fd.h"
#include "netint.h"

#define EPHEMERAL 49152                 // ports udp_bind(fd, 0) and sendto choose from
#define NEPHEMERAL 16384

// The socket behind fd, or -E_BADF (not a socket, or a stale one),
// -E_PERM (another env's socket).
static int sock_of(int fd, struct sock **sp)
{
  if (!fd_isopen(fd) || FD(fd)->dev != FD_UDP)
    return -E_BADF;
  struct fdesc *f = FD(fd);
  if (f->sock_env != thisenv->id)
    return -E_PERM;
  struct sock *s = sock_get(f->sock, f->sock_gen);
  if (!s)
    return -E_BADF;
  *sp = s;
  return 0;
}

int udp_socket(void)
{
  fd_device(FD_UDP, &dev_udp);
  struct sock *s = sock_alloc(SK_UDP);
  if (!s) {
    int r = net_init();
    return r < 0 ? r : -E_MFILE;
  }
  int fd = fd_alloc(FD_UDP, O_RDWR);
  if (fd < 0) {
    sock_free(s);
    return fd;
  }
  struct fdesc *f = FD(fd);
  f->sock_env = thisenv->id;
  f->sock = s - socks;
  f->sock_gen = s->gen;
  fd_cloexec(fd, 1);
  return fd;
}

// A free port for s, from a range that depends on who I am, so that envs
// seldom try each other's (an ancestor's filter is allowed over its
// descendants': the kernel would not refuse it).
static int bind_any(struct sock *s)
{
  uint32 start = (ENVX(thisenv->id) * 64) % NEPHEMERAL;
  for (uint32 i = 0; i < 256; i++) {
    int r = sock_bind(s, EPHEMERAL + (start + i) % NEPHEMERAL);
    if (r != -E_BUSY)
      return r;
  }
  return -E_BUSY;
}

int udp_bind(int fd, uint16 port)
{
  struct sock *s;
  int r = sock_of(fd, &s);
  if (r < 0)
    return r;
  if (s->lport)
    return -E_INVAL;                    // bound already
  return port ? sock_bind(s, port) : bind_any(s);
}

int udp_port(int fd)
{
  struct sock *s;
  int r = sock_of(fd, &s);
  return r < 0 ? r : s->lport;
}

int udp_timeout(int fd, int ms)
{
  struct sock *s;
  int r = sock_of(fd, &s);
  if (r < 0)
    return r;
  if (ms < 0)
    return -E_INVAL;
  s->timeout_ms = ms;
  return 0;
}

// From now on s takes datagrams from ip:port only, and read and write
// work.  An unbound socket is bound to a free port first.
int udp_connect(int fd, uint32 ip, uint16 port)
{
  struct sock *s;
  int r = sock_of(fd, &s);
  if (r < 0)
    return r;
  if (ip == 0 || port == 0)
    return -E_INVAL;
  if (!s->lport && (r = bind_any(s)) < 0)
    return r;
  s->rip = ip;
  s->rport = port;
  return 0;
}

static int send_checked(struct sock *s, const void *buf, int n, uint32 ip, uint16 port)
{
  if (n < 0 || n > UDP_MAXDATA || ip == 0 || port == 0)
    return -E_INVAL;
  if (n && !user_ok(buf, n, 0))
    return -E_FAULT;
  int r;
  if (!s->lport && (r = bind_any(s)) < 0)   // replies need a port to come to
    return r;
  return udp_output(s, ip, port, buf, n);
}

int udp_sendto(int fd, const void *buf, int n, uint32 ip, uint16 port)
{
  struct sock *s;
  int r = sock_of(fd, &s);
  return r < 0 ? r : send_checked(s, buf, n, ip, port);
}

int udp_recvfrom(int fd, void *buf, int n, uint32 *ip, uint16 *port)
{
  struct sock *s;
  int r = sock_of(fd, &s);
  if (r < 0)
    return r;
  if (!s->lport)
    return -E_INVAL;                    // nothing can come to it
  if (n < 0 || (n && !user_ok(buf, n, 1)) || (ip && !user_ok(ip, sizeof *ip, 1)) ||
      (port && !user_ok(port, sizeof *port, 1)))
    return -E_FAULT;
  uint32 from;
  uint16 fport;
  r = sock_recv(s, buf, n, &from, &fport);
  if (r >= 0 && ip)
    *ip = from;
  if (r >= 0 && port)
    *port = fport;
  return r;
}

// ---- the descriptor device: read and write on a connected socket ----

// fd's socket, if it is connected (-E_INVAL: not connected).
static int connected(int fd, struct sock **s)
{
  int r = sock_of(fd, s);
  return r < 0 ? r : (*s)->rport ? 0 : -E_INVAL;
}

static int udp_read(int fd, struct fdesc *f, void *buf, int n)
{
  (void)f;
  struct sock *s;
  uint32 ip;
  uint16 port;
  int r = connected(fd, &s);
  return r < 0 ? r : sock_recv(s, buf, n, &ip, &port);
}

static int udp_write(int fd, struct fdesc *f, const void *buf, int n)
{
  (void)f;
  struct sock *s;
  int r = connected(fd, &s);
  return r < 0 ? r : send_checked(s, buf, n, s->rip, s->rport);
}

// close: the socket goes (its filter with it) when this was my last
// descriptor naming it (dup makes others; they share the page).
static void udp_close(int fd, struct fdesc *f)
{
  (void)f;
  struct sock *s;
  if (sock_of(fd, &s) < 0)
    return;                             // not mine: only the descriptor goes
  uint64 ppn = PTE_PPN(uvpt_pte((uint64)FD(fd)));
  for (int i = 0; i < NFD; i++)
    if (i != fd && fd_isopen(i) && PTE_PPN(uvpt_pte((uint64)FD(i))) == ppn)
      return;
  sock_free(s);
}

struct dev dev_udp = { "udp", udp_read, udp_write, udp_close };
