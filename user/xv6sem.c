// xv6sem: behaviours that xv6 programs (usertests among them) rely on,
// written against xv6's headers only.  `xv6sem [test]`, one of:
//   sharedfd  a parent and a child write through one inherited descriptor
//             at once: no write is lost or overwritten
//   dots      unlink of "." and ".." (and "d/.") is refused
//   badptr    calls given bad pointers return -1 and do not kill the caller
//   deep      a working directory 200 levels down (paths cannot say where)
//   rmcwd     the working directory is removed and its inode number reused
//             by a new directory: relative paths fail, the new one is
//             untouched (the old directory is gone, not replaced)
// With no argument, all of them.  It defines its own panic, a library name.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "user/user.h"
#include "kernel/fcntl.h"

int fails;

// A function with a library name, as xv6's sh defines (the library's own
// panic sits with printf, which this program uses too: the program's
// definition wins, and the link must not fail).
void
panic(char *s)
{
  fprintf(2, "xv6sem: panic: %s\n", s);
  exit(1);
}

void
expect(int ok, char *what)
{
  if(!ok){
    printf("xv6sem: FAIL: %s\n", what);
    fails++;
  }
}

#define ROUNDS 500
#define LEN 10

void
sharedfd(void)
{
  char buf[LEN], big[512];
  int fd, pid, status, i, n, na = 0, nb = 0;

  unlink("sharedfd");
  fd = open("sharedfd", O_CREATE|O_RDWR);
  if(fd < 0)
    panic("cannot create sharedfd");
  pid = fork();
  memset(buf, pid == 0 ? 'c' : 'p', LEN);
  for(i = 0; i < ROUNDS; i++)
    if(write(fd, buf, LEN) != LEN){
      expect(0, "a write through the shared descriptor");
      break;
    }
  if(pid == 0)
    exit(0);
  wait(&status);
  close(fd);
  fd = open("sharedfd", O_RDONLY);
  while((n = read(fd, big, sizeof(big))) > 0)
    for(i = 0; i < n; i++){
      na += big[i] == 'c';
      nb += big[i] == 'p';
    }
  close(fd);
  unlink("sharedfd");
  printf("xv6sem: sharedfd: %d bytes from the child, %d from the parent (of %d each)\n",
         na, nb, ROUNDS * LEN);
  expect(na == ROUNDS * LEN && nb == ROUNDS * LEN, "writes through a shared offset were lost");
}

void
dots(void)
{
  struct stat st;

  expect(mkdir("dotdir") == 0, "mkdir dotdir");
  expect(unlink(".") == -1, "unlink(\".\") is refused");
  expect(unlink("..") == -1, "unlink(\"..\") is refused");
  expect(unlink("dotdir/.") == -1, "unlink(\"dotdir/.\") is refused");
  expect(unlink("dotdir/..") == -1, "unlink(\"dotdir/..\") is refused");
  expect(unlink("dotdir/./") == -1, "unlink(\"dotdir/./\") is refused");
  expect(stat("dotdir", &st) == 0 && st.type == T_DIR, "dotdir is still there");
  expect(stat(".", &st) == 0 && st.type == T_DIR, "the working directory is still there");
  expect(unlink("dotdir") == 0, "unlink dotdir");
  printf("xv6sem: dots done\n");
}

void
badptr(void)
{
  char *bad[] = { (char*)0x10, (char*)0x3ffffff000L, (char*)0xffffffc080200000L, 0 };
  char *ro = (char*)badptr;                // text: readable, not writable
  char *argv[3] = { "echo", 0, 0 };
  int i, fd, status, pid;
  struct stat st;

  fd = open("xv6sem", O_RDONLY);
  expect(fd >= 0, "open xv6sem");
  for(i = 0; bad[i]; i++){
    expect(pipe((int*)bad[i]) == -1, "pipe with a bad pointer");
    expect(read(fd, bad[i], 10) == -1, "read into a bad buffer");
    expect(write(1, bad[i], 10) == -1, "write from a bad buffer");
    expect(open(bad[i], O_RDONLY) == -1, "open with a bad path");
    expect(unlink(bad[i]) == -1, "unlink with a bad path");
    expect(mkdir(bad[i]) == -1, "mkdir with a bad path");
    expect(chdir(bad[i]) == -1, "chdir with a bad path");
    expect(link(bad[i], "x") == -1 && link("xv6sem", bad[i]) == -1, "link with a bad path");
    expect(stat(bad[i], &st) == -1, "stat with a bad path");
    expect(stat("xv6sem", (struct stat*)bad[i]) == -1, "stat into a bad buffer");
    expect(fstat(fd, (struct stat*)bad[i]) == -1, "fstat into a bad buffer");
    expect(exec(bad[i], argv) == -1, "exec with a bad path");
    expect(exec("echo", (char**)bad[i]) == -1, "exec with a bad argv");
    argv[1] = bad[i];
    expect(exec("echo", argv) == -1, "exec with a bad argument string");
    argv[1] = 0;
  }
  expect(pipe((int*)ro) == -1, "pipe into read-only memory");
  expect(read(fd, ro, 10) == -1, "read into read-only memory");
  close(fd);

  pid = fork();
  if(pid == 0)
    exit(3);
  expect(wait((int*)bad[0]) == -1, "wait with a bad pointer");
  expect(wait((int*)ro) == -1, "wait into read-only memory");
  expect(wait(&status) == pid && status == 3, "the child is still there to be waited for");
  printf("xv6sem: badptr done\n");
}

