// init: the first env.  libmain has already started the console env; init
// starts the file server, then runs the shell (or the program named on the
// boot line: `init prog args...`).  It then waits in pct_recv, woken by the
// kernel when a child exits (IRQ_CHILD) or by a kill request:
//
//   - it reaps every exited child, including envs whose parent died (the
//     kernel makes init their parent);
//   - when the shell exits it starts a new one; a named program's exit
//     status becomes init's own, which powers the machine off;
//   - INIT_KILL: the kernel lets an env end only its own descendants, so
//     kill() asks init, the ancestor of all, to end an env for it.  The
//     console and file servers and init itself are refused.
#include "lib.h"

static envid_t start(char **args)
{
  envid_t pid = spawn(args[0], args);
  if (pid < 0) {
    printf("init: cannot start %s: %s\n", args[0], errstr(pid));
    exit(1);
  }
  return pid;
}

static int64 do_kill(envid_t target)
{
  volatile const struct envpub *p = &uenvs[ENVX(target)];
  if (target == thisenv->id || target == cons_env || target == fs_env)
    return -E_PERM;
  if (p->id != target || p->status == ENV_FREE)
    return -E_BAD_ENV;
  if (p->status == ENV_EXITED)
    return 0;                                // already ended: its parent reaps it
  return sys_env_destroy(target);
}

int main(int argc, char **argv)
{
  envid_t fs = fs_start();
  if (fs < 0)
    printf("init: no file system: %s\n", errstr(fs));
  char *shargv[] = { "sh", 0 };
  char **args = argc > 1 ? argv + 1 : shargv;
  sys_irq_claim(IRQ_CHILD, 0);
  spawn_gives_swap = 1;                      // the swap area goes to the program
  envid_t pid = start(args);
  struct pct_msg m;
  int64 from = 0, answer = 0;
  for (;;) {
    int status;
    envid_t w;
    while ((w = wait_nohang(&status)) > 0) {
      if (w != pid)
        continue;                            // an orphan: reaped
      if (args != shargv)
        return status;
      printf("init: the shell exited (status %d); starting a new one\n", status);
      pid = start(args);
    }
    if (from > 0 && m.kind == PCT_CALL)
      from = sys_pct_reply_recv(from, answer, 0, 0, 0, 0, &m);
    else
      from = sys_pct_recv(0, &m);
    if (from == -E_BAD_ENV)
      from = 0;                              // the caller died before the answer
    else if (from < 0)
      panic("init: %s", errstr(from));
    if (from > 0)
      answer = m.w[0] == INIT_KILL ? do_kill(m.w[1]) : -E_INVAL;
  }
}
