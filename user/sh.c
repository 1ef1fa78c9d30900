// sh: the shell.  Reads command lines from fd 0 (or a script file named as
// its argument) and runs programs from the file system with spawn.
//
//   cmd args...        run a program, wait for it
//   a | b | c          a pipeline
//   cmd < in > out     redirection; >> appends
//   a ; b              one after the other
//   cmd &              in the background ("[id]" is printed)
//   cd dir, exit [n], kill id   built in (kill works on the shell's own jobs)
//
// A program is looked up as given, then in "/".  Programs inherit fds 0-2
// set up for them; the shell's own spare descriptors are marked
// close-on-spawn, so a pipe's other end never leaks into a child.
#include "lib.h"

#define MAXLINE  512
#define MAXTOK   64
#define MAXSTAGE 8
#define SAVED_IN  (NFD - 2)              // the shell's own stdin/stdout while
#define SAVED_OUT (NFD - 1)              // a pipeline is being started

struct stage {
  char *argv[MAXARG + 1];
  char *in, *out;
  int append;
};

static void err(const char *what, const char *name, int r)
{
  fprintf(2, "sh: %s%s%s\n", name ? name : "", name ? ": " : "", what ? what : errstr(r));
}

// Split a command (no ';' or '&' left) into pipeline stages.  The number
// of stages, or -1 on a syntax error.
static int parse(char **tok, int ntok, struct stage *st)
{
  int ns = 0, argc = 0;
  memset(&st[0], 0, sizeof st[0]);
  for (int i = 0; i < ntok; i++) {
    char *t = tok[i];
    if (!strcmp(t, "|")) {
      if (argc == 0 || ns + 1 == MAXSTAGE)
        return -1;
      st[ns].argv[argc] = 0;
      ns++;
      argc = 0;
      memset(&st[ns], 0, sizeof st[ns]);
    } else if (!strcmp(t, "<") || !strcmp(t, ">") || !strcmp(t, ">>")) {
      if (i + 1 >= ntok || strchr("<>|", tok[i + 1][0]))
        return -1;
      if (t[0] == '<')
        st[ns].in = tok[++i];
      else {
        st[ns].out = tok[++i];
        st[ns].append = t[1] == '>';
      }
    } else {
      if (argc == MAXARG)
        return -1;
      st[ns].argv[argc++] = t;
    }
  }
  if (argc == 0)
    return ns == 0 && !st[0].in && !st[0].out ? 0 : -1;
  st[ns].argv[argc] = 0;
  return ns + 1;
}

// Start a program: as named, else from "/".
static envid_t run(char **argv)
{
  envid_t pid = spawn(argv[0], argv);
  if (pid == -E_NOENT && argv[0][0] != '/' && !strchr(argv[0], '/')) {
    char path[MAXPATH];
    snprintf(path, sizeof path, "/%s", argv[0]);
    pid = spawn(path, argv);
  }
  return pid;
}

static int builtin(char **argv, int *status)
{
  if (!strcmp(argv[0], "cd")) {
    int r = chdir(argv[1] ? argv[1] : "/");
    if (r < 0)
      err(0, argv[1] ? argv[1] : "/", r);
    *status = r < 0;
    return 1;
  }
  if (!strcmp(argv[0], "exit"))
    exit(argv[1] ? atoi(argv[1]) : 0);
  return 0;
}

