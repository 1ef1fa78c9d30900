// The on-disk format of the library file system.  Shared by mkfs/ (on the
// host) and the file server's core in ulib/ (bio.c, log.c, inode.c, dir.c,
// fs.c); the kernel knows nothing of it.
//
// The disk is an array of 4096-byte blocks:
//
//   [ 0: unused | 1: super | log header, log blocks | inodes | bitmap | data ... | swap | app ]
//
// The swap area and the app area after the file system are not the file
// system's: init hands them out as block capabilities, the swap area for
// paging (ulib/swap.c), the app area as raw blocks for an application that
// runs its own storage (ulib/kv.c, the "app" lab).
//
// Every change goes through the log: the blocks one operation changes are
// written to the log area, then the header (which lists their home
// addresses) is written, which is the commit point; then they are copied
// home and the header is cleared.  Recovery at mount copies a committed
// log home again, so an operation happens entirely or not at all.
#ifndef FSFORMAT_H
#define FSFORMAT_H
#include "../kernel/types.h"

#define BSIZE      4096
#define FSMAGIC    0x46584f45U        // "EOXF"
#define ROOTINO    1                  // inode of "/"

struct superblock {
  uint32 magic;
  uint32 size;                        // blocks in the file system
  uint32 nblocks;                     // data blocks
  uint32 ninodes;
  uint32 nlog;                        // log blocks, header included
  uint32 logstart;                    // the header block; log data follows
  uint32 inodestart;
  uint32 bmapstart;
  uint32 datastart;                   // first data block
  uint32 swapstart;                   // the swap area (after the file system)
  uint32 nswap;                       //   and its size in blocks
  uint32 appstart;                    // the app area (after the swap area)
  uint32 napp;                        //   and its size in blocks (0: none)
};

// Inodes: 64 bytes, 64 per block.  addrs[0..NDIRECT-1] are data blocks,
// addrs[NDIRECT] an indirect block (1024 block numbers), addrs[NDIRECT+1]
// a double-indirect block (1024 indirect blocks).  A symbolic link keeps
// its target path (1 to MAXPATH-1 bytes, no NUL) as its contents.  No
// file has holes: every block below its size is allocated (the server
// reports E_CORRUPT for a hole, and mkfs -c flags one).
#define NDIRECT    11
#define NINDIRECT  (BSIZE / 4)
#define MAXFILE    ((uint64)NDIRECT + NINDIRECT + (uint64)NINDIRECT * NINDIRECT)

#define T_DIR      1                  // the xv6 type numbers (kernel/stat.h)
#define T_FILE     2
#define T_DEVICE   3
#define T_SYMLINK  4                  // a symbolic link: its data is the target path

#define MAXLINK    30000              // names one inode may have (nlink is 16 bits)

struct dinode {
  int16  type;                        // 0: free
  int16  major;                       // T_DEVICE: which device (1: console)
  int16  minor;
  int16  nlink;                       // directory entries naming it
  uint32 size;                        // bytes
  uint32 addrs[NDIRECT + 2];
};

#define IPB        (BSIZE / sizeof(struct dinode))
#define IBLOCK(i, sb) ((i) / IPB + (sb).inodestart)
#define BPB        (BSIZE * 8)        // bitmap bits per block
#define BBLOCK(b, sb) ((b) / BPB + (sb).bmapstart)

// Directory entries: 32 bytes; inum 0 is a free slot.  Names longer than
// DIRSIZ are refused (not truncated).
#define DIRSIZ     30
struct dirent {
  uint16 inum;
  char   name[DIRSIZ];                // NUL-padded; no NUL if exactly DIRSIZ
};

// The log header: n committed blocks and their home addresses.
#define LOGSIZE    64                 // most blocks one operation may change
struct logheader {
  uint32 n;
  uint32 block[LOGSIZE];
};

#define MAXPATH    256                // longest path name, NUL included
#define MAXSYMLINKS 10                // symbolic links one path lookup may follow

#endif
