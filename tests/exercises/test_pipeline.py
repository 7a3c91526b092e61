"""The whole nbgrader cycle on every assignment, in a temporary copy of the course directory.

For each assignment, these submissions go through the real commands (generate_assignment,
autograde, generate_feedback, export):

- ``solution``: the instructor's notebook itself (solutions, visible and hidden tests): full marks;
- ``blank``: the released notebook, unchanged: zero, every graded cell failing on the stub's
  NotImplementedError (not on an error of the test);
- wrong answers (``mistakes/``): partial credit, and the feedback names the mistake. Every
  rewrite and in-place edit goes through the cycle, and of the planted mistakes (MUTATIONS) the
  first of each assignment and those whose later tests this file checks (CAUSES, the hidden
  test's feedback). The other planted mistakes are graded in-process by ``test_diagnosis``
  (milliseconds each, instead of seconds through nbgrader); ``test_the_runner_agrees_with_nbgrader``
  checks here that the in-process runner gives nbgrader's score to every submission graded both
  ways.

The assignments are split over two course copies, each with its own SQLite gradebook, graded at
the same time (never two processes on one gradebook).
"""

from __future__ import annotations

import copy
import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from diagnosis import LIKELY, answer, grade, strip_markers
from mistakes import CAUSES, IN_PLACE, MUTATIONS, REWRITES

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ALL_ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
ASSIGNMENTS = ALL_ASSIGNMENTS
# While writing an exercise: LSTM_EXERCISES=ex02_lstm_cell pytest tests/exercises
if os.environ.get("LSTM_EXERCISES"):
    ASSIGNMENTS = [a for a in ASSIGNMENTS if a in os.environ["LSTM_EXERCISES"].split(",")]
# Notebooks that import torch start slower and train: spread them over the two workers.
COST = {"ex07_pytorch": 3, "ex10_project": 4, "ex06_bptt": 2, "ex09_training": 2}
WORKERS = 2


# The planted mistakes graded through the cycle (see the module's docstring).
CHECKED_HERE = {(a, student) for a, student, _ in CAUSES} | {("ex03_forget_gate", "xh-order")}
THROUGH_CYCLE = {
    a: [row for k, row in enumerate(rows) if k == 0 or (a, row[0]) in CHECKED_HERE]
    for a, rows in MUTATIONS.items()
}


def wrong_rows(assignment: str) -> list[tuple]:
    """The rows of ``mistakes/`` graded through the cycle for ``assignment``."""
    return (THROUGH_CYCLE.get(assignment, []) + REWRITES.get(assignment, [])
            + IN_PLACE.get(assignment, []))  # fmt: skip


def notebook_path(base: Path, assignment: str) -> Path:
    (path,) = (base / assignment).glob("*.ipynb")
    return path


def nbgrader(course: Path, *args: str) -> None:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stderr[-3000:]}"


def submission(released: dict, solution: dict, row=None) -> dict:
    """The released notebook with each solution cell filled in as a student would, and the
    cell of ``row`` (a row of ``mistakes/``) as that student wrote it."""
    bodies = {cell["id"]: "".join(cell["source"]) for cell in solution["cells"]}
    nb = copy.deepcopy(released)
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            cell["source"] = strip_markers(bodies[cell["id"]])
    if row is not None:
        cell_id, source = answer(solution, row)
        (cell,) = [c for c in nb["cells"] if c["id"] == cell_id]
        cell["source"] = source
    return nb


def grade_group(course: Path, assignments: list[str]) -> None:
    """Release, submit, autograde, feed back and export ``assignments`` in one course copy."""
    course.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for assignment in assignments:
        shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
    nbgrader(course, "generate_assignment", "*", "--force")
    for assignment in assignments:
        source = notebook_path(course / "solutions", assignment)
        released = json.loads(notebook_path(course / "exercises", assignment).read_text())
        solution = json.loads(source.read_text())
        students = {"solution": solution, "blank": released}
        for row in wrong_rows(assignment):
            students[row[0]] = submission(released, solution, row)
        for student, nb in students.items():
            target = course / "submitted" / student / assignment / source.name
            target.parent.mkdir(parents=True)
            target.write_text(json.dumps(nb))
    nbgrader(course, "autograde", "*")
    nbgrader(course, "generate_feedback", "*")
    nbgrader(course, "export", "--to=grades.csv")


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """Grade every assignment; returns {assignment: course directory it was graded in}."""
    base = tmp_path_factory.mktemp("course")
    groups: list[list[str]] = [[] for _ in range(WORKERS)]
    for assignment in sorted(ASSIGNMENTS, key=lambda a: -COST.get(a, 1)):
        cheapest = min(groups, key=lambda g: sum(COST.get(a, 1) * 7 for a in g))
        cheapest.append(assignment)
    courses = [base / f"copy{k}" for k in range(WORKERS)]
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [
            pool.submit(grade_group, c, g) for c, g in zip(courses, groups, strict=True) if g
        ]
        for future in futures:
            future.result()
    return {a: course for course, group in zip(courses, groups, strict=True) for a in group}


