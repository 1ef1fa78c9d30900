#!/usr/bin/env python3
"""Grade a class: every submission in a folder, one CSV of scores.

    tools/grade_class.py LAB SUBMISSIONS [OUT.csv]
        (make grade-class LAB=cow SUBMISSIONS=~/cow-submissions)
    tools/grade_class.py --one LAB TREE OFFICIAL RESULTS.json
        grade one tree in place against the official student tree
        OFFICIAL (what Gradescope's run_autograder does; labs/README.md)

SUBMISSIONS holds one entry per student: a directory (their tree) or a
.tar.gz / .tgz / .zip of it (one top folder inside, or none).  The entry's
name, without the extension, is the student's name in the CSV.

For each submission, in a scratch copy:
  1. the grader's own files (tools/seal.py's list) are compared with a
     fresh student tree of LAB made from this reference tree; files that
     differ are noted in the CSV and replaced by the official ones, so a
     changed grader or test program counts for nothing;
  2. make; then the grader with LAB (base, earlier labs, LAB and its
     write-up), writing results.json.
The CSV has: student, score, max, one column per lab, the failed tests,
and notes (replaced grader files, build failure).  JOBS (default 2)
submissions are graded at once; GRADE_TIMEOUT_SCALE is passed on.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import seal  # noqa: E402
from handout import labs as lab_order  # noqa: E402


def unpack(entry, dest):
    """The submission's tree, copied or extracted under dest."""
    if os.path.isdir(entry):
        shutil.copytree(entry, dest, symlinks=True)
        return dest
    os.makedirs(dest)
    if entry.endswith(".zip"):
        with zipfile.ZipFile(entry) as z:
            z.extractall(dest)
    else:
        with tarfile.open(entry) as t:
            t.extractall(dest, filter="data") if hasattr(tarfile, "data_filter") else t.extractall(dest)
    inside = os.listdir(dest)
    if len(inside) == 1 and os.path.isdir(os.path.join(dest, inside[0])):
        return os.path.join(dest, inside[0])
    return dest


def student_name(entry):
    name = os.path.basename(entry.rstrip("/"))
    for ext in (".tar.gz", ".tgz", ".zip"):
        if name.endswith(ext):
            return name[:-len(ext)]
    return name


def grade_one(entry, lab, official, scratch):
    name = student_name(entry)
    work = os.path.join(scratch, name)
    row = {"student": name, "score": 0, "max": 0, "failed": "", "notes": ""}
    try:
        tree = unpack(entry, work)
    except Exception as e:                                # noqa: BLE001
        row["notes"] = f"cannot unpack: {e}"
        return row, {}
    return grade_tree(tree, name, lab, official, os.path.join(scratch, f"{name}.json"),
                      os.path.join(scratch, f"{name}.log"), row)


def grade_tree(tree, name, lab, official, results, log, row):
    """Restore the grader's files in tree from official, build, grade."""
    sums = os.path.join(official, "grade", "SHA256SUMS")
    changed = [b.split(":")[0] for b in seal.check(sums, tree)]
    for rel in changed:                                   # the official copy wins
        os.makedirs(os.path.dirname(os.path.join(tree, rel)), exist_ok=True)
        shutil.copy2(os.path.join(official, rel), os.path.join(tree, rel))
    notes = [f"replaced {len(changed)} grader files: {' '.join(changed)}"] if changed else []
    with open(log, "w") as f:
        subprocess.run(["make", "-s", "clean"], cwd=tree, stdout=f, stderr=subprocess.STDOUT)
        if subprocess.run(["make", "-s", "-j2"], cwd=tree, stdout=f, stderr=subprocess.STDOUT).returncode:
            row["notes"] = "; ".join(notes + [f"does not build (see {log})"])
            return row, {}
        env = dict(os.environ, LAB=lab, GRADE_RESULTS=results)
        env.pop("LAB_ONLY", None)
        env.pop("VERIFY", None)
        subprocess.run(["tools/grade.sh"], cwd=tree, stdout=f, stderr=subprocess.STDOUT, env=env)
    try:
        with open(results) as f:
            tests = json.load(f)["tests"]
    except (OSError, ValueError, KeyError):
        row["notes"] = "; ".join(notes + [f"the grader wrote no results (see {log})"])
        return row, {}
    per_lab = {}
    for t in tests:
        got, out_of = per_lab.get(t["tags"][0], (0, 0))
        per_lab[t["tags"][0]] = (got + t["score"], out_of + t["max_score"])
    row["score"] = sum(t["score"] for t in tests)
    row["max"] = sum(t["max_score"] for t in tests)
    row["failed"] = " ".join(t["name"] for t in tests if t["status"] != "passed")
    row["notes"] = "; ".join(notes)
    return row, per_lab


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--one":
        lab, tree, official, results = sys.argv[2:]
        row = {"student": tree, "score": 0, "max": 0, "failed": "", "notes": ""}
        row, _ = grade_tree(tree, tree, lab, official, results, "/dev/stdout", row)
        print(f"{row['score']}/{row['max']} {row['notes']}")
        return
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    lab, folder = sys.argv[1], sys.argv[2]
    out = sys.argv[3] if len(sys.argv) > 3 else f"grades-{lab}.csv"
    entries = sorted(os.path.join(folder, e) for e in os.listdir(folder) if not e.startswith("."))
    scratch = tempfile.mkdtemp(prefix=f"grade-{lab}.")
    official = os.path.join(scratch, "official")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "handout.py"), lab, official],
                       stdout=subprocess.DEVNULL)
    if r.returncode:
        raise SystemExit(f"grade_class: cannot make the official {lab} tree")
    jobs = int(os.environ.get("JOBS", "2"))
    with ThreadPoolExecutor(jobs) as pool:
        done = list(pool.map(lambda e: grade_one(e, lab, official, scratch), entries))
    labs = [l for l in ["base"] + lab_order() if any(l in p for _, p in done)]
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "score", "max"] + labs + ["failed", "notes"])
        for row, per_lab in done:
            w.writerow([row["student"], row["score"], row["max"]] +
                       [f"{per_lab[l][0]}/{per_lab[l][1]}" if l in per_lab else "" for l in labs] +
                       [row["failed"], row["notes"]])
            print(f"{row['student']}: {row['score']}/{row['max']}" +
                  (f"  ({row['notes']})" if row["notes"] else ""))
    print(f"grade_class: {len(done)} submissions -> {out} (logs in {scratch})")


if __name__ == "__main__":
    main()
