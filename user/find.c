// find: print the path of every file or directory under a directory whose
// name is the one given.  `find dir name`.
#include "lib.h"

// BEGIN LAB util: find: walk the tree under path (open, readdir, stat) and print the matches
static void find(char *path, const char *name)
{
  struct stat st;
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(2, "find: %s: %s\n", path, errstr(fd));
    return;
  }
  int r = fstat(fd, &st);
  if (r < 0 || st.type != T_DIR) {
    if (r < 0)
      fprintf(2, "find: %s: %s\n", path, errstr(r));
    close(fd);
    return;
  }
  uint64 len = strlen(path);
  struct dirent de;
  while (readdir(fd, &de) == 1) {
    char entry[DIRSIZ + 1];
    memcpy(entry, de.name, DIRSIZ);
    entry[DIRSIZ] = 0;
    if (!strcmp(entry, ".") || !strcmp(entry, ".."))
      continue;
    if (len + 1 + strlen(entry) + 1 > MAXPATH) {
      fprintf(2, "find: %s/%s: path too long\n", path, entry);
      continue;
    }
    snprintf(path + len, MAXPATH - len, "%s%s", len && path[len - 1] == '/' ? "" : "/", entry);
    if (!strcmp(entry, name))
      printf("%s\n", path);
    if (stat(path, &st) == 0 && st.type == T_DIR)
      find(path, name);
    path[len] = 0;
  }
  close(fd);
}
// END LAB util: // (your helper functions go here)

int main(int argc, char **argv)
{
  // BEGIN LAB util: find: check the arguments and start the walk at argv[1]
  if (argc != 3) {
    fprintf(2, "usage: find dir name\n");
    return 1;
  }
  char path[MAXPATH];
  if (strlen(argv[1]) >= MAXPATH) {
    fprintf(2, "find: %s: path too long\n", argv[1]);
    return 1;
  }
  strcpy(path, argv[1]);
  find(path, argv[2]);
  return 0;
  // END LAB util: return lab_todo("util", "find"), (void)argc, (void)argv, 1;
}
