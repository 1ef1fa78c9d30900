// xv6 compatibility: "kernel/fcntl.h", open()'s flags (the same values as
// ulib's).
#ifndef XV6_FCNTL_H
#define XV6_FCNTL_H
#define O_RDONLY  0x000
#define O_WRONLY  0x001
#define O_RDWR    0x002
#define O_CREATE  0x200
#define O_TRUNC   0x400
#define O_NOFOLLOW 0x1000   // (xv6's symlink lab has 0x800; ours is ulib's value)
#endif
