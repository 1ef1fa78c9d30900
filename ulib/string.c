// Memory and string routines for user programs: the C library subset the
// rest of ulib and user/ rely on.  gcc may emit calls to memset, memcpy and
// memmove on its own (struct copies, big initializers), so those must exist.
#include "lib.h"

// A word that may alias any other type, so the word-at-a-time loops below
// stay correct under -O2's strict-aliasing rules.
typedef uint64 __attribute__((may_alias)) word;

#define WORDSZ    sizeof(word)
#define WORDMASK  (WORDSZ - 1)
#define LONG_MAX_ ((long)(~0UL >> 1))
#define LONG_MIN_ (-LONG_MAX_ - 1)

// Without -ffreestanding, gcc -O2 turns simple copy/fill loops into calls to
// memcpy/memset (-ftree-loop-distribute-patterns): inside memcpy and memset
// a call to itself.  The empty asm keeps these loops opaque to that pass
// whatever the flags.
#define NO_IDIOM() asm volatile("")

// Fill n bytes at dst with the byte c; returns dst.
void *
memset(void *dst, int c, uint64 n)
{
  uchar *d = dst;
  uchar b = (uchar)c;

  while (n > 0 && ((uint64)d & WORDMASK) != 0) {
    *d++ = b;
    n--;
  }
  if (n >= WORDSZ) {
    word pat = b * 0x0101010101010101UL;
    word *w = (word *)d;
    while (n >= 4 * WORDSZ) {
      w[0] = pat;
      w[1] = pat;
      w[2] = pat;
      w[3] = pat;
      w += 4;
      n -= 4 * WORDSZ;
      NO_IDIOM();
    }
    while (n >= WORDSZ) {
      *w++ = pat;
      n -= WORDSZ;
      NO_IDIOM();
    }
    d = (uchar *)w;
  }
  while (n > 0) {
    *d++ = b;
    n--;
    NO_IDIOM();
  }
  return dst;
}

// Copy n bytes upward (lowest address first).  Safe for overlap when
// dst < src, so memmove uses it too.
static void
copy_up(uchar *d, const uchar *s, uint64 n)
{
  if ((((uint64)d ^ (uint64)s) & WORDMASK) == 0) {
    while (n > 0 && ((uint64)d & WORDMASK) != 0) {
      *d++ = *s++;
      n--;
    }
    word *wd = (word *)d;
    const word *ws = (const word *)s;
    while (n >= 4 * WORDSZ) {
      word a = ws[0], b = ws[1], c = ws[2], e = ws[3];
      // All four loads come first: with dst < src a store cannot clobber a
      // word not yet loaded, since the gap is at least one word.
      wd[0] = a;
      wd[1] = b;
      wd[2] = c;
      wd[3] = e;
      wd += 4;
      ws += 4;
      n -= 4 * WORDSZ;
      NO_IDIOM();
    }
    while (n >= WORDSZ) {
      *wd++ = *ws++;
      n -= WORDSZ;
      NO_IDIOM();
    }
    d = (uchar *)wd;
    s = (const uchar *)ws;
  }
  while (n > 0) {
    *d++ = *s++;
    n--;
    NO_IDIOM();
  }
}

// Copy n bytes downward (highest address first); safe when dst > src.
static void
copy_down(uchar *d, const uchar *s, uint64 n)
{
  d += n;
  s += n;
  if ((((uint64)d ^ (uint64)s) & WORDMASK) == 0) {
    while (n > 0 && ((uint64)d & WORDMASK) != 0) {
      *--d = *--s;
      n--;
    }
    word *wd = (word *)d;
    const word *ws = (const word *)s;
    while (n >= WORDSZ) {
      *--wd = *--ws;
      n -= WORDSZ;
      NO_IDIOM();
    }
    d = (uchar *)wd;
    s = (const uchar *)ws;
  }
  while (n > 0) {
    *--d = *--s;
    n--;
    NO_IDIOM();
  }
}

