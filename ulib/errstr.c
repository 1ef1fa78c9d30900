// Messages for the kernel's error codes (E_* in kernel/abi.h), so programs
// can print "sys_page_alloc: out of memory" instead of "-3".
#include "lib.h"

static const char *const messages[NERRORS] = {
  [0]            = "no error",
  [E_INVAL]      = "invalid argument",
  [E_BAD_ENV]    = "bad environment",
  [E_NO_MEM]     = "out of memory",
  [E_FAULT]      = "bad address",
  [E_PERM]       = "permission denied",
  [E_BAD_PTE]    = "illegal PTE",
  [E_BAD_VA]     = "bad virtual address",
  [E_NO_ENV]     = "too many environments",
  [E_NO_SLOT]    = "no free time slice",
  [E_NOSYS]      = "no such system call",
  [E_BUSY]       = "busy",
  [E_NOT_WAITING] = "not waiting for a call",
  [E_PIPE]       = "broken pipe",
  [E_BADF]       = "bad file descriptor",
  [E_BAD_BLOCK]  = "block past the end of the disk",
  [E_IO]         = "disk error",
  [E_NOENT]      = "no such file or directory",
  [E_EXIST]      = "file exists",
  [E_NOTDIR]     = "not a directory",
  [E_ISDIR]      = "is a directory",
  [E_NOSPC]      = "no space left on the file system",
  [E_NAMETOOLONG] = "file name too long",
  [E_NOTEMPTY]   = "directory not empty",
  [E_MFILE]      = "too many open files",
  [E_CORRUPT]    = "file system corrupt",
  [E_FBIG]       = "file too large",
  [E_NOEXEC]     = "not an executable",
  [E_MLINK]      = "too many links",
  [E_AGAIN]      = "memory is being reclaimed; try again",
  [E_LOOP]       = "too many levels of symbolic links",
  [E_TIMEOUT]    = "timed out",
};

// The message for err, which may be E_xxx or a system call's -E_xxx;
// "unknown error" for anything else.  Never NULL.
const char *
errstr(int err)
{
  if (err < 0) {
    if (err <= -NERRORS)
      return "unknown error";
    err = -err;
  }
  if (err >= NERRORS || messages[err] == NULL)
    return "unknown error";
  return messages[err];
}
