// spawn.c's ELF loader, shared with exec.c.
#ifndef SPAWN_H
#define SPAWN_H
#include "elf.h"

#define MAXPH 16                        // program headers at most

// Open the program at path, check its headers and argv: the open fd.
int elf_open(const char *path, char **argv, struct elfhdr *eh, struct proghdr *ph);
// Load it for env at base + its addresses (a child at 0; exec: me at
// USTAGE), with a first stack page and the argument page; closes fd.
int elf_load(envid_t env, uint64 base, int fd, struct elfhdr *eh, struct proghdr *ph,
             char **argv);

#endif
