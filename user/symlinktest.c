// symlinktest: symbolic links.  `symlinktest` runs every part; `symlinktest
// name...` only those named.  Each part works in its own directory under
// /sl and prints what failed; the last line is the verdict (check.c).
#include "lib.h"

static char buf[512];

// Make file path holding text.
static void put(const char *path, const char *text)
{
  int fd = open(path, O_CREATE | O_TRUNC | O_WRONLY);
  if (!check(fd >= 0, "create %s: %s", path, errstr(fd)))
    return;
  int n = write(fd, text, strlen(text));
  check(n == (int)strlen(text), "write %s: %d", path, n);
  close(fd);
}

// Does path (opened with flags) hold exactly text?
static int holds(const char *path, int flags, const char *text)
{
  int fd = open(path, O_RDONLY | flags);
  if (fd < 0)
    return fd;
  int n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0)
    return n;
  buf[n] = 0;
  return strcmp(buf, text) == 0;
}

// The target of link path, NUL-terminated in buf ("" on error).
static const char *target(const char *path)
{
  int n = readlink(path, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  return buf;
}

// A link is a name of its own, typed T_SYMLINK, whose contents are the
// target exactly as given; open follows it to the file.
static void create(void)
{
  struct stat st, st2;
  check(mkdir("/sl/c") == 0, "mkdir /sl/c");
  put("/sl/c/file", "contents of file\n");
  int r = symlink("/sl/c/file", "/sl/c/abs");
  check(r == 0, "symlink /sl/c/abs: %s", errstr(r));
  r = lstat("/sl/c/abs", &st);
  check(r == 0 && st.type == T_SYMLINK && st.size == strlen("/sl/c/file") && st.nlink == 1,
        "lstat of a link: %d, type %d, size %lu, nlink %d", r, st.type, st.size, st.nlink);
  check(!strcmp(target("/sl/c/abs"), "/sl/c/file"), "readlink: '%s'", buf);
  check(readlink("/sl/c/abs", buf, 4) == 4 && !memcmp(buf, "/sl/", 4), "readlink into 4 bytes");
  r = stat("/sl/c/abs", &st);
  check(r == 0 && st.type == T_FILE && st.size == 17, "stat follows the link: type %d size %lu",
        st.type, st.size);
  check(stat("/sl/c/file", &st2) == 0 && st.ino == st2.ino, "stat of the link is not the file's");
  check(holds("/sl/c/abs", 0, "contents of file\n") == 1, "read through an absolute link");

  // A relative target is kept as given, and resolved from the link's directory.
  check(symlink("file", "/sl/c/rel") == 0, "symlink to a relative target");
  check(!strcmp(target("/sl/c/rel"), "file"), "the relative target became '%s'", buf);
  check(holds("/sl/c/rel", 0, "contents of file\n") == 1, "read through a relative link");
  check(chdir("/sl/c") == 0 && symlink("../c/./file", "rel2") == 0, "symlink from the cwd");
  check(!strcmp(target("rel2"), "../c/./file"), "the target became '%s'", buf);
  check(holds("/sl/c/rel2", 0, "contents of file\n") == 1, "read through ../c/./file");
  const char *wd = getcwd();
  check(wd && !strcmp(wd, "/sl/c"), "getcwd in /sl/c gave '%s'", wd ? wd : "(nothing)");
  chdir("/");
  wd = getcwd();
  check(wd && !strcmp(wd, "/"), "getcwd in / gave '%s'", wd ? wd : "(nothing)");

  // Writes go to the target; O_CREATE through a link opens the target.
  int fd = open("/sl/c/abs", O_WRONLY | O_APPEND);
  check(fd >= 0 && write(fd, "more\n", 5) == 5, "append through the link");
  close(fd);
  check(holds("/sl/c/file", 0, "contents of file\nmore\n") == 1, "the target did not change");
  fd = open("/sl/c/rel", O_CREATE | O_WRONLY | O_TRUNC);
  check(fd >= 0 && write(fd, "new\n", 4) == 4, "O_CREATE|O_TRUNC through a link: %d", fd);
  close(fd);
  check(holds("/sl/c/file", 0, "new\n") == 1, "the target was not truncated and written");
  check(lstat("/sl/c/rel", &st) == 0 && st.type == T_SYMLINK, "the link was replaced");

  // A name that exists cannot become a link; the link's target can be anything.
  check(symlink("/x", "/sl/c/file") == -E_EXIST, "symlink over a file");
  check(symlink("/x", "/sl/c/abs") == -E_EXIST, "symlink over a link");
  check(symlink("/x", "/sl/nodir/l") == -E_NOENT, "symlink in a missing directory");
  check(symlink("", "/sl/c/empty") < 0, "a link to the empty path");
  check(readlink("/sl/c/file", buf, sizeof buf) == -E_INVAL, "readlink of a file");
  check(readlink("/sl/c/none", buf, sizeof buf) == -E_NOENT, "readlink of nothing");
}

// A link to nothing: open says E_NOENT; the link itself is there.
static void dangling(void)
{
  struct stat st;
  check(mkdir("/sl/d") == 0, "mkdir /sl/d");
  check(symlink("/sl/d/nothing", "/sl/d/l") == 0, "symlink to nothing");
  int r = open("/sl/d/l", O_RDONLY);
  check(r == -E_NOENT, "open of a dangling link: %d (%s)", r, errstr(r));
  check(stat("/sl/d/l", &st) == -E_NOENT, "stat of a dangling link");
  check(lstat("/sl/d/l", &st) == 0 && st.type == T_SYMLINK, "lstat of a dangling link");
  check(holds("/sl/d/l", O_NOFOLLOW, "/sl/d/nothing") == 1, "O_NOFOLLOW on a dangling link");
  // the target appears: now the link leads to it
  put("/sl/d/nothing", "here now\n");
  check(holds("/sl/d/l", 0, "here now\n") == 1, "the link once its target exists");
  check(unlink("/sl/d/nothing") == 0, "unlink the target");
  check(open("/sl/d/l", O_RDONLY) == -E_NOENT, "open after the target went");
}

// Links that lead to each other: E_LOOP, not a hang.  A chain of
// MAXSYMLINKS links resolves; one more is too many.
static void loops(void)
{
  char name[32], next[32];
  check(mkdir("/sl/l") == 0, "mkdir /sl/l");
  check(symlink("/sl/l/self", "/sl/l/self") == 0, "a link to itself");
  int r = open("/sl/l/self", O_RDONLY);
  check(r == -E_LOOP, "open of a link to itself: %d (%s)", r, errstr(r));
  check(symlink("b", "/sl/l/a") == 0 && symlink("a", "/sl/l/b") == 0, "a <-> b");
  r = open("/sl/l/a", O_RDONLY);
  check(r == -E_LOOP, "open of a cycle: %d (%s)", r, errstr(r));
  r = open("/sl/l/a", O_CREATE | O_WRONLY);
  check(r == -E_LOOP, "create through a cycle: %d (%s)", r, errstr(r));
  struct stat st;
  check(stat("/sl/l/a", &st) == -E_LOOP, "stat of a cycle");
  check(lstat("/sl/l/a", &st) == 0 && st.type == T_SYMLINK, "lstat of a cycle");
  r = open("/sl/l/a/x", O_RDONLY);
  check(r == -E_LOOP, "a cycle in the middle of a path: %d (%s)", r, errstr(r));
  // c0 -> c1 -> ... -> cN -> file
  put("/sl/l/file", "end of the chain\n");
  for (int i = 0; i <= MAXSYMLINKS; i++) {
    snprintf(name, sizeof name, "/sl/l/c%d", i);
    snprintf(next, sizeof next, i == MAXSYMLINKS ? "file" : "c%d", i + 1);
    check(symlink(next, name) == 0, "symlink %s", name);
  }
  check(holds("/sl/l/c1", 0, "end of the chain\n") == 1, "a chain of %d links", MAXSYMLINKS);
  r = open("/sl/l/c0", O_RDONLY);
  check(r == -E_LOOP, "a chain of %d links: %d (%s)", MAXSYMLINKS + 1, r, errstr(r));
  check(unlink("/sl/l/a") == 0 && unlink("/sl/l/b") == 0 && unlink("/sl/l/self") == 0,
        "unlink the cycles");
}

// O_NOFOLLOW opens the link itself (read-only): its contents are the target.
static void nofollow(void)
{
  struct stat st;
  check(mkdir("/sl/n") == 0, "mkdir /sl/n");
  put("/sl/n/file", "the file\n");
  check(symlink("/sl/n/file", "/sl/n/l") == 0, "symlink");
  int fd = open("/sl/n/l", O_RDONLY | O_NOFOLLOW);
  check(fd >= 0, "open O_NOFOLLOW: %s", errstr(fd));
  int n = read(fd, buf, sizeof buf);
  check(n == (int)strlen("/sl/n/file") && !memcmp(buf, "/sl/n/file", n), "read the link: %d", n);
  check(fstat(fd, &st) == 0 && st.type == T_SYMLINK, "fstat: type %d", st.type);
  close(fd);
  check(open("/sl/n/l", O_RDWR | O_NOFOLLOW) < 0, "a link opened for writing");
  check(holds("/sl/n/file", O_NOFOLLOW, "the file\n") == 1, "O_NOFOLLOW on a plain file");
  check(holds("/sl/n/l", 0, "the file\n") == 1, "without O_NOFOLLOW");
  check(open("/sl/n/l", O_CREATE | O_WRONLY | O_NOFOLLOW) == -E_EXIST,
        "O_CREATE|O_NOFOLLOW on a link");
}

// unlink removes the link, never its target; a hard link to a link is a
// second name of the link.
static void removal(void)
{
  struct stat st;
  check(mkdir("/sl/u") == 0 && mkdir("/sl/u/dir") == 0, "mkdir /sl/u");
  put("/sl/u/file", "stays\n");
  check(symlink("/sl/u/file", "/sl/u/l") == 0, "symlink");
  check(link("/sl/u/l", "/sl/u/hard") == 0, "link to a link");
  check(lstat("/sl/u/hard", &st) == 0 && st.type == T_SYMLINK && st.nlink == 2,
        "a hard link to a link: type %d nlink %d", st.type, st.nlink);
  check(unlink("/sl/u/l") == 0, "unlink the link");
  check(lstat("/sl/u/l", &st) == -E_NOENT, "the link is still there");
  check(stat("/sl/u/file", &st) == 0 && st.nlink == 1 && holds("/sl/u/file", 0, "stays\n") == 1,
        "the target changed");
  check(holds("/sl/u/hard", 0, "stays\n") == 1, "the other name of the link");
  check(unlink("/sl/u/hard") == 0 && stat("/sl/u/file", &st) == 0, "unlink the second name");
  check(symlink("/sl/u/dir", "/sl/u/dl") == 0, "symlink to a directory");
  check(unlink("/sl/u/dl") == 0, "unlink a link to a directory");
  check(stat("/sl/u/dir", &st) == 0 && st.type == T_DIR, "the directory went too");
  check(unlink("/sl/u/dir") == 0 && unlink("/sl/u/file") == 0, "cleanup");
}

// Links in the middle of a path: to a directory, absolute and relative,
// chained, with ".." in the target; creating through them; chdir.
static void middle(void)
{
  struct stat st;
  check(mkdir("/sl/m") == 0 && mkdir("/sl/m/real") == 0 && mkdir("/sl/m/real/sub") == 0,
        "mkdir /sl/m/real/sub");
  put("/sl/m/real/sub/f", "deep\n");
  check(symlink("/sl/m/real", "/sl/m/abs") == 0, "symlink to a directory");
  check(symlink("real/sub", "/sl/m/rel") == 0, "relative symlink to a directory");
  check(symlink("..", "/sl/m/real/sub/up") == 0, "symlink to ..");
  check(symlink("/sl/m/abs/sub", "/sl/m/via") == 0, "a link through a link");
  check(holds("/sl/m/abs/sub/f", 0, "deep\n") == 1, "through /sl/m/abs/");
  check(holds("/sl/m/rel/f", 0, "deep\n") == 1, "through /sl/m/rel/");
  check(holds("/sl/m/via/f", 0, "deep\n") == 1, "through two links");
  check(holds("/sl/m/rel/up/sub/f", 0, "deep\n") == 1, "through a link to ..");
  check(stat("/sl/m/abs", &st) == 0 && st.type == T_DIR, "stat of a link to a directory");
  int fd = open("/sl/m/abs/new", O_CREATE | O_WRONLY);
  check(fd >= 0, "create through a link: %s", errstr(fd));
  close(fd);
  check(stat("/sl/m/real/new", &st) == 0 && st.type == T_FILE, "not created in the real directory");
  check(mkdir("/sl/m/rel/made") == 0 && stat("/sl/m/real/sub/made", &st) == 0 && st.type == T_DIR,
        "mkdir through a link");
  check(unlink("/sl/m/abs/new") == 0 && stat("/sl/m/real/new", &st) == -E_NOENT,
        "unlink through a link");
  check(chdir("/sl/m/rel") == 0 && holds("f", 0, "deep\n") == 1, "chdir into a link");
  chdir("/");
  put("/sl/m/file", "x");
  check(symlink("/sl/m/file", "/sl/m/fl") == 0, "symlink to a file");
  check(open("/sl/m/fl/x", O_RDONLY) == -E_NOTDIR, "a link to a file in the middle");
  check(symlink("/sl/m/gone", "/sl/m/dang") == 0 && open("/sl/m/dang/x", O_RDONLY) == -E_NOENT,
        "a dangling link in the middle");

  // The target spliced in front of the rest of the path must fit in
  // MAXPATH bytes with its NUL.  Targets of 190 bytes ("/sl/m/real/./."...)
  // and 191 (the same and a last "/"), then 64 or 66 bytes after the
  // link's name: 254 and 255 bytes fit, 256 (MAXPATH) do not.
  static const struct { int target, rest; } splice[] = { { 190, 64 }, { 191, 64 }, { 190, 66 } };
  static char t[MAXPATH], p[MAXPATH];
  for (int k = 0; k < 3; k++) {
    int n = snprintf(t, sizeof t, "/sl/m/real");
    while (n < splice[k].target - 1)
      n += snprintf(t + n, sizeof t - n, "/.");
    if (n < splice[k].target)
      n += snprintf(t + n, sizeof t - n, "/");
    char name[16];
    snprintf(name, sizeof name, "/sl/m/long%d", k);
    check(symlink(t, name) == 0, "symlink with a target of %d bytes", n);
    int m = snprintf(p, sizeof p, "%s/sub", name);
    while (m < (int)strlen(name) + splice[k].rest - 2)
      m += snprintf(p + m, sizeof p - m, "/.");
    snprintf(p + m, sizeof p - m, "/f");
    int r = holds(p, 0, "deep\n"), total = n + splice[k].rest;
    if (total < MAXPATH)
      check(r == 1, "a link making a path of %d bytes: %s", total, r < 0 ? errstr(r) : "wrong");
    else
      check(r == -E_NAMETOOLONG, "a link making a path of MAXPATH bytes: %s",
            r < 0 ? errstr(r) : "opened");
  }
}

// Programs are found through links too (spawn opens the path).
static void programs(void)
{
  check(mkdir("/sl/p") == 0, "mkdir /sl/p");
  check(symlink("/echo", "/sl/p/say") == 0, "symlink to /echo");
  char *argv[] = { "say", "spawned through a link", 0 };
  envid_t e = spawn("/sl/p/say", argv);
  int status = -1;
  check(e > 0 && waitenv(e, &status) == e && status == 0, "spawn through a link: %d (%s)", e,
        e < 0 ? errstr(e) : "ran");
}

static struct part {
  const char *name;
  void (*fn)(void);
} parts[] = {
  { "create", create }, { "dangling", dangling }, { "loops", loops }, { "nofollow", nofollow },
  { "removal", removal }, { "middle", middle }, { "programs", programs },
};

int main(int argc, char **argv)
{
  struct stat st;
  if (stat("/sl", &st) < 0 && mkdir("/sl") < 0)
    printf("symlinktest: cannot make /sl\n");
  for (unsigned i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    int want = argc < 2;
    for (int a = 1; a < argc; a++)
      want |= !strcmp(argv[a], parts[i].name);
    if (!want)
      continue;
    int before = check_failures();
    parts[i].fn();
    printf("symlinktest %s: %s\n", parts[i].name, check_failures() == before ? "ok" : "FAILED");
  }
  return check_report();
}
