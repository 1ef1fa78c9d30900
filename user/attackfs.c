// attackfs: raw requests to the file server that no honest client sends
// (forged file ids, bad sizes and offsets, missing pages, paths without an
// end, unknown operations).  Each must get an error; the server must keep
// serving and no file may change.  Prints BROKEN if an attack works.
#include "lib.h"
#include "fd.h"

static struct pct_msg m;
static int keep_uipc;                           // leave a granted page mapped at UIPC

// One raw call; the server's answer (w0) or the PCT error.
static int64 raw(uint64 op, uint64 a, uint64 b, uint64 page, uint64 reply_va)
{
  int64 r;
  while ((r = sys_pct_call(fs_env, op, a, b, page, reply_va, &m)) == -E_NOT_WAITING)
    sys_yield(fs_env);
  if (m.perm && !keep_uipc)
    sys_pte_set(0, UIPC, 0);
  return r < 0 ? r : (int64)m.w[0];
}

// A request's first word: the open file's handle (id | secret<<32) and n.
static uint64 ID(uint64 handle, uint64 n) { return handle | n << 16; }

int main(int argc, char **argv)
{
  if (!fs_env) {
    printf("attackfs: run it from the shell (init starts the file server)\n");
    return 1;
  }
  page_map(UIOBUF, PTE_R | PTE_W);
  char *page = (char *)UIOBUF;
  int ro = open("README.md", O_RDONLY);
  check(ro >= 0, "open README.md");
  uint64 id = FD(ro)->handle;
  struct stat st0;
  fstat(ro, &st0);

  // forged and stale file ids
  expect_err(raw(FS_READ, ID(9999, 10), 0, 0, UIPC), E_BADF, "read file id 9999");
  expect_err(raw(FS_READ, ID(0xFFFF, 10), 0, 0, UIPC), E_BADF, "read file id 0xFFFF");
  // another env's open file, by id without its secret (every id, a few guesses)
  int bad = 0;
  for (uint64 i = 0; i < 512; i++)
    for (uint64 guess = 0; guess < 3; guess++)
      if (raw(FS_READ, ID(i | guess << 32, 10), 0, 0, UIPC) != -E_BADF)
        bad++;
  expect_err(bad ? -1 : -E_BADF, E_BADF, "read open files by guessing their handles");
  expect_err(raw(FS_FSTAT, 1UL << 40, 0, 0, UIPC), E_BADF, "fstat a huge file id");
  memset(page, 'X', PGSIZE);
  expect_err(raw(FS_WRITE, ID(id, 10), 0, UIOBUF | PTE_R, UIPC), E_BADF,
             "write through a read-only open (a forged request)");
  // sizes, offsets and pages
  int rw = open("victim", O_CREATE | O_RDWR);
  check(rw >= 0 && write(rw, "0123456789", 10) == 10, "make victim");
  uint64 vid = FD(rw)->handle;
  expect_err(raw(FS_WRITE, ID(vid, 10), 0, 0, UIPC), E_INVAL, "write with no page");
  expect_err(raw(FS_WRITE, ID(vid, PGSIZE + 1), 0, UIOBUF | PTE_R, UIPC), E_INVAL, "write of more than a page");
  expect_err(raw(FS_WRITE, ID(vid, 10), 1000, UIOBUF | PTE_R, UIPC), E_INVAL, "write past the end (a hole)");
  expect_err(raw(FS_WRITE, ID(vid, 10), 0xFFFFFFFFF0UL, UIOBUF | PTE_R, UIPC), E_INVAL, "write far past 4 GiB");
  int64 r = raw(FS_READ, ID(vid, 0xFFFF), 0, 0, UIPC);
  check(r == 10, "a huge read returns the file (%ld)", r);
  check(raw(FS_READ, ID(vid, 10), 1UL << 62, 0, UIPC) == 0, "read far past the end: 0");
  // a reply page with nowhere to go: the server answers without it
  r = raw(FS_READ, ID(vid, 10), 0, 0, 0);
  check(r == -E_FAULT || r == -E_INVAL, "read with no reply address: %ld", r);
  // paths
  memset(page, 'a', PGSIZE);
  expect_err(raw(FS_OPEN, O_RDONLY, 0, UIOBUF | PTE_R, UIPC), E_NAMETOOLONG, "a path with no end");
  expect_err(raw(FS_OPEN, O_RDONLY, 0, 0, UIPC), E_NAMETOOLONG, "open with no path page");
  strcpy(page, "/README.md");
  expect_err(raw(FS_OPEN, 3, 0, UIOBUF | PTE_R, UIPC), E_INVAL, "open mode 3");
  // a relative path starts at the inode number the client sends after the
  // two paths: the server must not trust it to be a directory
  strcpy(page, "relative");
  expect_err(raw(FS_STAT, 0, 0, UIOBUF | PTE_R, UIPC), E_INVAL, "a relative path from a nonsense inode");
  struct stat vst;
  check(stat("/README.md", &vst) == 0, "stat /README.md");
  memcpy(page + 2 * MAXPATH, &vst.ino, sizeof(uint32));
  strcpy(page, ".");
  expect_err(raw(FS_STAT, 0, 0, UIOBUF | PTE_R, UIPC), E_NOTDIR, "a relative path from a file");
  uint32 unused = 0;
  for (uint32 i = ROOTINO + 1; i < 10000 && !unused; i++) {  // a free inode: no name stats to it
    memcpy(page + 2 * MAXPATH, &i, sizeof i);
    if (raw(FS_STAT, 0, 0, UIOBUF | PTE_R, UIPC) == -E_NOENT)
      unused = i;
  }
  check(unused != 0, "a relative path from a free inode is refused (E_NOENT)");
  memset(page + 2 * MAXPATH, 'a', 4);
  strcpy(page, "/");
  check(raw(FS_UNLINK, 0, 0, UIOBUF | PTE_R, UIPC) < 0, "unlink /");
  strcpy(page, "/README.md");
  page[MAXPATH] = 0;
  expect_err(raw(FS_LINK, 0, 0, UIOBUF | PTE_R, UIPC), E_INVAL, "link with an empty second path");
  memset(page + MAXPATH, 'b', PGSIZE - MAXPATH);
  expect_err(raw(FS_LINK, 0, 0, UIOBUF | PTE_R, UIPC), E_NAMETOOLONG, "link, second path with no end");
  expect_err(raw(999, 0, 0, 0, UIPC), E_INVAL, "an unknown operation");
  expect_err(raw(0, 0, 0, 0, UIPC), E_INVAL, "operation 0");
  // a cache page lent by a read, kept: it must never show another block
  keep_uipc = 1;
  int64 got = raw(FS_READ, ID(id, 64), 0, 0, UIPC);
  keep_uipc = 0;
  pte_t lent = uvpt_pte(UIPC);
  uint64 KEEP = UIOBUF + 8 * PGSIZE;
  check(got == 64 && sys_pte_set_from(0, KEEP, lent, UIPC) == 0, "keep a lent cache page");
  char before[64];
  memcpy(before, (char *)KEEP + m.w[1], 64);
  int big = open("churn", O_CREATE | O_WRONLY);
  for (int i = 0; i < 2200 && big >= 0; i++)
    if (write(big, page, PGSIZE) != PGSIZE)
      break;
  close(big);
  unlink("churn");
  check(memcmp(before, (char *)KEEP + m.w[1], 64) == 0, "a kept cache page showed other data");
  sys_pte_set(0, KEEP, 0);

  // one env cannot take every open file: the server's table has a share each
  envid_t hog = fork();
  if (hog == 0) {
    int n = 0, r;
    keep_uipc = 1;
    for (int i = 0; i < 600; i++) {          // (keeps each page even past its fd table)
      strcpy((char *)UIOBUF, "/README.md");
      if ((r = raw(FS_OPEN, O_RDONLY, 0, UIOBUF | PTE_R, UIPC)) < 0)
        break;
      pte_t p = uvpt_pte(UIPC);
      sys_pte_set_from(0, 0x20000000UL + i * PGSIZE, p, UIPC);
      sys_pte_set(0, UIPC, 0);
      n++;
    }
    exit(n < 600 && n >= 32 ? 0 : 100 + n);
  }
  int hs = -1;
  waitenv(hog, &hs);
  check(hs == 0, "an env held %d open files", hs - 100);
  int other = open("README.md", O_RDONLY);
  check(other >= 0, "others can still open files: %s", errstr(other));
  close(other);

  // the server still works and nothing changed
  struct stat st;
  check(fstat(ro, &st) == 0 && st.size == st0.size && st.ino == st0.ino, "README.md changed");
  char buf[16];
  seek(rw, 0);
  check(read(rw, buf, 16) == 10 && memcmp(buf, "0123456789", 10) == 0, "victim changed");
  close(rw);
  unlink("victim");
  close(ro);
  return check_report();
}
