// Formatted output: one formatting engine (format) that hands its output in
// chunks to a sink, and the printf family built on it.  Console output is
// gathered in a stack buffer and written with one write() per flush.
#include "lib.h"

// Where the engine's output goes.  A sink embeds this as its first member.
struct out {
  void (*put)(struct out *o, const char *s, int n);
  int count;            // chars produced so far (snprintf: even if dropped)
};

// One conversion's flags, width and precision.
struct spec {
  int left;             // '-': pad on the right
  int zero;             // '0': pad numbers with zeros
  int plus;             // '+': sign even for positive numbers
  int space;            // ' ': a space where '+' would go
  int alt;              // '#': 0x prefix for %x
  int width;            // minimum field width, 0 if none
  int prec;             // precision, -1 if none
};

static void
emit(struct out *o, const char *s, int n)
{
  if (n <= 0)
    return;
  o->put(o, s, n);
  o->count += n;
}

// Emit n copies of c.
static void
repeat(struct out *o, char c, int n)
{
  char chunk[32];
  int i;

  for (i = 0; i < n && i < (int)sizeof(chunk); i++)
    chunk[i] = c;
  while (n > 0) {
    int k = n < (int)sizeof(chunk) ? n : (int)sizeof(chunk);
    emit(o, chunk, k);
    n -= k;
  }
}

// Emit the n chars at s as a field: padded with spaces to sp->width.
static void
put_field(struct out *o, const struct spec *sp, const char *s, int n)
{
  int pad = sp->width - n;

  if (!sp->left)
    repeat(o, ' ', pad);
  emit(o, s, n);
  if (sp->left)
    repeat(o, ' ', pad);
}

// Emit v in base 10 or 16 after prefix ("-", "0x", ...), applying the
// precision (minimum digits), the '0' flag and the width.
static void
put_num(struct out *o, const struct spec *sp, uint64 v, const char *prefix,
        int base, int upper)
{
  const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char buf[24];
  int nd = 0, plen = 0, zeros = 0, spaces;

  while (v != 0) {
    buf[sizeof(buf) - 1 - nd++] = set[v % base];
    v /= base;
  }
  if (nd == 0 && sp->prec != 0)        // C prints nothing for %.0d of 0
    buf[sizeof(buf) - 1 - nd++] = '0';
  while (prefix[plen])
    plen++;

  if (sp->prec > nd)
    zeros = sp->prec - nd;
  else if (sp->zero && !sp->left && sp->prec < 0 && sp->width > plen + nd)
    zeros = sp->width - plen - nd;
  spaces = sp->width - plen - zeros - nd;

  if (!sp->left)
    repeat(o, ' ', spaces);
  emit(o, prefix, plen);
  repeat(o, '0', zeros);
  emit(o, buf + sizeof(buf) - nd, nd);
  if (sp->left)
    repeat(o, ' ', spaces);
}

// Read a decimal number at *fmt, advancing *fmt past it.
static int
read_num(const char **fmt)
{
  int n = 0;

  while (**fmt >= '0' && **fmt <= '9') {
    n = n * 10 + (**fmt - '0');
    (*fmt)++;
  }
  return n;
}

// The engine: format fmt with the arguments in ap into o.  Understands
// %d %i %u %x %X %p %s %c %% with flags "-0+ #", a width and a precision
// (either may be '*'), and the length modifiers hh h l ll z.  An unknown
// conversion is copied through unchanged.  Returns the number of chars
// produced.
static int
format(struct out *o, const char *fmt, va_list ap)
{
  while (*fmt) {
    const char *start = fmt;
    struct spec sp = { 0, 0, 0, 0, 0, 0, -1 };
    int lng = 0, shrt = 0;
    char c;

    if (*fmt != '%') {
      while (*fmt && *fmt != '%')
        fmt++;
      emit(o, start, fmt - start);
      continue;
    }

    // Flags, width, precision, length.
    fmt++;
    for (;; fmt++) {
      if (*fmt == '-')
        sp.left = 1;
      else if (*fmt == '0')
        sp.zero = 1;
      else if (*fmt == '+')
        sp.plus = 1;
      else if (*fmt == ' ')
        sp.space = 1;
      else if (*fmt == '#')
        sp.alt = 1;
      else
        break;
    }
    if (*fmt == '*') {
      fmt++;
      sp.width = va_arg(ap, int);
      if (sp.width < 0) {
        sp.left = 1;
        sp.width = -sp.width;
      }
    } else {
      sp.width = read_num(&fmt);
    }
    if (*fmt == '.') {
      fmt++;
      if (*fmt == '*') {
        fmt++;
        sp.prec = va_arg(ap, int);
        if (sp.prec < 0)
          sp.prec = -1;
      } else {
        sp.prec = read_num(&fmt);
      }
    }
    for (;; fmt++) {
      if (*fmt == 'l')
        lng++;
      else if (*fmt == 'z')
        lng = 1;
      else if (*fmt == 'h')
        shrt++;
      else
        break;
    }

    c = *fmt;
    if (c == 0) {                       // a '%...' cut off by the end
      emit(o, start, fmt - start);
      break;
    }
    fmt++;

    if (c == 'd' || c == 'i') {
      long long x;
      if (lng)
        x = va_arg(ap, long long);
      else
        x = va_arg(ap, int);
      if (shrt == 1)
        x = (short)x;
      else if (shrt >= 2)
        x = (signed char)x;
      const char *sign = x < 0 ? "-" : sp.plus ? "+" : sp.space ? " " : "";
      put_num(o, &sp, x < 0 ? 0 - (uint64)x : (uint64)x, sign, 10, 0);
    } else if (c == 'u' || c == 'x' || c == 'X') {
      uint64 x;
      if (lng)
        x = va_arg(ap, unsigned long long);
      else
        x = va_arg(ap, unsigned int);
      if (shrt == 1)
        x = (ushort)x;
      else if (shrt >= 2)
        x = (uchar)x;
      if (c == 'u')
        put_num(o, &sp, x, "", 10, 0);
      else
        put_num(o, &sp, x, sp.alt && x != 0 ? (c == 'x' ? "0x" : "0X") : "", 16, c == 'X');
    } else if (c == 'p') {
      put_num(o, &sp, (uint64)va_arg(ap, void *), "0x", 16, 0);
    } else if (c == 's') {
      const char *s = va_arg(ap, const char *);
      int n = 0;
      if (s == NULL)
        s = "(null)";
      while (s[n] && (sp.prec < 0 || n < sp.prec))
        n++;
      put_field(o, &sp, s, n);
    } else if (c == 'c') {
      char ch = (char)va_arg(ap, int);
      put_field(o, &sp, &ch, 1);
    } else if (c == '%') {
      emit(o, "%", 1);
    } else {
      emit(o, start, fmt - start);      // unknown: show it as written
    }
  }
  return o->count;
}

