"""``nbgrader export`` (``make grades``) that writes ``grades.csv`` with Python's csv module.

nbgrader's own ``CsvExportPlugin`` joins the fields with commas and writes them unquoted, so a
student id, a name or an email holding a comma, a quote or a newline adds columns or whole rows
(a forged row can give anyone full marks). ``QuotedCsvExport`` writes the same columns, quoted
(``csv.QUOTE_ALL``), and puts a ``'`` before any text field a spreadsheet would read as a formula
(one starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return). ``nbgrader_config.py``
makes it the exporter: ``c.ExportApp.plugin_class``. Students are refused at grading time when
their folder's name breaks ``course.name_problem``; this keeps the file sound whatever the
gradebook holds.
"""

from __future__ import annotations

import csv

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

COLUMNS = [
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
]
TEXT_COLUMNS = {"assignment", "student_id", "last_name", "first_name", "email"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object, text: bool) -> str:
    """A field as text: empty for None, and a text field never read as a formula."""
    out = "" if value is None else str(value)
    if text and out.startswith(FORMULA_START):
        out = "'" + out
    return out


class QuotedCsvExport(ExportPlugin):
    """nbgrader's CSV export, every field quoted by the csv module."""

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or "grades.csv"
        students = [str(s) for s in self.student]
        assignments = [str(a) for a in self.assignment]
        self.log.info("Exporting grades to %s", dest)
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
            writer.writerow(COLUMNS)
            for assignment in gradebook.assignments:
                if assignments and assignment.name not in assignments:
                    continue
                for student in gradebook.students:
                    if students and student.id not in students:
                        continue
                    row = self._row(gradebook, assignment, student)
                    writer.writerow([cell(row[k], k in TEXT_COLUMNS) for k in COLUMNS])

    @staticmethod
    def _row(gradebook: Gradebook, assignment, student) -> dict:
        row = {
            "assignment": assignment.name,
            "duedate": assignment.duedate,
            "student_id": student.id,
            "last_name": student.last_name,
            "first_name": student.first_name,
            "email": student.email,
            "max_score": assignment.max_score,
            "timestamp": "",
            "raw_score": 0.0,
            "late_submission_penalty": 0.0,
            "score": 0.0,
        }
        try:
            sub = gradebook.find_submission(assignment.name, student.id)
        except MissingEntry:
            return row  # no submission scores zero, as in nbgrader's export
        penalty = sub.late_submission_penalty
        row["timestamp"] = sub.timestamp
        row["raw_score"] = sub.score
        row["late_submission_penalty"] = penalty
        row["score"] = max(0.0, sub.score - penalty)
        return row
