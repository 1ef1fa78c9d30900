// Exceptions dispatched to user-level handlers: breakpoint, illegal
// instruction, misaligned access, page faults with a handler that maps the
// page, nested faults, and every register intact after the resume.
#include "lib.h"

static int hits[NCAUSE];
static uint64 last_tval;

// Count the exception and step over the faulting instruction.
static int skip(struct uframe *f)
{
  hits[f->cause]++;
  last_tval = f->tval;
  uint16 insn = *(uint16 *)f->tf.pc;
  f->tf.pc += (insn & 3) == 3 ? 4 : 2;
  return 1;
}

#define MAPVA 0x7000000UL
static int mapper_calls, rewrite_regs;

// Map a page at MAPVA on demand, filled with a marker.  With rewrite_regs,
// also change every register of the frame it resumes but sp, gp and a1 (as a
// thread switch does): the return path must take each from the frame, not
// count on the handler's C code to have kept the callee-saved ones.
static int mapper(struct uframe *f)
{
  if ((f->tval & ~(PGSIZE - 1)) != MAPVA)
    return 0;
  mapper_calls++;
  if (page_map(MAPVA, PTE_R | PTE_W) < 0)
    return 0;
  *(volatile uint64 *)MAPVA = 0x5EED;
  uint64 *x = (uint64 *)&f->tf;              // x1 .. x31, then the pc
  for (int r = 1; rewrite_regs && r < 32; r++)
    if (r != 2 && r != 3 && r != 11)      // (a1: the address the load retries)
      x[r - 1] = 200 + r;
  return 1;
}

static int depth, maxdepth;
static volatile char *lazy;

// A breakpoint handler that itself takes faults: nested upcalls.
static int nester(struct uframe *f)
{
  depth++;
  if (depth > maxdepth)
    maxdepth = depth;
  lazy[depth * PGSIZE] = 1;                 // demand-zero page fault inside a handler
  if (depth < 3)
    asm volatile(".4byte 0x00100073");     // ebreak (4 bytes) inside a handler
  f->tf.pc += 4;
  depth--;
  return 1;
}

// A frame that straddles two pages of the exception stack (the kernel's
// general copy, not the short path): inside a breakpoint handler, move sp
// to just above the boundary between the stack's two pages and take
// another breakpoint; the inner handler's frame lies across the boundary.
static int straddle_state;
static int straddler(struct uframe *f)
{
  if (straddle_state == 1) {
    straddle_state = 2;
    uint64 nsp = UXSTACKTOP - PGSIZE + 128;  // the frame goes 280 bytes below
    asm volatile("mv t0, sp\n mv sp, %0\n .4byte 0x00100073\n mv sp, t0" : : "r"(nsp)
                 : "t0", "memory");
  } else if (straddle_state == 2) {
    straddle_state = 3;
    check(f == (void *)((UXSTACKTOP - PGSIZE + 128 - sizeof *f) & ~15UL),
          "the nested frame is at %p, not just below the handler's sp", f);
  }
  f->tf.pc += 4;
  return 1;
}

// A frame that fits the exception stack exactly: inside a breakpoint
// handler, move sp to one frame (rounded up to 16 bytes) above the stack's
// bottom and take another breakpoint; the nested frame must go exactly at
// the bottom, not be refused as an overflow.  (Its handler's own calls run
// below the stack: the test maps the guard page there meanwhile.)
static int exact_state;
static int exact(struct uframe *f)
{
  if (exact_state == 1) {
    exact_state = 2;
    uint64 nsp = UXSTACKTOP - UXSTACKSIZE + ((sizeof *f + 15) & ~15UL);
    asm volatile("mv t0, sp\n mv sp, %0\n .4byte 0x00100073\n mv sp, t0" : : "r"(nsp)
                 : "t0", "memory");
  } else if (exact_state == 2) {
    exact_state = 3;
    check(f == (void *)(UXSTACKTOP - UXSTACKSIZE), "the frame that fits exactly is at %p", f);
  }
  f->tf.pc += 4;
  return 1;
}

