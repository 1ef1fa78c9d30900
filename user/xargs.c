// xargs: run a command once per line of standard input, with the words of
// the line added to its arguments.  `echo a b | xargs echo x` runs
// `echo x a b`.
#include "lib.h"

// BEGIN LAB util: xargs: read one line of standard input at a time (any helpers you like)
// Read one line (without its newline) into buf; 0 at the end of input,
// -1 for a line that does not fit (the whole line is read).
static int readline(char *buf, int max)
{
  int n = 0, over = 0;
  char c = 0;
  while (read(0, &c, 1) == 1) {
    if (c == '\n')
      break;
    if (n < max - 1)
      buf[n++] = c;
    else
      over = 1;
  }
  buf[n] = 0;
  if (over)
    return -1;
  return n > 0 || c == '\n' ? 1 : 0;
}
// END LAB util: // (your helper functions go here)

int main(int argc, char **argv)
{
  // BEGIN LAB util: xargs: for each line, spawn argv[1] with argv[2..] and the line's words; wait for it
  if (argc < 2) {
    fprintf(2, "usage: xargs command [args...]\n");
    return 1;
  }
  char line[512], path[MAXPATH];
  char *args[MAXARG + 1];
  int status = 0;
  snprintf(path, sizeof path, "%s%s", strchr(argv[1], '/') ? "" : "/", argv[1]);
  int r;
  while ((r = readline(line, sizeof line)) != 0) {
    if (r < 0) {
      fprintf(2, "xargs: a line of %d bytes or more: not run\n", (int)sizeof line);
      status = 1;
      continue;
    }
    int n = 0, over = 0;
    for (int i = 1; i < argc && n < MAXARG; i++)
      args[n++] = argv[i];
    for (char *p = line; *p;) {
      while (*p == ' ' || *p == '\t')
        *p++ = 0;
      if (!*p)
        break;
      if (n == MAXARG) {
        over = 1;
        break;
      }
      args[n++] = p;
      while (*p && *p != ' ' && *p != '\t')
        p++;
    }
    if (over) {
      fprintf(2, "xargs: more than %d arguments: not run\n", MAXARG);
      status = 1;
      continue;
    }
    args[n] = 0;
    envid_t c = spawn(path, args);
    if (c < 0) {
      fprintf(2, "xargs: %s: %s\n", argv[1], errstr(c));
      return 1;
    }
    int st;
    waitenv(c, &st);
    status |= st != 0;
  }
  return status;
  // END LAB util: return lab_todo("util", "xargs"), (void)argc, (void)argv, 1;
}
