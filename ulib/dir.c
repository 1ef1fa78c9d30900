// The file server's directories and path names: lookups and entries, path
// walks (with symbolic links), and the operations on names: create,
// symlink, unlink, link.  Part of the file system core (fs.c lists its
// files).
#include "lib.h"
#include "fsformat.h"
#include "fs.h"
#include "fsint.h"

// ---- directories ----

// The entry name in directory dir: its inode number (0 if none); *offp is
// the entry's offset, or of a free slot (the end if none) when missing.
static uint32 dirlookup(uint32 dir, const char *name, uint64 *offp, int *err)
{
  struct dinode *d = iget(dir, 0, err);
  if (!d)
    return 0;
  uint64 size = d->size, freeoff = size;
  *err = 0;
  for (uint64 off = 0; off < size; off += BSIZE) {
    uint64 va, in;
    int n = readi_block(dir, off, BSIZE, &va, &in);
    if (n < 0) {
      *err = n;
      return 0;
    }
    struct dirent *de = (struct dirent *)va;
    for (int i = 0; i < n / (int)sizeof *de; i++) {
      if (de[i].inum == 0) {
        if (freeoff == size)
          freeoff = off + i * sizeof *de;
        continue;
      }
      if (strncmp(de[i].name, name, DIRSIZ) == 0) {
        if (offp)
          *offp = off + i * sizeof *de;
        return de[i].inum;
      }
    }
  }
  if (offp)
    *offp = freeoff;
  return 0;
}

static int dirlink(uint32 dir, const char *name, uint32 inum)
{
  int err;
  uint64 off;
  if (dirlookup(dir, name, &off, &err))
    return -E_EXIST;
  if (err < 0)
    return err;
  struct dirent de;
  memset(&de, 0, sizeof de);
  de.inum = inum;
  strncpy(de.name, name, DIRSIZ);
  int n = writei(dir, &de, off, sizeof de);
  return n == sizeof de ? 0 : n < 0 ? n : -E_NOSPC;
}

// 1 if directory dir has no entries but "." and ".." (its first two), 0
// if it has, or an error.
static int dir_empty(uint32 dir)
{
  for (uint64 off = 0;; off += BSIZE) {
    uint64 va, in;
    int n = readi_block(dir, off, BSIZE, &va, &in);
    if (n <= 0)
      return n < 0 ? n : 1;
    struct dirent *de = (struct dirent *)va;
    for (int i = off ? 0 : 2; i < n / (int)sizeof *de; i++)
      if (de[i].inum)
        return 0;
  }
}

// ---- path names (relative ones start at the caller's working directory, an inode) ----

// Copy the next element of *path into name; advance *path.  0 at the
// end, -E_NAMETOOLONG for an element longer than DIRSIZ.
static int next_elem(const char **path, char *name)
{
  const char *p = *path;
  while (*p == '/')
    p++;
  if (!*p)
    return 0;
  const char *s = p;
  while (*p && *p != '/')
    p++;
  if (p - s > DIRSIZ)
    return -E_NAMETOOLONG;
  memset(name, 0, DIRSIZ + 1);
  memcpy(name, s, p - s);
  *path = p;
  return 1;
}

// A path walk met symbolic link inum in directory dir: go on along the
// link's target (its contents: 1 to MAXPATH-1 bytes, no NUL) instead.
// buf (MAXPATH bytes) holds the path being walked and *rest points into
// it, at what is left after the link's name.  Make buf the target
// followed by that rest, point *rest at its start, and set *cur to the
// directory to walk on from: the root for an absolute target, dir for a
// relative one.  *nfollow counts the links this walk has followed: more
// than MAXSYMLINKS is E_LOOP (a cycle, or too deep); a result of MAXPATH
// bytes or more is E_NAMETOOLONG; a link of another size is E_CORRUPT.
// 0 or an error.
static int follow_link(uint32 inum, uint32 dir, char *buf, const char **rest, uint32 *cur,
                       int *nfollow)
{
  // BEGIN LAB fs: read the link's target (readi) and splice it in front of *rest; count; set *cur
  char target[MAXPATH];
  int err;
  if (++*nfollow > MAXSYMLINKS)
    return -E_LOOP;
  struct dinode *d = iget(inum, 0, &err);
  if (!d)
    return err;
  uint32 n = d->size;
  if (n == 0 || n >= MAXPATH)
    return -E_CORRUPT;
  if ((err = readi(inum, target, 0, n)) != (int)n)
    return err < 0 ? err : -E_CORRUPT;
  uint64 m = strlen(*rest);
  if (n + m >= MAXPATH)
    return -E_NAMETOOLONG;
  memmove(buf + n, *rest, m + 1);               // (*rest is inside buf)
  memcpy(buf, target, n);
  *rest = buf;
  *cur = target[0] == '/' ? ROOTINO : dir;
  return 0;
  // END LAB fs: return lab_todo("fs", "following symbolic links (follow_link)"), (void)inum, (void)dir, (void)buf, (void)rest, (void)cur, (void)nfollow, -E_NOSYS;
}

