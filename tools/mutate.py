#!/usr/bin/env python3
"""Mutation testing of the course's grader: make mutate LAB=x.

    tools/mutate.py LAB [LAB...] [--n N] [--seed S] [--cpus 1] [--jobs 2]
                    [--write] [--check] [--only ID,ID...|survivors]

A lab's tests are only worth what they catch.  This tool makes small wrong
versions ("mutants") of a lab's reference regions (BEGIN LAB / END LAB,
tools/handout.py), one change each, and runs that lab's tests on each:

    del     delete a statement (C) or an instruction (assembly: a dropped
            register restore, a dropped store)
    neg     negate the condition of an if or while
    cmp     change a comparison (< <=, > >=, == !=) or && / ||
    const   change an integer constant by one
    swap    swap the first two arguments of a call

A mutant that does not build is stillborn and not counted.  One whose
kernels come out the same as the unmutated tree's, byte for byte in every
loaded segment (the user programs are embedded in them), is the same
program: "equivalent", and not counted either (trivial compiler
equivalence: a dead store, a bound the compiler proves, a line that only
a comment or a macro differs in).  One that
builds is killed when a test of the lab fails (or times out), and
survives when they all pass.  A survivor is either a hole in the tests or
a change that cannot matter (an equivalent mutant); labs/mutants.txt gives
the reason for each survivor the instructor has looked at.

--n N with --seed S tries a sample of N mutants per lab (the same sample
for the same seed and the same regions).  --write puts the full run's
table and its survivors into labs/README.md, between the "mutate:begin"
and "mutate:end" marks.  --check (the CI's sample) exits 1 if a mutant
survives that labs/mutants.txt does not explain.  --only runs chosen
mutants, or with "survivors" a lab's recorded survivors: after tests were
added, --only survivors --write updates the recorded run (its kills
stand, since tests only get stronger).

A full run with --write keeps each result as it comes in
labs/mutate-partial.json, so a run stopped part way (a lab takes hours)
goes on where it stopped when started again: commit that file to carry a
run across sessions.  The mutants it holds count as run (a kill stands; a
survivor can be run again later with --only survivors), and the lab's
entries leave it when the lab's run is recorded.

Every mutant runs in a scratch tree (one per job) as a student has it
when the lab is done: the next lab's handout, so later labs' stubs and
fallbacks are in place and the lab's code runs as it does for a student.
Builds are incremental: only the mutated file and what links it.
"""

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import handout  # noqa: E402

ROOT = handout.ROOT
EXPLAINED = os.path.join(ROOT, "labs", "mutants.txt")
README = os.path.join(ROOT, "labs", "README.md")
RESULTS = os.path.join(ROOT, "labs", "mutate-results.json")   # what --write recorded, per lab
PARTIAL = os.path.join(ROOT, "labs", "mutate-partial.json")   # a full run's results so far
ORDER_MIN = 5            # more mutants than this in a tree: order its tests by a baseline run
TIMEOUT = 900            # seconds for one mutant's tests (each test has its own too)


class Mutant:
    def __init__(self, lab, path, lineno, op, old, new):
        self.lab, self.path, self.lineno, self.op = lab, path, lineno, op
        self.old, self.new = old, new
        h = hashlib.sha1(f"{lab}\0{path}\0{op}\0{old.strip()}\0{'' if new is None else new.strip()}".encode())
        self.id = h.hexdigest()[:10]
        self.result = None           # "killed", "survived", "stillborn", "equivalent"
        self.why = ""

    def diff(self):
        """The change, as a one-hunk unified diff."""
        new = "" if self.new is None else f"+{self.new}\n"
        return (f"--- a/{self.path}\n+++ b/{self.path}\n@@ line {self.lineno} @@\n"
                f"-{self.old}\n{new}")


# ---- finding the regions and making mutants ---------------------------------

