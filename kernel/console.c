// The kernel debug console: polled output on the NS16550A UART, used for the
// banner, panics, kill messages and the SYS_cputs debug call.
#include "defs.h"

#define UART_THR 0          // transmit holding register
#define UART_LSR 5          // line status register
#define LSR_THRE (1 << 5)   // THR empty

static struct spinlock conslock;
static volatile uchar *const uart = (volatile uchar *)KVA(UART0);

void consinit(void) { initlock(&conslock, "console"); }

static void uart_putc(int c)
{
  while ((uart[UART_LSR] & LSR_THRE) == 0)
    ;
  uart[UART_THR] = c;
}

void kputc(int c)
{
  if (c == '\n')
    uart_putc('\r');
  uart_putc(c);
}

// Write n bytes as one unit: output of several harts does not interleave.
void kwrite(const char *s, uint64 n)
{
  acquire(&conslock);
  for (uint64 i = 0; i < n; i++)
    kputc(s[i]);
  release(&conslock);
}

static int fmtnum(char *buf, uint64 x, int base, int sign, int width, char pad)
{
  char tmp[24];
  int n = 0, neg = 0, len = 0;
  if (sign && (int64)x < 0) { neg = 1; x = -(int64)x; }
  do { tmp[n++] = "0123456789abcdef"[x % base]; x /= base; } while (x);
  if (neg) tmp[n++] = '-';
  while (n + len < width && len < 20) buf[len++] = pad;
  while (n > 0) buf[len++] = tmp[--n];
  return len;
}

// Formats %d %u %x %p %s %c with an optional 0-padded width and l.
static int vformat(char *out, int size, const char *fmt, __builtin_va_list ap)
{
  int len = 0;
  char num[48];
  for (; *fmt && len < size - 1; fmt++) {
    if (*fmt != '%') { out[len++] = *fmt; continue; }
    fmt++;
    char pad = ' ';
    int width = 0, lng = 0, n = 0;
    if (*fmt == '0') { pad = '0'; fmt++; }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l') { lng = 1; fmt++; }
    const char *s = num;
    switch (*fmt) {
    case 'd': n = fmtnum(num, lng ? __builtin_va_arg(ap, int64) : __builtin_va_arg(ap, int), 10, 1, width, pad); break;
    case 'u': n = fmtnum(num, lng ? __builtin_va_arg(ap, uint64) : __builtin_va_arg(ap, uint32), 10, 0, width, pad); break;
    case 'x': n = fmtnum(num, lng ? __builtin_va_arg(ap, uint64) : __builtin_va_arg(ap, uint32), 16, 0, width, pad); break;
    case 'p': num[0] = '0'; num[1] = 'x'; n = 2 + fmtnum(num + 2, __builtin_va_arg(ap, uint64), 16, 0, 0, '0'); break;
    case 'c': num[0] = __builtin_va_arg(ap, int); n = 1; break;
    case 's': s = __builtin_va_arg(ap, const char *); if (!s) s = "(null)"; n = strlen(s); break;
    case '%': num[0] = '%'; n = 1; break;
    default: num[0] = '%'; num[1] = *fmt; n = 2; if (!*fmt) fmt--; break;
    }
    for (int i = 0; i < n && len < size - 1; i++) out[len++] = s[i];
  }
  out[len] = 0;
  return len;
}

void kprintf(const char *fmt, ...)
{
  char buf[256];
  __builtin_va_list ap;
  __builtin_va_start(ap, fmt);
  int n = vformat(buf, sizeof buf, fmt, ap);
  __builtin_va_end(ap);
  kwrite(buf, n);
}

void panic(const char *fmt, ...)
{
  char buf[256];
  __builtin_va_list ap;
  intr_off();
  __builtin_va_start(ap, fmt);
  int n = vformat(buf, sizeof buf, fmt, ap);
  __builtin_va_end(ap);
  // no lock: the panicking hart may hold it
  const char *p = "panic: ";
  while (*p) kputc(*p++);
  for (int i = 0; i < n; i++) kputc(buf[i]);
  kputc('\n');
  sbi_shutdown();
}

// The kernel's lab stubs in this build (LAB_TODO, defs.h), one line each.
void labs_report(void)
{
  extern const struct labtodo labtodo_start[], labtodo_end[];
  for (const struct labtodo *t = labtodo_start; t < labtodo_end; t++)
    kprintf("lab %s: %s is not written yet\n", t->lab, t->what);
}
