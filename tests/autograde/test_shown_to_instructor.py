"""Issue 14, what the formgrader shows of a real grading run: students by a name, and each failing
test's error as the notebook shows it, never a frame of the grader or a path of this machine.

One course, graded once by the real command line (sandboxed): a wrong answer ([x_t, h_prev], and
a crash inside the student's ``forget``), the blank release, and a correct answer by a student
the instructor imported with names (``nbgrader db student import``). What is read afterwards is
what the formgrader reads: the gradebook (through nbgrader's own ``NbGraderAPI``, which answers
the formgrader's students page) and the notebooks in ``autograded/``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import autograde_harness as harness
import nbformat
import pytest
import recording_harness as rh

from lstm_course.display import FAILED, WIDTH

XH = "Likely mistake: [x_t, h_prev] instead of [h_prev, x_t]"
CRASH = "return f_t * c_prev[:, :2]"  # the student's own line that raises in forget


def _wrong(course):
    nb = rh.solved(course)
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid == "forget_gate":
            cell.source = cell.source.replace("[h_prev, x_t]", "[x_t, h_prev]")
        if gid == "forget":
            cell.source = cell.source.replace("return f_t * c_prev", CRASH)
    assert sum("[x_t, h_prev]" in c.source or CRASH in c.source for c in nb.cells) == 2
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = harness.make_course(tmp_path_factory.mktemp("shown") / "course")
    (course / "students.csv").write_text("id,first_name,last_name,email\nada,Ada,Lovelace,\n")
    imported = subprocess.run(
        [sys.executable, "-m", "nbgrader", "db", "student", "import", "students.csv"],
        cwd=course, capture_output=True, text=True, env=harness.env(),
    )  # fmt: skip
    assert imported.returncode == 0, imported.stdout + imported.stderr
    context = harness.load_cases().context(course, harness.ASSIGNMENT)
    rh.submit(course, "ada", context.solved())
    rh.submit(course, "wrong", _wrong(course))
    rh.submit(course, "blank", context.release)
    proc = harness.autograde(course, "--jobs", "2", "--quiet")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return course


def _notebook(course, student):
    path = course / "autograded" / student / harness.ASSIGNMENT / f"{rh.NOTEBOOK}.ipynb"
    return nbformat.read(str(path), as_version=4)


def _errors(course, student) -> dict[str, dict]:
    """grade_id (or the cell's index) -> its error output."""
    out = {}
    for k, cell in enumerate(_notebook(course, student).cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out[cell.metadata.get("nbgrader", {}).get("grade_id", str(k))] = o
    return out


def test_students_have_a_name_and_imported_names_stay(course):
    from nbgrader.apps.api import NbGraderAPI

    from lstm_course.autograde.course import Course

    students = {s["id"]: s for s in NbGraderAPI(coursedir=Course(course).coursedir).get_students()}
    assert set(students) == {"ada", "wrong", "blank"}
    assert (students["ada"]["last_name"], students["ada"]["first_name"]) == ("Lovelace", "Ada")
    for sid in ("wrong", "blank"):
        assert (students[sid]["last_name"], students[sid]["first_name"]) == (sid, "")
    # the formgrader's students and submissions pages write `last_name, first_name`, with
    # "None" for a missing one (nbgrader 0.9, manage_students.js and manage_submissions.js)
    shown = {
        f"{s['last_name'] if s['last_name'] is not None else 'None'}, "
        f"{s['first_name'] if s['first_name'] is not None else 'None'}"
        for s in students.values()
    }
    assert not [name for name in shown if "None" in name], shown


def test_no_traceback_holds_a_grader_frame_or_a_path_of_this_machine(course):
    checked = 0
    for student in ("ada", "wrong", "blank"):
        for gid, output in _errors(course, student).items():
            text = "\n".join(output["traceback"])
            for leak in ("site-packages", str(harness.ROOT), str(course), "lstm_course/",
                         "Traceback (most recent call last)", 'File "', "_proxy", "/tmp/"):  # fmt: skip
                assert leak not in text, f"{student} {gid}: {leak!r} in\n{text}"
            checked += 1
    assert checked >= 15  # the blank release fails every test, the wrong answer several


def test_a_failing_test_shows_its_name_and_mistake_first_and_keeps_type_and_message(course):
    errors = _errors(course, "wrong")
    output = errors["forget_gate_example"]
    assert output["ename"] == "AssertionError" and XH in output["evalue"]
    lines = output["traceback"]
    assert lines[0].startswith(FAILED + "forget_gate gives the reference f_t")
    assert any(line.startswith(XH) for line in lines[:6]), lines
    assert max(len(line) for line in lines) <= WIDTH


def test_a_crash_in_the_students_code_shows_their_line_not_the_chain(course):
    output = _errors(course, "wrong")["forget_example"]
    assert output["ename"] == "AssertionError" and "raised ValueError" in output["evalue"]
    text = "\n".join(output["traceback"])
    assert "Where it happened in your code:" in text and ", in forget:" in text
    assert CRASH in text
    blank = "\n".join(_errors(course, "blank")["forget_gate_shape"]["traceback"])
    assert "NotImplementedError: write the body of this function" in blank
    assert "forget_gate is not written yet" in blank


def test_nbgrader_still_scores_every_error_output_zero(course):
    """The outputs changed, the grades did not: nbgrader's own determine_grade reads each test
    cell of the autograded notebook, and the gradebook agrees with it."""
    from nbgrader.utils import determine_grade, is_grade

    from lstm_course.autograde.course import Course

    log = logging.getLogger("test")
    with Course(course).gradebook() as gb:
        full = gb.find_assignment(harness.ASSIGNMENT).max_score
        for student, expected in (("ada", full), ("wrong", None), ("blank", 0)):
            nb = _notebook(course, student)
            total = 0.0
            for cell in nb.cells:
                if cell.cell_type != "code" or not is_grade(cell):
                    continue
                points, max_points = determine_grade(cell, log)
                failed = any(o.get("output_type") == "error" for o in cell.outputs)
                assert points == (0 if failed else max_points), (student, cell.metadata)
                total += points
            score = gb.find_submission(harness.ASSIGNMENT, student).score
            assert score == total
            if expected is not None:
                assert score == expected
            else:
                assert 0 < score < full


def test_the_summary_records_the_same_scores(course):
    from lstm_course.autograde.course import Course

    summary = json.loads((course / "autograded" / "autograde_summary.json").read_text())
    with Course(course).gradebook() as gb:
        graded = {s: gb.find_submission(harness.ASSIGNMENT, s).score for s in ("ada", "wrong")}
    scores = {s["student"]: s["score"] for s in summary["submissions"]}
    assert scores == {**graded, "blank": 0}
    full = {s["student"]: s["max_score"] for s in summary["submissions"]}["ada"]
    assert scores["ada"] == full > scores["wrong"] > 0
