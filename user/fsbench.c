// fsbench: the file-system rows of `make bench` (run as `init fsbench`, so
// the file server is up).  Counted in retired instructions on the one hart,
// which includes the file server's and the kernel's work.  While the hart
// waits for the disk in wfi, QEMU -icount moves instret on to the next
// timer deadline; the kernel adds up each idle stretch (the jumps and the
// wake-ups between them) in usys->idle_instret and it is subtracted here,
// so the figures are instructions executed and do not depend on how long
// the host took to do the disk's work.
#include "lib.h"

static uint64 idle0;

static uint64 now(void)
{
  return rdinstret() - usys->idle_instret;
}

static void report(const char *name, uint64 insn, uint64 n, const char *unit)
{
  printf("bench %s %lu insn/%s\n", name, (insn + n / 2) / n, unit);
}

static void die(const char *what, int r)
{
  printf("fsbench: FAIL: %s: %s\n", what, errstr(r));
  exit(1);
}

int main(int argc, char **argv)
{
  static char buf[4096];
  char name[32];
  int r, fd;
  idle0 = usys->idle_instret;

  // fs_create: 1,000 empty files in one directory.
  if ((r = mkdir("/fsb")) < 0)
    die("mkdir", r);
  uint64 t = now();
  for (int i = 0; i < 1000; i++) {
    snprintf(name, sizeof name, "/fsb/file%d", i);
    if ((fd = open(name, O_CREATE | O_WRONLY)) < 0)
      die("create", fd);
    close(fd);
  }
  report("fs_create", now() - t, 1000, "file");

  // fs_write: 4 MiB sequentially in 4 KiB writes.
  const int kib = 4096;
  if ((fd = open("/fsb/big", O_CREATE | O_WRONLY)) < 0)
    die("create big", fd);
  for (int i = 0; i < 4096; i++)
    buf[i] = i * 7;
  t = now();
  for (int i = 0; i < kib / 4; i++)
    if ((r = write(fd, buf, 4096)) != 4096)
      die("write", r);
  report("fs_write", now() - t, kib, "KiB");
  close(fd);

  // fs_read: the same file read back, warm cache.
  if ((fd = open("/fsb/big", O_RDONLY)) < 0)
    die("open big", fd);
  t = now();
  for (int i = 0; i < kib / 4; i++)
    if ((r = read(fd, buf, 4096)) != 4096)
      die("read", r);
  report("fs_read", now() - t, kib, "KiB");
  close(fd);

  // spawn_wait: spawn echo (which prints an empty line) and wait for it.
  char *args[] = { "echo", 0 };
  for (int i = 0; i < 2; i++)                  // warm the cache
    waitenv(spawn("/echo", args), 0);
  t = now();
  for (int i = 0; i < 20; i++) {
    envid_t c = spawn("/echo", args);
    if (c < 0)
      die("spawn", c);
    waitenv(c, 0);
  }
  report("spawn_wait", now() - t, 20, "spawn");
  printf("bench fs_idle %lu insn/run\n", usys->idle_instret - idle0);
  return 0;
}
