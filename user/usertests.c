// usertests: exercise the file system and the library OS.  Each test
// prints "test <name>: OK" or what failed; the last line is
// "ALL TESTS PASSED" or "SOME TESTS FAILED".  `usertests name...` runs
// only the tests named.  Run from the shell (it needs the file server).
#include "lib.h"

static int failed;

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      printf("usertests: %s: FAIL at line %d: ", cur, __LINE__);          \
      printf(__VA_ARGS__);                                                 \
      printf("\n");                                                        \
      return 1;                                                            \
    }                                                                      \
  } while (0)

static const char *cur;
static char buf[8192];

// A deterministic byte for position i of file f.
static char pat(int f, uint64 i) { return (char)((i * 7 + f * 13 + (i >> 12)) & 0xFF); }

static void fill(char *b, int f, uint64 off, int n)
{
  for (int i = 0; i < n; i++)
    b[i] = pat(f, off + i);
}

static int same(const char *b, int f, uint64 off, int n)
{
  for (int i = 0; i < n; i++)
    if (b[i] != pat(f, off + i))
      return 0;
  return 1;
}

// A file bigger than the direct and single-indirect blocks reach
// (11 + 1024 blocks = 4.04 MiB), read back in odd-sized pieces.
static int bigfile(void)
{
  const uint64 size = 5UL << 20;
  int fd = open("big", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "open: %s", errstr(fd));
  for (uint64 off = 0; off < size; off += 4096) {
    fill(buf, 1, off, 4096);
    int n = write(fd, buf, 4096);
    CHECK(n == 4096, "write at %lu: %d (%s)", off, n, errstr(n));
  }
  struct stat st;
  CHECK(fstat(fd, &st) == 0 && st.size == size, "size %lu", st.size);
  close(fd);
  fd = open("big", O_RDONLY);
  CHECK(fd >= 0, "reopen: %s", errstr(fd));
  uint64 off = 0;
  int piece = 1000;
  for (;;) {
    int n = read(fd, buf, piece);
    CHECK(n >= 0, "read: %s", errstr(n));
    if (n == 0)
      break;
    CHECK(same(buf, 1, off, n), "wrong data at %lu", off);
    off += n;
    piece = piece == 1000 ? 5000 : 1000;
  }
  CHECK(off == size, "read %lu bytes of %lu", off, size);
  close(fd);
  CHECK(unlink("big") == 0, "unlink");
  return 0;
}

// Many files in one directory, then all removed, then the directory.
static int manyfiles(void)
{
  char name[32];
  CHECK(mkdir("many") == 0, "mkdir");
  for (int i = 0; i < 200; i++) {
    snprintf(name, sizeof name, "many/f%d", i);
    int fd = open(name, O_CREATE | O_WRONLY);
    CHECK(fd >= 0, "create %s: %s", name, errstr(fd));
    int n = write(fd, name, strlen(name));
    CHECK(n == (int)strlen(name), "write %s", name);
    close(fd);
  }
  for (int i = 0; i < 200; i++) {
    snprintf(name, sizeof name, "many/f%d", i);
    int fd = open(name, O_RDONLY);
    CHECK(fd >= 0, "open %s: %s", name, errstr(fd));
    int n = read(fd, buf, sizeof buf);
    CHECK(n == (int)strlen(name) && memcmp(buf, name, n) == 0, "contents of %s", name);
    close(fd);
  }
  CHECK(unlink("many") == -E_NOTEMPTY, "a full directory was removed");
  for (int i = 0; i < 200; i++) {
    snprintf(name, sizeof name, "many/f%d", i);
    CHECK(unlink(name) == 0, "unlink %s", name);
  }
  CHECK(unlink("many") == 0, "rmdir");
  struct stat st;
  CHECK(stat("many", &st) == -E_NOENT, "still there");
  return 0;
}

