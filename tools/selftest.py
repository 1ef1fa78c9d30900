#!/usr/bin/env python3
"""Self-test of the course: every lab's student tree, built and graded.

    tools/selftest.py [LAB...]        (make selftest; .ci/run runs it)

For each lab L of labs/manifest (or those named), in a scratch directory:

  1. tools/handout.py L       the student tree: L's regions and every later
                              lab's replaced by their stubs
  2. make                     it must build
  3. grade LAB=L CPUS=1       base, every earlier lab and L, on one hart
                              (the reference grade runs CPUS=1 and 3; the
                              host fuzzer runs 250 cases, not 1,000)

and check: every test of base and of the earlier labs passes (the tree
boots and a finished earlier lab keeps working with the later labs'
stubs), and NO test of L passes (each must be able to fail: one that
passes on the stubs tests nothing the student writes).  The reference
tree's own full grade (make grade) is the other half: it must score full.

SELFTEST_REPO=<dir> checks the branches of a repository made by `make
handout-repo` instead of fresh handouts (each lab's branch is cloned).

Runs JOBS (default 2) trees at once.  Prints one line per lab and exits
non-zero if any lab breaks a rule.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from handout import labs  # noqa: E402


def run(cmd, cwd, log, env=None):
    with open(log, "a") as f:
        f.write(f"$ {' '.join(cmd)}\n")
        f.flush()
        return subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT,
                              env=env).returncode


def check_lab(lab, order, scratch):
    t0 = time.time()
    tree = os.path.join(scratch, lab)
    log = os.path.join(scratch, f"{lab}.log")
    problems = []
    repo = os.environ.get("SELFTEST_REPO")
    if repo:                          # make handout-repo's branch instead of the handout
        if run(["git", "clone", "-q", "-b", lab, os.path.abspath(repo), tree], ROOT, log):
            return lab, [f"no branch {lab} in {repo}"], time.time() - t0, log
    elif run([sys.executable, os.path.join(ROOT, "tools", "handout.py"), lab, tree], ROOT, log):
        return lab, ["the handout generator failed"], time.time() - t0, log
    if run(["make", "-s", "-j2"], tree, log):
        return lab, ["the student tree does not build"], time.time() - t0, log
    env = dict(os.environ, LAB=lab, GRADE_RESULTS=os.path.join(scratch, f"{lab}.json"))
    env.pop("LAB_ONLY", None)
    env.setdefault("GRADE_TIMEOUT_SCALE", "2")
    env.setdefault("CPUS", "1")
    # The host fuzzer (a base test) is CPU-bound and the longest test of a
    # tree; a quarter of its cases shows that the stubs keep it passing,
    # and make grade runs all 1,000 on the reference tree.
    env.setdefault("FSFUZZ_CASES", "250")
    run(["tools/grade.sh"], tree, log, env)
    try:
        with open(env["GRADE_RESULTS"]) as f:
            results = json.load(f)["tests"]
    except (OSError, ValueError, KeyError):
        return lab, ["the grader wrote no results.json"], time.time() - t0, log
    earlier = set(order[:order.index(lab)])
    mine = [t for t in results if lab in t["tags"]]
    if not mine:
        problems.append(f"lab {lab} has no tests")
    for t in results:
        if t["tags"][0] in earlier and t["status"] != "passed":
            problems.append(f"{t['name']} ({t['tags'][0]}) fails on the {lab} student tree")
    for t in mine:
        if t["status"] == "passed":
            problems.append(f"{t['name']} ({lab}) passes on the stubs")
    return lab, problems, time.time() - t0, log


def main():
    order = labs()
    wanted = sys.argv[1:] or order
    bad = [l for l in wanted if l not in order]
    if bad:
        raise SystemExit(f"selftest: no lab {' '.join(bad)}; the labs are {' '.join(order)}")
    scratch = tempfile.mkdtemp(prefix="selftest.")
    jobs = int(os.environ.get("JOBS", "2"))
    failed = 0
    t0 = time.time()
    with ThreadPoolExecutor(jobs) as pool:
        for lab, problems, took, log in pool.map(
                lambda l: check_lab(l, ["base"] + order, scratch), wanted):
            word = "OK" if not problems else "FAIL"
            print(f"== Selftest {lab} == {word} ({took:.0f}s)", flush=True)
            for p in problems:
                print(f"    {p}")
            if problems:
                failed += 1
                print(f"    log: {log}")
    print(f"selftest: {len(wanted) - failed}/{len(wanted)} labs OK in {time.time() - t0:.0f}s")
    if not failed and not os.environ.get("SELFTEST_KEEP"):
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
