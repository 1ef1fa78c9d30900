// exectest: exec rebuilds the caller's address space and keeps the env:
// the id fork returned names the new program, kill ends it, wait gets its
// status, descriptors go along (but the close-on-spawn ones), a failed
// exec leaves the old program running, and exec after exec leaks nothing.
// With no argument, all of it; the other arguments are the roles the test
// execs itself in.
#include "lib.h"

static char *self = "/exectest";

// Run `exectest args...` by fork and exec, its fd 1 on a pipe; the child's
// id, and the read end in *rfd.
static envid_t start(char **argv, int *rfd, int cloexec_fd)
{
  int p[2];
  if (pipe(p) < 0)
    return -1;
  envid_t c = fork();
  if (c == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    if (cloexec_fd >= 0)
      fd_cloexec(cloexec_fd, 1);
    int r = exec(self, argv);
    printf("exectest: FAIL: exec returned %d\n", r);
    exit(1);
  }
  close(p[1]);
  *rfd = p[0];
  return c;
}

static uint64 read_num(int fd)
{
  char buf[32];
  int n = 0, r;
  while (n < (int)sizeof buf - 1 && (r = read(fd, buf + n, 1)) == 1 && buf[n] != '\n')
    n++;
  buf[n] = 0;
  return atoi(buf);
}

static int live_envs(void)
{
  int n = 0;
  for (int i = 0; i < NENV; i++)
    n += uenvs[i].status != ENV_FREE;
  return n;
}

static void kill_after_exec(void)
{
  int before = live_envs(), fd;
  envid_t c = start((char *[]){ "exectest", "hold", 0 }, &fd, -1);
  check(read_num(fd) == (uint64)c, "the program exec started runs as the forked id %x", c);
  check(kill(c) == 0, "kill the forked id");
  int status = 0;
  check(waitenv(c, &status) == c, "wait for the forked id");
  close(fd);
  check(live_envs() == before, "nothing left running after the kill: %d envs, %d before",
        live_envs(), before);
}

static void status_and_pid(void)
{
  int fd, status = 0;
  envid_t c = start((char *[]){ "exectest", "exit", "7", 0 }, &fd, -1);
  check(read_num(fd) == (uint64)c, "getpid after exec is the forked id");
  check(wait(&status) == c && status == 7, "wait got the exec'd program's status (%d)", status);
  close(fd);
}

static void descriptors(void)
{
  int fd, status = 0;
  int keep = open("/README.md", O_RDONLY), drop = open("/README.md", O_RDONLY);
  check(keep >= 0 && drop >= 0, "open README.md twice");
  char k[8], d[8];
  snprintf(k, sizeof k, "%d", keep);
  snprintf(d, sizeof d, "%d", drop);
  envid_t c = start((char *[]){ "exectest", "fds", k, d, 0 }, &fd, drop);
  check(read_num(fd) == 1, "after exec fd %d is open and close-on-spawn fd %d is not", keep, drop);
  check(waitenv(c, &status) == c && status == 0, "fds status %d", status);
  close(fd);
  close(keep);
  close(drop);
}

static void failures(void)
{
  char *pages = sbrk(3 * PGSIZE);                    // the old program keeps its heap
  memset(pages, 'h', 3 * PGSIZE);
  expect_err(exec("/no-such-program", (char *[]){ "x", 0 }), E_NOENT, "exec of a missing file");
  expect_err(exec("/README.md", (char *[]){ "x", 0 }), E_NOEXEC, "exec of a text file");
  expect_err(exec(self, (char **)0x10), E_FAULT, "exec with a bad argument vector");
  char *big[MAXARG + 2];
  for (int i = 0; i <= MAXARG; i++)
    big[i] = "a";
  big[MAXARG + 1] = 0;
  check(exec(self, big) < 0, "exec with too many arguments fails");
  int ok = 1;
  for (int i = 0; i < 3 * PGSIZE; i++)
    ok &= pages[i] == 'h';
  check(ok, "the heap is intact after the failed execs");
}

static void no_leak(void)
{
  int fd, status = 0;
  envid_t c = start((char *[]){ "exectest", "chain", "50", "0", 0 }, &fd, -1);
  uint64 first = read_num(fd), last = read_num(fd);
  check(waitenv(c, &status) == c && status == 0, "chain status %d", status);
  check(first > 0 && last <= first + 2, "50 execs in a row: %lu pages at the first, %lu at the last",
        first, last);
  printf("exectest: 50 execs in one env: %lu pages at the first, %lu at the last\n", first, last);
  close(fd);
}

int main(int argc, char **argv)
{
  if (argc >= 2 && !strcmp(argv[1], "hold")) {   // tell who I am, then wait to be killed
    printf("%d\n", getpid());
    for (;;)
      sleep(100);
  }
  if (argc >= 3 && !strcmp(argv[1], "exit")) {
    printf("%d\n", getpid());
    return atoi(argv[2]);
  }
  if (argc >= 4 && !strcmp(argv[1], "fds")) {
    struct stat st;
    printf("%d\n", fstat(atoi(argv[2]), &st) == 0 && fstat(atoi(argv[3]), &st) == -E_BADF);
    return 0;
  }
  if (argc >= 4 && !strcmp(argv[1], "chain")) {  // exec myself n more times
    int n = atoi(argv[2]);
    if (!strcmp(argv[3], "0") || n == 0)
      printf("%d\n", thisenv->npages);
    if (n == 0)
      return 0;
    char left[16];
    snprintf(left, sizeof left, "%d", n - 1);
    int r = exec(self, (char *[]){ "exectest", "chain", left, "1", 0 });
    printf("exectest: FAIL: exec returned %d\n", r);
    return 1;
  }
  kill_after_exec();
  status_and_pid();
  descriptors();
  failures();
  no_leak();
  return check_report();
}
