// kvbench: the same small-record workload on the key-value store (ulib/kv.c,
// on the app extent) and on the file system, counted in instructions as
// fsbench counts them (run as `init kvbench` under -icount: see fsbench.c;
// the hart's idle time waiting for the disk is subtracted).
//
// The workload: N puts of distinct random keys ("k" and 8 hex digits) with
// values of 64 to 191 bytes, then N gets of them in another random order,
// each value checked.  On the file system it is done the natural way: one
// file per key in one directory, /kvb/<key>; a put is open(O_CREATE |
// O_TRUNC), write, close, a get is open, read, close.  Both are equally
// durable: a put is on the disk when it returns (the file server commits
// each operation; the store writes its tail block).
//
//   kvbench [N [SEED]]      N at most 1,000 (default 200)
//
// Prints "bench kv_put|fs_put|kv_get|fs_get <n> insn/op", the store's
// recovery time (kv_open over the N records) and how many times faster
// the store is, in tenths ("kvbench: ratio put <x10> get <x10>").
#include "lib.h"

#define MAXN 1000

static char keys[MAXN][12];
static char vals[MAXN][192];             // made before the clock starts
static uint8 lens[MAXN];
static uint16 order[MAXN];
static uint64 seed;
static char got[256];

static uint64 now(void)
{
  return rdinstret() - usys->idle_instret;
}

static uint64 mix(uint64 x)              // splitmix64's finaliser
{
  x += 0x9E3779B97F4A7C15UL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
  return x ^ (x >> 31);
}

// Key i's value: lens[i] letters.
static void make_value(int i)
{
  uint64 x = mix(seed ^ (i * 7919UL));
  for (int j = 0; j < lens[i]; j++) {
    x = mix(x);
    vals[i][j] = 'a' + x % 26;
  }
}

static void die(const char *what, const char *key, int r)
{
  printf("kvbench: FAIL: %s %s: %s\n", what, key, errstr(r));
  exit(1);
}

static void report(const char *name, uint64 insn, uint64 n, const char *unit)
{
  printf("bench %s %lu insn/%s\n", name, (insn + n / 2) / n, unit);
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 200;
  seed = argc > 2 ? strtol(argv[2], 0, 0) : 1;
  if (n < 1 || n > MAXN) {
    printf("usage: kvbench [N [SEED]] (N at most %d)\n", MAXN);
    return 1;
  }
  if (!app_count) {
    printf("kvbench: no app extent (run it alone, in the foreground)\n");
    return 1;
  }
  int r = kv_open(app_start, app_count, KV_FORMAT);
  if (r < 0)
    die("kv_open", "(format)", r);
  // distinct random keys; the gets go in another random order
  for (int i = 0; i < n; i++) {
    uint64 x = mix(seed * 1000003 + i);
    snprintf(keys[i], sizeof keys[i], "k%08x", (uint32)x);
    for (int j = 0; j < i; j++)
      if (strcmp(keys[i], keys[j]) == 0)
        keys[i][1] = 'x';                  // (not hex: differs from every other)
    lens[i] = 64 + (x >> 32) % 128;
    make_value(i);
    order[i] = i;
  }
  for (int i = n - 1; i > 0; i--) {
    int j = mix(seed + i) % (i + 1);
    uint16 t = order[i];
    order[i] = order[j];
    order[j] = t;
  }

  // the store
  uint64 t = now();
  for (int i = 0; i < n; i++)
    if ((r = kv_put(keys[i], vals[i], lens[i])) < 0)
      die("kv_put", keys[i], r);
  uint64 kv_put_insn = now() - t;
  t = now();
  for (int i = 0; i < n; i++) {
    int k = order[i];
    if ((r = kv_get(keys[k], got, sizeof got)) != lens[k])
      die("kv_get", keys[k], r);
    if (memcmp(got, vals[k], lens[k]) != 0)
      check(0, "kv_get %s: wrong value", keys[k]);
  }
  uint64 kv_get_insn = now() - t;
  t = now();
  if ((r = kv_open(app_start, app_count, 0)) < 0)
    die("kv_open", "(recovery)", r);
  uint64 kv_open_insn = now() - t;
  struct kv_stats s;
  kv_get_stats(&s);
  check(s.keys == (uint64)n, "%lu keys after recovery, want %d", s.keys, n);
  printf("kvbench: the store: %lu keys, %lu records, %lu blocks\n", s.keys, s.records, s.blocks);

  // the file system: one file per key
  char path[32];
  if ((r = mkdir("/kvb")) < 0)
    die("mkdir", "/kvb", r);
  t = now();
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "/kvb/%s", keys[i]);
    int fd = open(path, O_CREATE | O_WRONLY | O_TRUNC);
    if (fd < 0)
      die("create", path, fd);
    if ((r = write(fd, vals[i], lens[i])) != lens[i])
      die("write", path, r);
    close(fd);
  }
  uint64 fs_put_insn = now() - t;
  t = now();
  for (int i = 0; i < n; i++) {
    int k = order[i];
    snprintf(path, sizeof path, "/kvb/%s", keys[k]);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
      die("open", path, fd);
    if ((r = read(fd, got, sizeof got)) != lens[k])
      die("read", path, r);
    close(fd);
    if (memcmp(got, vals[k], lens[k]) != 0)
      check(0, "read %s: wrong value", path);
  }
  uint64 fs_get_insn = now() - t;

  report("kv_put", kv_put_insn, n, "op");
  report("fs_put", fs_put_insn, n, "op");
  report("kv_get", kv_get_insn, n, "op");
  report("fs_get", fs_get_insn, n, "op");
  report("kv_recover", kv_open_insn, 1, "open");
  uint64 put10 = fs_put_insn * 10 / (kv_put_insn ? kv_put_insn : 1);
  uint64 get10 = fs_get_insn * 10 / (kv_get_insn ? kv_get_insn : 1);
  printf("kvbench: %d keys: the store is %lu.%lux as fast as the file system for puts, "
         "%lu.%lux for gets\n", n, put10 / 10, put10 % 10, get10 / 10, get10 % 10);
  printf("kvbench: ratio put %lu get %lu\n", put10, get10);
  return check_report();
}
