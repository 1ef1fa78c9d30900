// Preemption: a child that spins forever without yielding must not keep
// another child from finishing, even on one hart.
#include "lib.h"

int main(int argc, char **argv)
{
  envid_t spinner = fork();
  if (spinner < 0)
    panic("fork: %s", errstr(spinner));
  if (spinner == 0)
    for (;;)
      ;
  printf("spin: started spinner %08x\n", spinner);
  envid_t worker = fork();
  if (worker == 0) {
    volatile uint64 x = 0;
    for (int i = 0; i < 1000000; i++)
      x += i;
    printf("spin: worker finished while the spinner spins\n");
    exit(x == 499999500000UL ? 0 : 1);
  }
  int status = -1;
  check(waitenv(worker, &status) == worker && status == 0, "worker did not finish cleanly");
  volatile const struct envpub *sp = &uenvs[ENVX(spinner)];
  check(sp->id == spinner && sp->status == ENV_RUNNABLE && sp->runs > 0,
        "spinner not running (status %d runs %d)", sp->status, sp->runs);
  check(sys_env_destroy(spinner) == 0, "destroy the spinner");
  check(waitenv(spinner, &status) == spinner && status == -1, "spinner exit status %d", status);
  check(sp->status == ENV_FREE, "spinner not reaped");
  return check_report();
}
