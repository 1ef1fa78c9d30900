#!/usr/bin/env python3
"""Make the student tree for one lab from the reference tree.

    tools/handout.py LAB [OUTDIR]      (make handout LAB=cow)

Copies every file git tracks (except the model answers answers-*.txt and
time.txt) into OUTDIR (default handout/LAB) and writes
OUTDIR.tar.gz.  In each copied file, every region marked for LAB or for a
lab after it (labs/manifest gives the order) is replaced by its stub:

    <indent>// BEGIN LAB cow: what to write (kept, for the student)
    ... the solution (removed) ...
    <indent>// END LAB cow: return lab_todo("cow", "cow_fault");

becomes

    <indent>// BEGIN LAB cow: what to write (kept, for the student)
    <indent>return lab_todo("cow", "cow_fault");
    <indent>// END LAB cow

The student tree also gets grade/SHA256SUMS (tools/seal.py): the sums of
the grader's own files, which `make grade VERIFY=<sums>` checks first.

The stub must compile and fail with a clear message (ulib's lab_todo()
prints "lab cow: cow_fault is not written yet").  Markers may also start
with "#" (Python, shell, Makefiles).  A region without its END, or an
END without a stub, is an error.
"""

import os
import re
import shutil
import subprocess
import sys
import tarfile

# Files of the reference tree a student tree never gets: the model answers
# and the reference's time.txt (the writeup checks look for the student's).
SOLUTION_ONLY = re.compile(r"^(answers-\w+\.txt|time\.txt|labs/mutate-partial\.json)$")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = re.compile(r"^(\s*)(//|#)\s*BEGIN LAB (\w+)\b")
END = re.compile(r"^(\s*)(//|#)\s*END LAB (\w+)\s*(?::\s*(.*\S))?\s*$")


def labs():
    order = []
    with open(os.path.join(ROOT, "labs", "manifest")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                order.append(line.split()[0])
    return order


def strip(text, cut, where):
    """text with the regions of the labs in cut replaced by their stubs."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        m = BEGIN.match(lines[i])
        if not m or m[3] not in cut:
            out.append(lines[i])
            i += 1
            continue
        lab = m[3]
        j = i + 1
        while j < len(lines) and not (END.match(lines[j]) and END.match(lines[j])[3] == lab):
            if BEGIN.match(lines[j]):
                raise SystemExit(f"{where}:{j + 1}: a region inside the region at line {i + 1}")
            j += 1
        if j == len(lines):
            raise SystemExit(f"{where}:{i + 1}: BEGIN LAB {lab} without its END")
        e = END.match(lines[j])
        if not e[4]:
            raise SystemExit(f"{where}:{j + 1}: END LAB {lab} without a stub after ':'")
        indent = e[1]
        out += [lines[i], indent + e[4], f"{indent}{e[2]} END LAB {lab}"]
        i = j + 1
    return "\n".join(out)


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    lab = sys.argv[1]
    order = labs()
    if lab not in order:
        raise SystemExit(f"handout: no lab {lab!r}; the labs are: {' '.join(order)}")
    cut = set(order[order.index(lab):])
    out = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "handout", lab))
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                           check=True).stdout.split()
    if os.path.exists(out):
        shutil.rmtree(out)
    stubbed = 0
    for rel in files:
        if SOLUTION_ONLY.match(rel):
            continue
        src, dst = os.path.join(ROOT, rel), os.path.join(out, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        try:
            with open(src) as f:
                text = f.read()
        except UnicodeDecodeError:
            shutil.copy2(src, dst)
            continue
        new = strip(text, cut, rel)
        stubbed += new != text
        with open(dst, "w") as f:
            f.write(new)
        shutil.copymode(src, dst)
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import seal
    seal.write(out)                        # grade/SHA256SUMS, for VERIFY= grading
    with tarfile.open(out + ".tar.gz", "w:gz") as tar:
        tar.add(out, arcname=os.path.basename(out))
    print(f"handout: {out} (and .tar.gz): lab {lab}, {stubbed} files with stubs")


if __name__ == "__main__":
    main()