// Load known values into every register but sp and gp, take a page fault on
// an unmapped lazy page, and store the registers afterwards.
extern void regs_probe(uint64 *out, uint64 faultva);
asm(".globl regs_probe\n"
    "regs_probe:\n"
    "  addi sp, sp, -128\n"
    "  sd ra, 0(sp); sd s0, 8(sp); sd s1, 16(sp); sd s2, 24(sp); sd s3, 32(sp); sd s4, 40(sp)\n"
    "  sd s5, 48(sp); sd s6, 56(sp); sd s7, 64(sp); sd s8, 72(sp); sd s9, 80(sp); sd s10, 88(sp)\n"
    "  sd s11, 96(sp); sd tp, 104(sp); sd a0, 112(sp)\n"
    "  li ra, 101; li tp, 104; li t0, 105; li t1, 106; li t2, 107; li s0, 108; li s1, 109\n"
    "  li a2, 112; li a3, 113; li a4, 114; li a5, 115; li a6, 116; li a7, 117\n"
    "  li s2, 118; li s3, 119; li s4, 120; li s5, 121; li s6, 122; li s7, 123; li s8, 124\n"
    "  li s9, 125; li s10, 126; li s11, 127; li t3, 128; li t4, 129; li t5, 130; li t6, 131\n"
    "  li a0, 110\n"
    "  ld zero, 0(a1)\n"                      // the fault: a1 is an untouched heap page
    "  li a1, 111\n"
    "  sd a0, 120(sp)\n"
    "  ld a0, 112(sp)\n"
    "  sd ra, 8(a0); sd tp, 32(a0); sd t0, 40(a0); sd t1, 48(a0); sd t2, 56(a0)\n"
    "  sd s0, 64(a0); sd s1, 72(a0); ld a1, 120(sp); sd a1, 80(a0)\n"
    "  sd a2, 96(a0); sd a3, 104(a0); sd a4, 112(a0); sd a5, 120(a0)\n"
    "  sd a6, 128(a0); sd a7, 136(a0); sd s2, 144(a0); sd s3, 152(a0); sd s4, 160(a0)\n"
    "  sd s5, 168(a0); sd s6, 176(a0); sd s7, 184(a0); sd s8, 192(a0); sd s9, 200(a0)\n"
    "  sd s10, 208(a0); sd s11, 216(a0); sd t3, 224(a0); sd t4, 232(a0); sd t5, 240(a0)\n"
    "  sd t6, 248(a0)\n"
    "  ld ra, 0(sp); ld s0, 8(sp); ld s1, 16(sp); ld s2, 24(sp); ld s3, 32(sp); ld s4, 40(sp)\n"
    "  ld s5, 48(sp); ld s6, 56(sp); ld s7, 64(sp); ld s8, 72(sp); ld s9, 80(sp); ld s10, 88(sp)\n"
    "  ld s11, 96(sp); ld tp, 104(sp)\n"
    "  addi sp, sp, 128\n"
    "  ret\n");

// The no-upcall window (ulib/upentry.S) must cover the whole return path:
// it starts where upcall_dispatch returns to (the instruction after the
// first call in upcall_entry) and ends just after the jump back to the
// interrupted pc.  An asynchronous upcall delivered after the first
// register is restored would overwrite what was restored; this reads the
// linked code itself, so it holds however the path is written.
extern char upcall_entry[], upcall_restore_start[], upcall_restore_end[];

static int insn_len(uint8 *p) { return (*(uint16 *)p & 3) == 3 ? 4 : 2; }

static int is_call(uint8 *p)              // jalr ra, ... / c.jalr / jal ra
{
  uint32 i = *(uint16 *)p | (insn_len(p) == 4 ? (uint32)*(uint16 *)(p + 2) << 16 : 0);
  if (insn_len(p) == 2)
    return (i & 0xf07f) == 0x9002 && ((i >> 7) & 31) != 0;
  return ((i & 0x7f) == 0x67 || (i & 0x7f) == 0x6f) && ((i >> 7) & 31) == 1;
}

static int is_jr(uint8 *p)                // jalr zero, 0(rs) / c.jr rs
{
  uint32 i = *(uint16 *)p | (insn_len(p) == 4 ? (uint32)*(uint16 *)(p + 2) << 16 : 0);
  if (insn_len(p) == 2)
    return (i & 0xf07f) == 0x8002 && ((i >> 7) & 31) != 0;
  return (i & 0x7f) == 0x67 && ((i >> 7) & 31) == 0 && (i >> 20) == 0;
}

static void window_check(void)
{
  uint8 *p = (uint8 *)upcall_entry, *last = 0;
  while (p < (uint8 *)upcall_restore_start && !is_call(p))
    p += insn_len(p);
  check(p < (uint8 *)upcall_restore_start && p + insn_len(p) == (uint8 *)upcall_restore_start,
        "the no-upcall window does not start where upcall_dispatch returns (entry %p, window %p-%p)",
        upcall_entry, upcall_restore_start, upcall_restore_end);
  for (p = (uint8 *)upcall_restore_start; p < (uint8 *)upcall_restore_end; p += insn_len(p))
    last = p;
  check(last && is_jr(last) && last + insn_len(last) == (uint8 *)upcall_restore_end,
        "the no-upcall window %p-%p does not end with the jump back to the interrupted pc",
        upcall_restore_start, upcall_restore_end);
}

