// Fixed-width types shared by the kernel, the library OS and programs.
// The names follow xv6 so xv6 programs build unchanged.
#ifndef TYPES_H
#define TYPES_H

typedef unsigned int   uint;
typedef unsigned short ushort;
typedef unsigned char  uchar;
typedef unsigned char  uint8;
typedef unsigned short uint16;
typedef unsigned int   uint32;
typedef unsigned long  uint64;
typedef signed char    int8;
typedef short          int16;
typedef int            int32;
typedef long           int64;
typedef uint64         pte_t;
typedef uint64        *pagetable_t;   // 512 PTEs
typedef int32          envid_t;

#ifndef NULL
#define NULL ((void *)0)
#endif

#endif
