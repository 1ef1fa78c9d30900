// kv: the key-value store (ulib/kv.c) from the shell, on the app extent
// that init or the shell hands a lone foreground program.
//
//   kv put KEY VALUE...    (the words of the value joined by spaces)
//   kv get KEY             prints the value and a newline
//   kv del KEY
//   kv stat                keys, records and blocks in use
//   kv format              an empty store
#include "lib.h"

static void usage(void)
{
  printf("usage: kv put KEY VALUE... | kv get KEY | kv del KEY | kv stat | kv format\n");
  exit(1);
}

int main(int argc, char **argv)
{
  static char val[KV_MAXVAL + 1];
  if (argc < 2)
    usage();
  if (!app_count) {
    printf("kv: no app extent (run kv alone, in the foreground)\n");
    return 1;
  }
  int format = strcmp(argv[1], "format") == 0;
  int r = kv_open(app_start, app_count, format ? KV_FORMAT : 0);
  if (r < 0) {
    printf("kv: cannot open the store: %s\n", errstr(r));
    return 1;
  }
  if (format)
    return 0;
  if (strcmp(argv[1], "stat") == 0) {
    struct kv_stats s;
    kv_get_stats(&s);
    printf("%lu keys, %lu records, %lu of %lu blocks\n", s.keys, s.records, s.blocks, app_count);
    return 0;
  }
  if (argc < 3)
    usage();
  char *key = argv[2];
  if (strcmp(argv[1], "put") == 0 && argc >= 4) {
    int n = 0;
    for (int i = 3; i < argc; i++) {
      int len = strlen(argv[i]);
      if (n + (i > 3) + len > KV_MAXVAL) {
        printf("kv: the value is longer than %d bytes\n", KV_MAXVAL);
        return 1;
      }
      if (i > 3)
        val[n++] = ' ';
      memcpy(val + n, argv[i], len);
      n += len;
    }
    r = kv_put(key, val, n);
  } else if (strcmp(argv[1], "get") == 0 && argc == 3) {
    r = kv_get(key, val, KV_MAXVAL);
    if (r >= 0) {
      val[r] = '\n';
      write(1, val, r + 1);
      return 0;
    }
  } else if (strcmp(argv[1], "del") == 0 && argc == 3) {
    r = kv_del(key);
  } else {
    usage();
  }
  if (r == -E_NOENT)
    printf("kv: %s: no such key\n", key);
  else if (r == -E_NOSPC)
    printf("kv: %s: the store is full\n", key);
  else if (r < 0)
    printf("kv: %s: %s\n", key, errstr(r));
  return r < 0;
}
