// grep: print the lines that match a pattern.  Patterns: c, ., c*, ^, $
// (Kernighan and Pike's little matcher, written afresh).
#include "lib.h"

static int matchhere(const char *re, const char *text);

static int matchstar(int c, const char *re, const char *text)
{
  do {
    if (matchhere(re, text))
      return 1;
  } while (*text != '\0' && (*text++ == c || c == '.'));
  return 0;
}

static int matchhere(const char *re, const char *text)
{
  if (re[0] == '\0')
    return 1;
  if (re[1] == '*')
    return matchstar(re[0], re + 2, text);
  if (re[0] == '$' && re[1] == '\0')
    return *text == '\0';
  if (*text != '\0' && (re[0] == '.' || re[0] == *text))
    return matchhere(re + 1, text + 1);
  return 0;
}

static int match(const char *re, const char *text)
{
  if (re[0] == '^')
    return matchhere(re + 1, text);
  do {
    if (matchhere(re, text))
      return 1;
  } while (*text++ != '\0');
  return 0;
}

static int found;

static int grep(const char *re, int fd, const char *name)
{
  static char buf[8192];
  int m = 0, n;
  while ((n = read(fd, buf + m, sizeof buf - m - 1)) > 0) {
    m += n;
    buf[m] = '\0';
    char *p = buf, *q;
    while ((q = strchr(p, '\n')) != 0) {
      *q = 0;
      if (match(re, p)) {
        *q = '\n';
        write(1, p, q + 1 - p);
        found = 1;
      }
      p = q + 1;
    }
    if (p == buf && m == (int)sizeof buf - 1)
      m = 0;                               // a line too long: dropped
    else if (m > 0) {
      m -= p - buf;
      memmove(buf, p, m);
    }
  }
  if (n < 0) {
    fprintf(2, "grep: %s: %s\n", name, errstr(n));
    return 2;
  }
  if (m > 0) {                             // a last line with no newline
    buf[m] = 0;
    if (match(re, buf)) {
      printf("%s\n", buf);
      found = 1;
    }
  }
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(2, "usage: grep pattern [file...]\n");
    return 2;
  }
  if (argc == 2)
    return grep(argv[1], 0, "stdin") ? 2 : !found;
  for (int i = 2; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "grep: %s: %s\n", argv[i], errstr(fd));
      return 2;
    }
    grep(argv[1], fd, argv[i]);
    close(fd);
  }
  return !found;
}