def lab_regions(lab):
    """[(path, [line numbers inside lab's regions])] over the tracked files."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                           check=True).stdout.split()
    out = []
    for rel in files:
        if rel.endswith(".md") or rel.startswith("tools/"):
            continue
        try:
            with open(os.path.join(ROOT, rel)) as f:
                lines = f.read().split("\n")
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue
        mine = region_lines(lines, lab)
        if mine:
            out.append((rel, lines, mine))
    return out


def region_lines(lines, lab):
    """The indexes of the lines inside lab's regions."""
    inside, mine = None, []
    for i, line in enumerate(lines):
        b, e = handout.BEGIN.match(line), handout.END.match(line)
        if b:
            inside = b[3]
        elif e:
            inside = None
        elif inside == lab:
            mine.append(i)
    return mine


def scratch_index(m, lines):
    """Where mutant m's line is in a scratch tree's copy of its file: the
    same line of the lab's regions.  (The scratch tree is a later lab's
    handout, whose later regions are one-line stubs: line numbers of the
    reference tree do not hold there.)"""
    with open(os.path.join(ROOT, m.path)) as f:
        ref = region_lines(f.read().split("\n"), m.lab)
    here = region_lines(lines, m.lab)
    k = ref.index(m.lineno - 1)
    assert len(here) == len(ref), (m.path, "the lab's regions differ in the scratch tree")
    return here[k]


STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
CMP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "==", "&&": "||", "||": "&&"}
CMP_RE = re.compile(r"(<<=?|>>=?|->|<=|>=|==|!=|&&|\|\||<|>)")
NUM_RE = re.compile(r"(?<![\w.])(0x[0-9a-fA-F]+|\d+)(?![\w.])")


def code_part(line, asm):
    """The line without its comment, and with strings blanked (so that
    nothing inside a string or comment is mutated)."""
    blank = STRING.sub(lambda m: m[0][0] + " " * (len(m[0]) - 2) + m[0][-1], line)
    cut = len(line)
    for mark in (("#", "//") if asm else ("//",)):
        k = blank.find(mark)
        if k >= 0:
            cut = min(cut, k)
    return blank[:cut]


def matching(text, i):
    """Index of the parenthesis closing the one at text[i], or -1."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return j
    return -1


def split_args(text):
    """Top-level comma positions in text (the inside of a call's parens)."""
    depth, commas = 0, []
    for j, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            commas.append(j)
    return commas


def line_mutants(lab, path, lineno, line):
    asm = path.endswith(".S")
    code = code_part(line, asm)
    s = code.strip()
    if not s or s.startswith("#include") or s.startswith("#define") or (asm and s.endswith(":")):
        return []
    out = []

    def add(op, new):
        if new != line:
            out.append(Mutant(lab, path, lineno + 1, op, line, new))

    # del: a statement or an instruction
    if asm:
        if not s.startswith("."):
            add("del", None)
    elif s.endswith(";") and not s.startswith(("for", "}")) and "{" not in s:
        add("del", None)
    if not asm:
        # neg: if (...) / while (...)
        for m in re.finditer(r"\b(if|while)\s*\(", code):
            o = m.end() - 1
            c = matching(code, o)
            if c > 0:
                add("neg", line[:o + 1] + "!(" + line[o + 1:c] + ")" + line[c:])
        # cmp
        for m in CMP_RE.finditer(code):
            if m[1] in CMP:
                add("cmp", line[:m.start()] + CMP[m[1]] + line[m.end():])
        # swap: the first two arguments of a call
        for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", code):
            if m[1] in ("if", "while", "for", "switch", "return", "sizeof"):
                continue
            o = m.end() - 1
            c = matching(code, o)
            if c < 0:
                continue
            inner = code[o + 1:c]
            commas = split_args(inner)
            if not commas:
                continue
            end2 = commas[1] if len(commas) > 1 else len(inner)
            a, b = line[o + 1:o + 1 + commas[0]], line[o + 1 + commas[0] + 1:o + 1 + end2]
            if a.strip() and b.strip() and a.strip() != b.strip():
                add("swap", line[:o + 1] + b.strip() + ", " + a.strip() + line[o + 1 + end2:])
    # const: each integer literal by one (in assembly too: frame offsets)
    for m in NUM_RE.finditer(code):
        v = int(m[1], 0)
        nv = v + 1 if v == 0 else v - 1
        lit = hex(nv) if m[1].startswith("0x") else str(nv)
        add("const", line[:m.start()] + lit + line[m.end():])
    return out


def mutants_of(lab):
    out, seen = [], {}
    for path, lines, mine in lab_regions(lab):
        for i in mine:
            out += line_mutants(lab, path, i, lines[i])
    for m in out:                    # the same change to the same text elsewhere in the
        k = seen.get(m.id, 0)        # file: a different mutant, with its own id
        seen[m.id] = k + 1
        if k:
            m.id = hashlib.sha1(f"{m.id}#{k}".encode()).hexdigest()[:10]
    return out


# ---- running them ------------------------------------------------------------

def make_tree(where, lab):
    """The tree as a student has it when lab is done: the next lab's
    handout (lab's code and every earlier lab's in, later labs' stubs and
    fallbacks in place).  A mutant must be caught there: in the full
    reference tree some of lab's code never runs (sbrk's eager mapping,
    once demand paging is on)."""
    order = handout.labs()
    nxt = order[order.index(lab) + 1] if order.index(lab) + 1 < len(order) else None
    if nxt:
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "handout.py"), nxt, where],
                       check=True, stdout=subprocess.DEVNULL)
        os.remove(where + ".tar.gz")
        for rel in os.listdir(ROOT):             # the write-up is not graded here, but keep
            if rel.startswith("answers-") or rel == "time.txt":   # the tree complete
                shutil.copy2(os.path.join(ROOT, rel), os.path.join(where, rel))
        return
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                           check=True).stdout.split()
    for rel in files:
        dst = os.path.join(where, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), dst)


