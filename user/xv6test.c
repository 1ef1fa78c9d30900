// xv6test: a program written against xv6's user API only (the headers an
// xv6 program includes), to show such programs build and run unchanged.
// It checks xv6's semantics: errors are -1, exit/wait carry a status,
// fork shares open files, pipes, the file calls, sbrk, sleep and uptime.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "user/user.h"
#include "kernel/fcntl.h"
#include "kernel/fs.h"

int fails;

void
expect(int ok, char *what)
{
  if(!ok){
    printf("xv6test: FAIL: %s\n", what);
    fails++;
  }
}

int
main(int argc, char *argv[])
{
  int fd, pid, status, p[2];
  char buf[64];
  struct stat st;

  // errors are -1
  expect(open("no/such/file", O_RDONLY) == -1, "open of a missing file is -1");
  expect(read(99, buf, 1) == -1, "read of a bad fd is -1");
  expect(close(-5) == -1, "close of a bad fd is -1");
  expect(chdir("/nope") == -1, "chdir to nothing is -1");
  expect(unlink("/nope") == -1, "unlink of nothing is -1");
  expect(exec("/nope", argv) == -1, "exec of nothing is -1");
  expect(wait(0) == -1, "wait with no children is -1");

  // files
  fd = open("xv6file", O_CREATE|O_RDWR);
  expect(fd >= 0, "create");
  expect(write(fd, "hello xv6", 9) == 9, "write");
  expect(fstat(fd, &st) == 0 && st.type == T_FILE && st.size == 9 && st.nlink == 1, "fstat");
  close(fd);
  expect(link("xv6file", "xv6link") == 0, "link");
  expect(stat("xv6link", &st) == 0 && st.nlink == 2, "stat after link");
  fd = open("xv6link", O_RDONLY);
  memset(buf, 0, sizeof(buf));
  expect(read(fd, buf, sizeof(buf)) == 9 && strcmp(buf, "hello xv6") == 0, "read back");
  close(fd);
  fd = open("xv6file", O_WRONLY|O_TRUNC);
  expect(fd >= 0 && fstat(fd, &st) == 0 && st.size == 0, "O_TRUNC");
  close(fd);
  expect(unlink("xv6file") == 0 && unlink("xv6link") == 0, "unlink");
  expect(mkdir("xv6dir") == 0 && chdir("xv6dir") == 0, "mkdir, chdir");
  expect(mknod("cons", 1, 0) == 0, "mknod");
  fd = open("cons", O_WRONLY);
  expect(fd >= 0 && write(fd, "xv6test: via mknod'ed console\n", 30) == 30, "console device");
  close(fd);
  expect(unlink("cons") == 0 && chdir("..") == 0 && unlink("xv6dir") == 0, "cleanup");

  // directories read as struct dirent
  fd = open(".", O_RDONLY);
  struct dirent de;
  int found = 0;
  while(read(fd, &de, sizeof(de)) == sizeof(de))
    if(de.inum && strcmp(de.name, "xv6test") == 0)
      found = 1;
  close(fd);
  expect(found, "this program in its directory");

  // fork, exit status, wait, pipes, dup
  expect(pipe(p) == 0, "pipe");
  pid = fork();
  if(pid == 0){
    close(p[0]);
    close(1);
    expect(dup(p[1]) == 1, "dup takes the lowest fd");
    printf("from the child %d\n", getpid());
    exit(7);
  }
  close(p[1]);
  int n = read(p[0], buf, sizeof(buf) - 1);
  buf[n > 0 ? n : 0] = 0;
  expect(n > 15 && strchr(buf, '\n') != 0, "a line through the pipe");
  expect(wait(&status) == pid && status == 7, "exit status through wait");
  close(p[0]);

  // memory and time
  char *a = sbrk(8192);
  expect(a != (char*)-1, "sbrk");
  a[0] = 1; a[8191] = 2;
  char *m = malloc(100);
  expect(m != 0, "malloc");
  free(m);
  int t0 = uptime();
  sleep(2);
  expect(uptime() >= t0 + 2, "sleep and uptime");
  expect(atoi("123") == 123 && strlen("abc") == 3, "string routines");

  if(fails == 0)
    printf("xv6test: all OK %s\n", grade_token);
  exit(fails ? 1 : 0);
}
