// An RPC server and its client on protected control transfer: the server
// adds, multiplies, and sums the bytes of a page the client lends it.
#include "lib.h"

#define OP_ADD 1
#define OP_MUL 2
#define OP_SUM 3
#define OP_HOLD 4                            // rpc_serve's handler: answer once the caller is dead
#define LEND   0x7000000UL                   // the client's page to lend
#define RECV   0x7100000UL                   // where the server receives it
#define HELD   ((volatile uint64 *)0x7200000UL)   // shared: the OP_HOLD call has arrived

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

// The same operations served by the library's rpc_serve (no lent pages).
static uint64 sends;
static uint64 handle_plain(struct pct_msg *m, envid_t from)
{
  if (m->kind != PCT_CALL) {
    sends++;                                    // a send: no answer goes back
    return 0;
  }
  switch (m->w[0]) {
  case OP_ADD: return m->w[1] + m->w[2];
  case OP_MUL: return m->w[1] * m->w[2];
  case OP_SUM: return sends;                    // (here: how many sends came)
  case OP_HOLD: {                               // (at most 10 s)
    *HELD = 1;
    volatile struct envpub *e = &uenvs[ENVX(from)];
    for (uint64 t0 = rdtime(); e->id == from && e->status != ENV_EXITED &&
                               rdtime() - t0 < 10 * usys->timebase;)
      nap();
    return 7;
  }
  }
  return -1;
}

static void served_by_rpc_serve(void)
{
  check(page_map((uint64)HELD, PTE_R | PTE_W | PTE_SHARE) == 0, "map a shared page");
  envid_t s = fork();
  if (s == 0) {
    // The server also owns IRQ_CHILD and has a child that exits at once:
    // an interrupt (a message from env 0) comes to rpc_serve, which must
    // neither stop nor hand it to the handler (the sends counted below).
    if (sys_irq_claim(IRQ_CHILD, 0) == 0 && fork() == 0)
      exit(0);
    rpc_serve(handle_plain);
  }
  struct pct_msg r;
  int ok = 1;
  for (uint64 i = 0; i < 500; i++)
    ok &= rpc_call(s, i & 1 ? OP_MUL : OP_ADD, i, 3, &r) == 0 && r.w[0] == (i & 1 ? 3 * i : i + 3) &&
          r.w[1] == 0 && r.w[2] == 0;
  check(ok, "500 calls to a server in rpc_serve (the answer in w[0], the other words 0)");
  for (int i = 0; i < 3; i++)
    while (sys_pct_send(s, OP_ADD, 1, 1, 0) == -E_NOT_WAITING)
      sys_yield(s);
  check(rpc_call(s, OP_SUM, 0, 0, &r) == 0 && r.w[0] == 3, "rpc_serve saw %ld sends, not 3", r.w[0]);
  // a caller that dies while the server holds its call: the server's
  // answer finds nobody, and it goes on
  envid_t c = fork();
  if (c == 0) {
    rpc_call(s, OP_HOLD, 0, 0, &r);
    exit(0);
  }
  for (uint64 t0 = rdtime(); !*HELD && rdtime() - t0 < 10 * usys->timebase;)
    sys_yield(0);                               // (until the server holds its call)
  check(*HELD, "the server never got the call it was to hold");
  sys_env_destroy(c);
  waitenv(c, 0);
  check(rpc_call(s, OP_ADD, 20, 22, &r) == 0 && r.w[0] == 42, "rpc_serve after a caller died: %ld", r.w[0]);
  sys_env_destroy(s);
  waitenv(s, 0);
  page_unmap((uint64)HELD);
}

int main(int argc, char **argv)
{
  served_by_rpc_serve();
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
