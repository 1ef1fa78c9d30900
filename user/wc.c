// wc: count lines, words and bytes.
#include "lib.h"

static int wc(int fd, const char *name)
{
  static char buf[4096];
  long l = 0, w = 0, c = 0;
  int inword = 0, n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    for (int i = 0; i < n; i++) {
      c++;
      if (buf[i] == '\n')
        l++;
      if (strchr(" \r\t\n\v", buf[i]))
        inword = 0;
      else if (!inword) {
        w++;
        inword = 1;
      }
    }
  }
  if (n < 0) {
    fprintf(2, "wc: %s: %s\n", name, errstr(n));
    return 1;
  }
  printf("%ld %ld %ld %s\n", l, w, c, name);
  return 0;
}

int main(int argc, char **argv)
{
  int status = 0;
  if (argc < 2)
    return wc(0, "");
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "wc: %s: %s\n", argv[i], errstr(fd));
      status = 1;
      continue;
    }
    status |= wc(fd, argv[i]);
    close(fd);
  }
  return status;
}