#define DEPTH 200

void
deep(void)
{
  int i, fd;
  struct stat st;

  for(i = 0; i < DEPTH; i++){
    if(mkdir("deepdir") != 0 || chdir("deepdir") != 0){
      printf("xv6sem: deep: level %d\n", i);
      expect(0, "mkdir and chdir 200 levels deep");
      break;
    }
  }
  fd = open("bottom", O_CREATE|O_RDWR);
  expect(fd >= 0 && write(fd, "deep", 4) == 4, "a file at the bottom");
  close(fd);
  expect(stat("../deepdir/bottom", &st) == 0 && st.size == 4, "through .. and back down");
  int pid = fork(), status = -1;
  if(pid == 0)
    exit(stat("bottom", &st) == 0 && st.size == 4 ? 0 : 1);
  expect(pid > 0 && wait(&status) == pid && status == 0, "a forked child starts at the bottom too");
  expect(unlink("bottom") == 0, "unlink at the bottom");
  for(; i > 0; i--)
    if(chdir("..") != 0 || unlink("deepdir") != 0){
      expect(0, "chdir .. and unlink on the way up");
      break;
    }
  expect(stat("deepdir", &st) == -1, "all of it removed");
  printf("xv6sem: deep: %d levels\n", DEPTH);
}

void
rmcwd(void)
{
  struct stat old, st;
  int fd, pid, status = -1;

  expect(mkdir("/rmcwd1") == 0 && chdir("/rmcwd1") == 0 && stat(".", &old) == 0, "mkdir and chdir");
  expect(unlink("/rmcwd1") == 0, "remove the working directory");
  expect(mkdir("/rmcwd2") == 0 && stat("/rmcwd2", &st) == 0, "a new directory");
  expect(st.ino == old.ino, "the new directory takes the old one's inode number");
  fd = open("x", O_CREATE|O_RDWR);
  expect(fd < 0, "creating a file in a removed working directory fails");
  if(fd >= 0)
    close(fd);
  expect(stat(".", &st) < 0 && mkdir("y") < 0, "the removed directory stays removed");
  pid = fork();
  if(pid == 0)
    exit(stat(".", &st) < 0 ? 0 : 1);
  expect(pid > 0 && wait(&status) == pid && status == 0, "a forked child's working directory too");
  expect(stat("/rmcwd2/x", &st) < 0 && stat("/rmcwd2/y", &st) < 0, "the new directory is untouched");
  expect(chdir("/rmcwd2") == 0 && (fd = open("z", O_CREATE|O_RDWR)) >= 0, "the new directory works");
  close(fd);
  expect(unlink("z") == 0 && chdir("/") == 0 && unlink("/rmcwd2") == 0, "clean up");
  printf("xv6sem: rmcwd: inode %d removed and reused\n", old.ino);
}

int
main(int argc, char *argv[])
{
  int all = argc < 2;

  if(all || strcmp(argv[1], "sharedfd") == 0)
    sharedfd();
  if(all || strcmp(argv[1], "dots") == 0)
    dots();
  if(all || strcmp(argv[1], "badptr") == 0)
    badptr();
  if(all || strcmp(argv[1], "deep") == 0)
    deep();
  if(all || strcmp(argv[1], "rmcwd") == 0)
    rmcwd();
  if(fails == 0)
    printf("xv6sem: all OK %s\n", grade_token);
  exit(fails ? 1 : 0);
}
