"""The pipeline's last stage: grades into nbgrader's gradebook and ``autograded/``, a summary.

Only the main thread records, one submission at a time, through nbgrader's own preprocessors
(SaveAutoGrades, AssignLatePenalties, LimitOutput, ...), so the database is never written
concurrently and the results are exactly what ``nbgrader generate_feedback`` and ``nbgrader
export`` expect. ``record`` returns the submission's summary; ``report`` gathers them for the
class into ``autograded/autograde_summary.json`` and the table printed at the end.

What is written is made safe to show first (``sanitize``): the notebook's outputs, markdown and
attachments before ``autograded/`` (which feedback and the formgrader render), the grader's notes
as escaped markdown, every string printed to the terminal with its control characters escaped.
A grade that cannot be recorded is never left at its previous value: the submission's old
gradebook entry, ``autograded/`` and ``feedback/`` folders are removed, and the summary says why.
"""

from __future__ import annotations

import json
import os
import shutil
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbformat.v4 import new_markdown_cell

from lstm_course.autograde.course import (
    SUMMARY_NAME,
    Course,
    Submission,
    copy_files,
    read_timestamp,
)
from lstm_course.autograde.sanitize import clean_notebook, markdown_text, printable

if TYPE_CHECKING:  # grader records through this module
    from lstm_course.autograde.grader import SubmissionResult

__all__ = ["SUMMARY_NAME", "record", "failed_summary", "report", "write_report", "print_report"]


def record(course: Course, result: SubmissionResult) -> dict:
    """Record one graded submission: gradebook rows, autograded/ files; return its summary.
    If that fails, the submission's previous grade is removed and the summary says why."""
    try:
        return _record(course, result)
    except Exception:  # noqa: BLE001 (one student's record must not stop the class)
        reason = "could not record the grade:\n" + traceback.format_exc(limit=5)
        return unrecorded(course, result.submission, reason)


def unrecorded(course: Course, sub: Submission, reason: str) -> dict:
    """Remove what an earlier run recorded for ``sub`` (its grade would otherwise stay)."""
    from nbgrader.api import MissingEntry

    summary = failed_summary(sub, reason)
    removed = []
    with course.gradebook() as gb:
        try:
            gb.remove_submission(sub.assignment, sub.student)
            removed.append("its grade in the gradebook")
        except MissingEntry:
            pass
    for kind in ("autograded", "feedback"):
        folder = course.path(kind, sub.student, sub.assignment)
        if folder.is_symlink() or folder.is_file():
            folder.unlink()
        elif folder.exists():
            shutil.rmtree(folder)
        else:
            continue
        removed.append(f"{kind}/{sub.student}/{sub.assignment}")
    if removed:
        summary["notes"].append(
            "the previous grade was removed (" + ", ".join(removed) + "): grade it again"
        )
    return summary


def name_student(gb, student_id: str) -> None:
    """Add the student to the gradebook if new. One without names (created here, not from a
    class list) is named by their id, as ``last_name`` with an empty ``first_name``: the
    formgrader writes ``last_name, first_name`` and showed "None, None" for everyone. Names an
    instructor gave (``nbgrader db student import``/``add``) are never changed; a class list
    imported later replaces these."""
    student = gb.update_or_create_student(student_id)
    if not student.last_name and not student.first_name:
        gb.update_or_create_student(student_id, last_name=student_id, first_name="")


def _record(course: Course, result: SubmissionResult) -> dict:
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    sub = result.submission
    dest = course.path("autograded", sub.student, sub.assignment)
    stamp, stamp_problem = read_timestamp(sub.path)
    with course.gradebook() as gb:
        name_student(gb, sub.student)
        if stamp is not None or stamp_problem:  # an unreadable time replaces an earlier one
            gb.update_or_create_submission(sub.assignment, sub.student, timestamp=stamp)
        else:
            gb.update_or_create_submission(sub.assignment, sub.student)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    ignore = list(course.coursedir.ignore) + ["*.ipynb"]
    copied: list[str] = []  # what could not be copied (the grader's scratch copy said most)
    copy_files(sub.path, dest, copied, ignore)
    source_dir = course.path("source", ".", sub.assignment)
    if source_dir.exists():
        copy_files(source_dir, dest, None, ignore)

    summary = {
        "student": sub.student,
        "assignment": sub.assignment,
        "score": 0.0,
        "max_score": 0.0,
        "failures": [],
        "flags": [],
        "notes": list(result.notes) + [n for n in copied if n not in result.notes],
        "seconds": round(result.wall_s, 2),
        "notebooks": {},
    }
    if stamp_problem:
        summary["flags"].append(
            f"{stamp_problem}: graded as untimed (no late penalty); check when it was handed in"
        )
    if result.error:
        summary["failures"].append(result.error)
    for nbres in result.notebooks:
        nb = nbres.notebook
        if nb is None:
            continue
        resources = {
            "unique_key": nbres.name,
            "output_files_dir": f"{nbres.name}_files",
            "nbgrader": {
                "student": sub.student,
                "assignment": sub.assignment,
                "notebook": nbres.name,
                "db_url": course.db_url,
            },
        }
        for cls in (
            IgnorePattern,
            ClearMetadataPreprocessor,
            LimitOutput,
            SaveAutoGrades,
            AssignLatePenalties,
            CheckCellMetadata,
        ):
            pp = cls(config=course.config)
            nb, resources = pp(nb, resources)
        # after the grades are saved (they never depend on what is shown), before anything shows it
        cleaned = clean_notebook(nb)
        remarks = [markdown_text(r) for r in [*nbres.notes, nbres.failure, *cleaned] if r]
        if remarks and not (nb.cells and nb.cells[0].get("id") == "grader-note"):
            note = new_markdown_cell(
                "**Grader's notes:**\n\n" + "\n".join(f"- {r}" for r in remarks)
            )
            note["id"] = "grader-note"
            nb.cells.insert(0, note)
        summary["notes"] += [f"{nbres.name}: {n}" for n in cleaned]
        nbformat.write(nb, str(dest / f"{nbres.name}.ipynb"))
        if nbres.failure:
            summary["failures"].append(f"{nbres.name}: {nbres.failure}")
        summary["flags"] += [f"{nbres.name}: {f}" for f in nbres.flags]
        summary["notes"] += [f"{nbres.name}: {n}" for n in nbres.notes]
    with course.gradebook() as gb:
        record = gb.find_submission(sub.assignment, sub.student)
        summary["score"] = float(record.score)
        summary["max_score"] = float(record.max_score)
        summary["needs_manual_grade"] = bool(record.needs_manual_grade)
        for snb in record.notebooks:
            summary["notebooks"][snb.name] = {
                "score": float(snb.score),
                "max_score": float(snb.max_score),
                "failed_tests": sorted(
                    g.name
                    for g in snb.grades
                    if g.auto_score is not None and g.auto_score < g.max_score
                ),
            }
    summary["flagged"] = bool(summary["flags"])
    return summary


