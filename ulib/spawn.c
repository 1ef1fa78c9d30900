// spawn: start a program from the file system in a new env.  The library
// builds the child's address space itself, page by page, through the PTE
// calls: the kernel only checks each mapping.
//
//   1. read and check the ELF header and program headers
//   2. exofork an empty child (it does not run until step 6)
//   3. for each loadable segment, allocate pages owned by the child, map
//      each in my own address space for a moment, fill it from the file
//      (zeros past the file's bytes), and install it in the child
//   4. an argument page at UARGS: argv, the console and file servers, and
//      the working directory; the child's libmain reads it
//   5. my shared pages (open file descriptors) are mapped in the child
//   6. registers: pc = the ELF entry, sp = USTACKTOP; then it may run
//
// exec(path, argv) (exec.c) loads the same way into the caller's own
// address space, then replaces the old program with it: the env, its id
// and its descriptors stay.
#include "lib.h"
#include "fd.h"
#include "spawn.h"

int spawn_gives_swap;

#define SPAWNTMP  (UARGS + PGSIZE)            // where I fill the child's pages

// Read n bytes at off of the file into buf: 0, or E_NOEXEC if the file
// has fewer there (an offset past the end included), or an error.
static int pread(int fd, void *buf, uint64 n, uint64 off)
{
  if (seek(fd, off) < 0)
    return -E_NOEXEC;                      // (fd is open: the offset is bad)
  int r = read(fd, buf, n);
  return r < 0 ? r : (uint64)r == n ? 0 : -E_NOEXEC;
}

// Load one segment for env at base + its addresses: into a new child
// (base 0), or (exec) into my own staging area (env 0, base USTAGE).
static int load_segment(envid_t env, uint64 base, int fd, struct proghdr *ph)
{
  uint64 perm = PTE_R | (ph->flags & PF_W ? PTE_W : 0) | (ph->flags & PF_X ? PTE_X : 0);
  uint64 start = ph->vaddr & ~(PGSIZE - 1);
  for (uint64 va = start; va < ph->vaddr + ph->memsz; va += PGSIZE) {
    int64 ppn = sys_page_alloc(env);
    if (ppn < 0)
      return ppn;
    int r = sys_pte_set(0, SPAWNTMP, PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D));
    // The file's bytes that fall in this page (the rest stays zero).
    uint64 lo = va > ph->vaddr ? va : ph->vaddr, hi = va + PGSIZE;
    if (hi > ph->vaddr + ph->filesz)
      hi = ph->vaddr + ph->filesz;
    if (r == 0 && lo < hi)
      r = pread(fd, (char *)SPAWNTMP + (lo - va), hi - lo, ph->off + (lo - ph->vaddr));
    if (r == 0)
      r = sys_pte_set(env, base + va, PPN_PTE(ppn, perm | PTE_V | PTE_U | PTE_A | PTE_D));
    sys_pte_set(0, SPAWNTMP, 0);
    if (r < 0) {
      if (env == 0)
        sys_page_free(ppn);                  // (a child's pages go with it)
      return r;
    }
  }
  return 0;
}

// The argument page, built at SPAWNTMP for env's UARGS (at base + UARGS,
// as load_segment).  A child is granted my swap and app extents if
// spawn_gives_swap; exec's program keeps mine.
static int build_args(envid_t child, uint64 base, char **argv)
{
  int64 ppn = sys_page_alloc(child);
  if (ppn < 0)
    return ppn;
  int r = sys_pte_set(0, SPAWNTMP, PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D));
  if (r < 0)
    return r;
  struct spawnargs *a = (struct spawnargs *)SPAWNTMP;
  a->magic = SPAWN_MAGIC;
  a->cons_env = cons_env;
  a->fs_env = fs_env;
  if (child == 0 && swap_count) {
    a->swap_start = swap_start;
    a->swap_count = swap_count;
  }
  if (child == 0 && app_count) {
    a->app_start = app_start;
    a->app_count = app_count;
  }
  if (child && spawn_gives_swap && swap_count && sys_blk_grant(child, swap_start, swap_count, BLK_R | BLK_W) >= 0) {
    a->swap_start = swap_start;          // (the child pages on my extent: I must not)
    a->swap_count = swap_count;
  }
  if (child && spawn_gives_swap && app_count && sys_blk_grant(child, app_start, app_count, BLK_R | BLK_W) >= 0) {
    a->app_start = app_start;            // the app area goes with it (one user at a time)
    a->app_count = app_count;
  }
  a->cwd = cwd_get();
  strcpy(a->token, grade_token);
  char *s = a->strings, *end = (char *)SPAWNTMP + PGSIZE;
  int argc;
  for (argc = 0; argv && argv[argc]; argc++) {
    uint64 n = strlen(argv[argc]) + 1;
    if (argc == MAXARG || s + n > end) {
      r = -E_INVAL;                          // too many or too long
      break;
    }
    memcpy(s, argv[argc], n);
    a->argv[argc] = (char *)(UARGS + (s - (char *)SPAWNTMP));
    s += n;
  }
  a->argc = argc;
  a->argv[argc] = 0;
  if (r == 0)
    r = sys_pte_set(child, base + UARGS, PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D));
  sys_pte_set(0, SPAWNTMP, 0);
  if (r < 0 && child == 0)
    sys_page_free(ppn);
  return r;
}

