// attackfs: raw requests to the file server that no honest client sends
// (forged file ids, bad sizes and offsets, missing pages, paths without an
// end, unknown operations).  Each must get an error; the server must keep
// serving and no file may change.  Prints BROKEN if an attack works.
#include "lib.h"
#include "fd.h"

static struct pct_msg m;

// One raw call; the server's answer (w0) or the PCT error.
static int64 raw(uint64 op, uint64 a, uint64 b, uint64 page, uint64 reply_va)
{
  int64 r;
  while ((r = sys_pct_call(fs_env, op, a, b, page, reply_va, &m)) == -E_NOT_WAITING)
    sys_yield(fs_env);
  if (m.perm)
    sys_pte_set(0, UIPC, 0);
  return r < 0 ? r : (int64)m.w[0];
}

static uint64 ID(int id, uint64 n) { return (uint64)(uint32)id | n << 32; }

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
  int id = FD(ro)->fileid;
  struct stat st0;
  fstat(ro, &st0);

  // forged and stale file ids
  expect_err(raw(FS_READ, ID(9999, 10), 0, 0, UIPC), E_BADF, "read file id 9999");
  expect_err(raw(FS_READ, ID(-1, 10), 0, 0, UIPC), E_BADF, "read file id -1");
  expect_err(raw(FS_FSTAT, 1UL << 40, 0, 0, UIPC), E_BADF, "fstat a huge file id");
  memset(page, 'X', PGSIZE);
  expect_err(raw(FS_WRITE, ID(id, 10), 0, UIOBUF | PTE_R, UIPC), E_BADF,
             "write through a read-only open (a forged request)");
  // sizes, offsets and pages
  int rw = open("victim", O_CREATE | O_RDWR);
  check(rw >= 0 && write(rw, "0123456789", 10) == 10, "make victim");
  int vid = FD(rw)->fileid;
  expect_err(raw(FS_WRITE, ID(vid, 10), 0, 0, UIPC), E_INVAL, "write with no page");
  expect_err(raw(FS_WRITE, ID(vid, PGSIZE + 1), 0, UIOBUF | PTE_R, UIPC), E_INVAL, "write of more than a page");
  expect_err(raw(FS_WRITE, ID(vid, 10), 1000, UIOBUF | PTE_R, UIPC), E_INVAL, "write past the end (a hole)");
  expect_err(raw(FS_WRITE, ID(vid, 10), 0xFFFFFFFFF0UL, UIOBUF | PTE_R, UIPC), E_INVAL, "write far past 4 GiB");
  int64 r = raw(FS_READ, ID(vid, 1UL << 31), 0, 0, UIPC);
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
  strcpy(page, "relative");
  r = raw(FS_STAT, 0, 0, UIOBUF | PTE_R, UIPC);
  check(r < 0, "a relative path reached the server: %ld", r);
  strcpy(page, "/");
  check(raw(FS_UNLINK, 0, 0, UIOBUF | PTE_R, UIPC) < 0, "unlink /");
  strcpy(page, "/README.md");
  page[MAXPATH] = 0;
  expect_err(raw(FS_LINK, 0, 0, UIOBUF | PTE_R, UIPC), E_INVAL, "link with an empty second path");
  memset(page + MAXPATH, 'b', PGSIZE - MAXPATH);
  expect_err(raw(FS_LINK, 0, 0, UIOBUF | PTE_R, UIPC), E_NAMETOOLONG, "link, second path with no end");
  expect_err(raw(999, 0, 0, 0, UIPC), E_INVAL, "an unknown operation");
  expect_err(raw(0, 0, 0, 0, UIPC), E_INVAL, "operation 0");
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
