// Protected control transfer: calls and replies carry words and a page,
// a target that is not waiting is refused, sends do not wait, a server
// that dies wakes its callers with an error, and pages keep the sender's
// permissions at most.
#include "lib.h"

#define RECV  0x7200000UL
#define MINE  0x7300000UL

// Echo server: answers w0+1, w1*2, w2 xor -1; for a page, writes 'S' in
// its first byte when it may and answers with its permissions.
static void server(void)
{
  struct pct_msg m;
  int64 from = sys_pct_recv(RECV, &m);
  for (;;) {
    if (from <= 0) {
      from = sys_pct_recv(RECV, &m);
      continue;
    }
    uint64 a = m.w[0] + 1, b = m.w[1] * 2, c = m.w[2] ^ -1UL;
    if (m.perm) {
      a = m.perm;
      if (m.perm & PTE_W)
        *(volatile char *)RECV = 'S';
      b = *(volatile char *)RECV;
    }
    if (m.kind == PCT_SEND) {
      from = sys_pct_recv(RECV, &m);
      continue;
    }
    if (m.w[0] == 99)
      exit(0);                                // dies with a caller waiting on it? no: answers first
    from = sys_pct_reply_recv(from, a, b, c, 0, RECV, &m);
    if (from == -E_BAD_ENV)
      from = sys_pct_recv(RECV, &m);
  }
}

static int64 call(envid_t s, uint64 a, uint64 b, uint64 c, uint64 page, struct pct_msg *r)
{
  int64 e;
  while ((e = sys_pct_call(s, a, b, c, page, 0, r)) == -E_NOT_WAITING)
    sys_yield(s);
  return e;
}

int main(int argc, char **argv)
{
  envid_t s = fork();
  if (s == 0)
    server();
  struct pct_msg r;
  check(call(s, 41, 21, 0, 0, &r) == 0 && r.w[0] == 42 && r.w[1] == 42 && r.w[2] == -1UL,
        "a call's words: %ld %ld %lx", r.w[0], r.w[1], r.w[2]);

  // a page lent read-only cannot be written by the server
  page_map(MINE, PTE_R | PTE_W);
  *(volatile char *)MINE = 'c';
  check(call(s, 0, 0, 0, MINE | PTE_R, &r) == 0 && r.w[0] == PTE_R && r.w[1] == 'c',
        "read-only page: perm %lx byte %c", r.w[0], (int)r.w[1]);
  check(*(volatile char *)MINE == 'c', "the server wrote a read-only page");
  check(call(s, 0, 0, 0, MINE | PTE_R | PTE_W, &r) == 0 && r.w[0] == (PTE_R | PTE_W) &&
        *(volatile char *)MINE == 'S', "read-write page not shared");
  check(upages[PTE_PPN(uvpt_pte(MINE)) - PPN_BASE].refs == 2, "the lent page is not mapped twice");

  // the lender cannot give more than it has
  sys_pte_set(0, MINE, PPN_PTE(PTE_PPN(uvpt_pte(MINE)), PTE_V | PTE_U | PTE_R));
  expect_err(call(s, 0, 0, 0, MINE | PTE_R | PTE_W, &r), E_PERM, "lend a read-only page writable");
  expect_err(call(s, 0, 0, 0, MINE | PTE_X, &r), E_PERM, "lend a page executable");
  expect_err(call(s, 0, 0, 0, 0x7400000UL | PTE_R, &r), E_PERM, "lend an unmapped page");
  expect_err(call(s, 0, 0, 0, MINE | PTE_W, &r), E_INVAL, "lend write-only");
  expect_err(call(s, 0, 0, 0, MINE | PTE_W | PTE_X, &r), E_INVAL, "lend writable and executable, not readable");
  // looking at an offer costs the lender nothing: no page table is made
  // for an address it has never mapped anything near
  int np = uenvs[ENVX(thisenv->id)].npages;
  expect_err(call(s, 0, 0, 0, 0x2000000000UL | PTE_R, &r), E_PERM, "lend a page where I have no page table");
  check(uenvs[ENVX(thisenv->id)].npages == np, "lending an unmapped page cost me %d page(s)",
        uenvs[ENVX(thisenv->id)].npages - np);
  expect_err(call(s, 0, 0, 0, MINE | 0x100, &r), E_INVAL, "lend with other bits");
  expect_err(call(s, 0, 0, 0, UVPT | PTE_R, &r), E_BAD_VA, "lend my page table");
  expect_err(sys_pct_call(s, 0, 0, 0, 0, UTOP, &r), E_BAD_VA, "reply page at UTOP");
  expect_err(sys_pct_call(s, 0, 0, 0, 0, 0x1001, &r), E_BAD_VA, "unaligned reply page");
  expect_err(sys_pct_recv(UTOP, &r), E_BAD_VA, "receive pages at UTOP");
  expect_err(sys_pct_recv(KERNBASE, &r), E_BAD_VA, "receive pages in the kernel");

  // no transfer to a dead, made-up or busy env
  expect_err(sys_pct_call(12345, 0, 0, 0, 0, 0, &r), E_BAD_ENV, "call a made-up env");
  expect_err(sys_pct_call(thisenv->id, 0, 0, 0, 0, 0, &r), E_BAD_ENV, "call myself");
  envid_t busy = fork();
  if (busy == 0)
    for (;;)
      sys_yield(0);
  expect_err(sys_pct_call(busy, 0, 0, 0, 0, 0, &r), E_NOT_WAITING, "call an env that is not waiting");
  expect_err(sys_pct_send(busy, 0, 0, 0, 0), E_NOT_WAITING, "send to an env that is not waiting");
  sys_env_destroy(busy);
  waitenv(busy, 0);
  expect_err(sys_pct_call(busy, 0, 0, 0, 0, 0, &r), E_BAD_ENV, "call a dead env");
  expect_err(sys_pct_reply(s, 0, 0, 0, 0), E_BAD_ENV, "reply to an env that did not call");

  // a send does not wait; the server takes it and goes on serving
  int64 e;
  while ((e = sys_pct_send(s, 5, 6, 7, 0)) == -E_NOT_WAITING)
    sys_yield(s);
  check(e == 0, "send: %s", errstr(e));
  check(call(s, 1, 1, 1, 0, &r) == 0 && r.w[0] == 2, "server lost after a send");

  // the server exits while we wait: we get -E_BAD_ENV, not a hang
  check(call(s, 99, 0, 0, 0, &r) == -E_BAD_ENV, "a call to a server that exits");
  waitenv(s, 0);
  return check_report();
}
