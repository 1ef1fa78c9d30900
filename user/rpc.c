// An RPC server and its client on protected control transfer: the server
// adds, multiplies, and sums the bytes of a page the client lends it.
#include "lib.h"

#define OP_ADD 1
#define OP_MUL 2
#define OP_SUM 3
#define LEND   0x7000000UL                   // the client's page to lend
#define RECV   0x7100000UL                   // where the server receives it

static uint64 handle(struct pct_msg *m, envid_t from)
{
  (void)from;
  switch (m->w[0]) {
  case OP_ADD: return m->w[1] + m->w[2];
  case OP_MUL: return m->w[1] * m->w[2];
  case OP_SUM: {
    if (!m->perm)
      return -1;
    uint64 s = 0;
    for (int i = 0; i < (int)PGSIZE; i++)
      s += ((volatile uchar *)RECV)[i];
    return s;
  }
  }
  return -1;
}

static void server(void)
{
  struct pct_msg m;
  int64 from = sys_pct_recv(RECV, &m);
  for (;;) {
    uint64 answer = from > 0 ? handle(&m, from) : 0;
    from = sys_pct_reply_recv(from, answer, 0, 0, 0, RECV, &m);
  }
}

int main(int argc, char **argv)
{
  envid_t s = fork();
  if (s == 0)
    server();
  struct pct_msg r;
  check(rpc_call(s, OP_ADD, 40, 2, &r) == 0 && r.w[0] == 42, "add: %ld", r.w[0]);
  check(rpc_call(s, OP_MUL, 6, 7, &r) == 0 && r.w[0] == 42, "mul: %ld", r.w[0]);
  int ok = 1;
  for (uint64 i = 0; i < 1000; i++)
    ok &= rpc_call(s, OP_ADD, i, i, &r) == 0 && r.w[0] == 2 * i;
  check(ok, "1000 calls");
  page_map(LEND, PTE_R | PTE_W);
  for (int i = 0; i < (int)PGSIZE; i++)
    ((uchar *)LEND)[i] = i & 0xff;
  int64 err;
  while ((err = sys_pct_call(s, OP_SUM, 0, 0, LEND | PTE_R, 0, &r)) == -E_NOT_WAITING)
    sys_yield(s);
  check(err == 0 && r.w[0] == 16 * (255 * 256 / 2), "sum of a lent page: %ld", r.w[0]);
  printf("rpc: 1002 calls answered by server %08x\n", s);
  sys_env_destroy(s);
  waitenv(s, 0);
  return check_report();
}
