// Micro-benchmarks in the style of the exokernel paper, counted in retired
// guest instructions (instret; run under QEMU -icount for exact figures).
// Prints "bench <name> <instructions> insn/<unit>" per benchmark.
#include "lib.h"
#include "../bench/matmul.h"

#define N 2000

static void report(const char *name, uint64 insn, uint64 n, const char *unit)
{
  printf("bench %s %lu insn/%s\n", name, (insn + n / 2) / n, unit);
}

static int skip_ebreak(struct uframe *f)
{
  f->tf.pc += 2;                              // c.ebreak
  return 1;
}

static int user_pages(void)
{
  int n = 0;
  for (uint64 va = 0; va < UXSTACKTOP; va += PGSIZE) {
    if ((va & ((1UL << 21) - 1)) == 0 && !(((volatile pte_t *)UVPD)[va >> 21] & PTE_V)) {
      va += (1UL << 21) - PGSIZE;
      continue;
    }
    n += (uvpt_pte(va) & PTE_V) != 0;
  }
  return n;
}

static void bench_base(void)
{
  uint64 t;
  for (int i = 0; i < 10; i++)
    sys_getenvid();
  t = rdinstret();
  for (int i = 0; i < N; i++)
    sys_getenvid();
  report("null_syscall", rdinstret() - t, N, "call");

  envid_t me = thisenv->id;
  envid_t peer = fork();
  if (peer == 0)
    for (;;)
      sys_yield(me);
  for (int i = 0; i < 10; i++)
    sys_yield(peer);
  t = rdinstret();
  for (int i = 0; i < N; i++)
    sys_yield(peer);
  report("yield_roundtrip", rdinstret() - t, N, "roundtrip");
  sys_env_destroy(peer);
  waitenv(peer, 0);

  // protected control transfer: call + reply, registers only
  envid_t srv = fork();
  if (srv == 0) {
    struct pct_msg m;
    int64 from = sys_pct_recv(0, &m);
    for (;;)
      from = sys_pct_reply_recv(from, m.w[0] + 1, 0, 0, 0, 0, &m);
  }
  struct pct_msg r;
  for (int i = 0; i < 10; i++)
    while (sys_pct_call(srv, i, 0, 0, 0, 0, &r) == -E_NOT_WAITING)
      sys_yield(srv);
  t = rdinstret();
  for (int i = 0; i < N; i++)
    sys_pct_call(srv, i, 0, 0, 0, 0, &r);
  report("pct_roundtrip", rdinstret() - t, N, "roundtrip");
  sys_env_destroy(srv);
  waitenv(srv, 0);
}

static void bench_upcall(void)
{
  uint64 t;
  set_handler(CAUSE_BREAKPOINT, skip_ebreak);
  asm volatile("c.ebreak");
  t = rdinstret();
  for (int i = 0; i < N; i++)
    asm volatile("c.ebreak");
  report("upcall_roundtrip", rdinstret() - t, N, "fault");

  char *heap = sbrk(200 * PGSIZE);
  heap[0] = 1;
  t = rdinstret();
  for (int i = 1; i < 200; i++)
    heap[i * PGSIZE] = 1;
  report("pgfault_demand_zero", rdinstret() - t, 199, "page");
  sbrk(-200 * PGSIZE);
}

static void bench_cow(void)
{
  uint64 t;
  int pages = user_pages();
  for (int w = 0; w < 2; w++) {
    envid_t c = fork();
    if (c == 0)
      exit(0);
    waitenv(c, 0);
  }
  t = rdinstret();
  for (int i = 0; i < 50; i++) {
    envid_t c = fork();
    if (c == 0)
      exit(0);
    waitenv(c, 0);
  }
  report("cow_fork_exit_wait", rdinstret() - t, 50, "fork");
  printf("bench: the forking parent had %d user pages mapped\n", pages);
}

