// elftest: spawn on malformed ELF files.  Each case is /hello with its
// headers damaged (truncated, bad magic or offsets, overlapping, huge or
// misplaced segments, filesz > memsz, an entry outside the code, ...),
// written to /elft/<case> through the file API.  spawn must return
// E_NOEXEC and leave nothing behind: no child env, no page charged to me,
// the same free page count.  The last line is the verdict (check.c).
#include "lib.h"
#include "elf.h"

static char orig[64 * 1024], img[64 * 1024];
static uint64 origlen;

static struct elfhdr *eh(void) { return (struct elfhdr *)img; }
static struct proghdr *ph(int i) { return (struct proghdr *)(img + eh()->phoff) + i; }

// The i-th PT_LOAD header of the (undamaged) copy.
static struct proghdr *load(int i)
{
  for (int k = 0; k < eh()->phnum; k++)
    if (ph(k)->type == PT_LOAD && i-- == 0)
      return ph(k);
  return 0;
}

static int write_file(const char *path, const char *data, uint64 n)
{
  int fd = open(path, O_CREATE | O_TRUNC | O_WRONLY);
  if (fd < 0)
    return fd;
  int r = 0;
  for (uint64 done = 0; r >= 0 && done < n; done += r)
    if ((r = write(fd, data + done, n - done)) == 0)
      r = -E_NOSPC;
  close(fd);
  return r < 0 ? r : 0;
}

// Children of mine still in the env table (any status but free).
static int nchildren(void)
{
  int n = 0;
  for (int i = 0; i < NENV; i++)
    if (uenvs[i].id && uenvs[i].parent == thisenv->id && uenvs[i].status != ENV_FREE)
      n++;
  return n;
}

// Spawn path (holding n bytes of img) and expect E_NOEXEC (with argv,
// any error), twice: the first warms the file server's cache and its
// open-file pages, the second is measured.
static void expect_noexec(const char *name, uint64 n, char **argv)
{
  int want = argv ? 0 : -E_NOEXEC;
  char path[64];
  snprintf(path, sizeof path, "/elft/%s", name);
  int r = write_file(path, img, n);
  if (!check(r == 0, "%s: cannot write the file: %s", name, errstr(r)))
    return;
  char *args[] = { path, 0 };
  if (!argv)
    argv = args;
  for (int round = 0; round < 2; round++) {
    int children = nchildren();
    int32 mine = thisenv->npages;
    uint64 nfree = usys->nfree;
    envid_t e = spawn(path, argv);
    if (!check(want ? e == want : e < 0, "%s: spawn returned %d (%s), not E_NOEXEC", name, e,
               e < 0 ? errstr(e) : "a child")) {
      if (e > 0) {
        sys_env_destroy(e);
        waitenv(e, 0);
      }
      return;
    }
    check(nchildren() == children, "%s: a child env was left behind", name);
    check(thisenv->npages == mine, "%s: my pages went from %d to %d", name, mine, thisenv->npages);
    if (round == 1)
      check(usys->nfree == nfree, "%s: free pages went from %ld to %ld", name, nfree, usys->nfree);
  }
}

static void reset(void)
{
  memcpy(img, orig, origlen);
}