// The registry's order, seen through handlers that log their number
// (reglog gains a digit per call) and take the exception only when their
// number is take_id.
static uint64 reglog;
static int take_id;
static int logger(int id, struct uframe *f)
{
  reglog = reglog * 10 + id;
  if (id != take_id)
    return 0;
  f->tf.pc += (*(uint16 *)f->tf.pc & 3) == 3 ? 4 : 2;
  return 1;
}
static int h1(struct uframe *f) { return logger(1, f); }
static int h2(struct uframe *f) { return logger(2, f); }
static int h3(struct uframe *f) { return logger(3, f); }
static int h4(struct uframe *f) { return logger(4, f); }
static int h5(struct uframe *f) { return logger(5, f); }

// A tick handler that counts and takes nothing: the tick is then one that
// nobody takes, which the dispatcher ignores.
static volatile int ticks_seen;
static int tick_counter(struct uframe *f)
{
  ticks_seen++;
  return 0;
}

extern void upcall_dispatch(struct uframe *f);

static const char *regname[32] = {
  "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
  "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

int main(int argc, char **argv)
{
  window_check();

  set_handler(CAUSE_BREAKPOINT, skip);
  asm volatile("ebreak");
  asm volatile(".4byte 0x00100073");
  check(hits[CAUSE_BREAKPOINT] == 2, "breakpoint handler ran %d times, not 2", hits[CAUSE_BREAKPOINT]);

  set_handler(CAUSE_ILLEGAL, skip);
  asm volatile(".4byte 0xc0001073");       // csrw cycle, zero: illegal in U-mode
  asm volatile(".2byte 0x0000");           // the all-zero 16-bit instruction
  check(hits[CAUSE_ILLEGAL] == 2, "illegal-instruction handler ran %d times", hits[CAUSE_ILLEGAL]);

  // Misaligned atomics are not emulated by the firmware: they reach us (as
  // a misaligned load or store, depending on the firmware's path).
  set_handler(CAUSE_MISALIGNED_LOAD, skip);
  set_handler(CAUSE_MISALIGNED_STORE, skip);
  set_handler(CAUSE_STORE_ACCESS, skip);
  static uint64 words[2];
  uint64 addr = (uint64)words + 1, old = 0;
  asm volatile("amoadd.w %0, %1, (%2)" : "=r"(old) : "r"(1), "r"(addr) : "memory");
  int mis = hits[CAUSE_MISALIGNED_LOAD] + hits[CAUSE_MISALIGNED_STORE] + hits[CAUSE_STORE_ACCESS];
  check(mis == 1 && last_tval == addr, "misaligned AMO: handler ran %d times, tval %p", mis,
        (void *)last_tval);

  set_handler(CAUSE_LOAD_PAGE, mapper);
  set_handler(CAUSE_STORE_PAGE, mapper);
  check(*(volatile uint64 *)MAPVA == 0x5EED && mapper_calls == 1, "page-fault handler did not map the page");
  *(volatile uint64 *)(MAPVA + 8) = 1;
  check(mapper_calls == 1, "handler called again for a mapped page");
  page_unmap(MAPVA);
  check(*(volatile uint64 *)MAPVA == 0x5EED && mapper_calls == 2, "fault after unmapping not delivered");

  lazy = sbrk(8 * PGSIZE);
  set_handler(CAUSE_BREAKPOINT, nester);
  asm volatile(".4byte 0x00100073");
  check(maxdepth == 3 && depth == 0, "nested upcalls: depth reached %d", maxdepth);
  check(upcall_stack_grow() == 0, "map the whole exception stack");
  set_handler(CAUSE_BREAKPOINT, straddler);
  straddle_state = 1;
  asm volatile(".4byte 0x00100073");
  check(straddle_state == 3, "a frame across two pages of the exception stack was not delivered");
  uint64 guard = UXSTACKTOP - UXSTACKSIZE - PGSIZE;
  check(page_map(guard, PTE_R | PTE_W) == 0, "map the guard page below the exception stack");
  set_handler(CAUSE_BREAKPOINT, exact);
  exact_state = 1;
  asm volatile(".4byte 0x00100073");
  check(exact_state == 3, "a frame that fits the exception stack exactly was not delivered");
  page_unmap(guard);

  // set_handler refuses a cause there is none of (it panics: in a child)
  envid_t c = fork();
  if (c == 0) {
    set_handler(NCAUSE, nester);
    exit(0);
  }
  int st = 0;
  check(c > 0 && waitenv(c, &st) == c && st != 0, "set_handler took cause %d (status %d)", NCAUSE, st);
  check(lazy[PGSIZE] == 1 && lazy[3 * PGSIZE] == 1, "nested page faults lost their writes");

  // Every cause that exists may have handlers, the first and the last too.
  c = fork();
  if (c == 0) {
    set_handler(CAUSE_MISALIGNED_FETCH, skip);
    set_handler(NCAUSE - 1, skip);
    exit(0);
  }
  check(c > 0 && waitenv(c, &st) == c && st == 0, "set_handler refused cause 0 or %d (status %d)",
        NCAUSE - 1, st);

  // A revocation request, a repossession notice or a tick that no handler
  // takes is ignored: the env goes on.  The library's pager takes the first
  // two (ulib/swap.c): five handlers that take nothing push it off.  Those
  // two are handed to the dispatcher directly (a real one needs memory to
  // run short); the ticks are real, one per slice, seen by a handler that
  // does not take them.
  c = fork();
  if (c == 0) {
    static const int async[2] = { CAUSE_REVOKE, CAUSE_REPOSSESS };
    upcall_handler_t mine[5] = { h1, h2, h3, h4, h5 };
    struct uframe fr;
    memset(&fr, 0, sizeof fr);
    take_id = 0;
    for (int k = 0; k < 2; k++) {
      for (int j = 0; j < 5; j++)
        set_handler(async[k], mine[j]);
      fr.cause = async[k];
      fr.tval = 1;
      upcall_dispatch(&fr);
    }
    set_handler(CAUSE_TICK, tick_counter);
    sys_env_set_tick(0, 1);
    uint64 t0 = rdtime();
    while (ticks_seen < 3 && rdtime() - t0 < 5 * usys->timebase)
      sys_yield(0);
    sys_env_set_tick(0, 0);
    exit(ticks_seen >= 3 ? 0 : 2);
  }
  check(c > 0 && waitenv(c, &st) == c && st != -1,
        "a revocation request, repossession notice or tick nobody took ended the env");
  check(st != 2, "no tick came in 5 s of yields after env_set_tick(me, 1)");

  // A handler registered again moves to the front and runs once; a fifth
  // handler for a cause drops its oldest and touches no other cause's.
  set_handler(CAUSE_ILLEGAL, h1);            // after skip: h1 skip
  set_handler(CAUSE_ILLEGAL, h2);            // h2 h1 skip
  set_handler(CAUSE_ILLEGAL, h1);            // h1 h2 skip
  set_handler(CAUSE_ILLEGAL, h1);            // h1 h2 skip
  reglog = 0, take_id = 0;
  int ill = hits[CAUSE_ILLEGAL];
  asm volatile(".4byte 0xc0001073");
  check(reglog == 12 && hits[CAUSE_ILLEGAL] == ill + 1,
        "illegal-instruction handlers ran as %lu (then skip %d times), not 12 then skip once", reglog,
        hits[CAUSE_ILLEGAL] - ill);
  set_handler(CAUSE_BREAKPOINT, h5);         // h5 first for the breakpoint
  set_handler(CAUSE_ILLEGAL, h3);            // h3 h1 h2 skip
  set_handler(CAUSE_ILLEGAL, h4);            // h4 h3 h1 h2: skip falls off
  reglog = 0, take_id = 5;
  asm volatile(".4byte 0x00100073");
  check(reglog == 5, "after five illegal-instruction handlers, the breakpoint's ran as %lu, not 5",
        reglog);
  reglog = 0, take_id = 2;
  asm volatile(".4byte 0xc0001073");
  check(reglog == 4312, "illegal-instruction handlers ran as %lu, not 4312", reglog);

  // The registers across a fault on a page this program maps itself (so
  // the check holds before demand paging is written, too).
  uint64 out[32];
  page_unmap(MAPVA);
  memset(out, 0, sizeof out);
  int calls = mapper_calls;
  regs_probe(out, MAPVA);
  check(mapper_calls == calls + 1, "the register probe took no fault");
  int bad = 0;
  for (int r = 1; r < 32; r++) {
    if (r == 2 || r == 3 || r == 11)
      continue;                              // sp, gp, and a1 (the fault address)
    if (out[r] != (uint64)(100 + r))
      bad++, printf("faulttest: %s (x%d) = %ld after the fault, expected %d\n", regname[r], r, out[r],
                    100 + r);
  }
  check(bad == 0, "%d registers changed across a page-fault upcall", bad);

  // The same, with a handler that changes the frame: every register comes
  // back as the handler left it.
  page_unmap(MAPVA);
  memset(out, 0, sizeof out);
  rewrite_regs = 1;
  regs_probe(out, MAPVA);
  rewrite_regs = 0;
  bad = 0;
  for (int r = 1; r < 32; r++) {
    if (r == 2 || r == 3 || r == 11)
      continue;
    if (out[r] != (uint64)(200 + r))
      bad++, printf("faulttest: %s (x%d) = %ld after the fault, the handler set %d\n", regname[r], r,
                    out[r], 200 + r);
  }
  check(bad == 0, "%d registers not resumed as the handler left them in the frame", bad);
  return check_report();
}
