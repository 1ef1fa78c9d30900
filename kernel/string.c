// The few string routines the kernel needs (gcc also emits memset/memcpy).
#include "defs.h"

void *memset(void *dst, int c, uint64 n)
{
  uchar *d = dst;
  if (c == 0 && ((uint64)d & 7) == 0 && (n & 63) == 0) {
    uint64 *w = dst;
    for (uint64 i = 0; i < n / 8; i += 8) {
      w[i] = 0; w[i + 1] = 0; w[i + 2] = 0; w[i + 3] = 0;
      w[i + 4] = 0; w[i + 5] = 0; w[i + 6] = 0; w[i + 7] = 0;
    }
    return dst;
  }
  for (uint64 i = 0; i < n; i++)
    d[i] = c;
  return dst;
}

void *memcpy(void *dst, const void *src, uint64 n)
{
  if ((((uint64)dst | (uint64)src | n) & 7) == 0) {
    uint64 *d = dst;
    const uint64 *s = src;
    for (uint64 i = 0; i < n / 8; i++)
      d[i] = s[i];
    return dst;
  }
  uchar *d = dst;
  const uchar *s = src;
  for (uint64 i = 0; i < n; i++)
    d[i] = s[i];
  return dst;
}

int memcmp(const void *a, const void *b, uint64 n)
{
  const uchar *x = a, *y = b;
  for (uint64 i = 0; i < n; i++)
    if (x[i] != y[i])
      return x[i] - y[i];
  return 0;
}

void *memmove(void *dst, const void *src, uint64 n)
{
  uchar *d = dst;
  const uchar *s = src;
  if (s < d && s + n > d) {
    while (n-- > 0)
      d[n] = s[n];
    return dst;
  }
  return memcpy(dst, src, n);
}

int strncmp(const char *a, const char *b, uint64 n)
{
  for (; n > 0 && *a && *a == *b; n--, a++, b++)
    ;
  return n == 0 ? 0 : (uchar)*a - (uchar)*b;
}

uint64 strlen(const char *s)
{
  uint64 n = 0;
  while (s[n])
    n++;
  return n;
}