def failed_summary(sub: Submission, reason: str) -> dict:
    return {
        "student": sub.student,
        "assignment": sub.assignment,
        "score": 0.0,
        "max_score": 0.0,
        "failures": [reason],
        "flags": [],
        "notes": [],
        "flagged": False,
        "not_recorded": True,
    }


def report(summaries: list[dict], skipped: list[str], jobs: int, sandbox, seconds: float) -> dict:
    """The class's summary: every submission's, and the failures and flags gathered."""
    summaries = sorted(summaries, key=lambda s: (s["assignment"], s["student"]))
    return {
        "graded": sum(1 for s in summaries if not s.get("not_recorded")),
        "skipped_already_graded": skipped,
        "jobs": jobs,
        "sandbox": sandbox.enabled,
        "seconds": round(seconds, 2),
        "limits": vars(sandbox.limits),
        "failures": [
            f"{s['student']}/{s['assignment']}: {f}" for s in summaries for f in s["failures"]
        ],
        "flagged": [
            f"{s['student']}/{s['assignment']}: {f}" for s in summaries for f in s["flags"]
        ],
        "submissions": summaries,
    }


def write_report(course: Course, summary: dict, path: str | None) -> Path:
    """Write the class's summary (default: autograded/autograde_summary.json); return where.
    The folders the find stage refused (``course.refused``) are added to it first."""
    if course.refused:
        summary["refused"] = list(course.refused)
        summary["failures"] = [r["reason"] for r in course.refused] + summary["failures"]
    if path:
        out = Path(path)
    else:
        folder = course.coursedir.format_path(course.coursedir.autograded_directory, ".", ".")
        out = Path(folder) / SUMMARY_NAME
        if out.is_symlink() or (out.exists() and not out.is_file()):
            # left by an older grader that took a student folder of this name: never fail for it
            out = out.with_name(f"autograde_summary.{os.getpid()}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    # ensure_ascii: no control character or bidi override reaches the file raw
    tmp.write_text(json.dumps(summary, indent=1, default=str, ensure_ascii=True) + "\n")
    os.replace(tmp, out)
    return out


def print_report(report: dict, path: Path) -> None:
    """The table and the lists printed at the end; every string with its controls escaped."""
    lines = [
        "",
        f"Graded {report['graded']} submission(s) in {report['seconds']:.1f} s "
        f"with {report['jobs']} job(s), sandbox {'on' if report['sandbox'] else 'OFF'}.",
    ]
    if report["skipped_already_graded"]:
        lines.append(
            f"Skipped {len(report['skipped_already_graded'])} already graded (use --force to regrade)."
        )
    lines.append(f"{'student':<24} {'assignment':<20} {'score':>12}")
    for s in report["submissions"]:
        mark = " !" if s["failures"] else ""
        mark += " ?" if s["flags"] else ""
        student, assignment = printable(s["student"]), printable(s["assignment"])
        lines.append(
            f"{student:<24} {assignment:<20} {s['score']:>6g} / {s['max_score']:<5g}{mark}"
        )
    if report.get("refused"):
        lines.append(f"\nRefused {len(report['refused'])} folder(s), not graded:")
        lines += [f"  {r['reason']}" for r in report["refused"]]
    if report["failures"]:
        lines.append("\nFailures (!), graded with the points earned:")
        lines += [f"  {f}" for f in report["failures"]]
    if report["flagged"]:
        lines.append("\nFlagged for review (?):")
        lines += [f"  {f}" for f in report["flagged"]]
    lines.append(f"\nSummary written to {path}")
    print(printable("\n".join(lines)))
