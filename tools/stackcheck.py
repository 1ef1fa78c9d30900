#!/usr/bin/env python3
"""Build-time bound on the kernel's stack depth.

    tools/stackcheck.py OBJDUMP kernel/a.o kernel/b.o ...

Each kernel object is compiled with -fcallgraph-info=su, which writes
a.ci beside a.o: every function's frame size and the calls it makes.  This
script joins those graphs, resolves indirect calls to every function whose
address is taken (found from the objects' relocations with OBJDUMP -r),
refuses recursion and frames of unbounded size, and computes the deepest
chain of frames from each entry point (the C functions trampoline.S calls
with sp at the top of the hart's stack, the short system calls among
them).  A kernel trap (kernelvec, 144
bytes, then kerneltrap) is added on top of the deepest chain, as if an
interrupt arrived there.  The total must fit in the stack (KSTACKPAGES in
kernel/memlayout.h).  Prints the deepest chain; exits 1 if it does not fit.
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Entered from assembly with a fresh stack (trampoline.S, entry.S).
ROOTS = ["usertrap", "pct_fast", "yield_syscall", "scheduler", "kstack_overflowed", "kmain"]
KERNELVEC_FRAME = 144          # trampoline.S: kernelvec's pushes
# (kernel/main.c's deep() recurses on purpose, for the guard page's test
# at boot, before any env exists: it is left out.)
# Assembly functions C calls: their stack use.  schedule() restarts the
# stack (its callers' frames are abandoned), so it adds nothing.
ASM = {"userret": 0, "schedule": 0}
# Relocations that are calls or branches, not address-taking.
CALL_RELOCS = re.compile(r"R_RISCV_(CALL|CALL_PLT|JAL|BRANCH|RVC_JUMP|RVC_BRANCH|RELAX|ALIGN)\b")

NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


def read_graphs(objs):
    """frames: title -> bytes; calls: title -> set of titles; kinds of
    frames that are not static; names: plain name -> titles."""
    frames, calls, dynamic = {}, {}, []
    for obj in objs:
        ci = obj[:-2] + ".ci"
        with open(ci) as f:
            text = f.read()
        for title, label in NODE.findall(text):
            m = re.search(r"\\n(\d+) bytes \(([^)]*)\)", label)
            if not m:
                continue                       # a declaration: defined elsewhere
            frames[title] = int(m[1])
            if m[2] != "static":
                dynamic.append(f"{title}: {m[1]} bytes ({m[2]})")
        for src, dst in EDGE.findall(text):
            calls.setdefault(src, set()).add(dst)
    return frames, calls, dynamic


def address_taken(objdump, objs, frames):
    """Titles of functions whose address is taken: (in code, callbacks that
    C calls indirectly; in data, tables that assembly calls through)."""
    code, data = set(), set()
    for obj in objs:
        out = subprocess.run([objdump, "-r", obj], capture_output=True, text=True,
                             check=True).stdout
        src = os.path.relpath(obj[:-2] + ".c", ROOT)
        section = ""
        for line in out.splitlines():
            m = re.match(r"RELOCATION RECORDS FOR \[(.*)\]", line)
            if m:
                section = m[1]
                continue
            parts = line.split()
            if len(parts) < 3 or not parts[1].startswith("R_RISCV_") or CALL_RELOCS.match(parts[1]):
                continue
            name = re.sub(r"[+-]0x[0-9a-f]+$", "", parts[2])
            for title in (f"{src}:{name}", name):
                if title in frames:
                    (code if section.startswith(".text") else data).add(title)
                    break
    return code, data


def resolve(title, frames):
    if title in frames or title in ASM:
        return title
    name = title.rsplit(":", 1)[-1]
    if name in frames:
        return name
    if title == "memset" or title == "memcpy" or title == "memmove":
        return title if title in frames else None
    return None


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    objdump, objs = sys.argv[1], sys.argv[2:]
    with open(os.path.join(ROOT, "kernel", "memlayout.h")) as f:
        pages = int(re.search(r"#define KSTACKPAGES\s+(\d+)", f.read())[1])
    limit = pages * 4096
    frames, calls, dynamic = read_graphs(objs)
    problems = [f"frame of unbounded size: {d}" for d in dynamic]
    taken, tables = address_taken(objdump, objs, frames)
    for t in list(frames):                 # the guard page's own test recursion
        if re.match(r"kernel/main.c:deep\b", t):
            del frames[t]
            calls.pop(t, None)

    def callees(t):
        for d in sorted(calls.get(t, ())):
            if d == "__indirect_call":
                yield from sorted(taken)
                continue
            r = resolve(d, frames)
            if r is None and d.startswith("kernel/main.c:deep"):
                continue
            if r is None:
                problems.append(f"{t} calls {d}, which is not in any graph")
            else:
                yield r

    depth, best, state = {}, {}, {}

    def visit(t, path):
        """Deepest stack from entering t; recursion is an error."""
        if state.get(t) == 2:
            return depth[t]
        if state.get(t) == 1:
            cycle = path[path.index(t):] + [t]
            problems.append("recursion: " + " -> ".join(cycle))
            return 0
        state[t] = 1
        own = frames.get(t, ASM.get(t, 0))
        deepest, via = 0, None
        for c in callees(t):
            d = visit(c, path + [t])
            if d > deepest:
                deepest, via = d, c
        state[t] = 2
        depth[t], best[t] = own + deepest, via
        return depth[t]

    roots = ROOTS + sorted(tables)         # (trampoline.S calls the short system calls)
    for r in roots:
        if r not in frames:
            problems.append(f"entry point {r} not found")
            continue
        visit(r, [])
    trap = visit("kerneltrap", []) + KERNELVEC_FRAME if "kerneltrap" in frames else 0
    worst = max((r for r in roots if r in depth), key=lambda r: depth[r], default=None)
    if worst:
        chain, t = [], worst
        while t:
            chain.append(f"{t.rsplit(':', 1)[-1]} {frames.get(t, 0)}")
            t = best.get(t)
        total = depth[worst] + trap
        print(f"stackcheck: deepest kernel stack {depth[worst]} bytes + a trap {trap} = {total} "
              f"of {limit}: {' > '.join(chain)}")
        if total > limit:
            problems.append(f"the kernel stack may need {total} bytes; it has {limit}")
    for p in dict.fromkeys(problems):
        print("stackcheck: " + p, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