// Map my open file descriptors (and their data pages) in child, except
// those marked close-on-spawn.
static int share_fds(envid_t child)
{
  for (int fd = 0; fd < NFD; fd++) {
    if (!fd_spawnable(fd))
      continue;
    uint64 vas[2] = { FDDATA + fd * PGSIZE, (uint64)FD(fd) };   // data page first
    for (int i = 0; i < 2; i++) {
      pte_t pte = uvpt_pte(vas[i]);
      if (!(pte & PTE_V) || !(pte & PTE_SHARE))
        continue;
      int r = sys_pte_set_from(child, vas[i], pte & (PTE_PPN(~0UL) << 10 | PTE_V | PTE_U | PTE_R | PTE_W | PTE_X | PTE_SHARE), vas[i]);
      if (r < 0)
        return r;
    }
  }
  return 0;
}

static int check_elf(struct elfhdr *eh)
{
  if (eh->magic != ELF_MAGIC || eh->ident[0] != 2 /* 64-bit */ || eh->ident[1] != 1 /* LE */ ||
      eh->machine != EM_RISCV || eh->type != ET_EXEC || eh->phentsize != sizeof(struct proghdr) ||
      eh->phnum == 0 || eh->phnum > MAXPH || eh->entry < UTEXT || eh->entry >= USTACKTOP)
    return -E_NOEXEC;
  return 0;
}

// A loadable segment must lie in the program's part of the address space
// (below the library's pages), agree with its file offset modulo the page
// size, and share no page with another segment (each page is filled once).
static int check_segment(struct proghdr *ph, struct proghdr *all, int n)
{
  if (ph->filesz > ph->memsz || ph->vaddr < UTEXT || ph->memsz > ULIBPAGES ||
      ph->vaddr + ph->memsz > ULIBPAGES || ph->vaddr + ph->memsz < ph->vaddr ||
      ph->off + ph->filesz < ph->off || (ph->vaddr % PGSIZE) != (ph->off % PGSIZE))
    return -E_NOEXEC;
  uint64 lo = ph->vaddr & ~(PGSIZE - 1), hi = ph->vaddr + ph->memsz;
  for (int i = 0; i < n; i++) {
    struct proghdr *q = &all[i];
    if (q == ph || q->type != PT_LOAD || q->memsz == 0)
      continue;
    uint64 qlo = q->vaddr & ~(PGSIZE - 1), qhi = q->vaddr + q->memsz;
    if (lo < ((qhi + PGSIZE - 1) & ~(PGSIZE - 1)) && qlo < ((hi + PGSIZE - 1) & ~(PGSIZE - 1)))
      return -E_NOEXEC;
  }
  return 0;
}

