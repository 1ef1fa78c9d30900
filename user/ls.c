// ls: list directories (name, type, inode, size), or name files.  A
// symbolic link is listed as itself ("link", and "-> target"); a link to a
// directory named as an argument lists the directory.
#include "lib.h"

static const char *tname(int type)
{
  return type == T_DIR ? "dir " : type == T_FILE ? "file" : type == T_DEVICE ? "dev "
       : type == T_SYMLINK ? "link" : "?   ";
}

// One line for path (shown as name), lstat'ed as st.
static void line(const char *name, const char *path, struct stat *st)
{
  printf("%-30s %s %4d %8lu", name, tname(st->type), st->ino, st->size);
  if (st->type == T_SYMLINK) {
    char target[MAXPATH];
    int n = readlink(path, target, sizeof target - 1);
    if (n >= 0) {
      target[n] = 0;
      printf(" -> %s", target);
    }
  }
  printf("\n");
}

static int ls(const char *path)
{
  struct stat st;
  int r = lstat(path, &st);
  if (r == 0 && st.type == T_SYMLINK) {
    struct stat target;
    if (stat(path, &target) == 0 && target.type == T_DIR)
      st = target;                           // a link to a directory: list it
  }
  if (r < 0) {
    fprintf(2, "ls: %s: %s\n", path, errstr(r));
    return 1;
  }
  if (st.type != T_DIR) {
    line(path, path, &st);
    return 0;
  }
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(2, "ls: %s: %s\n", path, errstr(fd));
    return 1;
  }
  struct dirent de;
  char name[DIRSIZ + 1], full[MAXPATH];
  while (readdir(fd, &de) == 1) {
    memcpy(name, de.name, DIRSIZ);
    name[DIRSIZ] = 0;
    snprintf(full, sizeof full, "%s/%s", path, name);
    if (lstat(full, &st) < 0) {
      printf("%-30s (cannot stat)\n", name);
      continue;
    }
    line(name, full, &st);
  }
  close(fd);
  return 0;
}

int main(int argc, char **argv)
{
  int status = 0;
  if (argc < 2)
    return ls(".");
  for (int i = 1; i < argc; i++)
    status |= ls(argv[i]);
  return status;
}