// Fill the disk: writes stop with an error, nothing already written is
// damaged, and the space comes back when the file goes.
static int fulldisk(void)
{
  int fd = open("keep", O_CREATE | O_WRONLY);
  CHECK(fd >= 0, "create keep");
  CHECK(write(fd, "precious", 8) == 8, "write keep");
  close(fd);
  fd = open("full", O_CREATE | O_WRONLY);
  CHECK(fd >= 0, "create full");
  uint64 total = 0;
  int n;
  fill(buf, 2, 0, 4096);
  while ((n = write(fd, buf, 4096)) == 4096)
    total += n;
  CHECK(n == -E_NOSPC || (n >= 0 && n < 4096), "write on a full disk: %d", n);
  if (n > 0)
    CHECK((n = write(fd, buf, 4096)) == -E_NOSPC, "then: %d", n);
  CHECK(total > (8UL << 20), "only %lu bytes fit", total);
  // A new file cannot grow either, but metadata-only operations report
  // the error cleanly too.
  int fd2 = open("more", O_CREATE | O_WRONLY);
  if (fd2 >= 0) {
    CHECK(write(fd2, buf, 4096) < 0, "a write succeeded on a full disk");
    close(fd2);
    unlink("more");
  }
  close(fd);
  fd = open("keep", O_RDONLY);
  CHECK(fd >= 0 && read(fd, buf, 100) == 8 && memcmp(buf, "precious", 8) == 0, "keep damaged");
  close(fd);
  CHECK(unlink("full") == 0, "unlink full");
  fd = open("again", O_CREATE | O_WRONLY);
  CHECK(fd >= 0, "create again");
  for (int i = 0; i < 256; i++)
    CHECK(write(fd, buf, 4096) == 4096, "space did not come back (%d)", i);
  close(fd);
  unlink("again");
  unlink("keep");
  return 0;
}

// A file unlinked while open stays readable and writable through the open
// descriptor; its space is freed after the last close.
static int unlinkopen(void)
{
  int fd = open("ghost", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "create");
  fill(buf, 3, 0, 6000);
  CHECK(write(fd, buf, 6000) == 6000, "write");
  CHECK(unlink("ghost") == 0, "unlink");
  struct stat st;
  CHECK(stat("ghost", &st) == -E_NOENT, "name still there");
  CHECK(fstat(fd, &st) == 0 && st.nlink == 0 && st.size == 6000, "fstat nlink %d size %lu", st.nlink,
        st.size);
  CHECK(write(fd, buf, 100) == 100, "write after unlink");
  seek(fd, 0);
  memset(buf, 0, 6000);
  CHECK(read(fd, buf, 6000) == 6000 && same(buf, 3, 0, 6000), "read after unlink");
  // A child shares the open file across fork; the file lives until both close.
  envid_t c = fork();
  CHECK(c >= 0, "fork");
  if (c == 0) {
    seek(fd, 1);
    char x;
    exit(read(fd, &x, 1) == 1 && x == pat(3, 1) ? 0 : 1);
  }
  int status = -1;
  waitenv(c, &status);
  CHECK(status == 0, "the child could not read the unlinked file");
  close(fd);
  // The same name can be made again at once, and is a new, empty file.
  fd = open("ghost", O_CREATE | O_RDWR);
  CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.size == 0, "recreate");
  close(fd);
  unlink("ghost");
  return 0;
}