static void bench_ipc(void)
{
  uint64 t;
  // pipes: one byte each way, then 1 MiB in 512-byte writes
  int p1[2], p2[2];
  char byte = 0, block[512];
  pipe(p1);
  pipe(p2);
  envid_t echo = fork();
  if (echo == 0) {
    close(p1[1]);
    close(p2[0]);
    while (read(p1[0], &byte, 1) == 1)
      write(p2[1], &byte, 1);
    exit(0);
  }
  for (int i = 0; i < 10; i++) {
    write(p1[1], &byte, 1);
    read(p2[0], &byte, 1);
  }
  t = rdinstret();
  for (int i = 0; i < 500; i++) {
    write(p1[1], &byte, 1);
    read(p2[0], &byte, 1);
  }
  report("pipe_roundtrip", rdinstret() - t, 500, "roundtrip");
  close(p1[1]);
  waitenv(echo, 0);
  close(p1[0]);
  close(p2[0]);
  close(p2[1]);
  pipe(p1);
  envid_t sink = fork();
  if (sink == 0) {
    close(p1[1]);
    while (read(p1[0], block, sizeof block) > 0)
      ;
    exit(0);
  }
  close(p1[0]);
  memset(block, 'x', sizeof block);
  t = rdinstret();
  for (int i = 0; i < 2048; i++)
    write(p1[1], block, sizeof block);
  close(p1[1]);
  waitenv(sink, 0);
  report("pipe_throughput", rdinstret() - t, 1024, "KiB");
}

static void bench_matmul(void)
{
  uint64 t;
  int *a = malloc(sizeof(int) * MM_N * MM_N), *b = malloc(sizeof(int) * MM_N * MM_N);
  int *c = malloc(sizeof(int) * MM_N * MM_N);
  matmul_fill(a, b);
  memset(c, 0, sizeof(int) * MM_N * MM_N);
  t = rdinstret();
  matmul(a, b, c);
  report("matmul150", rdinstret() - t, 1, "run");
  printf("bench: matmul checksum %ld\n", matmul_sum(c));
}

static void bench_irq(void)
{
  // a UART receive interrupt to the console driver's handler: needs a key
  {
    char line[16];
    printf("bench: type a line for irq_to_user\n");
    read(0, line, sizeof line);
    struct pct_msg st;
    rpc_call(cons_env, CONS_STATS, 0, 0, &st);
    report("irq_to_user", st.w[0], 1, "interrupt");
  }
}

// Everybody waits: children asleep (sleep()), in mwait on a word nobody
// wakes, and in wait for a sleeping grandchild; the parent sleeps one
// second with a deadline.  What the hart executed meanwhile, kernel and
// timer included, is the idle cost (under -icount the counter also jumps
// across wfi: the kernel sums those jumps in usys->wfi_instret; not
// idle_instret, which also holds the wake-ups between them).
static void bench_idle(void)
{
  static volatile uint64 never;
  envid_t kids[3];
  for (int k = 0; k < 3; k++)
    if ((kids[k] = fork()) == 0) {
      if (k == 0)
        sleep(100000);
      else if (k == 1)
        for (;;)
          sys_mwait(&never, 0, 0);
      else if (fork() == 0)
        sleep(100000);
      else
        wait(0);
      exit(0);
    }
  sleep(2);                                   // let them all reach their waits
  uint64 t = rdinstret(), slept = usys->wfi_instret, until = rdtime() + usys->timebase;
  while (rdtime() < until)
    sys_mwait(&never, 0, until);
  report("idle_insn_per_s", rdinstret() - t - (usys->wfi_instret - slept), 1, "s");
  for (int k = 0; k < 3; k++)
    kill(kids[k]), waitenv(kids[k], 0);
}

// `bench`: every group but irq.  `bench irq`: every group and irq.
// `bench <group>...`: those groups, in that order.  The groups follow the
// labs (base is the kernel alone), so that a student tree with a later
// lab's code missing still measures the rows of the earlier ones.
static const struct { const char *name; void (*run)(void); } groups[] = {
  { "base", bench_base }, { "upcall", bench_upcall }, { "cow", bench_cow },
  { "ipc", bench_ipc }, { "matmul", bench_matmul }, { "idle", bench_idle }, { "irq", bench_irq },
};
#define NGROUP (int)(sizeof groups / sizeof groups[0])

int main(int argc, char **argv)
{
  if (argc == 1 || (argc == 2 && strcmp(argv[1], "irq") == 0)) {
    for (int g = 0; g < NGROUP - 1; g++)
      groups[g].run();
    if (argc == 2)
      bench_irq();
    return 0;
  }
  for (int i = 1; i < argc; i++) {
    int g = 0;
    while (g < NGROUP && strcmp(argv[i], groups[g].name) != 0)
      g++;
    if (g == NGROUP) {
      fprintf(2, "bench: no group %s (base upcall cow ipc matmul idle irq)\n", argv[i]);
      return 1;
    }
    groups[g].run();
  }
  return 0;
}
