"""The pipeline's last stage: grades into nbgrader's gradebook and ``autograded/``, a summary.

Only the main thread records, one submission at a time, through nbgrader's own preprocessors
(SaveAutoGrades, AssignLatePenalties, LimitOutput, ...), so the database is never written
concurrently and the results are exactly what ``nbgrader generate_feedback`` and ``nbgrader
export`` expect. ``record`` returns the submission's summary; ``report`` gathers them for the
class into ``autograded/autograde_summary.json`` and the table printed at the end.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbformat.v4 import new_markdown_cell

from lstm_course.autograde.course import Course, Submission, copy_files, timestamp

if TYPE_CHECKING:  # grader records through this module
    from lstm_course.autograde.grader import SubmissionResult

SUMMARY_NAME = "autograde_summary.json"


def record(course: Course, result: SubmissionResult) -> dict:
    """Record one graded submission: gradebook rows, autograded/ files; return its summary."""
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
    stamp = timestamp(sub.path)
    with course.gradebook() as gb:
        gb.update_or_create_student(sub.student)
        if stamp is not None:
            gb.update_or_create_submission(sub.assignment, sub.student, timestamp=stamp)
        else:
            gb.update_or_create_submission(sub.assignment, sub.student)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    ignore = list(course.coursedir.ignore) + ["*.ipynb"]
    copy_files(sub.path, dest, None, ignore)
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
        "notes": list(result.notes),
        "seconds": round(result.wall_s, 2),
        "notebooks": {},
    }
    if result.error:
        summary["failures"].append(result.error)
    for nbres in result.notebooks:
        nb = nbres.notebook
        if nb is None:
            continue
        remarks = [*nbres.notes, *([nbres.failure] if nbres.failure else [])]
        if remarks and not (nb.cells and nb.cells[0].get("id") == "grader-note"):
            note = new_markdown_cell(
                "**Grader's notes:**\n\n" + "\n".join(f"- {r}" for r in remarks)
            )
            note["id"] = "grader-note"
            nb.cells.insert(0, note)
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
    """Write the class's summary (default: autograded/autograde_summary.json); return where."""
    out = (
        Path(path)
        if path
        else Path(course.coursedir.format_path(course.coursedir.autograded_directory, ".", "."))
        / SUMMARY_NAME
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1, default=str) + "\n")
    return out


def print_report(report: dict, path: Path) -> None:
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
        lines.append(
            f"{s['student']:<24} {s['assignment']:<20} {s['score']:>6g} / {s['max_score']:<5g}{mark}"
        )
    if report["failures"]:
        lines.append("\nFailures (!), graded with the points earned:")
        lines += [f"  {f}" for f in report["failures"]]
    if report["flagged"]:
        lines.append("\nFlagged for review (?):")
        lines += [f"  {f}" for f in report["flagged"]]
    lines.append(f"\nSummary written to {path}")
    print("\n".join(lines))
