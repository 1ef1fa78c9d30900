"""Group "base": the book beside the code (host only, no QEMU).

  - docs/abi.md is the reference for kernel/abi.h.  Every system call
    (SYS_<lower case>) has a row `| <number> | `SYS_name` |` in its table
    of calls and every error code a row `| <number> | `E_NAME` |`, each
    with the number abi.h gives it; any other SYS_* name (SYS_FIRST_SLOW)
    is mentioned; every struct abi.h declares has a paragraph starting
    **`struct name`** that names each of its fields in `backticks`; and
    every SYS_*/E_* name the page mentions exists in abi.h.  A call added
    to the kernel without its row, or a row left behind by a removed
    call, fails here.
  - README.md stays a front page: at most README_MAX_LINES lines; the
    design text lives in docs/.
  - Every relative link in README.md, docs/*.md and labs/*.md names a file
    of the tree, and a #anchor names a heading of that file.
"""

import glob
import os
import re

import pytest

from console import ROOT

LAB = "base"
pytestmark = pytest.mark.lab(LAB)

README_MAX_LINES = 220


def read(rel):
    with open(os.path.join(ROOT, rel)) as f:
        return f.read()


def abi_names():
    """({SYS_*/E_* name: value or None}, {struct: [fields]}) of kernel/abi.h."""
    src = re.sub(r"/\*.*?\*/", " ", read("kernel/abi.h"), flags=re.S)
    src = re.sub(r"//[^\n]*", "", src)
    names = {n: int(v) if v else None for n, v in
             re.findall(r"^\s*#\s*define\s+((?:SYS|E)_\w+)\s+(\d+)?", src, re.M)}
    structs = {}
    for name, body in re.findall(r"\bstruct\s+(\w+)\s*\{(.*?)\}\s*;", src, re.S):
        fields = []
        for decl in body.split(";"):
            decl = re.sub(r"\[[^\]]*\]", "", decl).strip()   # arrays: log[REPO_N]
            if not decl:
                continue
            first, *more = decl.split(",")                  # uint64 ra, sp, gp
            fields.append(re.findall(r"\w+", first)[-1])
            fields += [m.strip().lstrip("*") for m in more]
        structs[name] = fields
    return names, structs


def code_words(text):
    """Every identifier inside a `code span` of a markdown text."""
    words = set()
    for span in re.findall(r"`([^`\n]+)`", text):
        words.update(re.findall(r"[A-Za-z_]\w*", span))
    return words


def struct_section(doc, name):
    """The text from the paragraph that starts **`struct name`** to the
    next such paragraph or heading (None if there is none)."""
    m = re.search(rf"\*\*`struct {name}`\*\*(.*?)(?=\*\*`struct |^#|\Z)", doc, re.S | re.M)
    return m[1] if m else None


@pytest.mark.points(2)
def test_abi_reference_matches_abi_h():
    names, structs = abi_names()
    assert names and structs, "kernel/abi.h: found no SYS_/E_ names or structs to check"
    doc = read("docs/abi.md")
    rows = {n: int(v) for v, n in re.findall(r"^\|\s*(\d+)\s*\|\s*`((?:SYS|E)_\w+)`\s*\|", doc, re.M)}
    words = set(re.findall(r"\w+", doc))
    problems = []
    norow = [f"{n} ({v})" for n, v in names.items()
             if (n.startswith("E_") or re.match(r"SYS_[a-z]", n)) and rows.get(n) != v]
    if norow:
        problems.append("docs/abi.md has no table row with abi.h's number for: " + ", ".join(norow))
    unmentioned = [n for n in names if n not in words]
    if unmentioned:
        problems.append("not mentioned in docs/abi.md: " + ", ".join(unmentioned))
    for struct, fields in structs.items():
        section = struct_section(doc, struct)
        if section is None:
            problems.append(f"docs/abi.md has no paragraph starting **`struct {struct}`**")
            continue
        missing = [f for f in fields if f not in code_words(section)]
        if missing:
            problems.append(f"fields of struct {struct} its paragraph does not name in "
                            f"`backticks`: " + ", ".join(missing))
    # Upper case after E_ (E_NOENT): `E_xxx` is the text's placeholder.
    mentioned = set(re.findall(r"\b(?:SYS_\w+|E_[A-Z][A-Z0-9_]*)\b", doc))
    stale = sorted(mentioned - set(names))
    if stale:
        problems.append("docs/abi.md names what kernel/abi.h does not define: " + ", ".join(stale))
    if problems:                 # (raised, not asserted: no repr of the list after it)
        raise AssertionError("\n".join(problems))


@pytest.mark.points(1)
def test_readme_is_a_front_page():
    n = len(read("README.md").splitlines())
    if n > README_MAX_LINES:
        raise AssertionError(f"README.md has {n} lines, more than {README_MAX_LINES}: "
                             f"move the design text into a chapter of docs/")


def slug(heading):
    """The anchor GitHub gives a markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path):
    text = re.sub(r"^```.*?^```", "", read(path), flags=re.S | re.M)
    return {slug(h) for h in re.findall(r"^#+\s+(.*?)\s*#*$", text, re.M)}


@pytest.mark.points(1)
def test_doc_links_resolve():
    pages = ["README.md"] + [os.path.relpath(p, ROOT) for d in ("docs", "labs")
                             for p in sorted(glob.glob(os.path.join(ROOT, d, "*.md")))]
    broken = []
    for page in pages:
        text = re.sub(r"^```.*?^```", "", read(page), flags=re.S | re.M)
        text = re.sub(r"`[^`\n]*`", "", text)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):              # http:, https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            rel = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            if not os.path.exists(os.path.join(ROOT, rel)):
                broken.append(f"{page}: {target} (no file {rel})")
            elif anchor and rel.endswith(".md") and anchor not in anchors(rel):
                broken.append(f"{page}: {target} (no heading #{anchor} in {rel})")
    if broken:
        raise AssertionError("broken links:\n" + "\n".join(broken))
