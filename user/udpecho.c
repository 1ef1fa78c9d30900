// udpecho: `udpecho PORT [COUNT]` sends every UDP datagram that comes to
// PORT back to its sender, COUNT of them (or forever).  "udpecho: port
// PORT ready" says the filter is in place.  While it waits, the library
// also answers ARP and ping for the guest's address, if no other env does.
// With COUNT, it ends with a line that counts them and, on one hart, the
// fewest and most instructions from the receive interrupt to the reply's
// transmit (meaningful under ICOUNT=1).
#include "lib.h"
#include "net.h"

static char buf[UDP_MAXDATA];

int main(int argc, char **argv)
{
  if (argc < 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
    printf("usage: udpecho PORT [COUNT]\n");
    return 1;
  }
  int port = atoi(argv[1]), count = argc > 2 ? atoi(argv[2]) : 0;
  if (!usys->net_mac) {
    printf("%s: no network interface\n", argv[0]);
    return 1;
  }
  int fd = udp_socket(), r;
  if (fd < 0 || (r = udp_bind(fd, port)) < 0) {
    printf("udpecho: port %d: %s\n", port, errstr(fd < 0 ? fd : r));
    return 1;
  }
  printf("udpecho: port %d ready\n", port);
  uint64 lo = ~0UL, hi = 0;
  int n;
  for (n = 0; count == 0 || n < count; n++) {
    uint32 ip;
    uint16 from;
    int len = udp_recvfrom(fd, buf, sizeof buf, &ip, &from);
    if (len < 0) {
      printf("udpecho: receive: %s\n", errstr(len));
      return 1;
    }
    uint64 irq = usys->irq_instret;               // (the frame's, unless another came since)
    if ((r = udp_sendto(fd, buf, len, ip, from)) < 0) {
      printf("udpecho: send: %s\n", errstr(r));
      return 1;
    }
    uint64 d = usys->net_tx_instret - irq;
    if (d < lo)
      lo = d;
    if (d > hi)
      hi = d;
  }
  if (usys->nharts == 1)
    printf("udpecho: %d datagrams echoed; interrupt to reply %lu..%lu instructions (exact under -icount)\n",
           n, lo, hi);
  else
    printf("udpecho: %d datagrams echoed\n", n);
  return 0;
}