// Copy n bytes from src to dst; the ranges must not overlap.  Returns dst.
void *
memcpy(void *dst, const void *src, uint64 n)
{
  copy_up(dst, src, n);
  return dst;
}

// Copy n bytes from src to dst; the ranges may overlap.  Returns dst.
void *
memmove(void *dst, const void *src, uint64 n)
{
  uchar *d = dst;
  const uchar *s = src;

  if (d == s || n == 0)
    return dst;
  if (d < s || d >= s + n)
    copy_up(d, s, n);
  else
    copy_down(d, s, n);
  return dst;
}

// Compare n bytes as unsigned chars: <0, 0 or >0 like the first difference.
int
memcmp(const void *a, const void *b, uint64 n)
{
  const uchar *p = a, *q = b;

  for (; n > 0; n--, p++, q++) {
    if (*p != *q)
      return *p - *q;
  }
  return 0;
}

uint64
strlen(const char *s)
{
  const char *p = s;

  while (*p)
    p++;
  return p - s;
}

// Copy src, including its NUL, to dst; returns dst.
char *
strcpy(char *dst, const char *src)
{
  char *d = dst;

  while ((*d++ = *src++) != 0)
    ;
  return dst;
}

// C's strncpy: copy at most n chars of src and pad the rest of the n with
// NULs.  dst is not NUL-terminated if src has n or more chars.
char *
strncpy(char *dst, const char *src, uint64 n)
{
  uint64 i = 0;

  for (; i < n && src[i]; i++)
    dst[i] = src[i];
  for (; i < n; i++)
    dst[i] = 0;
  return dst;
}

// Compare as unsigned chars: <0, 0 or >0.
int
strcmp(const char *a, const char *b)
{
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return (uchar)*a - (uchar)*b;
}

// strcmp over at most the first n chars.
int
strncmp(const char *a, const char *b, uint64 n)
{
  for (; n > 0; n--, a++, b++) {
    if (*a != *b || *a == 0)
      return (uchar)*a - (uchar)*b;
  }
  return 0;
}

// The first c in s, or NULL; strchr(s, 0) finds the terminator.
char *
strchr(const char *s, int c)
{
  for (;; s++) {
    if (*s == (char)c)
      return (char *)s;
    if (*s == 0)
      return NULL;
  }
}

// The value of c as a digit in bases up to 36, or 99 if it is none.
static int
digitval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z')
    return c - 'A' + 10;
  return 99;
}

static int
isspace_(int c)
{
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// C's strtol: skip white space, an optional sign, then digits in base
// (2..36, or 0 to read a 0x/0 prefix as hex/octal).  Saturates at
// LONG_MAX/LONG_MIN on overflow (there is no errno).  *end, if end is not
// NULL, gets the first char not used, or s when there were no digits.
long
strtol(const char *s, char **end, int base)
{
  const char *p = s;
  int neg = 0, any = 0, over = 0;
  uint64 v = 0, limit;

  if (end)
    *end = (char *)s;
  if (base != 0 && (base < 2 || base > 36))
    return 0;
  while (isspace_(*p))
    p++;
  if (*p == '-' || *p == '+')
    neg = *p++ == '-';
  if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
      digitval(p[2]) < 16) {
    p += 2;
    base = 16;
  } else if (base == 0) {
    base = p[0] == '0' ? 8 : 10;
  }

  limit = neg ? (uint64)LONG_MAX_ + 1 : (uint64)LONG_MAX_;
  for (;; p++) {
    int d = digitval(*p);
    if (d >= base)
      break;
    any = 1;
    if (over || v > (limit - d) / base) {
      over = 1;
      continue;
    }
    v = v * base + d;
  }
  if (!any)
    return 0;
  if (end)
    *end = (char *)p;
  if (over)
    return neg ? LONG_MIN_ : LONG_MAX_;
  return neg ? (long)(0 - v) : (long)v;
}

// Decimal string to int, like C's atoi (no error reporting).
int
atoi(const char *s)
{
  return (int)strtol(s, NULL, 10);
}
