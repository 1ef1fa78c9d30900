// xv6 compatibility: "user/user.h".  A program written for xv6 includes
// this (after kernel/types.h) instead of lib.h and gets xv6's user API,
// implemented by the library OS.  Differences that remain are listed in
// docs/xv6.md.
#ifndef XV6_USER_H
#define XV6_USER_H
#define SBRK_ERROR ((char *)-1)
struct stat;

// system calls (in ulib; the kernel has none of these)
int fork(void);
int exit(int) __attribute__((noreturn));
int wait(int*);
int pipe(int*);
int write(int, const void*, int);
int read(int, void*, int);
int close(int);
int kill(int);
int exec(const char*, char**);
int open(const char*, int);
int mknod(const char*, short, short);
int unlink(const char*);
int fstat(int fd, struct stat*);
int link(const char*, const char*);
int symlink(const char*, const char*);   // (xv6's symlink lab)
int mkdir(const char*);
int chdir(const char*);
int dup(int);
int getpid(void);
extern char grade_token[16];   // (ours) the grader's run token, printed in the pass line
char* xv6_sbrk(int);            // (ours) xv6's sbrk: the pages now, or -1
#define sbrk(n) xv6_sbrk(n)     //   (ulib's own sbrk leaves them to the first touch)
char* sbrklazy(int);            // (newer xv6)
char* sys_sbrk(int, int);       // (newer xv6)
int sleep(int);
int pause(int);                 // (newer xv6's name for sleep)
int uptime(void);

// ulib.c
int stat(const char*, struct stat*);
char* strcpy(char*, const char*);
void *memmove(void*, const void*, int);
char* strchr(const char*, char c);
int strcmp(const char*, const char*);
void fprintf(int, const char*, ...);
void printf(const char*, ...);
char* gets(char*, int max);
uint strlen(const char*);
void* memset(void*, int, uint);
void* malloc(uint);
void free(void*);
int atoi(const char*);
int memcmp(const void *, const void *, uint);
void *memcpy(void *, const void *, uint);

// xv6's calls report every error as -1; ulib's return -E_xxx (see errstr).
static inline int xv6_err_(int r) { return r < 0 ? -1 : r; }
#define fork()            xv6_err_(fork())
#define wait(status)      xv6_err_(wait(status))
#define pipe(p)           xv6_err_(pipe(p))
#define write(fd, p, n)   xv6_err_(write(fd, p, n))
#define read(fd, p, n)    xv6_err_(read(fd, p, n))
#define close(fd)         xv6_err_(close(fd))
#define kill(pid)         xv6_err_(kill(pid))
#define exec(path, argv)  xv6_err_(exec(path, argv))
#define open(path, mode)  xv6_err_(open(path, mode))
#define mknod(p, ma, mi)  xv6_err_(mknod(p, ma, mi))
#define unlink(path)      xv6_err_(unlink(path))
#define fstat(fd, st)     xv6_err_(fstat(fd, st))
#define stat(path, st)    xv6_err_(stat(path, st))
#define link(a, b)        xv6_err_(link(a, b))
#define symlink(t, p)     xv6_err_(symlink(t, p))
#define mkdir(path)       xv6_err_(mkdir(path))
#define chdir(path)       xv6_err_(chdir(path))
#define dup(fd)           xv6_err_(dup(fd))
#endif
