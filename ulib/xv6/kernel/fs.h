// xv6 compatibility: "kernel/fs.h" for programs that read directories
// (struct dirent, DIRSIZ).  Our names are up to DIRSIZ = 30 bytes, not 14;
// programs that use DIRSIZ and sizeof(struct dirent) need no change.
#include "../../fsformat.h"
