// oomtest: running out of memory.  `oomtest [part]`, one of:
//   cache  after heavy file-system use (the file server's cache grown to
//          thousands of pages), a program can still have nearly all the
//          memory: the cache gives its pages back when the kernel asks
//          (revocation), and the file's data is intact afterwards
//   sbrk   sbrk refuses what could not be had now (in memory or on my
//          swap extent), and the break does not move; what it granted can
//          all be touched
//   touch  a heap page that cannot be had when first touched ends the
//          program with a message and status -1 (no fault in its handler)
// With no argument, all of them.
#include "lib.h"
#include "fs.h"

#define FILEPAGES 2600                  // more than the cache holds (NBUF)
#define PG(n) ((uint64)(n) * PGSIZE)
#define EAGER 0x30000000UL              // (touch) pages mapped at once, far above the break

static int pages_of(envid_t e) { return uenvs[ENVX(e)].npages; }

// Write and read back a file bigger than the cache: its pages fill it.
static void heavy_fs_use(void)
{
  char *buf = malloc(PGSIZE);
  int fd = open("/oomfile", O_CREATE | O_TRUNC | O_RDWR);
  check(fd >= 0, "create /oomfile: %d", fd);
  for (int i = 0; i < FILEPAGES && fd >= 0; i++) {
    memset(buf, 'a' + i % 26, PGSIZE);
    if (write(fd, buf, PGSIZE) != PGSIZE) {
      check(0, "write page %d of /oomfile", i);
      break;
    }
  }
  close(fd);
  free(buf);
}

// Read /oomfile back: every page as written.
static int file_intact(void)
{
  char *buf = malloc(PGSIZE);
  int fd = open("/oomfile", O_RDONLY), bad = fd < 0;
  for (int i = 0; i < FILEPAGES && !bad; i++) {
    bad = read(fd, buf, PGSIZE) != PGSIZE;
    for (int k = 0; k < PGSIZE && !bad; k += 512)
      bad = buf[k] != 'a' + i % 26;
  }
  close(fd);
  free(buf);
  return !bad;
}

// Grow the heap a page at a time, touching each, until sbrk says no.
static uint64 take_all(void)
{
  uint64 n = 0;
  char *p;
  while ((p = sbrk(PGSIZE)) != (char *)-1) {
    p[0] = 1;
    n++;
  }
  return n;
}

static void cache(void)
{
  int before = pages_of(fs_env);
  heavy_fs_use();
  int grown = pages_of(fs_env), mark = uenvs[ENVX(fs_env)].mem_soft;
  uint64 nfree = usys->nfree;
  check(grown > before + NBUF / 2, "the cache grew: the server went from %d to %d pages",
        before, grown);
  check(mark > 0 && mark < grown, "the server marked its cache (mark %d, %d pages)", mark, grown);
  uint64 got = take_all();
  int after = pages_of(fs_env);
  sbrk(-(int64)PG(got));
  printf("oomtest: cache: %lu pages free and %d in the server (mark %d); I got %lu, the server "
         "kept %d\n", nfree, grown, mark, got, after);
  int mark2 = uenvs[ENVX(fs_env)].mem_soft;
  check(after <= mark2 + 8 && mark2 < mark + 64, "the server gave its cache back: %d pages, mark %d "
        "(%d before)", after, mark2, mark);
  // all that was free, and what the cache held above its mark, less the
  // page tables for it and a little slack
  uint64 want = nfree + (grown - mark);
  check(got + want / 512 + 64 >= want, "got %lu pages of %lu", got, want);
  check(file_intact(), "/oomfile reads back as written after the cache shrank");
  check(pages_of(fs_env) > after, "the cache grows again (%d pages)", pages_of(fs_env));
  unlink("/oomfile");
}

static void sbrk_part(void)
{
  char *brk = sbrk(0);
  uint64 avail = mem_avail() + swap_room();
  check(sbrk(PG(avail + 1000)) == (void *)-1, "sbrk of more than there is (%lu pages) fails",
        avail + 1000);
  check(sbrk(0) == brk, "a failed sbrk leaves the break where it was");
  check(sbrk(1L << 40) == (void *)-1 && sbrk(0) == brk, "sbrk of 1 TiB fails");
  uint64 half = avail / 2;
  char *p = sbrk(PG(half));
  check(p == brk, "sbrk of half of what there is (%lu pages)", half);
  if (p == brk) {
    for (uint64 i = 0; i < half; i++)
      p[PG(i)] = 1;                       // all there
    check(sbrk(-(int64)PG(half)) == p + PG(half) && sbrk(0) == brk, "and back");
  }
}

static void touch(void)
{
  int pfd[2];
  check(pipe(pfd) == 0, "pipe");
  envid_t c = fork();
  if (c == 0) {
    // Promised lazily, then the memory goes to eager growth (page_map, as
    // xv6's sbrk does) before the first touch.  Nothing after that may
    // need a page but the touches (a print would copy a page).
    uint64 lazy = mem_avail() / 2;
    char *p = sbrk(PG(lazy));
    uint64 range[2] = { (uint64)p, (uint64)p + PG(lazy) };
    if (p == (char *)-1 || write(pfd[1], range, sizeof range) != sizeof range)
      exit(2);
    for (uint64 va = EAGER; va < EAGER + PG(1 << 16) && page_map(va, PTE_R | PTE_W) == 0;)
      va += PGSIZE;
    for (uint64 i = 0; i < lazy; i++)
      p[PG(i)] = 1;
    exit(3);                              // (it should not get here)
  }
  close(pfd[1]);
  uint64 range[2] = { 0, 0 };
  check(read(pfd[0], range, sizeof range) == sizeof range, "the child sbrk'd");
  close(pfd[0]);
  int status = 0;
  check(waitenv(c, &status) == c && status == -1, "the child ended with status %d, not -1",
        status);
  printf("oomtest: touch: the heap promised was [%p, %p)\n", (void *)range[0], (void *)range[1]);
}

int main(int argc, char **argv)
{
  int all = argc < 2;
  swap_attach(0, 0);                      // memory alone: no paging to the swap extent init gave
  if (all || !strcmp(argv[1], "sbrk"))
    sbrk_part();
  if (all || !strcmp(argv[1], "cache"))
    cache();
  if (all || !strcmp(argv[1], "touch"))
    touch();
  return check_report();
}
