// The console: a UART driver and line discipline running in its own env
// (started by the first env, which plays init), and the client side used by
// the console file descriptors of every other env.
//
//   client env --pct_call CONS_WRITE (page: the bytes)--> console env --> UART
//   client env --pct_call CONS_READ--> console env: reply (page: one line)
//   UART --IRQ 10--> kernel --pct (sender 0)--> console env --irq_ack-->
//
// Line editing: backspace or DEL erases, Ctrl-U erases the line, Ctrl-D
// ends input (a read of an empty line returns 0), Ctrl-C throws the line
// away, Ctrl-P lists the envs.  Readers wait in line, oldest first.
#include "lib.h"

envid_t cons_env;

// ---- NS16550A registers (the driver's own mapping at UUART) ----
#define RHR 0            // receive holding (read)
#define THR 0            // transmit holding (write)
#define IER 1            // interrupt enable
#define IER_RX  0x01
#define IER_TX  0x02
#define FCR 2            // FIFO control (write)
#define LSR 5            // line status
#define LSR_RX  0x01     // a byte is waiting
#define LSR_TX  0x20     // THR empty
#define uart ((volatile uchar *)UUART)

// ---- driver state (only in the console env) ----
static char inbuf[4096];                // finished input, not yet read
static uint64 inr, inw;
static int ineof;                       // Ctrl-D seen: one read returns 0
#define NREADER 16
static struct { envid_t env; uint64 max; } readers[NREADER];   // waiting in CONS_READ
static int nreaders;
static uint64 last_irq_insn;            // the last IRQ-to-driver time, instret
static int irq_mode;                    // interrupt driven (else polled: see console_main)

// BEGIN LAB driver: the output ring: tx_put(c) queues a byte (a '\n' goes out as "\r\n"; when the ring is full, wait for the UART), tx_kick() hands the UART what it takes now and, interrupt driven, asks for the transmit interrupt while bytes are left (polled: waits until all are out)
static char txbuf[4096];
static uint64 txr, txw;                 // ring indices (free-running)

// Send what fits to the UART; ask for an interrupt if bytes are left (or,
// without interrupts, wait for the UART to take them all).
static void tx_kick(void)
{
  while (txr != txw && (uart[LSR] & LSR_TX))
    uart[THR] = txbuf[txr++ % sizeof txbuf];
  if (irq_mode) {
    uart[IER] = IER_RX | (txr != txw ? IER_TX : 0);
    return;
  }
  while (txr != txw) {                  // polled: no interrupt will come; wait here
    while (!(uart[LSR] & LSR_TX))
      ;
    uart[THR] = txbuf[txr++ % sizeof txbuf];
  }
}

static void tx_put(char c)
{
  if (c == '\n')
    tx_put('\r');
  while (txw - txr == sizeof txbuf)     // full: wait for the UART (rare)
    tx_kick();
  txbuf[txw++ % sizeof txbuf] = c;
}
// END LAB driver: static void tx_put(char c) { if (c == '\n') tx_put('\r'); while (!(uart[LSR] & LSR_TX)) ; uart[THR] = c; } static void tx_kick(void) { if (irq_mode) uart[IER] = IER_RX; }

static void tx_str(const char *s)
{
  while (*s)
    tx_put(*s++);
}

