"""Every assignment of the course through the sandboxed grader: solution full, blank zero.

The instructor's notebook (solutions, visible and hidden tests) and the released notebook,
unchanged, are submitted for every assignment in solutions/, in a temporary copy of the course,
and graded by ``python -m lstm_course.autograde``. The grader's guards and its outside check must not
cost a correct submission anything, nor flag it, whatever the exercise does (PyTorch, training).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from autograde_harness import ROOT, autograde, env

ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def every_assignment(tmp_path_factory) -> dict:
    course = tmp_path_factory.mktemp("every") / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder, course / folder)
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--force"],
        cwd=course,
        check=True,
        capture_output=True,
        env=env(),
    )
    for assignment in ASSIGNMENTS:
        (notebook,) = sorted((course / "solutions" / assignment).glob("*.ipynb"))
        for student, src in (("solution", notebook), ("blank", None)):
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True)
            src = src or course / "exercises" / assignment / notebook.name
            shutil.copy(src, folder / notebook.name)
    proc = autograde(course, "--jobs", "2", "--quiet")
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((course / "autograded" / "autograde_summary.json").read_text())
    return {(s["student"], s["assignment"]): s for s in summary["submissions"]}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_gets_full_marks_without_flags(every_assignment, assignment):
    entry = every_assignment[("solution", assignment)]
    assert entry["score"] == entry["max_score"] > 0, entry
    assert entry["flags"] == [] and entry["failures"] == [], entry


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_release_gets_zero_without_flags(every_assignment, assignment):
    entry = every_assignment[("blank", assignment)]
    assert entry["score"] == 0 and entry["max_score"] > 0, entry
    assert entry["flags"] == [] and entry["failures"] == [], entry
