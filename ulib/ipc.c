// Remote procedure call on protected control transfer: a call is one
// pct_call with an operation number and two arguments; a server loops in
// pct_reply_recv, answering each call and waiting for the next in one
// system call.
#include "lib.h"

// Call server: op and two arguments; the answer is in reply->w[].
// While the server is busy (not waiting), the call waits in its queue.
int64 rpc_call(envid_t server, uint64 op, uint64 a, uint64 b, struct pct_msg *reply)
{
  // BEGIN LAB ipc: rpc_call: one pct_call that queues (PCT_BLOCK) while the server is busy
  return sys_pct_call_wait(server, op, a, b, 0, 0, reply);
  // END LAB ipc: return lab_todo("ipc", "rpc_call"), (void)server, (void)op, (void)a, (void)b, (void)reply, -E_NOSYS;
}

// Serve calls forever: h(m, from) computes the answer to each call (and
// handles sends; their answer is dropped).  A caller that died before its
// answer is simply skipped.
void rpc_serve(rpc_handler_t h)
{
  // BEGIN LAB ipc: rpc_serve: receive, answer each call and wait for the next in one pct_reply_recv; skip callers that died
  struct pct_msg m;
  int64 from = sys_pct_recv(0, &m);
  for (;;) {
    if (from < 0)
      panic("rpc_serve: %s", errstr(from));
    uint64 answer = from ? h(&m, from) : 0;
    if (from && m.kind == PCT_CALL) {
      from = sys_pct_reply_recv(from, answer, 0, 0, 0, 0, &m);
      if (from == -E_BAD_ENV)
        from = sys_pct_recv(0, &m);
    } else {
      from = sys_pct_recv(0, &m);
    }
  }
  // END LAB ipc: lab_todo("ipc", "rpc_serve"), (void)h, exit(1);
}
