"""Issue 10, names: a student, assignment or file name ends up in paths, the gradebook,
grades.csv, HTML and the terminal, so only ``^[A-Za-z0-9._@-]+$`` names (not starting with ``.``,
``-`` or ``@``, not reserved) are graded; the others are refused, named, in the summary, and never
change another student's grade. grades.csv is written by the csv module, every field quoted."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import nbformat
import pytest
import recording_harness as rh

from lstm_course.autograde.course import (
    NAME_RULE,
    SUMMARY_NAME,
    Course,
    copy_files,
    find_submissions,
    name_problem,
)

BAD_STUDENTS = [
    "eve,14\nforged",  # a CSV row of its own
    SUMMARY_NAME,  # made every later run exit 1
    ".hidden",
    "..",
    "-rf",
    "<img src=x onerror=alert(1)>",
    "e\x1b]0;pwned\x07ve",
    "eve\u202egnp.exe",
    "a b",
]


@pytest.mark.parametrize("name", ["ada", "ada.lovelace", "a_b-c@uni.edu", "S123", "_x"])
def test_valid_names(name):
    assert name_problem(name) is None


@pytest.mark.parametrize("name", [*BAD_STUDENTS, "", ".", "x" * 129, "timestamp.txt", "é"])
def test_invalid_names_say_the_rule(name):
    problem = name_problem(name)
    assert problem is not None
    assert NAME_RULE in problem or "reserves" in problem
    assert "\x1b" not in problem and "\u202e" not in problem and "\n" not in problem


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return rh.harness.make_course(tmp_path_factory.mktemp("names") / "course")


def test_find_refuses_bad_folders_and_keeps_the_good(course, tmp_path):
    nb = rh.solved(course)
    for student in ["ada", *[s for s in BAD_STUDENTS if s != ".."]]:
        rh.submit(course, student, nb)
    bad_assignment = course / "submitted" / "bob" / "ex03 forget_gate"
    bad_assignment.mkdir(parents=True)
    found = find_submissions(c := Course(course), [], [])
    assert [(s.student, s.assignment) for s in found] == [("ada", rh.ASSIGNMENT)]
    reasons = [r["reason"] for r in c.refused]
    assert len(reasons) == len(BAD_STUDENTS) - 1 + 1  # ".." cannot be created; bob's assignment
    for reason in reasons:
        assert "was not graded" in reason and (NAME_RULE in reason or "reserves" in reason)
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", reason), reason
    assert any("assignment folder 'bob/ex03 forget_gate'" in r for r in reasons)


@pytest.mark.slow
def test_the_run_reports_refused_folders_and_never_fails_on_them(course):
    """End to end, twice (a folder named like the summary made every later run exit 1); the
    honest student is graded in full beside the refused ones."""
    if shutil.which("bwrap") is None:
        pytest.fail("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    for student in ["ada", *[s for s in BAD_STUDENTS if s != ".."]]:
        rh.submit(course, student, rh.solved(course))
    summaries = []
    for _ in range(2):
        proc = rh.harness.autograde(course, *rh.harness.GRADE_ARGS)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", proc.stdout), proc.stdout
        summaries.append(json.loads((course / "autograded" / SUMMARY_NAME).read_text()))
        assert "Refused" in proc.stdout
    first, second = summaries
    assert [(s["student"], s["score"], s["max_score"]) for s in first["submissions"]] == [
        ("ada", 21.0, 21.0)
    ]
    assert second["skipped_already_graded"] == [f"ada/{rh.ASSIGNMENT}"]
    for summary in summaries:
        folders = {r["folder"] for r in summary["refused"]}
        assert folders >= {ascii(s) for s in BAD_STUDENTS if s != ".."}, folders
        assert all(r["reason"] in summary["failures"] for r in summary["refused"])
    assert (course / "autograded" / SUMMARY_NAME).is_file()
    with Course(course).gradebook() as gb:
        assert sorted(s.id for s in gb.students) == ["ada"]


def test_a_summary_path_taken_by_a_folder_still_gets_a_summary(course, tmp_path):
    """An older grader left autograded/autograde_summary.json/ as a student's folder."""
    from lstm_course.autograde import results

    taken = tmp_path / "autograded" / SUMMARY_NAME / rh.ASSIGNMENT
    taken.mkdir(parents=True)
    c = Course(course)
    c.coursedir.autograded_directory = str(tmp_path / "autograded")
    path = results.write_report(c, {"failures": [], "submissions": []}, None)
    assert path.is_file() and path.parent == tmp_path / "autograded"
    assert json.loads(path.read_text()) == {"failures": [], "submissions": []}


def test_grades_csv_is_quoted_and_has_one_row_per_student(course):
    forged = 'mallory\nforged,ex03_forget_gate,,,"x",,,14.0,0.0,14.0,14.0'
    ids = ["ada", "b,c", forged, "=HYPERLINK(1)", 'quote"d']
    with Course(course).gradebook() as gb:
        for sid in ids:
            gb.update_or_create_student(sid, last_name="Lovelace, Ada", email="@SUM(1)")
    rh.submit(course, "ada", rh.solved(course))
    rh.record(course, "ada", rh.graded(course, rh.solved(course)).notebook)
    proc = rh.nbgrader(course, "export", "--to=grades.csv")
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = (course / "grades.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    with Course(course).gradebook() as gb:
        everyone = sorted(s.id for s in gb.students)
    assert sorted(r["student_id"].removeprefix("'") for r in rows) == everyone
    assert len(rows) == len(everyone)  # one assignment, one row per student, none forged
    by_id = {r["student_id"]: r for r in rows}
    assert by_id["ada"]["score"] == "21.0"
    assert by_id[forged]["score"] == "0.0"
    assert "'=HYPERLINK(1)" in by_id and by_id["ada"]["email"] == "'@SUM(1)"
    assert text.startswith('"assignment","duedate"')  # every field quoted
    assert {len(r) for r in csv.reader(io.StringIO(text))} == {11}


def test_copy_refuses_bad_file_names_and_keeps_notebooks(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    (src / "<svg onload=x>").mkdir(parents=True)
    names = ["ok.txt", "<img src=x onerror=y>.png", "a\x1b[2J.txt", ".hidden", "data (1).csv"]
    for name in names:
        (src / name).write_text("x")
    (src / "<svg onload=x>" / "in.txt").write_text("x")
    nbformat.write(nbformat.v4.new_notebook(), str(src / "forget_gate (1).ipynb"))
    notes: list[str] = []
    copy_files(src, dest, notes, [])
    assert sorted(p.name for p in dest.rglob("*")) == ["forget_gate (1).ipynb", "ok.txt"]
    assert len(notes) == 5
    assert not any(re.search("[\x00-\x1f<]", n.replace("\\x1b", "")) and "\x1b" in n for n in notes)
    assert all("\x1b" not in n for n in notes)
