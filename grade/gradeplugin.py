"""pytest plugin: labs, points, the xv6-style report and results.json.

Every test carries two markers (module-level `pytestmark` is fine):

    @pytest.mark.lab("util")     which lab the test grades
    @pytest.mark.points(5)       what passing it is worth

While tests run, one line per test:

    == Test cowtest[cpus=3] == cowtest[cpus=3]: OK (1.2s)

followed, when a test fails, by why (indented).  At the end: one line per
lab (`lab util: 12/15`), then `Score: a/b`, then pytest's own summary line.
A Gradescope results.json is written to the repo root (or to the path in
GRADE_RESULTS).

The labs and their order come from labs/manifest.  One more group, `base`,
holds the tests of the kernel and of the system as a whole, which no lab's
student tree stubs out.  Selection (env):

    LAB=cow           base, every lab up to cow, and cow's write-up checks:
                      what a student runs (a lab must not break earlier ones)
    LAB=cow LAB_ONLY=1
                      only cow's tests (LAB=a,b: several labs)

A test marked @pytest.mark.writeup (time.txt, answers-<lab>.txt) runs only
for the labs named in LAB (or for every lab when LAB is unset): earlier
labs' write-ups were graded with those labs.
"""

import json
import os
import re
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pytest_configure(config):
    config.addinivalue_line("markers", "lab(name): the lab this test grades")
    config.addinivalue_line("markers", "points(n): what passing this test is worth")
    config.addinivalue_line("markers", "writeup: a check of the student's write-up files")
    if not config.pluginmanager.has_plugin("grade-reporter"):
        config.pluginmanager.register(GradeReporter(config), "grade-reporter")


def display_name(item):
    """test_cowtest[cpus=3] -> cowtest[cpus=3]"""
    name = item.name
    return name[5:] if name.startswith("test_") else name


class Result:
    def __init__(self, name, lab, points):
        self.name, self.lab, self.points = name, lab, points
        self.outcome = "passed"           # passed, failed or skipped
        self.duration = 0.0
        self.details = []

    @property
    def score(self):
        return self.points if self.outcome == "passed" else 0


class GradeReporter:
    def __init__(self, config):
        self.config = config
        self.results = {}                 # nodeid -> Result, in run order
        self.started = time.time()

    @property
    def tr(self):
        return self.config.pluginmanager.get_plugin("terminalreporter")

    # ---- collection: check markers, select LAB ----

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        problems = []
        for item in items:
            lab = item.get_closest_marker("lab")
            points = item.get_closest_marker("points")
            if not lab or not lab.args or not points or not points.args:
                problems.append(f"{item.nodeid}: needs @pytest.mark.lab(name) "
                                f"and @pytest.mark.points(n)")
        if problems:
            raise pytest.UsageError("\n".join(problems))

        order = lab_order()
        unknown = sorted({lab_of(i) for i in items} - set(order))
        if unknown:
            raise pytest.UsageError(f"tests name labs that labs/manifest does not list: "
                                    f"{', '.join(unknown)} (labs: {' '.join(order)})")
        raw = os.environ.get("LAB", "").strip()
        if raw:
            self.select_labs(raw, order, config, items)
        # GRADE_ORDER=<file>: run the tests it names (display names, one a
        # line) first, in its order; the rest after them, as collected.
        # (tools/mutate.py: the lab's fastest tests first, so a mutant that
        # a quick test catches does not wait for the slow ones.)
        path = os.environ.get("GRADE_ORDER")
        if path:
            with open(path) as f:
                rank = {name: k for k, name in enumerate(f.read().splitlines())}
            items.sort(key=lambda i: rank.get(display_name(i), len(rank)))

    def select_labs(self, raw, order, config, items):
        named = [w.strip() for w in raw.split(",") if w.strip()]
        bad = [w for w in named if w not in order]
        if bad:
            raise pytest.UsageError(f"LAB={raw}: no lab {', '.join(bad)}; "
                                    f"the labs are: {' '.join(order)}")
        if os.environ.get("LAB_ONLY", "").strip() not in ("", "0"):
            wanted = set(named)
        else:
            last = max(order.index(w) for w in named)
            wanted = set(order[:last + 1])
        keep, drop = [], []
        for i in items:
            lab = lab_of(i)
            ok = lab in wanted and (lab in named or not i.get_closest_marker("writeup"))
            (keep if ok else drop).append(i)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
        if not keep:
            raise pytest.UsageError(f"no tests for LAB={raw}")

    def pytest_collection_finish(self, session):
        # GRADE_TABLE=<file>: write "lab tests points" per lab there (for
        # tools/labstats.py), from the tests collected.
        out = os.environ.get("GRADE_TABLE")
        if not out:
            return
        table = {}
        for i in session.items:
            n, p = table.get(lab_of(i), (0, 0))
            table[lab_of(i)] = (n + 1, p + points_of(i))
        with open(out, "w") as f:
            for lab in lab_order():
                n, p = table.get(lab, (0, 0))
                f.write(f"{lab} {n} {p}\n")

    # ---- running: one xv6-style line per test ----

    @pytest.hookimpl(hookwrapper=True)
    def pytest_report_teststatus(self, report, config):
        # Keep pytest's outcome category (it feeds the summary line) and
        # word (the short summary's FAILED), but print no progress dots:
        # our own lines replace them.
        outcome = yield
        category, _, word = outcome.get_result()
        outcome.force_result((category, "", word))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        # Runs outside pytest's output capture, unlike pytest_runtest_setup.
        r = Result(display_name(item), lab_of(item), points_of(item))
        self.results[item.nodeid] = r
        tr = self.tr
        if tr is not None:
            tr.ensure_newline()
            tr.write(f"== Test {r.name} == ", flush=True)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        r = self.results.get(item.nodeid)
        if r is None:
            return
        if report.failed:
            r.details.append(failure_detail(item, call, report))
        elif report.skipped and call.when != "teardown":
            r.details.append(f"skipped: {skip_reason(report)}")

    def pytest_runtest_logreport(self, report):
        r = self.results.get(report.nodeid)
        if r is None:
            return
        r.duration += report.duration
        if report.failed:
            r.outcome = "failed"
        elif report.skipped and r.outcome == "passed":
            r.outcome = "skipped"
        if report.when == "teardown":
            self._print(r)

    def _print(self, r):
        tr = self.tr
        if tr is None:
            return
        word, markup = {"passed": ("OK", {"green": True}),
                        "failed": ("FAIL", {"red": True, "bold": True}),
                        "skipped": ("SKIP", {"yellow": True})}[r.outcome]
        tr.write(f"{r.name}: ")
        tr.write(word, **markup)
        tr.write(f" ({r.duration:.1f}s)\n", flush=True)
        for d in r.details:
            for line in d.rstrip().split("\n"):
                tr.write(f"    {line}".rstrip() + "\n")
        tr.flush()

    # ---- the end: scores and results.json ----

    def pytest_sessionfinish(self, session, exitstatus):
        if not self.results:
            return
        path = os.environ.get("GRADE_RESULTS") or os.path.join(ROOT, "results.json")
        tests = [{
            "name": r.name,
            "score": r.score,
            "max_score": r.points,
            "status": "passed" if r.outcome == "passed" else "failed",
            "output": "\n".join(r.details),
            "tags": [r.lab],
        } for r in self.results.values()]
        data = {
            "score": sum(r.score for r in self.results.values()),
            "execution_time": round(time.time() - self.started),
            "tests": tests,
        }
        # Write beside and rename, so a reader never sees half a file;
        # but never rename over something that is not a regular file
        # (GRADE_RESULTS=/dev/null must stay the null device).
        try:
            atomic = not os.path.exists(path) or os.path.isfile(path)
            out = path + ".tmp" if atomic else path
            with open(out, "w") as f:
                json.dump(data, f, indent=1)
                f.write("\n")
            if atomic:
                os.replace(out, path)
        except OSError as e:
            if self.tr is not None:
                self.tr.write_line(f"grade: cannot write {path}: {e}", red=True)

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter):
        # tryfirst makes this wrapper the outermost one, so what we print
        # after `yield` comes after pytest's other summaries and just
        # before its final "N passed, M failed in Xs" line.
        yield
        if not self.results:
            return
        tr = terminalreporter
        tr.ensure_newline()
        labs = {}
        for r in self.results.values():
            got, out_of = labs.get(r.lab, (0, 0))
            labs[r.lab] = (got + r.score, out_of + r.points)
        order = lab_order()
        for lab in sorted(labs, key=lambda l: order.index(l) if l in order else len(order)):
            got, out_of = labs[lab]
            tr.write_line(f"lab {lab}: {got}/{out_of}")
        got = sum(g for g, _ in labs.values())
        out_of = sum(o for _, o in labs.values())
        tr.write_line(f"Score: {got}/{out_of}", bold=True,
                      green=got == out_of, red=got != out_of)