def scores(course: Path, assignment: str) -> dict[str, tuple[float, float]]:
    with open(course / "grades.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["assignment"] == assignment]
    return {r["student_id"]: (float(r["score"]), float(r["max_score"])) for r in rows}


def feedback_text(course: Path, assignment: str, student: str) -> str:
    (path,) = (course / "feedback" / student / assignment).glob("*.html")
    text = html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return re.sub(r"\s+", " ", text)


def graded_cells(course: Path, assignment: str, student: str, every=False) -> list[dict]:
    nb = json.loads(notebook_path(course / "autograded" / student, assignment).read_text())
    return [
        c
        for c in nb["cells"]
        if c["cell_type"] == "code" and (every or c["metadata"].get("nbgrader", {}).get("grade"))
    ]


def failing_tests(course: Path, assignment: str, student: str) -> dict[str, str]:
    """{grade id: the error's message} of each graded cell that failed in ``student``'s
    autograded notebook."""
    return {
        c["metadata"]["nbgrader"]["grade_id"]: " ".join(
            o.get("evalue", "") for o in c["outputs"] if o["output_type"] == "error"
        )
        for c in graded_cells(course, assignment, student)
        if any(o["output_type"] == "error" for o in c["outputs"])
    }


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_no_drift(graded, assignment):
    """exercises/ is exactly what `make release` makes from solutions/."""
    fresh = notebook_path(graded[assignment] / "exercises", assignment)
    committed = ROOT / "exercises" / assignment / fresh.name
    assert committed.exists(), f"{committed} is missing: run `make release` and commit exercises/"
    assert fresh.read_text() == committed.read_text(), (
        f"{committed.relative_to(ROOT)} differs from what `make release` makes from "
        f"solutions/{assignment}: run `make release` and commit exercises/"
    )
    others = sorted(p.name for p in (ROOT / "exercises" / assignment).iterdir())
    assert others == [fresh.name], f"exercises/{assignment} holds more than the notebook: {others}"


def test_exercises_and_solutions_match():
    exercises = sorted(p.name for p in (ROOT / "exercises").iterdir() if p.is_dir())
    assert exercises == ALL_ASSIGNMENTS


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*/*.ipynb")) +
                         sorted((ROOT / "exercises").glob("*/*.ipynb")), ids=lambda p: p.name)  # fmt: skip
def test_committed_notebooks_carry_no_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: cell {cell['id']} has outputs"
            assert cell["execution_count"] is None, f"{path.name}: cell {cell['id']} was run"


TORCH_ASSIGNMENTS = {"ex07_pytorch", "ex09_training", "ex10_project", "ex11_char_lm"}


@pytest.mark.parametrize("assignment", sorted(set(ALL_ASSIGNMENTS) - TORCH_ASSIGNMENTS))
def test_numpy_assignments_do_not_import_torch(assignment):
    for base in (ROOT / "solutions", ROOT / "exercises"):
        nb = json.loads(notebook_path(base, assignment).read_text())
        for cell in nb["cells"]:
            source = "".join(cell["source"])
            assert not re.search(r"^\s*(import torch|from torch)", source, re.M), (
                f"{base.name}/{assignment}: cell {cell['id']} imports torch"
            )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_runs_and_gets_full_marks(graded, assignment):
    course = graded[assignment]
    score, max_score = scores(course, assignment)["solution"]
    failing = [
        f"{c['id']}: {o.get('ename')}: {o.get('evalue', o.get('text'))}"
        for c in graded_cells(course, assignment, "solution", every=True)
        for o in c["outputs"]
        if o["output_type"] == "error" or o.get("name") == "stderr"
    ]
    assert not failing, "the solution fails:\n" + "\n".join(failing)
    assert score == max_score > 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_release_scores_zero_on_the_stubs(graded, assignment):
    course = graded[assignment]
    assert scores(course, assignment)["blank"][0] == 0
    cells = graded_cells(course, assignment, "blank")
    assert cells
    for cell in cells:
        errors = [o.get("ename") for o in cell["outputs"] if o["output_type"] == "error"]
        assert errors == ["NotImplementedError"], (
            f"graded cell {cell['metadata']['nbgrader']['grade_id']} of the blank release "
            f"fails with {errors or 'no error'}, not with the stub's NotImplementedError"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_assignment_plants_at_least_five_mistakes(assignment):
    assert len(MUTATIONS.get(assignment, [])) >= 5


WRONG = [
    (a, m)
    for table in (THROUGH_CYCLE, REWRITES)
    for a, rows in table.items()
    if a in ASSIGNMENTS
    for m in rows
]


@pytest.mark.parametrize(("assignment", "mutation"), WRONG, ids=[f"{a}-{m[0]}" for a, m in WRONG])
def test_mistake_gets_partial_credit_and_is_named(graded, assignment, mutation):
    student, phrase = mutation[0], mutation[-1]
    course = graded[assignment]
    score, max_score = scores(course, assignment)[student]
    assert 0 < score < max_score, f"{student} scored {score} / {max_score}"
    text = feedback_text(course, assignment, student)
    assert "Likely mistake: " + phrase in text, f"the feedback of {student} does not say {phrase!r}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_runner_agrees_with_nbgrader(graded, assignment):
    """``diagnosis.grade``, which grades the planted mistakes not sent through the cycle, agrees
    with nbgrader on the solution and on every wrong answer graded here: the same score, the same
    failing tests, and a "Likely mistake" line in the same ones."""
    solution = json.loads(notebook_path(ROOT / "solutions", assignment).read_text())
    in_process = {"solution": grade(assignment, {})}
    for row in wrong_rows(assignment):
        in_process[row[0]] = grade(assignment, dict([answer(solution, row)]))
    course = graded[assignment]
    by_nbgrader = scores(course, assignment)
    for student, here in in_process.items():
        assert (here.score, here.max_score) == pytest.approx(by_nbgrader[student]), student
        failing = failing_tests(course, assignment, student)
        assert set(failing) == set(here.messages), student
        named = {g for g, text in failing.items() if LIKELY in text}
        assert named == {g for g, text in here.messages.items() if LIKELY in text}, student


IN_PLACE_ROWS = [(a, m) for a, rows in IN_PLACE.items() if a in ASSIGNMENTS for m in rows]


@pytest.mark.parametrize(
    ("assignment", "row"), IN_PLACE_ROWS, ids=[f"{a}-{m[0]}" for a, m in IN_PLACE_ROWS]
)
def test_an_in_place_edit_is_named_and_never_gives_false_numbers(graded, assignment, row):
    student, cell_id, _, phrase = row
    course = graded[assignment]
    score, max_score = scores(course, assignment)[student]
    assert 0 < score < max_score, f"{student} scored {score} / {max_score}"
    text = feedback_text(course, assignment, student)
    assert phrase in text
    # the values it returned were right: no test may say they were wrong
    assert "is wrong: the largest error" not in text


@pytest.mark.parametrize(
    ("assignment", "student", "phrase"), [c for c in CAUSES if c[0] in ASSIGNMENTS]
)
def test_a_sequence_test_names_the_students_own_cell_when_it_is_wrong(
    graded, assignment, student, phrase
):
    course = graded[assignment]
    errors = failing_tests(course, assignment, student)
    blamed = [grade_id for grade_id, message in errors.items() if phrase in message]
    assert blamed, f"no test of {student} says {phrase!r}"
    for grade_id in blamed:  # the loop is not blamed for the cell's mistake
        assert "Likely mistake" not in errors[grade_id], grade_id
    assert phrase in feedback_text(course, assignment, student)


@pytest.mark.skipif("ex03_forget_gate" not in ASSIGNMENTS, reason="ex03 is not graded in this run")
def test_feedback_shows_a_hidden_tests_name_and_message_but_not_its_code(graded):
    """The hidden test forget_gate_random fails for xh-order: its feedback says so, with its
    message, but shows neither its code nor its seeds; the instructor's autograded copy keeps
    them."""
    course = graded["ex03_forget_gate"]
    (path,) = (course / "feedback" / "xh-order" / "ex03_forget_gate").glob("*.html")
    raw = path.read_text()
    text = feedback_text(course, "ex03_forget_gate", "xh-order")
    assert "forget_gate_random" in raw
    assert "f_t for N, D, H = 3, 1, 2 is wrong" in text
    assert "Likely mistake: [x_t, h_prev] instead of [h_prev, x_t]" in text
    for secret in ("seed + 10", "enumerate([(3, 1, 2)", "HIDDEN TESTS", "seed + 20"):
        assert secret not in text, f"the feedback shows the hidden tests' {secret!r}"
    autograded = notebook_path(course / "autograded" / "xh-order", "ex03_forget_gate").read_text()
    assert "seed + 10" in autograded
