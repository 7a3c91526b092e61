"""Issue 10, bookkeeping: ``timestamp.txt`` read only as a small regular file (a FIFO or a link
to /dev/stdin hung or blocked the whole run); a grade that cannot be recorded never leaves the
previous one in the gradebook; nothing printed to the terminal or written to the summary carries
a raw control character or bidi override."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading

import pytest
import recording_harness as rh
from nbformat.v4 import new_code_cell

from lstm_course.autograde import results
from lstm_course.autograde.course import Course, Submission, copy_files, needs_grading

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def _in_time(fn, seconds: float = 60):
    """fn() in a daemon thread; fails the test (instead of hanging it) if it does not return."""
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return rh.harness.make_course(tmp_path_factory.mktemp("recording") / "course")


def _special_timestamp(folder, kind: str) -> None:
    path = folder / "timestamp.txt"
    path.unlink(missing_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "stdin":
        path.symlink_to("/dev/stdin")
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "huge":
        with open(path, "wb") as fh:
            fh.truncate(2**30)  # sparse: 1 GB that would be read whole
    elif kind == "folder":
        path.mkdir()


@pytest.mark.parametrize("kind", ["fifo", "stdin", "zero", "huge", "folder"])
def test_timestamp_never_blocks_and_is_flagged(course, kind):
    """The record stage on a submission whose timestamp.txt is no small regular file: it
    returns at once, grades the notebook as untimed and flags it for review."""
    student = f"ts-{kind}"
    nb = rh.solved(course)
    folder = rh.submit(course, student, nb)
    rh.record(course, student, rh.graded(course, nb).notebook)  # an earlier, timed submission
    _special_timestamp(folder, kind)
    read, write = os.pipe()  # /dev/stdin of this process: a pipe nobody writes to
    saved = os.dup(0)
    os.dup2(read, 0)
    try:
        summary = _in_time(lambda: rh.record(course, student, rh.graded(course, nb).notebook))
        stale = _in_time(lambda: needs_grading(Course(course), Submission(
            student, rh.ASSIGNMENT, folder, []), False))  # fmt: skip
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read, write):
            os.close(fd)
    assert summary["score"] == summary["max_score"] == 21.0
    (flag,) = [f for f in summary["flags"] if "timestamp.txt" in f]
    assert "untimed" in flag, flag
    assert stale is False  # graded already; an unreadable time is not "submitted again"
    with Course(course).gradebook() as gb:
        assert gb.find_submission(rh.ASSIGNMENT, student).timestamp is None


def test_copying_a_fifo_or_device_link_never_blocks(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "data.csv")
    (src / "stdin.txt").symlink_to("/dev/stdin")
    (src / "ok.txt").write_text("ok")
    notes: list[str] = []
    _in_time(lambda: copy_files(src, tmp_path / "dest", notes, []))
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == ["ok.txt"]
    assert any("FIFO" in n for n in notes) and any("link" in n for n in notes), notes


def test_timestamp_is_read_in_a_fresh_process_without_hanging(course):
    """The same through the real function in a new interpreter, whose stdin stays open."""
    folder = rh.submit(course, "ts-proc", rh.solved(course))
    _special_timestamp(folder, "fifo")
    code = (
        "import sys; from pathlib import Path; from lstm_course.autograde.course import timestamp;"
        f"print(timestamp(Path({str(folder)!r})))"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True, env=rh.harness.env()) as proc:  # fmt: skip
        try:
            out, _ = proc.communicate(timeout=60)  # closes stdin, but the FIFO has no writer
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("timestamp() blocked on a FIFO")
    assert out.strip() == "None"


def test_a_grade_that_cannot_be_recorded_removes_the_previous_one(course):
    student = "stale"
    nb = rh.solved(course)
    rh.submit(course, student, nb)
    first = rh.record(course, student, rh.graded(course, nb).notebook)
    assert first["score"] == 21.0
    assert rh.nbgrader(course, "generate_feedback", "*", "--force").returncode == 0
    assert (course / "feedback" / student / rh.ASSIGNMENT).is_dir()
    # regraded: a wrong answer now, and a notebook the record stage cannot save (a graded cell
    # the gradebook does not know)
    broken = rh.graded(course, nb, failing={"sigmoid_values"}).notebook
    bogus = new_code_cell("pass")
    bogus.metadata["nbgrader"] = {"grade": True, "grade_id": "no_such_test", "points": 5,
                                  "solution": False, "locked": True}  # fmt: skip
    broken.cells.append(bogus)
    summary = rh.record(course, student, broken)
    assert summary.get("not_recorded") is True
    assert "could not record the grade" in summary["failures"][0]
    assert any("previous grade was removed" in n for n in summary["notes"]), summary["notes"]
    from nbgrader.api import MissingEntry

    with Course(course).gradebook() as gb, pytest.raises(MissingEntry):
        gb.find_submission(rh.ASSIGNMENT, student)
    assert not (course / "autograded" / student / rh.ASSIGNMENT).exists()
    assert not (course / "feedback" / student / rh.ASSIGNMENT).exists()
    proc = rh.nbgrader(course, "export", "--to=grades.csv")
    assert proc.returncode == 0, proc.stderr[-2000:]
    import csv

    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert rows[student]["score"] == "0.0"


def test_a_file_too_long_for_autograded_is_noted_not_fatal(course):
    """A path of 4095 characters under submitted/ is one too many under autograded/: that file
    is not copied, with a note, and the grade is recorded (it used to fail the record)."""
    student = "longpath"
    nb = rh.solved(course)
    path = rh.submit(course, student, nb)
    while (room := 4095 - len(str(path)) - 1) > 128:
        path = path / ("d" * min(120, room - 2))
    path.mkdir(parents=True, exist_ok=True)
    (path / ("f" * room)).write_text("x")
    summary = rh.record(course, student, rh.graded(course, nb).notebook)
    assert not summary.get("not_recorded"), summary["failures"]
    assert summary["score"] == 21.0
    assert any("could not be copied" in n for n in summary["notes"]), summary["notes"]


EVIL = "\x1b]0;pwned\x07\x1b[2J\x1b[1A\x9b31m\u202eevil\u2066\x00\r"


def test_terminal_and_summary_never_get_raw_control_characters(capsys, tmp_path):
    sub = {
        "student": "s" + EVIL, "assignment": "a" + EVIL, "score": 1.0, "max_score": 2.0,
        "failures": ["f" + EVIL], "flags": ["g" + EVIL + "\nline two"], "notes": ["n" + EVIL],
    }  # fmt: skip
    sandbox = type("S", (), {"enabled": True, "limits": type("L", (), {})()})()
    report = results.report([sub], ["k" + EVIL], 1, sandbox, 1.0)
    report["refused"] = [{"folder": "r", "reason": "r" + EVIL}]
    path = tmp_path / "summary.json"
    course = type("C", (), {"refused": []})()
    written = results.write_report(course, report, str(path))
    results.print_report(report, written)
    printed = capsys.readouterr().out
    assert not UNSAFE.search(printed), ascii(printed)
    assert "\\x1b]0;pwned\\x07" in printed and "\\u202e" in printed  # shown, escaped
    assert "line two" in printed
    raw = path.read_bytes()
    assert all(b in b"\n" or 0x20 <= b < 0x7F for b in raw)
    assert json.loads(raw)["flagged"] == ["s" + EVIL + "/a" + EVIL + ": g" + EVIL + "\nline two"]
