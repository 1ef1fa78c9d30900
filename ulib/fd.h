// The file-descriptor layer's private types, shared by fd.c and the device
// implementations (pipe.c, file.c, udp.c; the console lives in fd.c).
#ifndef ULIB_FD_H
#define ULIB_FD_H
#include "lib.h"

#define FD_CONS  0
#define FD_PIPE  1
#define FD_FILE  2
#define FD_UDP   3
#define NDEVS    4

struct fdesc {                     // the shared page of an open descriptor
  int dev;                         // FD_CONS, FD_PIPE, FD_FILE, FD_UDP
  int mode;                        // O_RDONLY, O_WRONLY, O_RDWR
  uint64 offset;
  uint64 handle;                   // FD_FILE: the file server's open file (id | secret<<32; 0: none)
  uint32 inum;                     //   and the inode
  int append;                      //   O_APPEND: every write at the end
  volatile uint32 lock, holder;    // FD_FILE: held while a transfer uses the offset
  volatile uint32 lsleep;          //   (shared_lock) and envs asleep on it
  envid_t sock_env;                // FD_UDP: the env whose stack holds the socket
  uint32 sock;                     //   its slot there (ulib/net.c)
  uint64 sock_gen;                 //   and the slot's generation when it was made
};

void shared_lock(volatile uint32 *lock, volatile uint32 *sleepers);   // (pipe.c)
void shared_unlock(volatile uint32 *lock, volatile uint32 *sleepers);

// Requests to the file server (fsserv.c); paths go in a page offered with
// the call (a second path at +MAXPATH).  Reply: w0 = result or -error.
#define FS_OPEN   1   // w1 = flags; page: path -> w0 = id, w1 = size, w2 = type|major<<16; page: fd
#define FS_READ   2   // w1 = handle | n<<16, w2 = offset -> w0 = bytes, w1 = start in the page granted
#define FS_WRITE  3   // w1 = handle | n<<16, w2 = offset (~0: append); page: bytes -> w0 = bytes, w1 = offset
#define FS_STAT   4   // w1 = O_NOFOLLOW (lstat) or 0; page: path -> w1 = type | nlink<<16 | inum<<32, w2 = size
#define FS_FSTAT  5   // w1 = handle -> as FS_STAT
#define FS_MKDIR  6   // page: path
#define FS_MKNOD  7   // w1 = major | minor<<16; page: path
#define FS_UNLINK 8   // page: path
#define FS_LINK   9   // page: old path, new path at +MAXPATH
#define FS_STATS  10  // -> w0 = commits, w1 = cache hits, w2 = misses
#define FS_SYMLINK 11 // page: path of the new link, its target at +MAXPATH (as given)
#define FS_READLINK 12 // page: path -> w0 = length, w1 = start in the page granted (read-only)

struct dev {
  const char *name;
  int (*read)(int fd, struct fdesc *f, void *buf, int n);
  int (*write)(int fd, struct fdesc *f, const void *buf, int n);
  void (*close)(int fd, struct fdesc *f);   // 0: nothing to do (called before the unmapping)
};

#define FD(i) ((struct fdesc *)(FDTABLE + (uint64)(i) * PGSIZE))

extern struct dev dev_cons, dev_pipe, dev_file, dev_udp;
int fd_alloc(int dev, int mode);
void fd_device(int dev, struct dev *d);   // register a device not every program needs
int fd_isopen(int fd);

#endif
