"""Submission times from a learning-management system, so that late penalties apply.

``nbgrader zip_collect`` writes ``timestamp.txt`` only when the submission time is in the file
names (Blackboard's are). Canvas's and Moodle's bulk downloads do not carry it: Canvas names a
file ``<sortable name>[_LATE]_<user id>_<attachment id>_<file>`` and Moodle a folder
``<Full Name>_<participant id>_assignsubmission_file_``, and both write each zip entry with the
time the archive was made (Canvas: ``ContentZipper`` through rubyzip; Moodle: its zip writer's
default), not the time of the submission. The times are in each LMS's list of submissions:

- Moodle's grading worksheet (*Download grading worksheet*, once *Offline grading worksheet* is
  on in the assignment's feedback types): ``Identifier`` ("Participant 12345", the id of the
  download's folder names) and ``Last modified (submission)`` ("Friday, 20 November 2026, 5:45
  PM", in the zone of the Moodle profile that downloaded it, which the file does not say);
- Canvas's submissions API (``GET /api/v1/courses/:course/assignments/:assignment/submissions``,
  saved as JSON): ``user_id`` and ``submitted_at`` (ISO 8601, UTC).

:data:`MOODLE_PATTERN` and :data:`CANVAS_PATTERN` are ``zip_collect`` patterns that name each
submission folder by that id; ``python -m lstm_course.lms_times ASSIGNMENT FILE --lms moodle``
then writes each student's time into ``submitted/<id>/<assignment>/timestamp.txt``, where the
grader reads it. Any other list works with ``--id-column`` and ``--time-column``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import sys
from pathlib import Path

# Moodle: ".../Ada Lovelace_12345_assignsubmission_file/forget_gate.ipynb" (a folder per
# student; "..._file_/" before Moodle 4), or "..._assignsubmission_file_forget_gate.ipynb" (flat).
MOODLE_PATTERN = r".*_(?P<student_id>\d+)_assignsubmission_file_?/?(?P<file_id>[A-Za-z0-9_]+)"
# Canvas: ".../lovelaceada_LATE_12345_67890_forget_gate-1.ipynb" (-1: a resubmission's copy).
CANVAS_PATTERN = r"(?:.*/)?[^/]*?(?i:_late)?_(?P<student_id>\d+)_\d+_(?P<file_id>[A-Za-z0-9_]+)"

PRESETS = {  # --lms: (id column, time column, how an id is written there)
    "moodle": ("Identifier", "Last modified (submission)", re.compile(r"\D*(\d+)\s*")),
    "canvas": ("user_id", "submitted_at", re.compile(r"\s*(\d+)\s*")),
}
NO_TIME = {"", "-", "null", "none"}  # Moodle writes "-" for no submission; the API null


def read_rows(path: Path) -> list[dict]:
    """The rows of a CSV file (Moodle's worksheet, or any list) or of a JSON list of objects
    (Canvas's API answer, one page or several pages' lists concatenated into one)."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ValueError(f"{path}: expected a JSON list of submissions, got {type(data)}")
        return data
    return list(csv.DictReader(text.splitlines()))


def parse_time(text: str, zone: dt.tzinfo | None, where: str) -> dt.datetime:
    """``text`` as an aware time; a time without a zone is in ``zone``."""
    from dateutil import parser

    try:
        when = parser.parse(text)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{where}: {text!r} is not a time ({exc})") from None
    if when.tzinfo is None:
        if zone is None:
            raise ValueError(
                f"{where}: {text!r} has no time zone: give --timezone, the zone your LMS shows "
                "times in (Moodle: the zone of the profile that downloaded the worksheet)"
            )
        when = when.replace(tzinfo=zone)
    return when


def submission_times(
    rows: list[dict], id_column: str, time_column: str, id_form: re.Pattern, zone
) -> tuple[dict[str, dt.datetime], list[str]]:
    """student id -> submission time (UTC), and a note for each row without a usable time."""
    times, notes = {}, []
    for k, row in enumerate(rows, start=2):
        where = f"row {k}"
        for column in (id_column, time_column):
            if column not in row:
                found = ", ".join(map(repr, row)) or "none"
                raise ValueError(f"no column {column!r} in the list (its columns: {found})")
        match = id_form.fullmatch(str(row[id_column]))
        if not match:
            notes.append(f"{where}: no student id in {str(row[id_column])!r}, skipped")
            continue
        raw = row[time_column]
        if raw is None or str(raw).strip().lower() in NO_TIME:
            continue  # nothing submitted
        when = parse_time(str(raw).strip(), zone, f"{where} ({match.group(1)})")
        times[match.group(1)] = when.astimezone(dt.UTC)
    return times, notes


def write_timestamp(folder: Path, when: dt.datetime) -> None:
    """``folder/timestamp.txt`` holding ``when``, replacing whatever was there (a file a
    student uploaded under that name included; never through a link)."""
    path = folder / "timestamp.txt"
    if path.is_symlink() or path.is_file():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w") as out:
        out.write(f"{when.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S.%f} UTC\n")


def apply(submitted: Path, assignment: str, times: dict[str, dt.datetime]) -> list[str]:
    """Write each collected submission's time; return what was done and what is missing."""
    report = []
    folders = {p.parent.name: p for p in sorted(submitted.glob(f"*/{assignment}")) if p.is_dir()}
    for student, folder in folders.items():
        if student in times:
            write_timestamp(folder, times[student])
            report.append(f"{student}: {times[student].astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC")
        else:
            report.append(f"{student}: no time in the list (graded untimed: no late penalty)")
    for student in sorted(set(times) - set(folders)):
        report.append(f"{student}: a time in the list, but no submitted/{student}/{assignment}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", help="e.g. ex03_forget_gate (collected with zip_collect)")
    parser.add_argument("times", type=Path, help="the LMS's list: a CSV file, or JSON")
    parser.add_argument("--lms", choices=sorted(PRESETS), help="the list's columns, preset")
    parser.add_argument("--id-column", help="the column of the student id (the folder name)")
    parser.add_argument("--time-column", help="the column of the submission time")
    parser.add_argument("--timezone", help="zone of times written without one (Europe/Paris)")
    parser.add_argument("--course-dir", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    id_column, time_column, id_form = PRESETS.get(args.lms, (None, None, re.compile(r"(.+)")))
    id_column, time_column = args.id_column or id_column, args.time_column or time_column
    if not id_column or not time_column:
        parser.error("give --lms, or both --id-column and --time-column")
    zone = None
    if args.timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            zone = ZoneInfo(args.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            parser.error(f"--timezone: no time zone {args.timezone!r} (e.g. Europe/Paris, UTC)")
    try:
        times, notes = submission_times(
            read_rows(args.times), id_column, time_column, id_form, zone
        )
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    submitted = args.course_dir / "submitted"
    for line in notes + apply(submitted, args.assignment, times):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
