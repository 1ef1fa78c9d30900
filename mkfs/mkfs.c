// mkfs: build a file-system image on the host, or check one.
//
//   mkfs fs.img file...     a fresh image holding the files in "/" (a
//                           leading '_' is dropped from each name)
//   mkfs -c fs.img          fsck: replay a committed log (in memory only),
//                           then check every invariant; exit status 0 if
//                           the file system is consistent
//   mkfs -l fs.img [dir]    list a directory (for the crash test)
//   mkfs -p fs.img path     print a file's contents
//   mkfs -t fs.img          every name under "/": path, type, size, nlink
//                           and an FNV-1a hash of the contents (of a file
//                           or a symbolic link's target; crash test)
//
// Symbolic links (T_SYMLINK) are never followed here: -p prints a link's
// target, and fsck checks it as a file whose size is 1 to MAXPATH-1.
//
// The format is in ulib/fsformat.h.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../ulib/fsformat.h"

#define FSSIZE   8192                 // blocks: 32 MiB of file system
#define NSWAP    8192                 // then 32 MiB of swap
#define NAPP     2048                 // then 8 MiB of raw blocks for an application
#define NINODES  2048
#define NLOG     (LOGSIZE + 1)

static unsigned char *img;            // the whole image, in memory
static uint32 nblk;
static struct superblock sb;
static const char *imgname;