// The program headers as a whole: every loadable segment checked
// (check_segment) and inside the file's size, the entry in an executable
// one, and all of them together smaller than the machine's memory (a
// bigger program could never load, and trying would first take every free
// page).  0 or E_NOEXEC.
static int check_segments(struct elfhdr *eh, struct proghdr *ph, uint64 size)
{
  uint64 pages = 0;
  int entry_ok = 0;
  for (int i = 0; i < eh->phnum; i++) {
    if (ph[i].type != PT_LOAD)
      continue;
    if (check_segment(&ph[i], ph, eh->phnum) < 0 || ph[i].off + ph[i].filesz > size)
      return -E_NOEXEC;
    pages += (ph[i].vaddr % PGSIZE + ph[i].memsz + PGSIZE - 1) / PGSIZE;
    if ((ph[i].flags & PF_X) && eh->entry >= ph[i].vaddr && eh->entry - ph[i].vaddr < ph[i].memsz)
      entry_ok = 1;
  }
  return entry_ok && pages <= usys->npages ? 0 : -E_NOEXEC;
}

// Whether argv is a readable vector of at most MAXARG readable strings
// (a bad pointer from a program is an error, not a fault in spawn).
static int args_ok(char **argv)
{
  for (int i = 0; argv; i++) {
    if (!user_ok(&argv[i], sizeof argv[i], 0))
      return 0;
    if (!argv[i])
      return 1;
    if (i == MAXARG || !user_str_ok(argv[i], PGSIZE))
      return 0;
  }
  return 1;
}

// Open the program at path and read and check its headers: the open fd,
// or an error (E_NOEXEC for a malformed ELF).
int elf_open(const char *path, char **argv, struct elfhdr *eh, struct proghdr *ph)
{
  if (!args_ok(argv))
    return -E_FAULT;
  int fd = open(path, O_RDONLY), r;
  if (fd < 0)
    return fd;
  struct stat st;
  if ((r = fstat(fd, &st)) < 0 || (r = st.type == T_DIR ? -E_ISDIR : 0) < 0 ||
      (r = pread(fd, eh, sizeof *eh, 0)) < 0 || (r = check_elf(eh)) < 0 ||
      (r = pread(fd, ph, eh->phnum * sizeof ph[0], eh->phoff)) < 0 ||
      (r = check_segments(eh, ph, st.size)) < 0) {
    close(fd);
    return r == -E_INVAL ? -E_NOEXEC : r;
  }
  return fd;
}

// The program's pages, its first stack page and its argument page, for
// env at base (see load_segment).  fd is closed.
int elf_load(envid_t env, uint64 base, int fd, struct elfhdr *eh, struct proghdr *ph,
                    char **argv)
{
  int r = 0;
  for (int i = 0; r == 0 && i < eh->phnum; i++)
    if (ph[i].type == PT_LOAD)
      r = load_segment(env, base, fd, &ph[i]);
  close(fd);
  int64 stack = r == 0 ? sys_page_alloc(env) : 0;   // the first stack page
  if (stack < 0)
    r = stack;
  else if (r == 0 && (r = sys_pte_set(env, base + USTACKTOP - PGSIZE,
                                      PPN_PTE(stack, PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D))) < 0 &&
           env == 0)
    sys_page_free(stack);
  if (r == 0)
    r = build_args(env, base, argv);
  return r;
}

envid_t spawn(const char *path, char **argv)
{
  struct elfhdr eh;
  struct proghdr ph[MAXPH];
  int fd = elf_open(path, argv, &eh, ph), r;
  if (fd < 0)
    return fd;
  envid_t child = sys_exofork();
  if (child <= 0) {                          // (0: never; the child does not run this)
    close(fd);
    return child < 0 ? child : -E_INVAL;
  }
  r = elf_load(child, 0, fd, &eh, ph, argv);
  if (r == 0)
    r = share_fds(child);
  struct trapframe tf;
  memset(&tf, 0, sizeof tf);
  tf.pc = eh.entry;
  tf.sp = USTACKTOP;
  if (r == 0 && (thisenv->rights & (RIGHT_HALT | RIGHT_NET)))   // so `halt` and the
    r = sys_env_grant(child, thisenv->rights & (RIGHT_HALT | RIGHT_NET));   // network work
                                                                           // from the shell
  if (r == 0)
    r = sys_env_set_regs(child, &tf);
  if (r == 0)
    r = sys_env_set_status(child, ENV_RUNNABLE);
  if (r < 0) {
    sys_env_destroy(child);                  // kill it, then reap it
    sys_env_destroy(child);
    return r == -E_INVAL ? -E_NOEXEC : r;
  }
  return child;
}