// Several envs write at once: each its own file, and all appending to one.
static int concurrent(void)
{
  enum { KIDS = 4, RECS = 50, RECSZ = 40 };
  int fd = open("shared", O_CREATE | O_TRUNC | O_WRONLY);
  CHECK(fd >= 0, "create shared");
  close(fd);
  envid_t kids[KIDS];
  for (int k = 0; k < KIDS; k++) {
    kids[k] = fork();
    CHECK(kids[k] >= 0, "fork");
    if (kids[k] == 0) {
      char name[16], rec[RECSZ];
      snprintf(name, sizeof name, "own%d", k);
      int a = open("shared", O_WRONLY | O_APPEND), o = open(name, O_CREATE | O_TRUNC | O_WRONLY);
      if (a < 0 || o < 0)
        exit(2);
      for (int i = 0; i < RECS; i++) {
        memset(rec, 'a' + k, RECSZ);
        snprintf(rec, RECSZ, "kid %d rec %d ", k, i);
        rec[RECSZ - 1] = '\n';
        if (write(a, rec, RECSZ) != RECSZ || write(o, rec, RECSZ) != RECSZ)
          exit(3);
      }
      exit(0);
    }
  }
  for (int k = 0; k < KIDS; k++) {
    int status = -1;
    waitenv(kids[k], &status);
    CHECK(status == 0, "writer %d: status %d", k, status);
  }
  struct stat st;
  CHECK(stat("shared", &st) == 0 && st.size == KIDS * RECS * RECSZ, "shared size %lu", st.size);
  int counts[KIDS] = { 0 };
  fd = open("shared", O_RDONLY);
  for (int i = 0; i < KIDS * RECS; i++) {
    char rec[RECSZ];
    CHECK(read(fd, rec, RECSZ) == RECSZ, "short read");
    int k = rec[4] - '0';
    CHECK(k >= 0 && k < KIDS && rec[RECSZ - 2] == 'a' + k && rec[RECSZ - 1] == '\n', "torn record %d", i);
    counts[k]++;
  }
  close(fd);
  for (int k = 0; k < KIDS; k++) {
    char name[16];
    snprintf(name, sizeof name, "own%d", k);
    CHECK(counts[k] == RECS, "writer %d: %d records", k, counts[k]);
    CHECK(stat(name, &st) == 0 && st.size == RECS * RECSZ, "%s size %lu", name, st.size);
    unlink(name);
  }
  unlink("shared");
  return 0;
}

// Bad pointers and bad names get errors, not crashes.
static int badargs(void)
{
  int fd = open("README.md", O_RDONLY), r;
  CHECK(fd >= 0, "open README.md");
  CHECK((r = read(fd, (void *)0, 10)) == -E_FAULT, "read into NULL: %d", r);
  CHECK((r = read(fd, (void *)UTOP - 8, 100)) == -E_FAULT, "read across UTOP: %d", r);
  CHECK((r = read(fd, (void *)UENVS, 10)) == -E_FAULT, "read into the kernel's records: %d", r);
  CHECK((r = read(fd, (void *)badargs, 10)) == -E_FAULT, "read into my own code: %d", r);
  CHECK((r = read(fd, (void *)0xFFFFFFC080200000UL, 10)) == -E_FAULT, "read into the kernel: %d", r);
  close(fd);
  fd = open("scratch", O_CREATE | O_RDWR);
  CHECK((r = write(fd, (void *)0x1000, 10)) == -E_FAULT, "write from an unmapped page: %d", r);
  CHECK((r = write(fd, (void *)0xFFFFFFC080200000UL, 10)) == -E_FAULT, "write from the kernel: %d", r);
  static const char ro[64] = "read-only data is a fine source";
  CHECK((r = write(fd, ro, 64)) == 64, "write from read-only data: %d", r);
  close(fd);
  unlink("scratch");
  CHECK((r = open((char *)0, O_RDONLY)) == -E_FAULT, "open(NULL): %d", r);
  CHECK((r = open((char *)0xFFFFFFC080200000UL, O_RDONLY)) == -E_FAULT, "open(kernel): %d", r);
  char longname[MAXPATH + 10];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  CHECK((r = open(longname, O_CREATE | O_RDWR)) == -E_NAMETOOLONG, "a too-long path: %d", r);
  CHECK((r = open("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", O_CREATE | O_RDWR)) == -E_NAMETOOLONG,
        "a too-long name: %d", r);
  CHECK((r = open("nosuch/file", O_CREATE | O_RDWR)) == -E_NOENT, "create in a missing dir: %d", r);
  CHECK((r = open("README.md/x", O_RDONLY)) == -E_NOTDIR, "file as a directory: %d", r);
  CHECK((r = open("/", O_RDWR)) == -E_ISDIR, "write a directory: %d", r);
  CHECK((r = read(77, buf, 1)) == -E_BADF, "read a bad fd: %d", r);
  CHECK((r = close(-1)) == -E_BADF, "close -1: %d", r);
  CHECK((r = link("/", "root2")) == -E_ISDIR, "link a directory: %d", r);
  CHECK((r = unlink("/")) < 0, "unlink /: %d", r);
  CHECK((r = unlink(".")) < 0, "unlink .: %d", r);
  CHECK((r = mkdir("README.md")) == -E_EXIST, "mkdir over a file: %d", r);
  return 0;
}