int main(int argc, char **argv)
{
  progname = "elftest";
  int fd = open("/hello", O_RDONLY), n;
  if (fd < 0 || (n = read(fd, orig, sizeof orig)) <= 0 || (uint64)n == sizeof orig)
    panic("cannot read /hello");
  close(fd);
  origlen = n;
  check(mkdir("/elft") == 0, "mkdir /elft");

  // The control: the copy itself runs.
  reset();
  check(write_file("/elft/good", img, origlen) == 0, "write /elft/good");
  char *gargs[] = { "good", 0 };
  envid_t e = spawn("/elft/good", gargs);
  int status = -1;
  if (check(e > 0, "the undamaged copy: spawn returned %d (%s)", e, errstr(e)))
    check(waitenv(e, &status) >= 0 && status == 0, "the undamaged copy: exit status %d", status);
  check(load(0) && load(1) && (load(0)->flags & PF_X) && eh()->entry == load(0)->vaddr,
        "/hello is not laid out as expected (text, then data)");
  struct proghdr *t, *d;

  reset(); expect_noexec("empty", 0, 0);
  reset(); expect_noexec("halfheader", 32, 0);
  reset(); expect_noexec("headeronly", sizeof(struct elfhdr), 0);
  reset(); expect_noexec("halfphdrs", eh()->phoff + sizeof(struct proghdr) / 2, 0);
  reset(); expect_noexec("cuttext", load(0)->off + load(0)->filesz / 2, 0);
  reset(); eh()->magic ^= 1; expect_noexec("magic", origlen, 0);
  reset(); eh()->ident[0] = 1; expect_noexec("class32", origlen, 0);
  reset(); eh()->machine = 62; expect_noexec("x86", origlen, 0);
  reset(); eh()->type = 3; expect_noexec("dyn", origlen, 0);
  reset(); eh()->phoff = origlen + 4096; expect_noexec("phoffpast", origlen, 0);
  reset(); eh()->phoff = ~0UL - 16; expect_noexec("phoffhuge", origlen, 0);
  reset(); eh()->phnum = 0; expect_noexec("phnum0", origlen, 0);
  reset(); eh()->phnum = 0xFFFF; expect_noexec("phnumhuge", origlen, 0);
  reset(); eh()->phentsize = 32; expect_noexec("phentsize", origlen, 0);
  reset(); eh()->entry = 0x20000000; expect_noexec("entryout", origlen, 0);
  reset(); eh()->entry = load(1)->vaddr; expect_noexec("entrydata", origlen, 0);
  reset(); eh()->entry = 0; expect_noexec("entry0", origlen, 0);
  reset(); t = load(0); t->filesz = t->memsz + 1; expect_noexec("filesz", origlen, 0);
  reset(); t = load(0); t->off = origlen - 16; t->off -= (t->off - t->vaddr) % PGSIZE;
  expect_noexec("textpastend", origlen, 0);
  reset(); t = load(0); t->off = ~0UL & ~(PGSIZE - 1); expect_noexec("offhuge", origlen, 0);
  reset(); t = load(0); t->off += 8; expect_noexec("misaligned", origlen, 0);
  reset(); d = load(1); d->vaddr = load(0)->vaddr + PGSIZE; d->off = load(0)->off + PGSIZE;
  expect_noexec("overlap", origlen, 0);
  reset(); d = load(1); d->memsz = 1UL << 40; expect_noexec("huge", origlen, 0);
  reset(); d = load(1); d->memsz = 512UL << 20; expect_noexec("huge512m", origlen, 0);
  reset(); d = load(1); d->vaddr = UTOP; d->off = 0; d->filesz = 0; expect_noexec("pastutop", origlen, 0);
  reset(); d = load(1); d->vaddr = ULIBPAGES - PGSIZE; d->off = 0; d->filesz = 0; d->memsz = 3 * PGSIZE;
  expect_noexec("libpages", origlen, 0);
  reset(); d = load(1); d->vaddr = USTACKTOP - PGSIZE; d->off = 0; d->filesz = 0;
  expect_noexec("stack", origlen, 0);
  reset(); d = load(1); d->vaddr = ~0UL & ~(PGSIZE - 1); d->off = 0; d->filesz = 0; d->memsz = 2 * PGSIZE;
  expect_noexec("wrap", origlen, 0);
  reset(); d = load(1); d->vaddr = 0; d->off = 0; expect_noexec("below", origlen, 0);

  // A failure after the segments are loaded (arguments that do not fit
  // the argument page) must free them too.
  static char longarg[2000];
  memset(longarg, 'x', sizeof longarg - 1);
  char *many[] = { longarg, longarg, longarg, 0 };
  reset(); expect_noexec("argv", origlen, many);
  return check_report();
}
