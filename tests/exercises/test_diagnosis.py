"""Does the feedback name the mistake of an answer written by hand, or planted in a solution?

Every row of ``mistakes/*.HANDWRITTEN`` (one mistake each, written the way students write) is
graded in this process by ``diagnosis.grade``, hidden tests included, as autograde runs them:

- it never gets full marks (a wrong answer that passes every test is a hole in the tests);
- no "Likely mistake:" line names anything but its own mistake (a wrong name misleads more than
  none);
- over the course, at least 80 % of the rows get "Likely mistake: <their phrase>" (the rate per
  assignment is printed; the rows not named are listed when it fails).

Every planted mistake (``mistakes/*.MUTATIONS``) gets partial credit and "Likely mistake: <its
phrase>", as test_pipeline requires of the few it sends through nbgrader.

The runner itself is checked first: each solution, through ``grade``, gets full marks;
test_pipeline checks that it gives nbgrader's score to every submission graded both ways.
``LSTM_EXERCISES=ex01_rnn,...`` restricts everything to those assignments, as in test_pipeline.
"""

from __future__ import annotations

import os

import pytest
from diagnosis import LIKELY, ROOT, Row, answer, diagnose_rows, grade, notebook, report
from mistakes import HANDWRITTEN, MUTATIONS

ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
if os.environ.get("LSTM_EXERCISES"):
    ASSIGNMENTS = [a for a in ASSIGNMENTS if a in os.environ["LSTM_EXERCISES"].split(",")]
ROWS = {a: rows for a, rows in HANDWRITTEN.items() if a in ASSIGNMENTS}
RATE = 0.8
# The notebooks whose every run trains a model (about 10 s each on a free core): slow tests.
SLOW = {"ex10_project"}
_GRADED: dict[str, dict[str, Row]] = {}  # assignment -> {student: Row}, each graded once


def marked(assignment: str) -> list:
    return [pytest.mark.slow] if assignment in SLOW else []


def diagnosed(assignment: str) -> dict[str, Row]:
    """{student: Row} of one assignment's hand-written answers, graded on first use."""
    if assignment not in _GRADED:
        rows = diagnose_rows({assignment: ROWS[assignment]})
        _GRADED[assignment] = {r.student: r for r in rows}
    return _GRADED[assignment]


CASES = [
    pytest.param(a, row, id=f"{a}-{row[0]}", marks=marked(a))
    for a, rows in ROWS.items()
    for row in rows
]


@pytest.mark.parametrize("assignment", [pytest.param(a, marks=marked(a)) for a in ASSIGNMENTS])
def test_the_solution_gets_full_marks_through_the_runner(assignment):
    graded = grade(assignment, {})
    assert graded.max_score > 0
    assert graded.score == graded.max_score, f"the solution fails: {graded.messages}"


def test_the_runner_scores_a_broken_cell_zero_and_keeps_the_message():
    """A solution cell replaced by a stub: every test of that function fails with the stub's
    error, the others pass: the runner goes on after a failing cell."""
    nb = notebook("ex01_rnn")
    (cell,) = [c for c in nb["cells"] if c.get("id") == "rnn_step"]
    head = "".join(cell["source"]).split("### BEGIN SOLUTION")[0].rstrip()
    stub = head + "\n    raise NotImplementedError"
    graded = grade("ex01_rnn", {"rnn_step": stub})
    assert 0 < graded.score < graded.max_score
    rnn_step_tests = [g for g in graded.messages if g.startswith("rnn_step")]
    assert rnn_step_tests and all(
        "NotImplementedError" in graded.messages[g] for g in rnn_step_tests
    ), graded.messages


@pytest.mark.parametrize(("assignment", "row"), CASES)
def test_a_handwritten_mistake_never_gets_full_marks_nor_a_wrong_name(assignment, row):
    student, cell_id, _, phrase = row
    assert phrase, f"{student}: the row names no phrase"
    result = diagnosed(assignment)[student]
    assert not result.full_marks, f"{student} ({phrase!r}) passes every test"
    assert not result.misnamed, (
        f"{student} made the mistake {phrase!r}, but the feedback says:\n"
        + "\n".join(result.misnamed)
    )


PLANTED = [
    pytest.param(a, row, id=f"{a}-{row[0]}", marks=marked(a))
    for a, rows in MUTATIONS.items()
    if a in ASSIGNMENTS
    for row in rows
]


@pytest.mark.parametrize(("assignment", "row"), PLANTED)
def test_a_planted_mistake_gets_partial_credit_and_is_named(assignment, row):
    student, phrase = row[0], row[-1]
    cell_id, source = answer(notebook(assignment), row)
    graded = grade(assignment, {cell_id: source})
    assert 0 < graded.score < graded.max_score, (
        f"{student} scored {graded.score} / {graded.max_score}"
    )
    assert LIKELY + phrase in graded.text(), (
        f"the feedback of {student} does not say {LIKELY}{phrase!r}; it says:\n{graded.text()}"
    )


def test_rows_are_unique_and_one_per_student():
    for assignment, rows in ROWS.items():
        students = [row[0] for row in rows]
        assert len(students) == len(set(students)), f"{assignment}: a student id repeats"
        sources = [row[2].strip() for row in rows]
        assert len(sources) == len(set(sources)), f"{assignment}: two rows hold the same answer"


def test_most_handwritten_mistakes_are_named():
    """Over every assignment with rows: slow when one of them trains a model."""
    assert ROWS, f"no HANDWRITTEN rows for {ASSIGNMENTS}"
    results = [r for a in ROWS for r in diagnosed(a).values()]
    print("\n" + report(results))
    rate = sum(r.named for r in results) / len(results)
    missed = [
        f"{r.assignment} {r.student}: wants {LIKELY}{r.phrase!r}"
        + (f"; misnamed as: {r.misnamed}" if r.misnamed else "")
        for r in results
        if not r.named
    ]
    assert rate >= RATE, (
        f"{rate:.0%} of {len(results)} hand-written mistakes are named (at least {RATE:.0%} "
        "must be); not named:\n" + "\n".join(missed)
    )


if SLOW & set(ROWS):
    test_most_handwritten_mistakes_are_named = pytest.mark.slow(
        test_most_handwritten_mistakes_are_named
    )


def test_the_one_step_test_of_ex01_names_the_backward_mistakes():
    """ex01's state_gradients_one_step diagnoses grads[:, 0] (it once picked batch row 0 of each
    planted answer, and so never named a mistake): each hand-written backward mistake is named
    by that test itself."""
    rows = [row for row in HANDWRITTEN["ex01_rnn"] if row[1] == "state_gradients"]
    assert len(rows) >= 3
    for student, cell_id, source, phrase in rows:
        message = grade("ex01_rnn", {cell_id: source}).messages.get("state_gradients_one_step")
        assert message and LIKELY + phrase in message, (student, message)
