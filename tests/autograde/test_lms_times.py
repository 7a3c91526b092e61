"""Issue 14, collecting from Canvas and Moodle so that late penalties apply.

Their bulk downloads carry no submission time (in the names, nor in the zip entries' times, which
are the time the archive was made): archives named and laid out as each LMS names them are
collected by the real ``nbgrader zip_collect`` with the documented patterns
(``lstm_course.lms_times``), which writes no ``timestamp.txt``; then the LMS's own list of times
(Moodle's grading worksheet, Canvas's submissions API saved as JSON) is applied by ``python -m
lstm_course.lms_times``, and the real grader, with a due date and nbgrader's "zero" late penalty,
gives the late submissions 0 and the others full marks.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime

import autograde_harness as harness
import nbformat
import pytest
import recording_harness as rh

from lstm_course import lms_times

A = harness.ASSIGNMENT
ZIPPED_AT = (2026, 11, 23, 9, 0, 0)  # when the instructor downloaded the archive
DUE = "2026-11-20 16:00:00 UTC"  # 17:00 in Paris
MOODLE_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                 "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                 "Feedback comments"]  # fmt: skip


def _run(course, *args):
    proc = subprocess.run(
        [sys.executable, *args], cwd=course, capture_output=True, text=True, env=harness.env()
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _collect(course, archive: str, entries: list[str], pattern_name: str):
    """Write an archive as the LMS does, collect it with the documented setting."""
    nb = nbformat.writes(rh.solved(course))
    folder = course / "downloaded" / A / "archive"
    shutil.rmtree(course / "downloaded", ignore_errors=True)
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / archive, "w") as z:
        for name in entries:
            z.writestr(zipfile.ZipInfo(name, date_time=ZIPPED_AT), nb)
    config = course / "nbgrader_config.py"
    config.write_text(
        config.read_text() + f"\nfrom lstm_course.lms_times import {pattern_name}\n"
        f"c.FileNameCollectorPlugin.named_regexp = {pattern_name}\n"
    )
    _run(course, "-m", "nbgrader", "zip_collect", A, "--force")


def _stamp(course, student):
    path = course / "submitted" / student / A / "timestamp.txt"
    return path.read_text().strip() if path.exists() else None


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = harness.make_course(tmp_path_factory.mktemp("lms") / "course")
    with open(course / "nbgrader_config.py", "a") as config:
        config.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    _run(course, "-m", "nbgrader", "db", "assignment", "add", A, f"--duedate={DUE}")
    return course


@pytest.fixture(scope="module")
def moodle(course):
    """Moodle 4 lays out one folder per student (Moodle 3: "..._file_/"); ids are participant
    ids. The worksheet's times are in the downloading profile's zone (here Europe/Paris)."""
    _collect(course, "LSTM-Forget gate-42.zip", [
        "Ada Lovelace_12345_assignsubmission_file/forget_gate.ipynb",
        "Grace Hopper_12346_assignsubmission_file_/forget_gate.ipynb",
    ], "MOODLE_PATTERN")  # fmt: skip
    assert _stamp(course, "12345") is None and _stamp(course, "12346") is None
    rows = [
        ["Participant 12345", "Ada Lovelace", "", "Submitted for grading", "", "21", "Yes",
         "Friday, 20 November 2026, 5:45 PM", "-", ""],  # 45 minutes late
        ["Participant 12346", "Grace Hopper", "", "Submitted for grading", "", "21", "Yes",
         "Friday, 20 November 2026, 4:59 PM", "-", ""],
        ["Participant 12347", "Alan Turing", "", "No submission", "", "21", "Yes", "-", "-", ""],
    ]  # fmt: skip
    with open(course / "worksheet.csv", "w", newline="", encoding="utf-8-sig") as out:
        csv.writer(out).writerows([MOODLE_HEADER, *rows])
    return _run(course, "-m", "lstm_course.lms_times", A, "worksheet.csv", "--lms", "moodle",
                "--timezone", "Europe/Paris")  # fmt: skip


@pytest.fixture(scope="module")
def canvas(course, moodle):
    """Canvas names files <sortable name>[_LATE]_<user id>_<attachment id>_<file> (a
    resubmitted file gets -1); the API's submitted_at is UTC."""
    _collect(course, "submissions.zip", [
        "lovelaceada_LATE_22345_900_forget_gate.ipynb",
        "hoppergrace_22346_901_forget_gate-1.ipynb",
    ], "CANVAS_PATTERN")  # fmt: skip
    assert _stamp(course, "22345") is None and _stamp(course, "22346") is None
    api = [
        {"id": 1, "user_id": 22345, "submitted_at": "2026-11-20T17:05:00Z", "late": True},
        {"id": 2, "user_id": 22346, "submitted_at": "2026-11-20T15:59:59Z", "late": False},
        {"id": 3, "user_id": 22347, "submitted_at": None, "workflow_state": "unsubmitted"},
    ]
    (course / "submissions.json").write_text(json.dumps(api))
    return _run(course, "-m", "lstm_course.lms_times", A, "submissions.json", "--lms", "canvas")