// spawn and exec: programs from the disk, bad executables refused.
static int spawnexec(void)
{
  int p[2];
  CHECK(pipe(p) == 0, "pipe");
  envid_t c = fork();
  CHECK(c >= 0, "fork");
  if (c == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    char *argv[] = { "echo", "exec", "works", 0 };
    exec("echo", argv);
    exit(99);
  }
  close(p[1]);
  int n = 0, r;
  while ((r = read(p[0], buf + n, 100)) > 0)
    n += r;
  close(p[0]);
  int status = -1;
  waitenv(c, &status);
  CHECK(n == 11 && memcmp(buf, "exec works\n", 11) == 0, "exec output [%d bytes]", n);
  CHECK(status == 0, "exec status %d", status);
  // An exit status comes back through exec's hand-over.
  c = fork();
  if (c == 0) {
    char *argv[] = { "sh", "-c-does-not-exist", 0 };
    exec("sh", argv);
    exit(99);
  }
  waitenv(c, &status);
  CHECK(status == 1, "status through exec: %d", status);
  char *argv[] = { "x", 0 };
  CHECK((r = spawn("README.md", argv)) == -E_NOEXEC, "spawn a text file: %d", r);
  CHECK((r = spawn("/", argv)) == -E_ISDIR, "spawn a directory: %d", r);
  CHECK((r = spawn("nosuch", argv)) == -E_NOENT, "spawn a missing file: %d", r);
  // A truncated ELF: the header of echo and nothing else.
  int in = open("echo", O_RDONLY), out = open("badelf", O_CREATE | O_TRUNC | O_WRONLY);
  CHECK(in >= 0 && out >= 0 && read(in, buf, 200) == 200 && write(out, buf, 200) == 200, "copy");
  close(in);
  close(out);
  CHECK((r = spawn("badelf", argv)) == -E_NOEXEC, "spawn a truncated ELF: %d", r);
  // An ELF whose segment points into the kernel's half.
  buf[24] = 0;                                   // e_entry low byte: still in range
  uint64 *phoff = (uint64 *)(buf + 32);
  uint64 *vaddr = (uint64 *)(buf + *phoff + 16);
  *vaddr = 0xFFFFFFC080200000UL;
  out = open("badelf", O_CREATE | O_TRUNC | O_WRONLY);
  write(out, buf, 200);
  close(out);
  CHECK((r = spawn("badelf", argv)) == -E_NOEXEC, "spawn an ELF aimed at the kernel: %d", r);
  // Whole ELFs with one bad segment: two segments on one page, and a
  // segment over the library's pages (the fd table, the argument page).
  struct stat est;
  CHECK(stat("echo", &est) == 0, "stat echo");
  char *img = malloc(est.size);
  in = open("echo", O_RDONLY);
  CHECK(img && read(in, img, est.size) == (int)est.size, "read echo");
  close(in);
  uint64 ph0 = *(uint64 *)(img + 32);
  int nph = *(uint16 *)(img + 56), loads[4], nl = 0;
  for (int i = 0; i < nph && nl < 4; i++)
    if (*(uint32 *)(img + ph0 + 56 * i) == 1)
      loads[nl++] = i;
  CHECK(nl >= 2, "echo has %d loadable segments", nl);
  for (int bad = 0; bad < 2; bad++) {
    char *copy = malloc(est.size);
    memcpy(copy, img, est.size);
    uint64 *va1 = (uint64 *)(copy + ph0 + 56 * loads[1] + 16);
    uint64 *va0 = (uint64 *)(copy + ph0 + 56 * loads[0] + 16);
    uint64 *off1 = (uint64 *)(copy + ph0 + 56 * loads[1] + 8);
    if (bad == 0)
      *va1 = (*va0 & ~0xFFFUL) | (*off1 & 0xFFF);   // on the first segment's page
    else
      *va1 = ULIBPAGES | (*off1 & 0xFFF);          // over the fd table
    out = open("badelf", O_CREATE | O_TRUNC | O_WRONLY);
    CHECK(write(out, copy, est.size) == (int)est.size, "write badelf");
    close(out);
    free(copy);
    CHECK((r = spawn("badelf", argv)) == -E_NOEXEC, "spawn an ELF with %s: %d",
          bad ? "a segment over the library's pages" : "two segments on a page", r);
  }
  free(img);
  unlink("badelf");
  return 0;
}

