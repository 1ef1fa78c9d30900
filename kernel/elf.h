// The ELF-64 executable format, as far as loading a program needs it (the
// ELF specification's names).  Shared by the kernel (the first env) and
// the library (spawn).
#ifndef ELF_H
#define ELF_H
#include "types.h"

#define ELF_MAGIC 0x464C457FU          // "\x7FELF", little-endian
#define EM_RISCV  243
#define ET_EXEC   2
#define PT_LOAD   1                    // proghdr.type: a segment to load
#define PF_X      1                    // proghdr.flags
#define PF_W      2
#define PF_R      4

struct elfhdr {
  uint32 magic;
  uchar  ident[12];                    // ident[0]: 2 = 64-bit; ident[1]: 1 = little-endian
  uint16 type, machine;
  uint32 version;
  uint64 entry, phoff, shoff;
  uint32 flags;
  uint16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct proghdr {
  uint32 type, flags;
  uint64 off, vaddr, paddr, filesz, memsz, align;
};

#endif
