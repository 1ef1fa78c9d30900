// The file-descriptor layer's private types, shared by fd.c and the device
// implementations (pipe.c; the console lives in fd.c).
#ifndef ULIB_FD_H
#define ULIB_FD_H
#include "lib.h"

#define FD_CONS  0
#define FD_PIPE  1
#define NDEVS    2

#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR   2

struct fdesc {                     // the shared page of an open descriptor
  int dev;                         // FD_CONS, FD_PIPE
  int mode;                        // O_RDONLY, O_WRONLY, O_RDWR
  uint64 offset;
};

struct dev {
  const char *name;
  int (*read)(int fd, struct fdesc *f, void *buf, int n);
  int (*write)(int fd, struct fdesc *f, const void *buf, int n);
};

#define FD(i) ((struct fdesc *)(FDTABLE + (uint64)(i) * PGSIZE))

extern struct dev dev_cons, dev_pipe;
int fd_alloc(int dev, int mode);
int fd_isopen(int fd);

#endif
