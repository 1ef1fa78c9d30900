#!/usr/bin/env python3
"""How much each lab's student writes: make labstats.

    tools/labstats.py [--check]

Counts, per lab of labs/manifest, the lines inside that lab's reference
regions (BEGIN LAB / END LAB, tools/handout.py) that are neither blank nor
only a comment, split into kernel code (kernel/) and the rest, and prints
a table with one row per lab and one per file.  With --check it exits 1
unless the course meets its size rule (issue 13): every lab but util has
at least MIN_LAB lines, the whole course at least MIN_TOTAL, and at least
MIN_KERNEL_LABS labs have kernel code.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import handout  # noqa: E402  (the region markers and the lab order)

MIN_LAB, MIN_TOTAL, MIN_KERNEL_LABS = 60, 1500, 3
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def code_lines(lines, hash_comments):
    """The lines of a region that hold code: not blank, not only comment."""
    text = BLOCK_COMMENT.sub(lambda m: "\n" * m[0].count("\n"), "\n".join(lines))
    n = 0
    for line in text.split("\n"):
        s = line.strip()
        if not s or s.startswith("//") or (hash_comments and s.startswith("#")):
            continue
        n += 1
    return n


def regions(root):
    """{lab: {file: lines}} over every file git tracks."""
    files = subprocess.run(["git", "ls-files"], cwd=root, stdout=subprocess.PIPE,
                           text=True, check=True).stdout.split()
    out = {}
    for rel in files:
        if rel.endswith(".md") or (rel.startswith("tools/") and rel.endswith(".py")):
            continue                      # prose, and the tools that parse the markers
        try:
            with open(os.path.join(root, rel)) as f:
                lines = f.read().split("\n")
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue
        hashc = not rel.endswith((".c", ".h"))   # .S, .py, Makefile: '#' comments too
        i = 0
        while i < len(lines):
            m = handout.BEGIN.match(lines[i])
            if not m:
                i += 1
                continue
            lab, j = m[3], i + 1
            while j < len(lines) and not (handout.END.match(lines[j])
                                          and handout.END.match(lines[j])[3] == lab):
                j += 1
            n = code_lines(lines[i + 1:j], hashc)
            out.setdefault(lab, {}).setdefault(rel, 0)
            out[lab][rel] += n
            i = j + 1
    return out


def tests_and_points(root):
    """{lab: (tests, points)} as the grader collects them (every test at
    one and three harts, the write-up checks included)."""
    import tempfile
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as t:
        py = subprocess.run(["tools/deps.sh", "python"], cwd=root, stdout=subprocess.PIPE,
                            text=True).stdout.strip() or sys.executable
        subprocess.run([py, "-m", "pytest", "grade/", "--collect-only", "-q", "-p", "no:cacheprovider"],
                       cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=dict(os.environ, GRADE_TABLE=t.name, LAB="", PYTHONDONTWRITEBYTECODE="1"))
        return {w[0]: (int(w[1]), int(w[2])) for w in (l.split() for l in t.read().splitlines())}


def main():
    root = handout.ROOT
    stats = regions(root)
    order = handout.labs()
    graded = tests_and_points(root)
    total = kernel_labs = 0
    short = []
    print(f"{'lab':<8} {'lines':>6} {'kernel':>6} {'tests':>6} {'points':>6}  files")
    if "base" in graded:
        print(f"{'base':<8} {'':>6} {'':>6} {graded['base'][0]:>6} {graded['base'][1]:>6}  "
              "(the kernel and the system as a whole)")
    for lab in order:
        files = stats.get(lab, {})
        n = sum(files.values())
        k = sum(v for f, v in files.items() if f.startswith("kernel/"))
        total += n
        kernel_labs += k > 0
        if lab != "util" and n < MIN_LAB:
            short.append(lab)
        t, p = graded.get(lab, (0, 0))
        print(f"{lab:<8} {n:>6} {k:>6} {t:>6} {p:>6}  " +
              ", ".join(f"{f} {v}" for f, v in sorted(files.items(), key=lambda x: -x[1])))
    print(f"{'total':<8} {total:>6} {'':>6} {sum(t for t, _ in graded.values()):>6} "
          f"{sum(p for _, p in graded.values()):>6}  ({kernel_labs} labs with kernel code)")
    rule = (f"rule: every lab but util >= {MIN_LAB} lines, total >= {MIN_TOTAL}, "
            f">= {MIN_KERNEL_LABS} labs with kernel code")
    bad = short or total < MIN_TOTAL or kernel_labs < MIN_KERNEL_LABS
    print(rule + (": NOT MET" + (f" (short: {' '.join(short)})" if short else "") if bad else ": met"))
    if "--check" in sys.argv[1:] and bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