// The library OS besides files: sbrk, fork and wait, pipes between envs.
static int libos(void)
{
  char *a = sbrk(1 << 20);
  CHECK(a != (char *)-1, "sbrk");
  for (int i = 0; i < (1 << 20); i += 4096)
    a[i] = i >> 12;
  for (int i = 0; i < (1 << 20); i += 4096)
    CHECK(a[i] == (char)(i >> 12), "heap page %d", i >> 12);
  CHECK(sbrk(-(1 << 20)) != (char *)-1, "shrink");
  CHECK(sbrk(1L << 40) == (char *)-1, "a huge sbrk succeeded");
  int status;
  for (int i = 0; i < 20; i++) {
    envid_t c = fork();
    CHECK(c >= 0, "fork %d", i);
    if (c == 0)
      exit(i);
    CHECK(waitenv(c, &status) == c && status == i, "wait %d", i);
  }
  CHECK(wait(&status) == -1, "wait with no children");
  return 0;
}

// Directories: nesting, "..", and removing in the right order.
static int dirs(void)
{
  CHECK(mkdir("dd") == 0 && mkdir("dd/ee") == 0 && mkdir("dd/ee/ff") == 0, "mkdir");
  CHECK(chdir("dd/ee/ff") == 0, "chdir");
  int fd = open("../../x", O_CREATE | O_WRONLY);
  CHECK(fd >= 0, "create ../../x");
  close(fd);
  struct stat st;
  CHECK(stat("/dd/x", &st) == 0 && st.type == T_FILE, "x not in /dd");
  CHECK(chdir("/") == 0, "chdir /");
  CHECK(unlink("dd/ee") == -E_NOTEMPTY, "removed a non-empty directory");
  CHECK(unlink("dd/ee/ff") == 0 && unlink("dd/ee") == 0 && unlink("dd/x") == 0 && unlink("dd") == 0,
        "cleanup");
  CHECK(link("README.md", "rm2") == 0 && stat("README.md", &st) == 0 && st.nlink == 2, "link");
  CHECK(unlink("rm2") == 0 && stat("README.md", &st) == 0 && st.nlink == 1, "unlink link");
  return 0;
}

static struct test {
  const char *name;
  int (*fn)(void);
} tests[] = {
  { "badargs", badargs },   { "dirs", dirs },         { "manyfiles", manyfiles },
  { "unlinkopen", unlinkopen }, { "concurrent", concurrent }, { "spawnexec", spawnexec },
  { "libos", libos },       { "bigfile", bigfile },   { "fulldisk", fulldisk },
};

int main(int argc, char **argv)
{
  int ran = 0;
  for (unsigned i = 0; i < sizeof tests / sizeof tests[0]; i++) {
    int want = argc < 2;
    for (int a = 1; a < argc; a++)
      if (!strcmp(argv[a], tests[i].name))
        want = 1;
    if (!want)
      continue;
    cur = tests[i].name;
    ran++;
    uint64 t0 = rdinstret();
    if (tests[i].fn() != 0)
      failed++;
    else
      printf("test %s: OK (%lu M instructions)\n", cur, (rdinstret() - t0) >> 20);
  }
  if (ran == 0) {
    printf("usertests: no such test\n");
    return 2;
  }
  if (failed)
    printf("SOME TESTS FAILED\n");
  else
    printf("ALL TESTS PASSED %s\n", grade_token);
  return failed ? 1 : 0;
}