// Answer waiting readers, oldest first, while there is input (or EOF): up
// to its maximum, one line at most, in a fresh page that becomes the
// reader's alone (no reader sees another's input).  A reader that died
// while waiting is skipped, and its bytes stay for the next.
static void serve_readers(void)
{
  // BEGIN LAB driver: serve_readers: answer the waiting readers, oldest first, while there is input or an end of input to report; each gets at most one line and at most its max, in a fresh page that becomes its alone; a reader that died while waiting loses no input
  while (nreaders > 0 && (inr != inw || ineof)) {
    envid_t r = readers[0].env;
    uint64 max = readers[0].max, n = 0;
    nreaders--;
    memmove(readers, readers + 1, nreaders * sizeof readers[0]);
    if (page_map(UCONSBUF, PTE_R | PTE_W) < 0)
      panic("console: out of memory");
    char *page = (char *)UCONSBUF;
    while (inr != inw && n < max) {
      char c = inbuf[inr++ % sizeof inbuf];
      page[n++] = c;
      if (c == '\n')
        break;
    }
    int err = sys_pct_reply(r, n, 0, 0, UCONSBUF | PTE_R);
    page_unmap(UCONSBUF);                 // the reader holds the only mapping now
    if (err < 0)
      inr -= n;                           // gone: keep the bytes for the next reader
    else if (n == 0)
      ineof = 0;                          // this read reported the end of input
  }
  // END LAB driver: (void)ineof; if (nreaders > 0 && inr != inw && page_map(UCONSBUF, PTE_R | PTE_W) == 0) { char *page = (char *)UCONSBUF; uint64 n = 0; while (inr != inw && n < readers[0].max && (n == 0 || page[n - 1] != '\n')) page[n++] = inbuf[inr++ % sizeof inbuf]; sys_pct_reply(readers[0].env, n, 0, 0, UCONSBUF | PTE_R); page_unmap(UCONSBUF); nreaders--; memmove(readers, readers + 1, nreaders * sizeof readers[0]); }
}

__attribute__((unused))                 // (until rx_char calls it, in a student tree)
static void list_envs(void)
{
  static const char *st[] = { "free", "runnable", "stopped", "exited" };
  char buf[96];
  tx_str("\n");
  for (int i = 0; i < NENV; i++) {
    volatile const struct envpub *p = &uenvs[i];
    if (p->status == ENV_FREE)
      continue;
    snprintf(buf, sizeof buf, "%08x parent %08x %-8s pages %d slots %d runs %d\n", p->id, p->parent,
             st[p->status & 3], p->npages, p->nslots, p->runs);
    tx_str(buf);
  }
}

// BEGIN LAB driver: the line discipline: rx_char(c) takes one typed byte: echo it; Enter ends the line; backspace and DEL erase a byte, Ctrl-U the line (on the screen too); Ctrl-C throws the line away (echo "^C"); Ctrl-D ends the line, or on an empty line makes the next read return 0; Ctrl-P lists the envs (list_envs); a finished line goes to inbuf for the readers
static char line[256];                  // the line being typed
static int linelen;

// One typed byte through the line discipline.
static void rx_char(char c)
{
  switch (c) {
  case '\r':
  case '\n':
    line[linelen++] = '\n';
    tx_put('\n');
    break;
  case 0x7f:                            // DEL
  case '\b':
    if (linelen > 0) {
      linelen--;
      tx_str("\b \b");
    }
    return;
  case 0x15:                            // Ctrl-U
    while (linelen > 0) {
      linelen--;
      tx_str("\b \b");
    }
    return;
  case 0x03:                            // Ctrl-C
    linelen = 0;
    tx_str("^C\n");
    return;
  case 0x10:                            // Ctrl-P
    list_envs();
    return;
  case 0x04:                            // Ctrl-D
    ineof = linelen == 0;
    break;
  default:
    if (linelen < (int)sizeof line - 1) {
      line[linelen++] = c;
      tx_put(c);
    }
    return;
  }
  for (int i = 0; i < linelen && inw - inr < sizeof inbuf; i++)
    inbuf[inw++ % sizeof inbuf] = line[i];
  linelen = 0;
}
// END LAB driver: static char line[256]; static int linelen; static void rx_char(char c) { if (c == '\r') c = '\n'; tx_put(c); line[linelen++] = c; if (c == '\n' || linelen == (int)sizeof line) { for (int i = 0; i < linelen && inw - inr < sizeof inbuf; i++) inbuf[inw++ % sizeof inbuf] = line[i]; linelen = 0; } }

// The UART interrupted: take the typed bytes, move output along.
static void __attribute__((noinline)) uart_intr(void)
{
  if (usys->irq_hart == (uint64)thisenv->hart)
    last_irq_insn = rdinstret() - usys->irq_instret;
  // BEGIN LAB driver: uart_intr: take every received byte (rx_char), move output along (tx_kick), acknowledge the IRQ, answer waiting readers
  while (uart[LSR] & LSR_RX)
    rx_char(uart[RHR]);
  tx_kick();
  sys_irq_ack(IRQ_UART);
  serve_readers();
  // END LAB driver: lab_todo("driver", "uart_intr");
}

