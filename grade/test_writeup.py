"""The write-up of each lab: time.txt (the hours the lab took) and, for a
lab whose handout asks questions (lines starting "**Q1**", "**Q2.**",
"- **Q3.**", ... in labs/<lab>.md), answers-<lab>.txt with an answer to each: a paragraph
starting "Q1:" of at least ten words.  These run only for the labs named
in LAB (see gradeplugin.py).
"""

import os
import re

import pytest

from gradeplugin import ROOT, lab_order

LABS = [l for l in lab_order() if l != "base"]

# (Only for pytest's placeholder when no handout asks a question yet.)
pytestmark = [pytest.mark.lab("base"), pytest.mark.points(0)]


def questions(lab):
    try:
        with open(os.path.join(ROOT, "labs", f"{lab}.md")) as f:
            return sorted({int(n) for n in re.findall(r"^(?:- )?\*\*Q(\d+)\.?\*\*", f.read(), re.M)})
    except OSError:
        return []


@pytest.mark.writeup
@pytest.mark.parametrize("lab", [
    pytest.param(l, id=l, marks=[pytest.mark.lab(l), pytest.mark.points(1)]) for l in LABS])
def test_time(lab):
    """time.txt holds the number of hours spent (one number)."""
    path = os.path.join(ROOT, "time.txt")
    assert os.path.exists(path), "no time.txt: write the hours this lab took in it"
    with open(path) as f:
        text = f.read()
    assert re.search(r"\d", text), f"time.txt has no number: {text!r}"


@pytest.mark.writeup
@pytest.mark.parametrize("lab", [
    pytest.param(l, id=l, marks=[pytest.mark.lab(l), pytest.mark.points(len(questions(l)))])
    for l in LABS if questions(l)])
def test_answers(lab):
    """answers-<lab>.txt answers every question of the handout."""
    path = os.path.join(ROOT, f"answers-{lab}.txt")
    assert os.path.exists(path), f"no answers-{lab}.txt (the handout asks questions)"
    with open(path) as f:
        text = f.read()
    missing = []
    for q in questions(lab):
        m = re.search(rf"^Q{q}:(.*?)(?=^Q\d+:|\Z)", text, re.M | re.S)
        if not m or len(m[1].split()) < 10:
            missing.append(f"Q{q}")
    assert not missing, f"answers-{lab}.txt: no answer (of ten words or more) to {', '.join(missing)}"