// ---- The console sink: a stack buffer, written out when full ----

struct conout {
  struct out o;
  int fd;
  int len;
  char buf[256];
};

// Write the buffer to the descriptor; before the console env exists (or if
// fd is not open) it goes to the kernel's debug console instead.
static void
con_flush(struct conout *c)
{
  if (c->len > 0 && write(c->fd, c->buf, c->len) < 0)
    sys_cputs(c->buf, c->len);
  c->len = 0;
}

static void
con_put(struct out *o, const char *s, int n)
{
  struct conout *c = (struct conout *)o;

  while (n > 0) {
    int k = (int)sizeof(c->buf) - c->len;
    if (k == 0) {
      con_flush(c);
      continue;
    }
    if (k > n)
      k = n;
    memcpy(c->buf + c->len, s, k);
    c->len += k;
    s += k;
    n -= k;
  }
}

static void
con_init(struct conout *c, int fd)
{
  c->fd = fd;
  c->o.put = con_put;
  c->o.count = 0;
  c->len = 0;
}

// Print to the console; returns the number of chars printed.  A line up to
// 256 chars goes out in one sys_cputs, so it does not mix with other envs'.
static int
vfprintf(int fd, const char *fmt, va_list ap)
{
  struct conout c;

  con_init(&c, fd);
  format(&c.o, fmt, ap);
  con_flush(&c);
  return c.o.count;
}

int
vprintf(const char *fmt, va_list ap)
{
  return vfprintf(1, fmt, ap);
}

int
printf(const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}

// Like printf, to file descriptor fd.
int
fprintf(int fd, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vfprintf(fd, fmt, ap);
  va_end(ap);
  return n;
}

// ---- The string sink ----

struct strout {
  struct out o;
  char *buf;
  int size;             // buf's size, room for the NUL included
  int len;              // chars stored in buf
};

static void
str_put(struct out *o, const char *s, int n)
{
  struct strout *so = (struct strout *)o;
  int room = so->size - 1 - so->len;

  if (room <= 0)
    return;
  if (n > room)
    n = room;
  memcpy(so->buf + so->len, s, n);
  so->len += n;
}

// C's vsnprintf: store at most size-1 chars and a NUL in buf (nothing when
// size <= 0; buf may then be NULL).  Returns the length the whole output
// would have, so a result >= size means it was truncated.
int
vsnprintf(char *buf, int size, const char *fmt, va_list ap)
{
  struct strout so;

  so.o.put = str_put;
  so.o.count = 0;
  so.buf = buf;
  so.size = size;
  so.len = 0;
  format(&so.o, fmt, ap);
  if (size > 0)
    buf[so.len] = 0;
  return so.o.count;
}

int
snprintf(char *buf, int size, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

// Run format on a variable argument list (used for panic's prefix).
static void
formatl(struct out *o, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  format(o, fmt, ap);
  va_end(ap);
}

// Print "user panic in env <id>: <message>" as one console write and
// exit with status 255.
void
panic(const char *fmt, ...)
{
  struct conout c;
  va_list ap;

  con_init(&c, 2);
  formatl(&c.o, "user panic in env %08x: ", sys_getenvid());
  va_start(ap, fmt);
  format(&c.o, fmt, ap);
  va_end(ap);
  emit(&c.o, "\n", 1);
  con_flush(&c);
  exit(255);
}
