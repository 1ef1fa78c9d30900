// The host's stand-in for ulib/lib.h, so the file-server core (ulib/bio.c,
// log.c, inode.c, dir.c, fs.c) builds and runs in a host process
// (fuzz/fsfuzz.c).  Forced in with `-include`: it defines ulib/lib.h's
// guard, so the core's own #include "lib.h" adds nothing.  Only what the
// core uses is here.
//
// The model: the disk is an in-memory image (shim_disk, shim_nblocks
// blocks); every block request is checked against it, and one outside it
// is a harness failure, not an error.  Pages at the server's fixed
// addresses (fs.h: BCACHE, LOGHDR, ...) are real host pages in a reserved
// window, inaccessible until page_map(), so a stray access faults.
#ifndef FSSHIM_H
#define FSSHIM_H
#define ULIB_LIB_H                      // ulib/lib.h: already "included"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "../kernel/types.h"
#include "../kernel/abi.h"
#include "../kernel/memlayout.h"

// Public records the core reads: only the disk size matters here.  No page
// is ever shared with a client on the host, so uvpt_pte() says "not
// mapped" and bio.c's unshare() has nothing to do.
struct shim_sys { uint64 disk_blocks, nfree; };   // (nfree: plenty, so the cache grows)
extern struct shim_sys shim_sys;
extern struct pagepub shim_pages[1];
#undef usys
#undef upages
#define usys   (&shim_sys)
#define upages (shim_pages)

extern unsigned char *shim_disk;
extern uint64 shim_nblocks;
extern int shim_verbose;

pte_t  uvpt_pte(uint64 va);
int    page_map(uint64 va, uint64 perm);
#define page_map_now page_map             // (the host never runs short)
int    page_unmap(uint64 va);
int64  sys_page_alloc(envid_t env);
int    sys_page_free(uint64 ppn);
int    sys_pte_set(envid_t env, uint64 va, pte_t pte);
int    sys_pte_set_from(envid_t env, uint64 va, pte_t pte, uint64 srcva);
int    sys_blk_io(int op, uint64 block, void *va, uint64 n);
int64  sys_blk_wait(uint64 tags, uint64 *failed);
const char *errstr(int err);
int    lab_todo(const char *lab, const char *what);
void   shim_panic(const char *fmt, ...) __attribute__((noreturn));
int    shim_printf(const char *fmt, ...);
#define panic  shim_panic
#define printf shim_printf

#endif
