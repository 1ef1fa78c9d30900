// crashtest: file-system operations, one after another, forever; after
// each one has returned it prints "done <i>".  The grader kills the machine
// at varied points, then checks that every operation reported done is on
// the disk (and that the file system is consistent).  Operation i:
//
//   i%5 == 0   mkdir d<i>
//   i%5 == 1   create f<i>, write size(i) bytes in 1000-byte writes, close
//   i%5 == 2   append the 16-byte line "entry <i>" to "log"
//   i%5 == 3   link f<i-2> to l<i>
//   i%5 == 4   unlink f<i-3> (it lives on as l<i-1>)
//
// grade/test_crash.py models the same sequence; keep them in step.  Each
// operation must also count at least one commit in the file server's
// FS_STATS reply (one per changing request).
//
// `crashtest links` instead makes symbolic links: operation i creates s<i>
// with the target link_target(i) (grade/test_fs_lab.py models it).
//
// `crashtest diskfail` runs on a disk whose log's first slot fails every
// write (grade/test_crash.py sets that up with QEMU's blkdebug): every
// operation that changes something must fail with a disk error and leave
// no trace, neither on the disk nor in what later reads see.
//
// `crashtest commits` prints the file server's count of commits so far
// (after a recovery at mount, the recovered blocks are not the first
// request's: a read-only request commits nothing).
//
// `crashtest overwrite` rewrites the first 16 bytes of README.md in place,
// again and again, with "overwrite <i>" (a one-block operation: the size
// does not change, so only the data block is logged).
#include "lib.h"
#include "fd.h"

static uint64 size(int i) { return (uint64)(i * 2971) % 14000; }
static char byte(int i, uint64 j) { return (char)((i * 31 + j * 7) & 0xFF); }

static void fail(const char *what, int i, int r)
{
  printf("crashtest: op %d: %s: %s\n", i, what, errstr(r));
  exit(1);
}

// The file server's count of commits (FS_STATS), or -1.
static uint64 commits(void)
{
  struct pct_msg m;
  return sys_pct_call_wait(fs_env, FS_STATS, 0, 0, 0, 0, &m) < 0 ? (uint64)-1 : m.w[0];
}

// The target of link s<i>: "/t<i>/" and then one letter, 8 to 247 bytes
// in all (a target of any length must appear whole or not at all).
static void link_target(int i, char *t)
{
  int n = snprintf(t, 32, "/t%d/", i), len = 8 + (i * 37) % 240;
  while (n < len)
    t[n++] = 'a' + i % 26;
  t[n] = 0;
}

static void links(void)
{
  char name[32], target[MAXPATH];
  for (int i = 0;; i++) {
    snprintf(name, sizeof name, "s%d", i);
    link_target(i, target);
    int r = symlink(target, name);
    if (r < 0)
      fail("symlink", i, r);
    printf("done %d\n", i);
  }
}

static void overwrite(void)
{
  char line[17];
  int fd = open("/README.md", O_WRONLY);
  if (fd < 0)
    fail("open README.md", 0, fd);
  for (int i = 0;; i++) {
    snprintf(line, sizeof line, "overwrite %5d\n", i);
    int r = (int)seek(fd, 0);
    if (r < 0 || (r = write(fd, line, 16)) != 16)
      fail("write", i, r < 0 ? r : -E_IO);
    printf("done %d\n", i);
  }
}

static void diskfail(void)
{
  struct stat st, st2;
  char before[16], after[16];
  int fd = open("/README.md", O_RDWR);
  check(fd >= 0 && read(fd, before, 16) == 16 && fstat(fd, &st) == 0, "read README.md");
  expect_err(mkdir("/x"), E_IO, "mkdir");
  expect_err(stat("/x", &st2), E_NOENT, "stat of what a failed mkdir would have made");
  check(seek(fd, 0) == 0, "seek");
  expect_err(write(fd, "a failed write!\n", 16), E_IO, "overwrite README.md's first 16 bytes");
  check(seek(fd, 0) == 0 && read(fd, after, 16) == 16 && !memcmp(before, after, 16),
        "README.md's first bytes changed by a write that failed");
  check(seek(fd, st.size) == (int64)st.size, "seek to the end");
  expect_err(write(fd, "more", 4), E_IO, "append to README.md");
  check(fstat(fd, &st2) == 0 && st2.size == st.size, "README.md's size: %lu, was %lu",
        st2.size, st.size);
  close(fd);
  expect_err(open("/newfile", O_CREATE | O_WRONLY), E_IO, "create");
  expect_err(stat("/newfile", &st2), E_NOENT, "stat of what a failed create would have made");
  expect_err(symlink("/README.md", "/s"), E_IO, "symlink");
  expect_err(lstat("/s", &st2), E_NOENT, "lstat of what a failed symlink would have made");
  expect_err(link("/README.md", "/l"), E_IO, "link");
  expect_err(stat("/l", &st2), E_NOENT, "stat of what a failed link would have made");
  expect_err(unlink("/README.md"), E_IO, "unlink");
  check(stat("/README.md", &st2) == 0 && st2.nlink == 1 && st2.size == st.size,
        "README.md after a failed link and unlink: nlink %d", st2.nlink);
  exit(check_report());
}

int main(int argc, char **argv)
{
  char name[32], name2[32], buf[1000];
  if (argc > 1 && !strcmp(argv[1], "links"))
    links();                                 // (never returns)
  if (argc > 1 && !strcmp(argv[1], "overwrite"))
    overwrite();                             // (never returns)
  if (argc > 1 && !strcmp(argv[1], "commits")) {
    printf("commits %ld\n", (long)commits());
    return 0;
  }
  if (argc > 1 && !strcmp(argv[1], "diskfail"))
    diskfail();                              // (never returns)
  for (int i = 0;; i++) {
    int fd, r;
    uint64 c0 = commits();
    switch (i % 5) {
    case 0:
      snprintf(name, sizeof name, "d%d", i);
      if ((r = mkdir(name)) < 0)
        fail("mkdir", i, r);
      break;
    case 1:
      snprintf(name, sizeof name, "f%d", i);
      if ((fd = open(name, O_CREATE | O_WRONLY)) < 0)
        fail("create", i, fd);
      for (uint64 off = 0; off < size(i); off += sizeof buf) {
        uint64 n = size(i) - off < sizeof buf ? size(i) - off : sizeof buf;
        for (uint64 j = 0; j < n; j++)
          buf[j] = byte(i, off + j);
        if ((r = write(fd, buf, n)) != (int)n)
          fail("write", i, r);
      }
      close(fd);
      break;
    case 2:
      if ((fd = open("log", O_CREATE | O_WRONLY | O_APPEND)) < 0)
        fail("open log", i, fd);
      snprintf(buf, sizeof buf, "entry %9d\n", i);
      if ((r = write(fd, buf, 16)) != 16)
        fail("append", i, r);
      close(fd);
      break;
    case 3:
      snprintf(name, sizeof name, "f%d", i - 2);
      snprintf(name2, sizeof name2, "l%d", i);
      if ((r = link(name, name2)) < 0)
        fail("link", i, r);
      break;
    case 4:
      snprintf(name, sizeof name, "f%d", i - 3);
      if ((r = unlink(name)) < 0)
        fail("unlink", i, r);
      break;
    }
    uint64 c1 = commits();
    if (c0 == (uint64)-1 || c1 == (uint64)-1 || c1 <= c0) {
      printf("crashtest: op %d: the file server counts %ld commits before it and %ld after\n", i,
             (long)c0, (long)c1);
      exit(1);
    }
    printf("done %d\n", i);
  }
}
