// Envs and the CPU: exofork with registers set by the parent, exit status
// read by the parent, directed yield, and time slices as a share of the CPU.
#include "lib.h"

static char child_stack[PGSIZE] __attribute__((aligned(16)));

// Runs in a child made by exofork with registers we chose.
static void started_here(uint64 arg)
{
  exit((int)arg + 1);
}

static void spinner(void)
{
  for (;;)
    ;
}

int main(int argc, char **argv)
{
  // "envtest onehart": the grader says there is one hart, so a directed
  // yield always runs its target and shares are exact enough to compare
  int onehart = argc > 1 && strcmp(argv[1], "onehart") == 0;
  envid_t k = sys_exofork();
  if (k == 0)
    exit(99);
  check(k > 0, "exofork: %s", errstr(k));
  check(uenvs[ENVX(k)].status == ENV_NOT_RUNNABLE && uenvs[ENVX(k)].parent == thisenv->id,
        "new env's public record");
  int status = 0;
  envid_t f = fork();
  if (f == 0) {
    // child: give a stopped grandchild (built by fork) a fresh register
    // set: pc, sp and a0, then start it
    envid_t g = fork();
    if (g == 0)
      spinner();
    sys_env_set_status(g, ENV_NOT_RUNNABLE);
    while (uenvs[ENVX(g)].hart >= 0)
      sys_yield(0);
    struct trapframe tf = { 0 };
    tf.pc = (uint64)started_here;
    tf.sp = (uint64)child_stack + sizeof child_stack;
    tf.a0 = 41;
    check(sys_env_set_regs(g, &tf) == 0, "set_regs");
    check(sys_env_set_status(g, ENV_RUNNABLE) == 0, "set_status");
    int st = 0;
    waitenv(g, &st);
    check(st == 42, "env started by set_regs exited with %d, expected 42", st);
    exit(check_failures());
  }
  waitenv(f, &status);
  check(status == 0, "set_regs child reported %d failures", status);
  sys_env_destroy(k);
  sys_env_destroy(k);

  // exit status: every value comes back
  int codes[] = { 0, 1, 255, 12345, -7 };
  for (int i = 0; i < 5; i++) {
    envid_t e = fork();
    if (e == 0)
      exit(codes[i]);
    waitenv(e, &status);
    check(status == codes[i], "exit(%d) read back as %d", codes[i], status);
  }

  // directed yield: each yield to a runnable env runs it (one hart: at once)
  envid_t me = thisenv->id;
  envid_t peer = fork();
  if (peer == 0)
    for (;;)
      sys_yield(me);
  while (uenvs[ENVX(peer)].runs == 0)
    sys_yield(peer);
  int r0 = uenvs[ENVX(peer)].runs;
  for (int i = 0; i < 100; i++)
    sys_yield(peer);
  int got = uenvs[ENVX(peer)].runs - r0;
  if (onehart) {
    check(got >= 100, "100 directed yields ran the peer %d times", got);
  } else {
    // on several harts the peer may be running elsewhere (then a yield is
    // a plain one), and its hart may not even be scheduled by the host for
    // a while: only require that it keeps running
    uint64 t0 = rdtime();
    while (uenvs[ENVX(peer)].runs - r0 < 100 && rdtime() - t0 < 50000000UL)
      sys_yield(peer);
    got = uenvs[ENVX(peer)].runs - r0;
    check(got >= 100, "the peer ran only %d times in 5 s of directed yields", got);
  }
  check(sys_yield(12345) == -E_BAD_ENV, "yield to a made-up env");
  sys_env_destroy(peer);
  waitenv(peer, 0);

  // time slices: a spinner with 4 slots gets about 4 times the turns of a
  // spinner with 1 (measured while I mostly sleep in yields)
  envid_t one = fork();
  if (one == 0)
    spinner();
  envid_t four = fork();
  if (four == 0)
    spinner();
  for (int i = 0; i < 3; i++)
    check(sys_slot_acquire(four) >= 0, "slot_acquire");
  check(uenvs[ENVX(four)].nslots == 4, "nslots %d", uenvs[ENVX(four)].nslots);
  int a0 = uenvs[ENVX(one)].runs, b0 = uenvs[ENVX(four)].runs;
  uint64 t0 = rdtime();
  while (rdtime() - t0 < 40 * 100000UL)     // 40 slices of 10 ms
    sys_yield(0);
  int a = uenvs[ENVX(one)].runs - a0, b = uenvs[ENVX(four)].runs - b0;
  printf("envtest: in 40 slices the 1-slot env ran %d times, the 4-slot env %d times\n", a, b);
  if (onehart)
    check(b >= 2 * a && a > 0, "4 slots did not give a bigger share (%d vs %d)", b, a);
  sys_env_destroy(one);
  sys_env_destroy(four);
  waitenv(one, 0);
  waitenv(four, 0);
  check(sys_slot_release(0) == -E_NO_SLOT, "released my last slot");
  return check_report();
}
