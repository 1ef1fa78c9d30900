// pingpong: one byte goes to a child and comes back, by protected control
// transfer (PCT).  `pingpong N`: the parent sends N (0 to 255); the child
// prints "received ping N" and answers N+1 (mod 256); the parent prints
// "received pong N+1".  Each line starts with the printing env's id.
#include "lib.h"

int main(int argc, char **argv)
{
  // BEGIN LAB util: pingpong: fork; the child receives (sys_pct_recv) and replies; the parent calls (sys_pct_call)
  uint64 b = (argc > 1 ? atoi(argv[1]) : 'x') & 0xff;
  envid_t c = fork();
  if (c < 0)
    panic("fork: %s", errstr(c));
  if (c == 0) {
    struct pct_msg m;
    int64 from = sys_pct_recv(0, &m);
    if (from <= 0)
      panic("child: pct_recv: %s", errstr(from));
    printf("%08x: received ping %d\n", sys_getenvid(), (int)m.w[0]);
    int r = sys_pct_reply(from, (m.w[0] + 1) & 0xff, 0, 0, 0);
    exit(r < 0);
  }
  struct pct_msg reply;
  int64 r;
  while ((r = sys_pct_call(c, b, 0, 0, 0, 0, &reply)) == -E_NOT_WAITING)
    sys_yield(c);                          // the child is not at its receive yet
  if (r < 0)
    panic("pct_call: %s", errstr(r));
  printf("%08x: received pong %d\n", sys_getenvid(), (int)reply.w[0]);
  int status;
  waitenv(c, &status);
  return status;
  // END LAB util: return lab_todo("util", "pingpong"), (void)argc, (void)argv, 1;
}
