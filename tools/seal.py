#!/usr/bin/env python3
"""The grader's own files and their SHA-256 sums.

    tools/seal.py write [TREE]     write TREE/grade/SHA256SUMS (handout.py
                                   does this for every student tree)
    tools/seal.py check SUMS [TREE]
                                   check TREE's files against SUMS (a
                                   SHA256SUMS the instructor kept); exit 1
                                   and name the files that differ

The sealed files are those a student has no reason to change: the grader
(grade/, tools/, the Makefile), the kernel, mkfs, the library files that
carry the run token to the pass lines (ulib/check.c, libmain.c, spawn.c),
and every program in user/ that holds no lab region (the test programs).
"""

import hashlib
import os
import re
import sys

MARK = re.compile(r"^\s*(//|#)\s*BEGIN LAB \w+", re.M)
FIXED = ["Makefile", "ulib/check.c", "ulib/libmain.c", "ulib/spawn.c"]
DIRS = ["grade", "tools", "kernel", "mkfs"]


def sealed_files(tree):
    out = [f for f in FIXED if os.path.exists(os.path.join(tree, f))]
    for d in DIRS:
        for dirpath, _, names in os.walk(os.path.join(tree, d)):
            for n in names:
                if n.endswith((".py", ".sh", ".c", ".h", ".S", ".ld", ".ini", ".tmpl")) or n == "Makefile":
                    rel = os.path.relpath(os.path.join(dirpath, n), tree)
                    if "__pycache__" not in rel:
                        out.append(rel)
    udir = os.path.join(tree, "user")
    for n in sorted(os.listdir(udir)):
        if n.endswith(".c"):
            with open(os.path.join(udir, n)) as f:
                if not MARK.search(f.read()):
                    out.append(f"user/{n}")
    return sorted(set(out))


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def write(tree):
    path = os.path.join(tree, "grade", "SHA256SUMS")
    files = [f for f in sealed_files(tree) if f != "grade/SHA256SUMS"]
    with open(path, "w") as out:
        for rel in files:
            out.write(f"{digest(os.path.join(tree, rel))}  {rel}\n")
    return len(files)


def check(sums, tree):
    bad = []
    with open(sums) as f:
        for line in f:
            want, rel = line.rstrip("\n").split("  ", 1)
            p = os.path.join(tree, rel)
            if not os.path.exists(p):
                bad.append(f"{rel}: missing")
            elif digest(p) != want:
                bad.append(f"{rel}: changed")
    return bad


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("write", "check"):
        raise SystemExit(__doc__)
    if sys.argv[1] == "write":
        tree = sys.argv[2] if len(sys.argv) > 2 else "."
        print(f"seal: {write(tree)} files in {tree}/grade/SHA256SUMS")
        return
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    tree = sys.argv[3] if len(sys.argv) > 3 else "."
    bad = check(sys.argv[2], tree)
    if bad:
        print("grade: these files differ from the grader's record (" + sys.argv[2] + "):")
        for b in bad:
            print(f"    {b}")
        sys.exit(1)
    print(f"grade: the grader's files match {sys.argv[2]}")


if __name__ == "__main__":
    main()