// Take the UART's interrupt: 0, or an error (then the console polls).
static int uart_irq_start(void)
{
  // BEGIN LAB driver: uart_irq_start: claim IRQ_UART (its messages arrive from env 0 in pct_recv) and enable receive interrupts
  int r = sys_irq_claim(IRQ_UART, 0);
  if (r < 0)
    return r;
  irq_mode = 1;
  uart[IER] = IER_RX;
  return 0;
  // END LAB driver: return lab_todo_once("driver", "the UART driver (the console polls the UART, and lines cannot be edited)"), -E_NOSYS;
}

// Without the interrupt: look at the UART now (a reader's call does this;
// a reader with nothing to read is told to ask again).
static void uart_poll(void)
{
  while (uart[LSR] & LSR_RX)
    rx_char(uart[RHR]);
  tx_kick();
}

// The console env's body: take interrupts and client calls forever.
static void console_main(void)
{
  while (!(thisenv->rights & RIGHT_UART))   // init grants the UART right just after
    sys_yield(0);                           // fork: a few yields at boot, no more
  if (sys_dev_map(DEV_UART, UUART) < 0)
    panic("console: cannot take the UART");
  uart[FCR] = 0x07;                         // FIFOs on and cleared
  if (uart_irq_start() < 0)
    uart[IER] = 0;                          // polled: readers' calls drive it
  struct pct_msg m;
  int64 from = sys_pct_recv(UIPC, &m);
  for (;;) {
    uint64 answer = 0;
    int reply = 0;
    if (from == 0) {
      uart_intr();
    } else if (from > 0 && m.w[0] == CONS_WRITE) {
      uint64 n = m.perm ? (m.w[1] < PGSIZE ? m.w[1] : PGSIZE) : 0;
      for (uint64 i = 0; i < n; i++)
        tx_put(((volatile char *)UIPC)[i]);
      tx_kick();
      answer = n, reply = 1;
    } else if (from > 0 && m.w[0] == CONS_READ && m.kind == PCT_CALL && nreaders < NREADER) {
      if (!irq_mode)
        uart_poll();
      readers[nreaders].env = from;          // answered when a line is there
      readers[nreaders++].max = m.w[1] < PGSIZE ? m.w[1] : PGSIZE;
      serve_readers();
      if (!irq_mode && nreaders > 0) {       // polled, nothing typed yet: ask again
        nreaders = 0;
        answer = -E_BUSY, reply = 1;
      }
    } else if (from > 0 && m.w[0] == CONS_READ) {
      answer = -E_BUSY, reply = 1;           // too many readers: the client retries
    } else if (from > 0 && m.w[0] == CONS_STATS) {
      answer = last_irq_insn, reply = 1;
    } else if (from > 0) {
      answer = -E_INVAL, reply = 1;
    }
    if (reply && m.kind == PCT_CALL) {
      from = sys_pct_reply_recv(from, answer, 0, 0, 0, UIPC, &m);
      if (from == -E_BAD_ENV)
        from = sys_pct_recv(UIPC, &m);
    } else {
      from = sys_pct_recv(UIPC, &m);
    }
    if (from < 0 && from != -E_BAD_ENV)
      panic("console: %s", errstr(from));
  }
}

// Start the console env and give it the UART.  Called once, by init.
envid_t console_start(void)
{
  envid_t c = fork();
  if (c < 0)
    return c;
  if (c == 0) {
    console_main();
    exit(0);
  }
  int r = sys_env_grant(c, RIGHT_UART);
  if (r < 0)
    return r;
  struct pct_msg m;
  r = sys_pct_call_wait(c, CONS_STATS, 0, 0, 0, 0, &m);   // returns once it serves
  if (r < 0)
    return r;
  cons_env = c;
  return c;
}