// Walk path from the root, or a relative one from walk_start (the
// client's working directory; ".." is each directory's own entry, so it
// leads to the real parent).  A symbolic link met on the way is
// followed (follow_link), except as the last element unless follow.  With
// parent, stop one element early: return the directory that holds the
// last element, and leave that element in name (never followed).
uint32 walk_start;                              // where a relative path starts (0: the root)
uint32 walk_gen;                                // its generation (igen) when the client got it

static uint32 walkpath(const char *path, int parent, int follow, char *name, int *err)
{
  char buf[MAXPATH];                            // the path, with links' targets spliced in
  const char *p = buf;
  uint32 cur = path[0] == '/' || !walk_start ? ROOTINO : walk_start;
  int nfollow = 0, r;
  *err = 0;
  if (cur != ROOTINO) {                         // the client's word: check it is a directory
    struct dinode *d = cur < sb.ninodes ? iget(cur, 0, err) : 0;
    if (!d || d->type != T_DIR || igen[cur] != (uint16)walk_gen) {   // nonsense, or removed since
      if (*err == 0)                                                 // (and perhaps reused)
        *err = cur >= sb.ninodes ? -E_INVAL : d->type != T_DIR && d->type ? -E_NOTDIR : -E_NOENT;
      return 0;
    }
  }
  if (strlen(path) >= MAXPATH) {
    *err = -E_NAMETOOLONG;
    return 0;
  }
  strcpy(buf, path);
  while ((r = next_elem(&p, name)) > 0) {
    struct dinode *d = iget(cur, 0, err);
    if (!d)
      return 0;
    if (d->type != T_DIR) {
      *err = -E_NOTDIR;
      return 0;
    }
    const char *after = p;
    char tmp[DIRSIZ + 1];
    if ((r = next_elem(&after, tmp)) < 0) {
      *err = r;
      return 0;
    }
    int last = r == 0;
    if (parent && last)
      return cur;                               // name is the last element
    uint32 next = dirlookup(cur, name, 0, err);
    if (!next) {
      if (*err == 0)
        *err = -E_NOENT;
      return 0;
    }
    if (!(d = iget(next, 0, err)))
      return 0;
    if (d->type == T_SYMLINK && (follow || !last)) {
      if ((*err = follow_link(next, cur, buf, &p, &cur, &nfollow)) < 0)
        return 0;
      continue;
    }
    cur = next;
  }
  if (r < 0) {
    *err = r;
    return 0;
  }
  if (parent) {                                 // "/" has no parent
    *err = -E_INVAL;
    return 0;
  }
  return cur;
}

// The inode path names; if follow, a symbolic link at the end is followed
// too (stat, open), else it is the answer (lstat, readlink, O_NOFOLLOW).
uint32 namei(const char *path, int follow, int *err)
{
  char name[DIRSIZ + 1];
  return walkpath(path, 0, follow, name, err);
}

