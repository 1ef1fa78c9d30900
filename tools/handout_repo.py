#!/usr/bin/env python3
"""The course as a git repository: one branch per lab.

    tools/handout_repo.py [OUTDIR]          (make handout-repo [OUT=dir])

Builds a fresh repository in OUTDIR (default handout-repo/) whose branch
for lab L holds L's student tree (tools/handout.py: L's regions and every
later lab's replaced by stubs, no model answers, the grader sealed).  The
branches form one line of history, in the course's order: the branch of
lab L+1 is lab L's branch plus one commit, "lab L+1 handout", which
changes exactly what the next handout changes (L's stubs become the
course's code, L+1's tests and handout arrive).  So a student who
finished lab L starts the next one with

    git fetch origin && git merge origin/<next lab>

and keeps their own work: where they wrote L's regions, the merge
conflicts only with the course's version of L's code, and they keep
theirs.  `master` points at the first lab.  Push the result to the
course's server and let students clone it.
"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import handout  # noqa: E402


def git(*args, cwd):
    env = dict(os.environ, GIT_AUTHOR_NAME="course", GIT_AUTHOR_EMAIL="course@localhost",
               GIT_COMMITTER_NAME="course", GIT_COMMITTER_EMAIL="course@localhost")
    return subprocess.run(["git", *args], cwd=cwd, check=True, env=env,
                          stdout=subprocess.PIPE, text=True).stdout


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(handout.ROOT, "handout-repo"))
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    git("init", "-q", "-b", "master", cwd=out)
    order = handout.labs()
    with tempfile.TemporaryDirectory(prefix="handout-repo.") as tmp:
        for i, lab in enumerate(order):
            tree = os.path.join(tmp, lab)
            subprocess.run([sys.executable, os.path.join(handout.ROOT, "tools", "handout.py"), lab, tree],
                           check=True, stdout=subprocess.DEVNULL)
            os.remove(tree + ".tar.gz")
            if i:
                git("checkout", "-q", "-b", lab, cwd=out)
            # the branch's files become exactly the student tree's
            for name in os.listdir(out):
                if name != ".git":
                    p = os.path.join(out, name)
                    shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)
            for name in os.listdir(tree):
                src, dst = os.path.join(tree, name), os.path.join(out, name)
                shutil.copytree(src, dst, symlinks=True) if os.path.isdir(src) else shutil.copy2(src, dst)
            git("add", "-A", cwd=out)
            git("commit", "-q", "-m", f"lab {lab} handout", cwd=out)
            if i == 0:
                git("branch", "-q", lab, cwd=out)
    git("checkout", "-q", order[0], cwd=out)
    print(f"handout-repo: {out}: branches {' '.join(order)} (one commit each, in order); master is {order[0]}")


if __name__ == "__main__":
    main()
