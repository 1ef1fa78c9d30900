// bigfile: a file past the direct and single-indirect blocks (11 + 1024
// blocks, 4.04 MiB), so that it needs the double-indirect block, with
// pseudo-random contents made from a seed.
//
//   bigfile write SEED [KIB]   create /big (KIB KiB, default 9216: through
//                              the first two indirect blocks under the
//                              double-indirect one), read it back
//   bigfile check SEED [KIB]   after a reboot: /big is all there; then
//                              truncate it, write a little, remove it
//   bigfile full               /big (made on the host) fills the direct and
//                              single-indirect blocks, and the disk is full
//                              or has one free block: a write past its end
//                              fails with E_NOSPC and changes nothing
//
// Byte i of the file is byte i%8 of splitmix64(SEED + i/8), so the grader
// can compute it too (grade/test_fs_lab.py reads the image on the host).
#include "lib.h"

#define NDIRECT_BLOCKS  11
#define FIRST_DIND      (NDIRECT_BLOCKS + 1024)          // first block behind the double-indirect one

static uint64 seed;
static char buf[12288];

static uint64 splitmix(uint64 x)
{
  x += 0x9E3779B97F4A7C15UL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
  return x ^ (x >> 31);
}

static void fill(char *b, uint64 off, uint64 n)
{
  for (uint64 i = 0; i < n;) {
    uint64 w = splitmix(seed + (off + i) / 8);
    for (uint64 k = (off + i) % 8; k < 8 && i < n; k++, i++)
      b[i] = (char)(w >> (8 * k));
  }
}

// The first offset in b (n bytes at off) that is wrong, or -1.
static int64 wrong(const char *b, uint64 off, uint64 n)
{
  static char want[sizeof buf];
  fill(want, off, n);
  for (uint64 i = 0; i < n; i++)
    if (b[i] != want[i])
      return off + i;
  return -1;
}

// Write size bytes to /big (created or truncated) in writes of varied
// sizes, so that they straddle block boundaries.  0 or -1.
static int write_big(uint64 size)
{
  int fd = open("/big", O_CREATE | O_TRUNC | O_WRONLY);
  if (!check(fd >= 0, "create /big: %s", errstr(fd)))
    return -1;
  static const uint64 pieces[] = { 4096, 5000, 12288, 100, 3000 };
  uint64 off = 0;
  for (int k = 0; off < size; k++) {
    uint64 n = pieces[k % 5];
    if (n > size - off)
      n = size - off;
    fill(buf, off, n);
    int w = write(fd, buf, n);
    if (!check(w == (int)n, "write of %lu bytes at %lu (block %lu): %d (%s)", n, off, off / BSIZE, w,
               w < 0 ? errstr(w) : "short")) {
      off += w > 0 ? w : 0;
      break;
    }
    off += n;
  }
  struct stat st;
  check(fstat(fd, &st) == 0 && st.size == off, "size after writing: %lu, want %lu", st.size, off);
  close(fd);
  return off == size ? 0 : -1;
}

// Read /big whole in pieces of varied sizes, then a few blocks by seeking
// (the first ones behind each level).  0 or -1.
static int read_big(uint64 size)
{
  int fd = open("/big", O_RDONLY);
  if (!check(fd >= 0, "open /big: %s", errstr(fd)))
    return -1;
  struct stat st;
  check(fstat(fd, &st) == 0 && st.size == size, "size of /big: %lu, want %lu", st.size, size);
  static const uint64 pieces[] = { 7000, 4096, 1, 9999 };
  uint64 off = 0;
  for (int k = 0; off < size; k++) {
    int n = read(fd, buf, pieces[k % 4]);
    if (!check(n > 0, "read at %lu: %d (%s)", off, n, n < 0 ? errstr(n) : "end of file"))
      break;
    int64 bad = wrong(buf, off, n);
    if (!check(bad < 0, "wrong byte at %ld (block %ld)", bad, bad / BSIZE))
      break;
    off += n;
  }
  check(off == size, "read %lu bytes of %lu", off, size);
  check(read(fd, buf, 10) == 0, "a read at the end is not 0");
  uint64 blocks[] = { NDIRECT_BLOCKS - 1, NDIRECT_BLOCKS, FIRST_DIND - 1, FIRST_DIND,
                      FIRST_DIND + 1023, FIRST_DIND + 1024, size / BSIZE - 1 };
  for (unsigned i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
    uint64 at = blocks[i] * BSIZE + 17;
    if (at + 100 > size)
      continue;
    seek(fd, at);
    int n = read(fd, buf, 100);
    check(n == 100 && wrong(buf, at, 100) < 0, "block %lu read after a seek: %d", blocks[i], n);
  }
  close(fd);
  return 0;
}

// A write that needs the double-indirect block (and an indirect block
// under it) on a disk without room for them.
static int full(void)
{
  struct stat st, st2;
  int fd = open("/big", O_RDWR | O_APPEND);
  if (!check(fd >= 0 && fstat(fd, &st) == 0 && st.size == (uint64)FIRST_DIND * BSIZE,
             "/big: open %d, %lu bytes", fd, st.size))
    return check_report();
  expect_err(write(fd, "x", 1), E_NOSPC, "a write that needs the double-indirect block");
  check(fstat(fd, &st2) == 0 && st2.size == st.size, "/big's size after the failed write: %lu",
        st2.size);
  close(fd);
  return check_report();
}

int main(int argc, char **argv)
{
  if (argc == 2 && !strcmp(argv[1], "full"))
    return full();
  if (argc < 3 || (strcmp(argv[1], "write") && strcmp(argv[1], "check"))) {
    fprintf(2, "usage: bigfile write|check SEED [KIB] | bigfile full\n");
    return 2;
  }
  seed = strtol(argv[2], 0, 0);
  uint64 size = (argc > 3 ? atoi(argv[3]) : 9216) * 1024UL;
  check(size > (uint64)FIRST_DIND * BSIZE, "%lu bytes do not need the double-indirect block", size);
  if (!strcmp(argv[1], "write")) {
    if (write_big(size) == 0)
      read_big(size);
    return check_report();
  }
  // check: the file survived a reboot; truncating frees its blocks (a
  // block not freed is a leak the grader's fsck sees), and the file grows
  // again from nothing.
  if (read_big(size) == 0) {
    int fd = open("/big", O_RDWR | O_TRUNC);
    struct stat st;
    check(fd >= 0 && fstat(fd, &st) == 0 && st.size == 0, "truncate /big");
    fill(buf, 0, 5000);
    check(write(fd, buf, 5000) == 5000, "write after truncating");
    seek(fd, 0);
    int n = read(fd, buf, sizeof buf);
    check(n == 5000 && wrong(buf, 0, 5000) < 0, "read after truncating: %d", n);
    close(fd);
    check(unlink("/big") == 0, "unlink /big");
    check(stat("/big", &st) == -E_NOENT, "/big is still there");
  }
  return check_report();
}
