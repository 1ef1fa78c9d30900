// xv6 compatibility: "kernel/syscall.h".  xv6's system calls (fork, read,
// open, ...) are library functions here, not kernel calls, so there are no
// SYS_fork and friends.  The kernel's own calls, which export pages, PTEs,
// time slices, interrupts and disk blocks, are numbered in kernel/abi.h
// (docs/abi.md).
#ifndef XV6_SYSCALL_H
#define XV6_SYSCALL_H
#endif
