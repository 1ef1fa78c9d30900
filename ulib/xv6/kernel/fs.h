// xv6 compatibility: "kernel/fs.h" for programs that read directories
// (struct dirent, DIRSIZ).  Our names are up to DIRSIZ = 30 bytes, not 14;
// programs that use DIRSIZ and sizeof(struct dirent) need no change.
#include "../../fsformat.h"

// The on-disk format reaches far past the disk (the double-indirect block
// maps 4 GiB), but the file system has FSSIZE blocks (mkfs).  xv6
// programs take MAXFILE as a size they can write (usertests' writebig
// writes a file of MAXFILE blocks), so they are told half the file
// system: 4,096 blocks, which still needs the double-indirect block.
#undef MAXFILE
#define MAXFILE 4096
