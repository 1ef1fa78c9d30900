// cat: copy files (or the standard input) to the standard output.
#include "lib.h"

static int cat(int fd, const char *name)
{
  static char buf[4096];
  int n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    if (write(1, buf, n) != n) {
      fprintf(2, "cat: write error\n");
      return 1;
    }
  if (n < 0) {
    fprintf(2, "cat: %s: %s\n", name, errstr(n));
    return 1;
  }
  return 0;
}

int main(int argc, char **argv)
{
  int status = 0;
  if (argc < 2)
    return cat(0, "stdin");
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "cat: %s: %s\n", argv[i], errstr(fd));
      status = 1;
      continue;
    }
    status |= cat(fd, argv[i]);
    close(fd);
  }
  return status;
}
