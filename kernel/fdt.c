// A minimal flattened-device-tree reader: finds the RAM size (/memory reg)
// and the boot arguments (/chosen/bootargs, from QEMU's -append).
#include "defs.h"

#define FDT_MAGIC      0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9

uint64 fdt_pa, fdt_size;

static uint32 be32(const void *p)
{
  const uchar *b = p;
  return ((uint32)b[0] << 24) | ((uint32)b[1] << 16) | ((uint32)b[2] << 8) | b[3];
}

static uint64 be64(const void *p) { return ((uint64)be32(p) << 32) | be32((const uchar *)p + 4); }

// Parse the tree at physical address dtb_pa.  *ramsize gets the size of the
// memory node at RAMBASE (0 if none); bootargs gets /chosen/bootargs.
void fdt_parse(uint64 dtb_pa, uint64 *ramsize, char *bootargs, int bootlen)
{
  const uchar *fdt = (const uchar *)KVA(dtb_pa);
  *ramsize = 0;
  bootargs[0] = 0;
  if (be32(fdt) != FDT_MAGIC)
    return;
  fdt_pa = dtb_pa;
  fdt_size = be32(fdt + 4);
  const uchar *p = fdt + be32(fdt + 8);
  const char *strings = (const char *)fdt + be32(fdt + 12);
  int depth = 0, in_memory = 0, in_chosen = 0;
  for (;;) {
    uint32 tok = be32(p);
    p += 4;
    if (tok == FDT_BEGIN_NODE) {
      const char *name = (const char *)p;
      uint64 n = strlen(name);
      depth++;
      if (depth == 2) {
        in_memory = strncmp(name, "memory", 6) == 0;
        in_chosen = strncmp(name, "chosen", 7) == 0;
      }
      p += (n + 4) & ~3UL;
    } else if (tok == FDT_END_NODE) {
      if (depth == 2)
        in_memory = in_chosen = 0;
      depth--;
    } else if (tok == FDT_PROP) {
      uint32 len = be32(p), nameoff = be32(p + 4);
      const uchar *val = p + 8;
      const char *pname = strings + nameoff;
      if (depth == 2 && in_memory && strncmp(pname, "reg", 4) == 0 && len >= 16 &&
          be64(val) == RAMBASE)
        *ramsize = be64(val + 8);
      if (depth == 2 && in_chosen && strncmp(pname, "bootargs", 9) == 0) {
        uint32 n = len < (uint32)bootlen ? len : (uint32)bootlen - 1;
        memcpy(bootargs, val, n);
        bootargs[n] = 0;
      }
      p = val + ((len + 3) & ~3U);
    } else if (tok == FDT_NOP) {
      continue;
    } else {
      break;
    }
  }
}
