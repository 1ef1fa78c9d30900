// xv6 compatibility: "kernel/stat.h".  File types and struct stat as xv6
// has them (and as ulib's fstat/stat fill them in).
#ifndef XV6_STAT_H
#define XV6_STAT_H
#define T_DIR     1   // Directory
#define T_FILE    2   // File
#define T_DEVICE  3   // Device
#define T_SYMLINK 4   // Symbolic link (as in xv6's symlink lab)

struct stat {
  int dev;     // file system's disk device
  uint ino;    // inode number
  short type;  // type of file
  short nlink; // number of links to file
  uint64 size; // size of file in bytes
};
#endif