LIVE = set()             # the process groups of the commands running now
STOPPING = False         # set by stop(): a result that comes in now is not a result


def sh(cmd, cwd, log, timeout=None, env=None):
    """Run cmd in its own process group, output to log; its exit status,
    or -1 if it ran out of time (the whole group is killed then: QEMU too)."""
    with open(log, "a") as f:
        f.write(f"$ {' '.join(cmd)}\n")
        f.flush()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, env=env,
                             start_new_session=True)
        LIVE.add(p.pid)
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            f.write("(timed out)\n")
            return -1
        finally:
            LIVE.discard(p.pid)
            try:
                os.killpg(p.pid, signal.SIGKILL)     # (what it left running)
            except ProcessLookupError:
                pass
            p.wait()


def stop(signum, frame):
    """Stopped (Ctrl-C, kill): take the running tests and their QEMUs
    along; the results so far are in labs/mutate-partial.json."""
    global STOPPING
    STOPPING = True          # (first: the mutants whose tests die now are not killed)
    for pid in list(LIVE):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os._exit(128 + signum)


BUILT = ("kernel/kernel", "kernel/kernel.kcheck")   # all a test boots (they embed every program)


def loaded(tree):
    """A digest of what the tree's kernels load: each ELF PT_LOAD segment's
    address, sizes, flags and bytes (symbols, debug lines and section
    headers left out, so a moved line number does not count)."""
    h = hashlib.sha1()
    for rel in BUILT:
        with open(os.path.join(tree, rel), "rb") as f:
            elf = f.read()
        phoff, = struct.unpack_from("<Q", elf, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
        for k in range(phnum):
            typ, flags, off, vaddr, _, filesz, memsz, _ = struct.unpack_from(
                "<IIQQQQQQ", elf, phoff + k * phentsize)
            if typ == 1:
                h.update(struct.pack("<QQQI", vaddr, filesz, memsz, flags))
                h.update(elf[off:off + filesz])
    return h.hexdigest()


def test_order(tree, lab, cpus, log):
    """Grade the unmutated tree once and write its tests, fastest first,
    to a file for GRADE_ORDER (grade/gradeplugin.py): a mutant's run stops
    at its first failing test, and most are caught by a quick one.  The
    file's path, or None if the tree did not pass (then the usual order)."""
    start = os.path.getsize(log) if os.path.exists(log) else 0
    env = dict(os.environ, LAB=lab, LAB_ONLY="1", CPUS=cpus,
               GRADE_RESULTS=os.path.join(tree, "baseline.json"))
    rc = sh(["tools/grade.sh", "-q", "-m", "not writeup", "-k", "not bench"], tree, log, TIMEOUT, env)
    with open(log) as f:
        f.seek(start)
        times = re.findall(r"^== Test (\S+) == \S+: OK \(([\d.]+)s\)", f.read(), re.M)
    if rc or not times:
        print(f"mutate: {lab}: the unmutated tree does not pass its tests (see {log}); "
              f"its mutants run the tests in the usual order", flush=True)
        return None
    path = os.path.join(tree, "grade-order.txt")
    with open(path, "w") as f:
        f.write("".join(name + "\n" for name, _ in sorted(times, key=lambda t: float(t[1]))))
    return path


def run_one(m, tree, cpus, log, same, benches, order=None):
    path = os.path.join(tree, m.path)
    with open(path) as f:
        original = f.read()
    lines = original.split("\n")
    i = scratch_index(m, lines)
    assert lines[i] == m.old, (m.path, m.lineno, i)
    if m.new is None:
        del lines[i]
    else:
        lines[i] = m.new
    with open(log, "a") as f:
        f.write(f"\n=== mutant {m.id} ({m.op})\n{m.diff()}")
    try:
        with open(path, "w") as f:
            f.write("\n".join(lines))
        if sh(["make", "-s", "-j2"], tree, log):
            m.result = "stillborn"
            return m
        if loaded(tree) == same:
            m.result = "equivalent"
            return m
        env = dict(os.environ, LAB=m.lab, LAB_ONLY="1", CPUS=cpus,
                   GRADE_RESULTS=os.path.join(tree, "mutant.json"))
        if order:
            env["GRADE_ORDER"] = order
        # The benchmarks last: they run under -icount, slowly, and a mutant
        # that breaks the console makes them wait out long timeouts, where
        # a functional test usually fails in seconds.
        rc = 0
        for part in ("not bench", "bench") if benches else ("",):
            rc = sh(["tools/grade.sh", "-x", "-q", "-m", "not writeup"] + (["-k", part] if part else []),
                    tree, log, TIMEOUT, env)
            if rc:
                break
        m.result = "survived" if rc == 0 else "killed"
        return m
    finally:
        with open(path, "w") as f:
            f.write(original)


def explained():
    """{mutant id: reason} from labs/mutants.txt ("<id> <reason>" lines)."""
    out = {}
    if os.path.exists(EXPLAINED):
        with open(EXPLAINED) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    k, _, why = line.partition(" ")
                    out[k] = why.strip()
    return out


def partial_load():
    if not os.path.exists(PARTIAL):
        return {}
    try:
        with open(PARTIAL) as f:
            return json.load(f)
    except ValueError:
        print(f"mutate: {os.path.relpath(PARTIAL, ROOT)} is not JSON; starting over", flush=True)
        return {}


def partial_save(data):
    data = {lab: v for lab, v in data.items() if v}
    if not data:
        if os.path.exists(PARTIAL):
            os.remove(PARTIAL)
        return
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(PARTIAL), prefix=".mutate-partial.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=0, sort_keys=True)
        f.write("\n")
    os.replace(tmp, PARTIAL)


def run_all(plan, args, scratch, keep=None):
    """Run every lab's mutants; plan is [(lab, mutants)].  The work is cut
    into tasks (a lab's mutants, or a share of them when there are fewer
    labs than jobs), each in its own scratch tree, args.jobs at a time: a
    small sample of every lab (the CI's) keeps both cores busy too."""
    per = max(1, args.jobs // max(1, len(plan)))
    tasks = [(lab, muts[k::per], k) for lab, muts in plan for k in range(min(per, len(muts)))]
    total = sum(len(m) for _, m in plan)
    done = []
    lock = threading.Lock()

    def task(t):
        lab, muts, k = t
        tree = os.path.join(scratch, f"{lab}-{k}")
        log = tree + ".log"
        make_tree(tree, lab)
        if sh(["make", "-s", "-j2"], tree, log):
            raise SystemExit(f"mutate: the {lab} tree does not build (see {log})")
        same = loaded(tree)
        benches = sh(["tools/grade.sh", "--collect-only", "-q", "-m", "not writeup", "-k", "bench"],
                     tree, log, env=dict(os.environ, LAB=lab, LAB_ONLY="1")) == 0
        # (a sample of a mutant or two, the CI's, is not worth a baseline run)
        order = test_order(tree, lab, args.cpus, log) if len(muts) > ORDER_MIN else None
        for m in muts:
            t0 = time.time()
            run_one(m, tree, args.cpus, log, same, benches, order)
            done.append(m)
            if STOPPING:
                return
            if keep is not None:             # (a full run's progress, for a restart)
                with lock:
                    keep.setdefault(lab, {})[m.id] = m.result
                    partial_save(keep)
            print(f"  [{len(done)}/{total}] {lab} {m.id} {m.op:5} {m.path}:{m.lineno} "
                  f"{m.result} ({time.time() - t0:.0f}s)", flush=True)
        shutil.rmtree(tree, ignore_errors=True)     # (the log stays)

    with ThreadPoolExecutor(args.jobs) as ex:
        list(ex.map(task, tasks))
    return plan


def lower_bound(k, n, z=1.96):
    """The Wilson score interval's lower end for k successes in n tries:
    what a sample says, with 95% confidence, about the whole lab."""
    if n == 0:
        return 1.0
    p = k / n
    mid = p + z * z / (2 * n)
    half = z * ((p * (1 - p) + z * z / (4 * n)) / n) ** 0.5
    return (mid - half) / (1 + z * z / n)


def is_equivalent(reason):
    """A survivor that labs/mutants.txt explains as "equivalent: ...": no
    program can tell it from the reference (the reason says why), so no
    test can kill it.  The others it explains are acceptable gaps, and
    count against the lab."""
    return reason.startswith("equivalent:")


def report(results, why, totals, runs=None):
    """The markdown table and survivors, as labs/README.md shows them.
    totals: {lab: all of its mutants} (more than were tried: a sample);
    runs: {lab: which run its row comes from}, for a column of its own."""
    sampled = any(len(muts) < totals[lab] for lab, muts in results)
    rows = ["| lab | mutants | made | stillborn | same binary | killed | survived | of them equivalent "
            "| killed % | killed % of the rest |"
            + (" 95% lower bound |" if sampled else "") + (" run |" if runs else ""),
            "|---|---|---|---|---|---|---|---|---|---|" + ("---|" if sampled else "") + ("---|" if runs else "")]
    surv, low = [], []
    for lab, muts in results:
        tried = [m for m in muts if m.result not in ("stillborn", "equivalent")]
        still = sum(m.result == "stillborn" for m in muts)
        k = sum(m.result == "killed" for m in tried)
        s = [m for m in tried if m.result == "survived"]
        same = sum(is_equivalent(why.get(m.id, "")) for m in s)
        ok = k + sum(m.id in why for m in s)      # killed, or explained as acceptable
        pct = 100.0 * k / len(tried) if tried else 100.0
        rest = 100.0 * k / (len(tried) - same) if len(tried) > same else 100.0
        if rest < 90:
            low.append(lab)
        rows.append(f"| {lab} | {totals[lab]} | {len(muts)} | {still} | {len(muts) - len(tried) - still} | {k} | "
                    f"{len(s)} | {same} | {pct:.1f}% | {rest:.1f}% |"
                    + ((f" {100 * lower_bound(ok, len(tried)):.0f}% |" if len(muts) < totals[lab]
                        else " (all run) |") if sampled else "")
                    + (f" {runs[lab]} |" if runs else ""))
        for m in tried:                       # (a kill disproves an equivalence)
            if m.result == "killed" and is_equivalent(why.get(m.id, "")):
                print(f"mutate: {m.id} ({lab}) was killed, but labs/mutants.txt calls it equivalent",
                      file=sys.stderr, flush=True)
        for m in s:
            surv.append(f"- `{m.id}` ({lab}, {m.op}) {why.get(m.id, '**not explained yet**')}\n\n"
                        "  ```diff\n" + "".join("  " + x for x in m.diff().splitlines(True)) + "  ```")
    verdict = ("Every lab kills at least 90% of the mutants tried that are not equivalent." if not low else
               f"Below 90% of the mutants tried that are not equivalent: {', '.join(low)}.")
    if sampled:
        verdict += (" The lower bound counts explained survivors with the killed ones: "
                    "what the sample shows, with 95% confidence, of all the lab's mutants.")
    return ("\n".join(rows) + "\n\n" + verdict + "\n\nSurvivors:\n\n"
            + ("\n".join(surv) if surv else "none") + "\n")


def record(results, totals, args, seconds):
    """Add this run's labs to labs/mutate-results.json (a lab run again
    replaces its entry)."""
    data = {}
    if os.path.exists(RESULTS):
        with open(RESULTS) as f:
            data = json.load(f)
    how = f"N={args.n} SEED={args.seed}" if args.n else "all"
    for lab, muts in results:
        data[lab] = {"run": f"{how}, {time.strftime('%Y-%m-%d')}", "cpus": args.cpus,
                     "seconds": round(seconds), "total": totals[lab],
                     "mutants": [{"id": m.id, "op": m.op, "path": m.path, "line": m.lineno,
                                  "old": m.old, "new": m.new, "result": m.result} for m in muts]}
    order = handout.labs()
    with open(RESULTS, "w") as f:
        json.dump({lab: data[lab] for lab in order if lab in data}, f, indent=1)
        f.write("\n")


def update(results):
    """Put the results of mutants run again (--only, after tests were added)
    into the runs that labs/mutate-results.json recorded: tests only ever
    get stronger, so the recorded kills stand, and the survivors are what
    is worth running again."""
    with open(RESULTS) as f:
        data = json.load(f)
    for lab, muts in results:
        new = {m.id: m.result for m in muts}
        if lab not in data:
            raise SystemExit(f"mutate: lab {lab} has no recorded run to update: run it whole with WRITE=1")
        entry = data[lab]
        now = {m.id for m in mutants_of(lab)}    # (a mutant of code since removed is gone)
        entry["mutants"] = [x for x in entry["mutants"] if x["id"] in now]
        for x in entry["mutants"]:
            x["result"] = new.pop(x["id"], x["result"])
        for m in muts:               # mutants of code changed since the run (--only ids)
            if m.id in new:
                entry["mutants"].append({"id": m.id, "op": m.op, "path": m.path, "line": m.lineno,
                                         "old": m.old, "new": m.new, "result": m.result})
        entry["total"] = len(mutants_of(lab))
        entry["run"] = re.sub(r", survivors again .*", "", entry["run"]) + \
            f", survivors again {time.strftime('%Y-%m-%d')}"
    with open(RESULTS, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def recorded():
    """Every lab's recorded results, in the course's order: (results,
    totals, runs), report()'s arguments."""
    with open(RESULTS) as f:
        data = json.load(f)
    out, tot, runs = [], {}, {}
    for lab in handout.labs():
        if lab not in data:
            continue
        muts = []
        for x in data[lab]["mutants"]:
            m = Mutant(lab, x["path"], x["line"], x["op"], x["old"], x["new"])
            m.id, m.result = x["id"], x["result"]
            muts.append(m)
        out.append((lab, muts))
        tot[lab], runs[lab] = data[lab]["total"], data[lab]["run"]
    return out, tot, runs


def write_readme(text):
    with open(README) as f:
        old = f.read()
    a, b = "<!-- mutate:begin -->", "<!-- mutate:end -->"
    if a not in old or b not in old:
        raise SystemExit(f"mutate: labs/README.md has no {a} ... {b} section")
    stamp = ("Written by `make mutate ... WRITE=1` from `labs/mutate-results.json`, where each "
             "run records its labs (the column \"run\" says which run a row comes from; `N=` "
             "and `SEED=` mark a seeded sample), graded at one hart:\n\n")
    with open(README, "w") as f:
        f.write(old[:old.index(a) + len(a)] + "\n" + stamp + text + old[old.index(b):])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("labs", nargs="+")
    ap.add_argument("--n", type=int, default=0, help="a sample of N mutants per lab (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cpus", default="1")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--list", action="store_true", help="only list the mutants")
    ap.add_argument("--write", action="store_true", help="put the table into labs/README.md")
    ap.add_argument("--check", action="store_true", help="fail on an unexplained survivor")
    ap.add_argument("--only", default="",
                    help="only these mutants (ids, comma-separated; 'survivors': the lab's recorded "
                         "survivors, and for a lab run whole the mutants of code changed since), e.g. to check that new tests kill them; with --write, their "
                         "new results go into the lab's recorded run")
    ap.add_argument("--render", action="store_true",
                    help="only rewrite labs/README.md's table from labs/mutate-results.json")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    order = handout.labs()
    labs = order if args.labs == ["all"] else args.labs
    for lab in labs:
        if lab not in order:
            raise SystemExit(f"mutate: no lab {lab!r}; the labs are: {' '.join(order)}")
    why = explained()
    if args.render:                  # (after labs/mutants.txt changed: nothing is run)
        results, totals, runs = recorded()
        write_readme(report(results, why, totals, runs))
        return
    plan, totals, earlier = [], {}, {}
    resumable = args.write and not args.n and not args.only and not args.list
    keep = partial_load() if resumable else None
    scratch = tempfile.mkdtemp(prefix="mutate.")
    t0 = time.time()
    for lab in labs:
        muts = mutants_of(lab)
        totals[lab] = len(muts)
        if args.n:
            muts = random.Random(f"{args.seed}:{lab}").sample(muts, min(args.n, len(muts)))
        if args.only == "survivors":
            with open(RESULTS) as f:
                rec = json.load(f).get(lab, {"mutants": []})
            again = {x["id"] for x in rec["mutants"] if x["result"] == "survived"}
            seen = {x["id"] for x in rec["mutants"]}
            whole = rec.get("run", "").startswith("all")   # then new code's mutants too
            muts = [m for m in muts if m.id in again or (whole and m.id not in seen)]
        elif args.only:
            muts = [m for m in muts if m.id in args.only.split(",")]
        if resumable and keep.get(lab):
            got = keep[lab]
            earlier[lab] = [m for m in muts if m.id in got]
            for m in earlier[lab]:
                m.result = got[m.id]
            keep[lab] = {m.id: m.result for m in earlier[lab]}    # (drop those of changed code)
            muts = [m for m in muts if m.id not in got]
        if args.list:
            for m in muts:
                print(f"{m.id} {m.op:5} {m.path}:{m.lineno}\n{m.diff()}")
            continue
        plan.append((lab, muts))
    if args.list:
        return
    print(f"mutate: {' '.join(f'{lab} {len(m)}' for lab, m in plan)} mutants "
          f"({'seed ' + str(args.seed) if args.n else 'all'}, CPUS={args.cpus}, {args.jobs} jobs), "
          f"logs in {scratch}", flush=True)
    for lab, ms in earlier.items():
        print(f"mutate: {lab}: {len(ms)} more already run ({os.path.relpath(PARTIAL, ROOT)})")
    results = run_all(plan, args, scratch, keep)
    results = [(lab, earlier.get(lab, []) + ms) for lab, ms in results]
    text = report(results, why, totals)
    print(f"\n{text}\nmutate: {time.time() - t0:.0f}s")
    bad = [m for _, ms in results for m in ms if m.result == "survived" and m.id not in why]
    if args.write and args.only:
        update(results)
    elif args.write:
        record(results, totals, args, time.time() - t0)
        if keep is not None:         # (a sample keeps no partial results)
            for lab, _ in results:
                keep.pop(lab, None)
            partial_save(keep)
        results, totals, runs = recorded()
        write_readme(report(results, why, totals, runs))
    if bad:
        print(f"mutate: {len(bad)} survivor(s) not explained in labs/mutants.txt: "
              + " ".join(m.id for m in bad))
        if args.check:
            sys.exit(1)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