static void die(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "mkfs: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

static unsigned char *blk(uint32 b)
{
  if (b >= nblk)
    die("block %u out of range", b);
  return img + (uint64)b * BSIZE;
}

static struct dinode *inode(uint32 inum)
{
  return (struct dinode *)blk(IBLOCK(inum, sb)) + inum % IPB;
}

// ---- building ----

static uint32 freeinode = ROOTINO, freeblock;

static uint32 balloc(void)
{
  if (freeblock >= sb.size)
    die("image full");
  uint32 b = freeblock++;
  blk(BBLOCK(b, sb))[(b % BPB) / 8] |= 1 << (b % 8);
  return b;
}

static uint32 ialloc(int type)
{
  if (freeinode >= sb.ninodes)
    die("out of inodes");
  struct dinode *d = inode(freeinode);
  d->type = type;
  d->nlink = 1;
  return freeinode++;
}

// The block holding byte offset off of inode inum, allocated if need be.
static uint32 bmap(uint32 inum, uint64 fbn)
{
  struct dinode *d = inode(inum);
  if (fbn < NDIRECT) {
    if (!d->addrs[fbn])
      d->addrs[fbn] = balloc();
    return d->addrs[fbn];
  }
  fbn -= NDIRECT;
  uint32 *ind;
  if (fbn < NINDIRECT) {
    if (!d->addrs[NDIRECT])
      d->addrs[NDIRECT] = balloc();
    ind = (uint32 *)blk(d->addrs[NDIRECT]);
  } else {
    fbn -= NINDIRECT;
    if (fbn >= (uint64)NINDIRECT * NINDIRECT)
      die("file too big");
    if (!d->addrs[NDIRECT + 1])
      d->addrs[NDIRECT + 1] = balloc();
    uint32 *dind = (uint32 *)blk(d->addrs[NDIRECT + 1]);
    if (!dind[fbn / NINDIRECT])
      dind[fbn / NINDIRECT] = balloc();
    ind = (uint32 *)blk(dind[fbn / NINDIRECT]);
    fbn %= NINDIRECT;
  }
  if (!ind[fbn])
    ind[fbn] = balloc();
  return ind[fbn];
}

static void iappend(uint32 inum, const void *data, uint64 n)
{
  const char *p = data;
  while (n > 0) {
    struct dinode *d = inode(inum);
    uint64 off = d->size, m = BSIZE - off % BSIZE;
    if (m > n)
      m = n;
    uint32 b = bmap(inum, off / BSIZE);
    memcpy(blk(b) + off % BSIZE, p, m);
    inode(inum)->size += m;
    p += m;
    n -= m;
  }
}

static void dirlink(uint32 dir, const char *name, uint32 inum)
{
  struct dirent de;
  memset(&de, 0, sizeof de);
  if (strlen(name) > DIRSIZ)
    die("name too long: %s", name);
  de.inum = inum;
  strncpy(de.name, name, DIRSIZ);
  iappend(dir, &de, sizeof de);
}

static void build(int argc, char **argv)
{
  nblk = FSSIZE + NSWAP + NAPP;
  img = calloc(nblk, BSIZE);
  uint32 ninodeblocks = NINODES / IPB, nbitmap = FSSIZE / BPB + 1;
  sb.magic = FSMAGIC;
  sb.size = FSSIZE;
  sb.ninodes = NINODES;
  sb.nlog = NLOG;
  sb.logstart = 2;
  sb.inodestart = sb.logstart + NLOG;
  sb.bmapstart = sb.inodestart + ninodeblocks;
  sb.datastart = sb.bmapstart + nbitmap;
  sb.nblocks = FSSIZE - sb.datastart;
  sb.swapstart = FSSIZE;
  sb.nswap = NSWAP;
  sb.appstart = FSSIZE + NSWAP;
  sb.napp = NAPP;
  memcpy(blk(1), &sb, sizeof sb);
  for (uint32 b = 0; b < sb.datastart; b++)    // the metadata area is in use
    blk(BBLOCK(b, sb))[(b % BPB) / 8] |= 1 << (b % 8);
  freeblock = sb.datastart;

  uint32 root = ialloc(T_DIR);
  // (nlink counts names in parent directories, plus one per subdirectory
  // for its "..": xv6's convention.)
  dirlink(root, ".", root);
  dirlink(root, "..", root);
  for (int i = 0; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (!f)
      die("%s: %s", argv[i], strerror(errno));
    const char *name = strrchr(argv[i], '/');
    name = name ? name + 1 : argv[i];
    if (*name == '_')
      name++;
    uint32 inum = ialloc(T_FILE);
    dirlink(root, name, inum);
    char buf[BSIZE];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
      iappend(inum, buf, n);
    fclose(f);
  }
  // A console device, as xv6's init makes with mknod("console", 1, 0).
  uint32 cons = ialloc(T_DEVICE);
  inode(cons)->major = 1;
  dirlink(root, "console", cons);
}

// ---- checking ----

static int nerr;

static void bad(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "fsck: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  if (++nerr > 50)
    die("too many errors");
}

static void load(const char *name)
{
  FILE *f = fopen(name, "rb");
  if (!f)
    die("%s: %s", name, strerror(errno));
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  nblk = len / BSIZE;
  // Read the superblock, then only the file system's blocks (not the swap
  // and app areas after them).
  struct superblock first;
  if (nblk < 2 || fseek(f, BSIZE, SEEK_SET) != 0 || fread(&first, sizeof first, 1, f) != 1)
    die("%s: cannot read", name);
  if (first.magic == FSMAGIC && first.size >= 2 && first.size <= nblk)
    nblk = first.size;
  img = malloc((uint64)nblk * BSIZE);
  fseek(f, 0, SEEK_SET);
  if (fread(img, BSIZE, nblk, f) != nblk)
    die("%s: cannot read", name);
  fclose(f);
  memcpy(&sb, blk(1), sizeof sb);
  if (sb.magic != FSMAGIC)
    die("%s: not a file system (bad magic)", name);
  if (sb.size > nblk || sb.datastart >= sb.size || sb.nlog != NLOG || sb.ninodes / IPB + sb.inodestart > sb.bmapstart)
    die("%s: bad superblock", name);
  // Recovery, as at mount: a committed log is copied home.
  struct logheader *lh = (struct logheader *)blk(sb.logstart);
  if (lh->n > LOGSIZE)
    die("log header: %u blocks", lh->n);
  for (uint32 i = 0; i < lh->n; i++) {
    if (lh->block[i] < sb.logstart + sb.nlog || lh->block[i] >= sb.size)
      die("log entry %u: home block %u out of range", i, lh->block[i]);
    memcpy(blk(lh->block[i]), blk(sb.logstart + 1 + i), BSIZE);
  }
  if (lh->n)
    fprintf(stderr, "fsck: replayed a committed log of %u blocks\n", lh->n);
  lh->n = 0;
}

static unsigned char *owner;          // per block: 0 free, 1 metadata, 2 file data
static uint16 *links;                 // per inode: directory entries seen

static void use(uint32 b, uint32 inum)
{
  if (b < sb.datastart || b >= sb.size) {
    bad("inode %u: block %u outside the data area", inum, b);
    return;
  }
  if (owner[b])
    bad("block %u used twice (inode %u)", b, inum);
  owner[b] = 2;
}

// Walk inode inum's blocks: mark them used; return how many data blocks.
static uint64 walk(uint32 inum)
{
  struct dinode *d = inode(inum);
  uint64 n = 0, need = ((uint64)d->size + BSIZE - 1) / BSIZE;
  for (int i = 0; i < NDIRECT; i++)
    if (d->addrs[i]) {
      use(d->addrs[i], inum);
      n++;
      if ((uint64)i >= need)
        bad("inode %u: block past the end of the file", inum);
    }
  if (d->addrs[NDIRECT]) {
    use(d->addrs[NDIRECT], inum);
    uint32 *ind = (uint32 *)blk(d->addrs[NDIRECT]);
    for (int i = 0; i < NINDIRECT; i++)
      if (ind[i]) {
        use(ind[i], inum);
        n++;
        if (NDIRECT + (uint64)i >= need)
          bad("inode %u: block past the end of the file", inum);
      }
  }
  if (d->addrs[NDIRECT + 1]) {
    use(d->addrs[NDIRECT + 1], inum);
    uint32 *dind = (uint32 *)blk(d->addrs[NDIRECT + 1]);
    for (int j = 0; j < NINDIRECT; j++) {
      if (!dind[j])
        continue;
      if (dind[j] >= sb.size) {
        bad("inode %u: bad indirect block %u", inum, dind[j]);
        continue;
      }
      use(dind[j], inum);
      uint32 *ind = (uint32 *)blk(dind[j]);
      for (int i = 0; i < NINDIRECT; i++)
        if (ind[i]) {
          use(ind[i], inum);
          n++;
          if (NDIRECT + NINDIRECT + (uint64)j * NINDIRECT + i >= need)
            bad("inode %u: block past the end of the file", inum);
        }
    }
  }
  return n;
}

// The block holding block fbn of inode inum; 0 for a hole, or if an
// indirect block on the way is outside the image (walk() reports that).
static uint32 bnum(uint32 inum, uint64 fbn)
{
  struct dinode *d = inode(inum);
  uint32 ib;
  if (fbn < NDIRECT)
    return d->addrs[fbn];
  fbn -= NDIRECT;
  if (fbn < NINDIRECT)
    return d->addrs[NDIRECT] && d->addrs[NDIRECT] < nblk ? ((uint32 *)blk(d->addrs[NDIRECT]))[fbn] : 0;
  fbn -= NINDIRECT;
  if (fbn >= (uint64)NINDIRECT * NINDIRECT || !d->addrs[NDIRECT + 1] || d->addrs[NDIRECT + 1] >= nblk)
    return 0;
  ib = ((uint32 *)blk(d->addrs[NDIRECT + 1]))[fbn / NINDIRECT];
  return ib && ib < nblk ? ((uint32 *)blk(ib))[fbn % NINDIRECT] : 0;
}

// Read byte range [off, off+n) of inode inum (holes read as zeros).
static void iread(uint32 inum, uint64 off, void *dst, uint64 n)
{
  char *p = dst;
  while (n > 0) {
    uint64 m = BSIZE - off % BSIZE;
    if (m > n)
      m = n;
    uint32 b = bnum(inum, off / BSIZE);
    if (b && b < nblk)
      memcpy(p, blk(b) + off % BSIZE, m);
    else
      memset(p, 0, m);
    p += m, off += m, n -= m;
  }
}

static void checkdir(uint32 dir, uint32 parent, const char *path, int depth)
{
  struct dinode *d = inode(dir);
  if (d->size % sizeof(struct dirent))
    bad("%s: directory size %u not a multiple of %zu", path, d->size, sizeof(struct dirent));
  int sawdot = 0, sawdotdot = 0;
  for (uint64 off = 0; off + sizeof(struct dirent) <= d->size; off += sizeof(struct dirent)) {
    // A directory has no holes (the file server never writes one); a
    // hole means a damaged size or block map, and reading on through
    // it could take 2^27 entries.
    if (off % BSIZE == 0 && !bnum(dir, off / BSIZE)) {
      bad("%s: a hole in the directory at byte %lu (of %u)", path, off, d->size);
      break;
    }
    struct dirent de;
    iread(dir, off, &de, sizeof de);
    if (de.inum == 0)
      continue;
    char name[DIRSIZ + 1];
    memcpy(name, de.name, DIRSIZ);
    name[DIRSIZ] = 0;
    if (de.inum >= sb.ninodes || inode(de.inum)->type == 0) {
      bad("%s/%s: entry names free inode %u", path, name, de.inum);
      continue;
    }
    links[de.inum]++;
    if (!strcmp(name, ".")) {
      sawdot = 1;
      if (de.inum != dir)
        bad("%s: '.' is inode %u, not %u", path, de.inum, dir);
      continue;
    }
    if (!strcmp(name, "..")) {
      sawdotdot = 1;
      if (de.inum != parent)
        bad("%s: '..' is inode %u, not %u", path, de.inum, parent);
      continue;
    }
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/%s", dir == ROOTINO ? "" : path, name);
    if (inode(de.inum)->type == T_DIR) {
      if (links[de.inum] > 1)
        bad("%s: directory has more than one name", sub);
      else if (depth < 64)
        checkdir(de.inum, dir, sub, depth + 1);
    }
  }
  if (!sawdot || !sawdotdot)
    bad("%s: missing '.' or '..'", path);
}

static int fsck(void)
{
  owner = calloc(sb.size, 1);
  links = calloc(sb.ninodes, sizeof *links);
  for (uint32 b = 0; b < sb.datastart; b++)
    owner[b] = 1;
  if (inode(ROOTINO)->type != T_DIR)
    die("root is not a directory");
  uint64 files = 0, used = 0;
  for (uint32 i = 1; i < sb.ninodes; i++) {
    struct dinode *d = inode(i);
    if (d->type == 0)
      continue;
    if (d->type != T_DIR && d->type != T_FILE && d->type != T_DEVICE && d->type != T_SYMLINK)
      bad("inode %u: bad type %d", i, d->type);
    if (d->type == T_SYMLINK && (d->size == 0 || d->size >= MAXPATH))
      bad("inode %u: a symbolic link of %u bytes (1 to %d)", i, d->size, MAXPATH - 1);
    if (d->type != T_DEVICE && (d->major || d->minor))
      bad("inode %u: device numbers %d,%d on an inode of type %d (only a device has them)",
          i, d->major, d->minor, d->type);
    files++;
    used += walk(i);
    // The file server writes no holes and refuses to read one (E_CORRUPT).
    for (uint64 fbn = 0; d->type != T_DEVICE && fbn < ((uint64)d->size + BSIZE - 1) / BSIZE; fbn++)
      if (!bnum(i, fbn)) {
        bad("inode %u: a hole at block %lu (size %u)", i, fbn, d->size);
        break;
      }
  }
  checkdir(ROOTINO, ROOTINO, "/", 0);
  links[ROOTINO]--;                      // root's ".." names itself
  for (uint32 i = 1; i < sb.ninodes; i++) {
    struct dinode *d = inode(i);
    if (d->type == 0)
      continue;
    // A directory's "." entry and its children's ".." are not counted in
    // nlink (xv6's convention: nlink counts names in parent directories,
    // plus one for "..").
    int want = links[i];
    if (d->type == T_DIR)
      want = (i == ROOTINO) ? 2 : 1;
    if (d->type == T_DIR && i != ROOTINO && links[i] == 0)
      bad("inode %u: directory not in any directory", i);
    if (d->type != T_DIR && d->nlink != want)
      bad("inode %u: nlink %d but %d directory entries", i, d->nlink, want);
    if (d->type != T_DIR && want == 0)
      bad("inode %u: in use but in no directory", i);
  }
  for (uint32 b = 0; b < sb.size; b++) {
    int inmap = (blk(BBLOCK(b, sb))[(b % BPB) / 8] >> (b % 8)) & 1;
    if (owner[b] && !inmap)
      bad("block %u in use but free in the bitmap", b);
    if (!owner[b] && inmap)
      bad("block %u marked in the bitmap but not used (leaked)", b);
  }
  if (nerr)
    printf("fsck: %s: %d errors\n", imgname, nerr);
  else
    printf("fsck: %s: clean, %lu inodes, %lu data blocks in use\n", imgname, files, used);
  return nerr ? 1 : 0;
}

// Look up an absolute path; 0 if missing.
static uint32 namei(const char *path)
{
  uint32 cur = ROOTINO;
  char buf[MAXPATH];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *tok = strtok(buf, "/"); tok; tok = strtok(0, "/")) {
    struct dinode *d = inode(cur);
    if (d->type != T_DIR)
      return 0;
    uint32 next = 0;
    for (uint64 off = 0; off + sizeof(struct dirent) <= d->size; off += sizeof(struct dirent)) {
      struct dirent de;
      iread(cur, off, &de, sizeof de);
      if (de.inum && !strncmp(de.name, tok, DIRSIZ)) {
        next = de.inum;
        break;
      }
    }
    if (!next)
      return 0;
    cur = next;
  }
  return cur;
}

