// ls: list directories (name, type, inode, size), or name files.
#include "lib.h"

static const char *tname(int type)
{
  return type == T_DIR ? "dir " : type == T_FILE ? "file" : type == T_DEVICE ? "dev " : "?   ";
}

static int ls(const char *path)
{
  struct stat st;
  int r = stat(path, &st);
  if (r < 0) {
    fprintf(2, "ls: %s: %s\n", path, errstr(r));
    return 1;
  }
  if (st.type != T_DIR) {
    printf("%-30s %s %4d %8lu\n", path, tname(st.type), st.ino, st.size);
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
    if (stat(full, &st) < 0) {
      printf("%-30s (cannot stat)\n", name);
      continue;
    }
    printf("%-30s %s %4d %8lu\n", name, tname(st.type), st.ino, st.size);
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
