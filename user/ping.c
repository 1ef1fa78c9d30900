// ping: `ping IP [COUNT]` sends COUNT (default 3) ICMP echo requests to
// IP, one at a time, each waiting up to a second for its reply, and prints
// "ping: reply from IP seq N" for each reply and a summary.  Exit status 0
// if every reply came.
#include "lib.h"
#include "net.h"

#define DATALEN 56

int main(int argc, char **argv)
{
  uint32 ip;
  int count = argc > 2 ? atoi(argv[2]) : 3;
  if (argc < 2 || ip_parse(argv[1], &ip) < 0 || count <= 0) {
    printf("usage: ping IP [COUNT]\n");
    return 1;
  }
  char data[DATALEN], back[DATALEN + 8], ips[16];
  if (!usys->net_mac) {
    printf("%s: no network interface\n", argv[0]);
    return 1;
  }
  for (int i = 0; i < DATALEN; i++)
    data[i] = 'a' + i % 26;
  int id = icmp_echo_open();
  if (id < 0) {
    printf("ping: %s\n", errstr(id));
    return 1;
  }
  int got = 0;
  for (int seq = 1; seq <= count; seq++) {
    int r = icmp_echo_send(ip, seq, data, DATALEN);
    if (r < 0) {
      printf("ping: %s: %s\n", argv[1], errstr(r));
      continue;
    }
    uint64 deadline = rdtime() + usys->timebase;   // a second for this one
    for (;;) {
      uint64 now = rdtime();
      int ms = now < deadline ? (deadline - now) / (usys->timebase / 1000) + 1 : 0;
      uint32 from;
      uint16 rseq;
      if (ms == 0 || (r = icmp_echo_recv(&from, &rseq, back, sizeof back, ms)) == -E_TIMEOUT) {
        printf("ping: no reply for seq %d\n", seq);
        break;
      }
      if (r < 0) {
        printf("ping: %s\n", errstr(r));
        return 1;
      }
      if (rseq != seq || from != ip)
        continue;                                  // a late reply to an earlier one
      if (r != DATALEN || memcmp(back, data, DATALEN) != 0) {
        printf("ping: reply from %s seq %d: wrong data\n", ip_str(from, ips), rseq);
        break;
      }
      printf("ping: reply from %s seq %d\n", ip_str(from, ips), rseq);
      got++;
      break;
    }
  }
  printf("ping: %d sent, %d received\n", count, got);
  return got == count ? 0 : 1;
}
