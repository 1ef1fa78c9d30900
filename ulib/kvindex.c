// The key-value store's index (ulib/kv.c): in memory only, rebuilt from the
// log at every open.  A hash table of KV_NKEYS entries in chains; entry
// numbers are kept plus one, so that a zeroed table is an empty one.
#include "kv.h"

#define NBUCKET 1024                    // a power of two

static struct kvent ent[KV_NKEYS];
static uint32 bucket[NBUCKET];          // the first entry of each chain (+1; 0: none)
static uint32 freelist;                 // unused entries, chained by next (+1)
static uint64 count, used;              // keys in the table; entries ever handed out

static uint32 hash(const char *key)
{
  uint32 h = 2166136261U;
  while (*key)
    h = (h ^ (uchar)*key++) * 16777619U;
  return h & (NBUCKET - 1);
}

void kvidx_reset(void)
{
  memset(bucket, 0, sizeof bucket);
  freelist = 0;
  count = used = 0;
}

struct kvent *kvidx_find(const char *key)
{
  for (uint32 i = bucket[hash(key)]; i; i = ent[i - 1].next)
    if (strcmp(ent[i - 1].key, key) == 0)
      return &ent[i - 1];
  return 0;
}

int kvidx_set(const char *key, uint64 pos, int vlen)
{
  struct kvent *e = kvidx_find(key);
  if (!e) {
    uint32 i;
    if (freelist) {
      i = freelist;
      freelist = ent[i - 1].next;
    } else if (used < KV_NKEYS) {
      i = ++used;
    } else {
      return -E_NOSPC;
    }
    e = &ent[i - 1];
    strncpy(e->key, key, KV_MAXKEY);
    e->key[KV_MAXKEY] = 0;
    uint32 b = hash(key);
    e->next = bucket[b];
    bucket[b] = i;
    count++;
  }
  e->pos = pos;
  e->vlen = vlen;
  return 0;
}

int kvidx_del(const char *key)
{
  for (uint32 *link = &bucket[hash(key)]; *link; link = &ent[*link - 1].next) {
    uint32 i = *link;
    if (strcmp(ent[i - 1].key, key) == 0) {
      *link = ent[i - 1].next;
      ent[i - 1].next = freelist;
      freelist = i;
      count--;
      return 0;
    }
  }
  return -E_NOENT;
}

uint64 kvidx_count(void)
{
  return count;
}