def lab_order():
    """base, then the labs of labs/manifest in course order (read by
    tools/handout.py, the one reader of the manifest)."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from handout import labs
    return ["base"] + labs()


def lab_of(item):
    m = item.get_closest_marker("lab")
    return str(m.args[0]) if m and m.args else "?"


def points_of(item):
    m = item.get_closest_marker("points")
    return m.args[0] if m and m.args else 0


def skip_reason(report):
    lr = report.longrepr
    if isinstance(lr, tuple) and len(lr) == 3:
        return str(lr[2]).removeprefix("Skipped: ")
    return str(lr)


def failure_detail(item, call, report):
    """Why the test failed, for the line under FAIL and results.json."""
    where = "" if call.when == "call" else f"(in {call.when}) "
    exc = call.excinfo
    if exc is None:
        return where + str(report.longreprtext)
    if exc.errisinstance(AssertionError):
        msg = str(exc.value).strip() or exc.exconly()
        # A plain assert's message is followed by pytest's explanation of
        # the expression ("assert False", "+  where ..."): the message
        # says it all, so that goes.
        if msg and not msg.startswith("assert "):
            msg = re.split(r"\nassert ", msg, maxsplit=1)[0]
        lines = [where + msg]
        loc = where_in_test(item, exc)
        if loc:
            lines.append(f"at {loc}")
    else:
        lines = [where + short_traceback(item, exc)]
    # The console's own failures already show the transcript; for any
    # other failure show the end of each console the test used.
    from console import ConsoleError, BootError
    if not exc.errisinstance((ConsoleError, BootError)):
        for con in getattr(item, "grade_consoles", []):
            lines.append(f"{con.name}: console transcript (end):")
            lines.append(con.tail())
    return "\n".join(lines)


def short_traceback(item, excinfo):
    """The traceback pytest would show with --tb=short (pruned to the
    test's own frames; a missing fixture reported plainly)."""
    try:
        return str(item._repr_failure_py(excinfo, style="short"))
    except Exception:
        return str(excinfo.getrepr(style="short"))


def where_in_test(item, excinfo):
    """file:line of the deepest traceback entry inside the test module."""
    path = str(getattr(item, "path", "") or "")
    for entry in reversed(excinfo.traceback):
        if str(entry.path) == path:
            return f"{os.path.basename(path)}:{entry.lineno + 1}"
    return None
