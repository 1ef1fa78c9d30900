// The file server's buffer cache: one page per disk block, found by a hash
// of the block number, reused least recently used first.  Part of the file
// system core (fs.c lists its files); struct buf is in fsint.h.
#include "lib.h"
#include "fsformat.h"
#include "fs.h"
#include "fsint.h"

// ---- the buffer cache: one page per block, at BCACHE + slot * PGSIZE ----

struct buf bufs[NBUF];
int16 htab[NHASH];
static int lru_head = -1, lru_tail = -1, nslots;
static int16 nopage[NBUF];      // slots whose page went back (cache_shrink)
static int nnopage;
uint64 cache_hits, cache_misses;

void *bdata(struct buf *b) { return BDATA(slot(b)); }
uint64 bva(struct buf *b) { return (uint64)BDATA(slot(b)); }

static void lru_unlink(int i)
{
  struct buf *b = &bufs[i];
  if (b->prev >= 0) bufs[b->prev].next = b->next; else lru_head = b->next;
  if (b->next >= 0) bufs[b->next].prev = b->prev; else lru_tail = b->prev;
}

static void lru_front(int i)
{
  bufs[i].prev = -1;
  bufs[i].next = lru_head;
  if (lru_head >= 0) bufs[lru_head].prev = i;
  lru_head = i;
  if (lru_tail < 0) lru_tail = i;
}

void hash_remove(int i)
{
  int16 *p = &htab[bufs[i].blockno % NHASH];
  while (*p >= 0 && *p != i)
    p = &bufs[*p].hnext;
  if (*p == i)
    *p = bufs[i].hnext;
  bufs[i].valid = 0;
}

static struct buf *lookup(uint32 blockno)
{
  for (int i = htab[blockno % NHASH]; i >= 0; i = bufs[i].hnext)
    if (bufs[i].blockno == blockno && bufs[i].valid) {
      if (lru_head != i) {
        lru_unlink(i);
        lru_front(i);
      }
      return &bufs[i];
    }
  return 0;
}

// Give slot i a page of its own again if a client still maps its page (a
// read lends cache pages, read-only): the client keeps the old page as it
// is, and never sees another block, or changes, in it.  0 or an error.
int unshare(int i, int copy)
{
  uint64 va = (uint64)BDATA(i);
  pte_t pte = uvpt_pte(va);
  if (!(pte & PTE_V) || upages[PTE_PPN(pte) - PPN_BASE].refs <= 1)
    return 0;
  int64 ppn = sys_page_alloc(0);
  if (ppn < 0)
    return ppn;
  int r = sys_pte_set(0, SRVTMP, PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D));
  if (r == 0 && copy)
    memcpy((void *)(SRVTMP), (void *)va, PGSIZE);
  if (r == 0)
    r = page_unmap(va);                     // (the client's mapping keeps the old page)
  if (r == 0)
    r = sys_pte_set_from(0, va, PPN_PTE(ppn, PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D), SRVTMP);
  sys_pte_set(0, SRVTMP, 0);
  if (r < 0)
    sys_page_free(ppn);
  return r;
}

// A slot for blockno (not yet valid): a fresh page while the cache grows
// and memory is plentiful, else the least recently used block that the
// current operation has not changed.  Its page stays mapped: evicting only
// forgets the contents.
static struct buf *claim(uint32 blockno)
{
  int i, grow = nnopage > 0 || nslots < NBUF;
  for (i = lru_tail; i >= 0 && bufs[i].logged; i = bufs[i].prev)
    ;
  if (grow && (i < 0 || usys->nfree > CACHE_SPARE)) {
    int j = nnopage ? nopage[nnopage - 1] : nslots;
    // (with a block to evict, a cache does not wait for memory)
    if ((i < 0 ? page_map : page_map_now)((uint64)BDATA(j), PTE_R | PTE_W) == 0) {
      if (nnopage)
        nnopage--;
      else
        nslots++;
      i = j;
      goto fresh;
    }
  }
  if (i < 0)
    return 0;
  if (unshare(i, 0) < 0)
    return 0;
  lru_unlink(i);
  hash_remove(i);
fresh:;
  struct buf *b = &bufs[i];
  b->blockno = blockno;
  b->logged = 0;
  b->hnext = htab[blockno % NHASH];
  htab[blockno % NHASH] = i;
  lru_front(i);
  return b;
}

// Give back up to n cache pages, least recently used first, never a block
// the current operation changed (between requests none is) nor the most
// recent (a read's reply may be lending it).  Their slots
// stay, without a page, for claim to fill again.  How many went.
int cache_shrink(int n)
{
  int done = 0;
  for (int i = lru_tail, prev; i >= 0 && i != lru_head && done < n; i = prev) {
    prev = bufs[i].prev;
    if (bufs[i].logged)
      continue;
    lru_unlink(i);
    hash_remove(i);
    page_unmap((uint64)BDATA(i));            // (a client reading it keeps it till done)
    nopage[nnopage++] = i;
    done++;
  }
  return done;
}

int cache_pages(void) { return nslots - nnopage; }

// The cached block, read from the disk if need be.  0 and *err on failure.
struct buf *bread(uint32 blockno, int *err)
{
  struct buf *b = lookup(blockno);
  if (b) {
    cache_hits++;
    return b;
  }
  cache_misses++;
  if (blockno >= sb.size && sb.size) {
    *err = -E_CORRUPT;
    return 0;
  }
  if (!(b = claim(blockno))) {
    *err = -E_NO_MEM;
    return 0;
  }
  int r = sys_blk_io(BLK_READ, blockno, bdata(b), 1);
  if (r < 0) {
    hash_remove(slot(b));
    *err = r;
    return 0;
  }
  b->valid = 1;
  return b;
}

// A cache slot for a block about to be overwritten whole: zeroed, no read.
struct buf *bzero_new(uint32 blockno, int *err)
{
  struct buf *b = lookup(blockno);
  if (!b && !(b = claim(blockno))) {
    *err = -E_NO_MEM;
    return 0;
  }
  memset(bdata(b), 0, BSIZE);
  b->valid = 1;
  return b;
}
