// xv6 compatibility: "kernel/param.h".  xv6's names for the limits of the
// system, with this system's values (ulib/xv6.c checks them against the
// library's own at build time).  Where this system has no such limit, the
// comment says what the number means here.
#ifndef XV6_PARAM_H
#define XV6_PARAM_H
#define NPROC       256   // envs at once (the kernel's env table, NENV)
#define NCPU          8   // harts the kernel can run on
#define NOFILE       32   // open descriptors per env (NFD)
#define NFILE       512   // files open at once, all envs together (the file server's NOPEN)
#define NINODE      512   // the file server keeps no table of inodes: its limit is NOPEN
#define NDEV          2   // device majors: 1 is the console, the only one
#define ROOTDEV       1
#define MAXARG       32   // arguments to exec (and at most a page of them)
#define MAXOPBLOCKS  64   // blocks one file-system operation may change (LOGSIZE)
#define LOGBLOCKS    64
#define NBUF       2048   // the file server's cache, in blocks (it grows to this)
#define FSSIZE     8192   // blocks in the file system (mkfs)
#define MAXPATH     256   // longest path, NUL included
#define USERSTACK    16   // stack pages (mapped as they are touched); below them a fault
#endif