// Make a new inode of type at path (the caller commits).  Its number;
// *existed if the path named a file already (allowed only for T_FILE:
// open's O_CREATE; with follow, through a symbolic link to a file).
uint32 fs_create(const char *path, int type, int major, int minor, int follow, int *existed,
                 int *err)
{
  char name[DIRSIZ + 1];
  *existed = 0;
  uint32 dir = walkpath(path, 1, 1, name, err);
  if (!dir)
    return 0;
  if (!strcmp(name, ".") || !strcmp(name, "..")) {
    *err = -E_EXIST;
    return 0;
  }
  uint32 inum = dirlookup(dir, name, 0, err);
  if (inum) {
    struct dinode *d = iget(inum, 0, err);
    if (d && d->type == T_SYMLINK && type == T_FILE && follow) {
      inum = namei(path, 1, err);               // (a dangling link: E_NOENT)
      d = inum ? iget(inum, 0, err) : 0;
    }
    if (d && type == T_FILE && (d->type == T_FILE || d->type == T_DEVICE)) {
      *existed = 1;
      return inum;
    }
    *err = d ? -E_EXIST : *err;
    return 0;
  }
  if (*err < 0 || !(inum = ialloc(type, err)))
    return 0;
  struct buf *b;
  struct dinode *d = iget(inum, &b, err);
  if (!d)
    return 0;
  d->major = major;
  d->minor = minor;
  d->nlink = 1;
  if (type == T_DIR) {
    if ((*err = dirlink(inum, ".", inum)) < 0 || (*err = dirlink(inum, "..", dir)) < 0)
      return 0;
    struct dinode *pd = iget(dir, &b, err);     // ".." names the parent
    if (pd && pd->nlink >= MAXLINK)
      *err = -E_MLINK;
    if (!pd || *err < 0 || (*err = log_write(b)) < 0)
      return 0;
    pd->nlink++;
  }
  if ((*err = dirlink(dir, name, inum)) < 0)
    return 0;
  return inum;
}

// A symbolic link at path whose contents are target (kept as given: a
// relative target is resolved, when the link is followed, from the
// directory holding the link).  Part of the caller's transaction, like
// fs_create.  0 or an error (E_NOENT for an empty target, E_NAMETOOLONG
// for one of MAXPATH bytes or more, E_EXIST if path names something).
int fs_symlink(const char *target, const char *path)
{
  // BEGIN LAB fs: make a T_SYMLINK inode at path (fs_create) holding target (writei)
  int existed, err;
  uint64 n = strlen(target);
  if (n == 0)
    return -E_NOENT;
  if (n >= MAXPATH)
    return -E_NAMETOOLONG;
  uint32 inum = fs_create(path, T_SYMLINK, 0, 0, 0, &existed, &err);
  if (!inum)
    return err;
  int w = writei(inum, target, 0, n);
  return w == (int)n ? 0 : w < 0 ? w : -E_NOSPC;
  // END LAB fs: return lab_todo("fs", "creating symbolic links (fs_symlink)"), (void)target, (void)path, -E_NOSYS;
}

// Remove the name path.  *gone gets the inode if its last name went (the
// caller frees it unless it is open).
int fs_unlink(const char *path, uint32 *gone)
{
  char name[DIRSIZ + 1];
  int err;
  *gone = 0;
  uint32 dir = walkpath(path, 1, 1, name, &err);
  if (!dir)
    return err;
  if (!strcmp(name, ".") || !strcmp(name, ".."))
    return -E_INVAL;
  uint64 off;
  uint32 inum = dirlookup(dir, name, &off, &err);
  if (!inum)
    return err < 0 ? err : -E_NOENT;
  struct buf *b;
  struct dinode *d = iget(inum, &b, &err);
  if (!d)
    return err;
  int isdir = d->type == T_DIR;
  if (isdir && (err = dir_empty(inum)) <= 0)
    return err < 0 ? err : -E_NOTEMPTY;
  struct dirent de;
  memset(&de, 0, sizeof de);
  if ((err = writei(dir, &de, off, sizeof de)) < 0)
    return err;
  if (isdir) {                                  // its ".." no longer names dir
    struct dinode *pd = iget(dir, &b, &err);
    if (!pd || (err = log_write(b)) < 0)
      return err;
    pd->nlink--;
  }
  d = iget(inum, &b, &err);
  if (!d || (err = log_write(b)) < 0)
    return err;
  if (--d->nlink <= 0)
    *gone = inum;
  return 0;
}

// A second name for a file (a symbolic link at old is not followed: new
// names the link itself).
int fs_link(const char *old, const char *new)
{
  int err;
  char name[DIRSIZ + 1];
  uint32 inum = namei(old, 0, &err);
  if (!inum)
    return err;
  struct buf *b;
  struct dinode *d = iget(inum, &b, &err);
  if (!d)
    return err;
  if (d->type == T_DIR)
    return -E_ISDIR;
  uint32 dir = walkpath(new, 1, 1, name, &err);
  if (!dir)
    return err;
  if (d->nlink >= MAXLINK)
    return -E_MLINK;
  if ((err = dirlink(dir, name, inum)) < 0)
    return err;
  d = iget(inum, &b, &err);
  if (!d || (err = log_write(b)) < 0)
    return err;
  d->nlink++;
  return 0;
}