static void tree(uint32 dir, const char *path, int depth)
{
  struct dinode *d = inode(dir);
  for (uint64 off = 0; off + sizeof(struct dirent) <= d->size; off += sizeof(struct dirent)) {
    struct dirent de;
    iread(dir, off, &de, sizeof de);
    if (!de.inum || de.inum >= sb.ninodes || !strncmp(de.name, ".", DIRSIZ) || !strncmp(de.name, "..", DIRSIZ))
      continue;
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/%.*s", path, DIRSIZ, de.name);
    struct dinode *c = inode(de.inum);
    uint64 h = 14695981039346656037UL;
    if (c->type == T_FILE || c->type == T_SYMLINK) {
      unsigned char *buf = malloc(c->size + 1);
      iread(de.inum, 0, buf, c->size);
      for (uint32 i = 0; i < c->size; i++)
        h = (h ^ buf[i]) * 1099511628211UL;
      free(buf);
    }
    printf("%s %d %u %d %016lx\n", sub, c->type, c->size, c->nlink, h);
    if (c->type == T_DIR && depth < 32)
      tree(de.inum, sub, depth + 1);
  }
}

int main(int argc, char **argv)
{
  if (argc >= 3 && !strcmp(argv[1], "-t")) {
    imgname = argv[2];
    load(argv[2]);
    tree(ROOTINO, "", 0);
    return 0;
  }
  if (argc >= 3 && !strcmp(argv[1], "-c")) {
    imgname = argv[2];
    load(argv[2]);
    return fsck();
  }
  if (argc >= 3 && (!strcmp(argv[1], "-l") || !strcmp(argv[1], "-p"))) {
    imgname = argv[2];
    load(argv[2]);
    uint32 inum = namei(argc > 3 ? argv[3] : "/");
    if (!inum)
      die("%s: no such file", argc > 3 ? argv[3] : "/");
    struct dinode *d = inode(inum);
    if (!strcmp(argv[1], "-p")) {
      char *buf = malloc(d->size + 1);
      iread(inum, 0, buf, d->size);
      fwrite(buf, 1, d->size, stdout);
      return 0;
    }
    for (uint64 off = 0; off + sizeof(struct dirent) <= d->size; off += sizeof(struct dirent)) {
      struct dirent de;
      iread(inum, off, &de, sizeof de);
      if (de.inum)
        printf("%.*s %u %u\n", DIRSIZ, de.name, inode(de.inum)->type, inode(de.inum)->size);
    }
    return 0;
  }
  if (argc < 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: mkfs fs.img file... | mkfs -c fs.img | mkfs -l fs.img [dir] | mkfs -p fs.img file\n");
    return 2;
  }
  imgname = argv[1];
  build(argc - 2, argv + 2);
  FILE *f = fopen(argv[1], "wb");
  if (!f || fwrite(img, BSIZE, nblk, f) != nblk || fclose(f) != 0)
    die("%s: cannot write", argv[1]);
  return 0;
}