// Run a pipeline; wait for it unless bg.  Its status (the last stage's).
static int pipeline(struct stage *st, int ns, int bg)
{
  envid_t pids[MAXSTAGE];
  int status = 0, prev = -1, np = 0;
  if (ns == 1 && !bg && builtin(st[0].argv, &status))
    return status;
  // A lone foreground program may page on my swap extent; programs that
  // run side by side get none (they would share it).
  spawn_gives_swap = ns == 1 && !bg;
  dup2(0, SAVED_IN);
  dup2(1, SAVED_OUT);
  fd_cloexec(SAVED_IN, 1);
  fd_cloexec(SAVED_OUT, 1);
  for (int i = 0; i < ns; i++) {
    int in = prev, out = -1, p[2] = { -1, -1 }, r = 0;
    if (st[i].in && (in = open(st[i].in, O_RDONLY)) < 0) {
      err(0, st[i].in, in);
      r = in;
    }
    if (r == 0 && st[i].out &&
        (out = open(st[i].out, O_WRONLY | O_CREATE | (st[i].append ? O_APPEND : O_TRUNC))) < 0) {
      err(0, st[i].out, out);
      r = out;
    }
    // (The pipe is made even when this stage cannot run, so the next
    // stage reads end-of-file instead of the terminal.)
    if (i + 1 < ns && !st[i].out && pipe(p) < 0)
      err("cannot make a pipe", 0, r = -E_NO_MEM);
    if (p[1] >= 0)
      out = p[1];
    dup2(in >= 0 ? in : SAVED_IN, 0);
    dup2(out >= 0 ? out : SAVED_OUT, 1);
    if (p[0] >= 0)
      fd_cloexec(p[0], 1);                  // the next stage's: not this one's
    envid_t pid = r == 0 ? run(st[i].argv) : r;
    if (pid < 0 && r == 0)
      err(0, st[i].argv[0], pid);
    if (pid >= 0)
      pids[np++] = pid;
    if (in >= 0 && in != prev)
      close(in);
    if (prev >= 0)
      close(prev);
    if (out >= 0)
      close(out);
    prev = p[0];
    if (pid < 0)
      status = 1;
  }
  if (prev >= 0)
    close(prev);
  dup2(SAVED_IN, 0);
  dup2(SAVED_OUT, 1);
  close(SAVED_IN);
  close(SAVED_OUT);
  for (int i = 0; i < np; i++) {
    if (bg)
      printf("[%08x]\n", pids[i]);
    else {
      int s = 0;
      waitenv(pids[i], &s);
      if (i == np - 1)
        status = s;
    }
  }
  return status;
}

// Split a line into words and the operators | < > >> ; &.
static int tokenize(char *line, char **tok)
{
  static char buf[2 * MAXLINE];
  char *o = buf;
  int n = 0;
  for (char *p = line; *p;) {
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
      p++;
      continue;
    }
    if (*p == '#')
      break;
    if (n == MAXTOK)
      return -1;
    tok[n++] = o;
    if (strchr("|<>;&", *p)) {
      *o++ = *p;
      if (p[0] == '>' && p[1] == '>')
        *o++ = *++p;
      p++;
    } else if (*p == '"' || *p == '\'') {
      char q = *p++;
      while (*p && *p != q)
        *o++ = *p++;
      if (*p)
        p++;
    } else
      while (*p && !strchr(" \t\r\n|<>;&", *p))
        *o++ = *p++;
    *o++ = 0;
  }
  return n;
}

static int runline(char *line)
{
  char *tok[MAXTOK];
  struct stage st[MAXSTAGE];
  int n = tokenize(line, tok), status = 0;
  if (n < 0) {
    err("too many words", 0, 0);
    return 1;
  }
  for (int i = 0, start = 0; i <= n; i++) {
    if (i < n && strcmp(tok[i], ";") && strcmp(tok[i], "&"))
      continue;
    int bg = i < n && !strcmp(tok[i], "&");
    int ns = parse(tok + start, i - start, st);
    if (ns < 0) {
      err("syntax error", 0, 0);
      return 1;
    }
    if (ns > 0)
      status = pipeline(st, ns, bg);
    start = i + 1;
  }
  return status;
}

// One line from fd; 0 at the end of input.
static int getline(int fd, char *buf, int max)
{
  int n = 0;
  while (n < max - 1) {
    char c;
    int r = read(fd, &c, 1);
    if (r <= 0)
      break;
    buf[n++] = c;
    if (c == '\n')
      break;
  }
  buf[n] = 0;
  return n;
}

int main(int argc, char **argv)
{
  static char line[MAXLINE];
  int fd = 0, status = 0;
  if (argc > 1 && (fd = open(argv[1], O_RDONLY)) < 0) {
    err(0, argv[1], fd);
    return 1;
  }
  fd_cloexec(fd, fd != 0);
  for (;;) {
    int s;
    envid_t done;
    while ((done = wait_nohang(&s)) > 0)   // finished background jobs
      printf("[%08x] done, status %d\n", done, s);
    if (fd == 0)
      fprintf(2, "$ ");
    if (getline(fd, line, sizeof line) == 0)
      break;
    status = runline(line);
  }
  return status;
}