def test_moodle_worksheet_times_become_timestamps(course, moodle):
    assert _stamp(course, "12345") == "2026-11-20 16:45:00.000000 UTC"
    assert _stamp(course, "12346") == "2026-11-20 15:59:00.000000 UTC"
    assert "12347" not in moodle.stdout  # nothing submitted, nothing collected: nothing to say


def test_canvas_api_times_become_timestamps(course, canvas):
    assert _stamp(course, "22345") == "2026-11-20 17:05:00.000000 UTC"
    assert _stamp(course, "22346") == "2026-11-20 15:59:59.000000 UTC"
    assert (course / "submitted" / "22346" / A / "forget_gate.ipynb").is_file()


def test_late_penalties_apply_when_graded(course, moodle, canvas):
    from lstm_course.autograde.course import Course

    proc = harness.autograde(course, "--jobs", "2", "--quiet")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with Course(course).gradebook() as gb:
        full = gb.find_assignment(A).max_score
        late = {}
        for sid in ("12345", "12346", "22345", "22346"):
            sub = gb.find_submission(A, sid)
            late[sid] = (sub.total_seconds_late, sub.late_submission_penalty)
    assert late == {  # the "zero" penalty takes every point of a late submission
        "12345": (2700, full),
        "12346": (0, 0),
        "22345": (3900, full),
        "22346": (0, 0),
    }
    export = _run(course, "-m", "nbgrader", "export", "--to=grades.csv")
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert export.returncode == 0 and len(rows) == 4
    assert {sid: float(r["score"]) for sid, r in rows.items()} == {
        "12345": 0.0,
        "12346": full,
        "22345": 0.0,
        "22346": full,
    }


def test_a_time_without_a_zone_needs_one_and_bad_input_is_named(tmp_path):
    rows = [{"Identifier": "Participant 7", "Last modified (submission)": "20 Nov 2026, 5 PM"}]
    moodle = lms_times.PRESETS["moodle"]
    with pytest.raises(ValueError, match="has no time zone: give --timezone"):
        lms_times.submission_times(rows, moodle[0], moodle[1], moodle[2], None)
    rows = [{"user_id": "7", "submitted_at": "yesterday-ish"}]
    canvas = lms_times.PRESETS["canvas"]
    with pytest.raises(ValueError, match=r"row 2 \(7\): 'yesterday-ish' is not a time"):
        lms_times.submission_times(rows, canvas[0], canvas[1], canvas[2], None)
    with pytest.raises(ValueError, match="no column 'submitted_at'.*'user_id', 'time'"):
        lms_times.submission_times([{"user_id": "7", "time": "x"}], *canvas[:2], canvas[2], None)


def test_a_planted_timestamp_or_link_is_replaced_not_followed(tmp_path):
    folder = tmp_path / "submitted" / "7" / A
    folder.mkdir(parents=True)
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep")
    (folder / "timestamp.txt").symlink_to(target)
    when = datetime.fromisoformat("2026-11-20T17:05:00+01:00")
    report = lms_times.apply(tmp_path / "submitted", A, {"7": when, "8": when})
    assert (folder / "timestamp.txt").read_text() == "2026-11-20 16:05:00.000000 UTC\n"
    assert target.read_text() == "keep"
    assert report == [
        "7: 2026-11-20 16:05:00 UTC",
        f"8: a time in the list, but no submitted/8/{A}",
    ]
