"""Nothing lost, nothing twice: which submissions a run grades, and recording each exactly once.

A run that is killed (the coordinator, a machine) or stopped by the database resumes where it
stopped: the next run skips every submission already graded *from the same files*, unless
``--force``. The files are compared by a checksum (sha256 over every file of
``submitted/<student>/<assignment>``, its relative path and bytes; links by their target), kept in
the gradebook's own database, in a table of its own (``lstm_autograde_graded``):

- before a submission is recorded its row says ``pending`` (committed on its own);
- its grade, its ``autograded/`` files and its checksum are then written in one transaction
  (``gradebook_db.one_transaction``): a run killed in between leaves ``pending``, never a half
  grade, and the submission is graded again next time.

A submission without a row (graded before this table existed) keeps the older rule of
``course.needs_grading``: regraded when ``timestamp.txt`` is newer than the graded one.
"""

from __future__ import annotations

import hashlib
import os
import stat
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from lstm_course.autograde import gradebook_db, results
from lstm_course.autograde.course import Course, Submission, needs_grading

if TYPE_CHECKING:
    from lstm_course.autograde.grader import SubmissionResult

TABLE = "lstm_autograde_graded"
PENDING = "pending"
SKIPPED_DIRS = {".ipynb_checkpoints", "__pycache__"}  # never graded, so never compared
# larger files (never copied for grading: course.MAX_EXTRA_FILE) count by size and time, unread
MAX_HASHED = 64 * 2**20


def submission_checksum(folder: Path) -> str:
    """sha256 of a submission's files: relative paths and bytes of regular files, link
    targets; nothing is followed or left blocking (a FIFO counts by its kind, unread)."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(Path(dirpath, d))]):
            path = Path(dirpath, name)
            rel = path.relative_to(folder).as_posix()
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                entry = b"link\0" + os.fsencode(os.readlink(path))
            elif stat.S_ISREG(info.st_mode) and info.st_size > MAX_HASHED:
                entry = f"large\0{info.st_size}\0{info.st_mtime_ns}".encode()
            elif stat.S_ISREG(info.st_mode):
                entry = b"file\0" + _file_digest(path)
            else:  # a FIFO or a device: never read (it could block), counted by kind
                entry = b"other\0" + str(stat.S_IFMT(info.st_mode)).encode()
            digest.update(os.fsencode(rel) + b"\0" + entry + b"\0")
    return digest.hexdigest()


def _file_digest(path: Path) -> bytes:
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(2**20):
            h.update(chunk)
    return h.digest()


def _table():
    from sqlalchemy import Column, DateTime, MetaData, String, Table

    meta = MetaData()
    return Table(
        TABLE,
        meta,
        Column("course_id", String(128), primary_key=True),
        Column("student", String(128), primary_key=True),
        Column("assignment", String(128), primary_key=True),
        Column("checksum", String(64), nullable=False),
        Column("recorded_at", DateTime(timezone=True)),
    )


class Resume:
    """The run's view of what is graded: ``skip`` decides, ``record`` records one submission."""

    def __init__(self, course: Course, force: bool):
        from sqlalchemy import create_engine, select

        self.course, self.force = course, force
        self.url, self.course_id = course.db_url, course.coursedir.course_id
        self.table = _table()
        self.checksums: dict[tuple[str, str], str] = {}
        self.recorded = 0
        engine = create_engine(self.url)
        try:
            self.table.metadata.create_all(engine, checkfirst=True)
            with engine.connect() as conn:
                rows = conn.execute(
                    select(self.table).where(self.table.c.course_id == self.course_id)
                )
                self.graded = {(r.student, r.assignment): r.checksum for r in rows}
        except Exception as exc:
            if gradebook_db.is_connection_lost(exc):
                raise gradebook_db.unavailable(self.url, exc, "reading what is graded") from exc
            raise
        finally:
            engine.dispose()

    def skip(self, sub: Submission) -> bool:
        """Whether ``sub`` is already graded from these very files (never with --force)."""
        key = (sub.student, sub.assignment)
        self.checksums[key] = submission_checksum(sub.path)
        if self.force:
            return False
        previous = self.graded.get(key)
        if previous is None:  # graded before the table existed, or never
            return not needs_grading(self.course, sub, False)
        dest = self.course.path("autograded", sub.student, sub.assignment)
        return previous == self.checksums[key] and dest.is_dir()

    def record(self, result: SubmissionResult) -> dict:
        """Record one graded submission in one transaction; its summary. A lost database
        raises GradebookUnavailable (the run stops; this submission stays ``pending``)."""
        sub = result.submission
        key = (sub.student, sub.assignment)
        checksum = self.checksums.get(key) or submission_checksum(sub.path)
        not_graded = getattr(result, "not_graded", None)  # set by ``distributed``
        if not_graded:  # no grade to record: an earlier one must not stay as if it were this
            remove = getattr(results, "unrecorded", None)  # (results.py of issue 10)
            if remove is None:
                return results.failed_summary(sub, not_graded)
            with gradebook_db.one_transaction(self.url):
                return remove(self.course, sub, not_graded)
        self._write(key, PENDING)
        try:
            with gradebook_db.one_transaction(self.url) as conn:
                summary = results.record(self.course, result)
                if not summary.get("not_recorded"):
                    self._write(key, checksum, conn)
        except gradebook_db.GradebookUnavailable:
            raise
        except Exception:  # noqa: BLE001 (one student's record must not stop the class)
            return results.failed_summary(
                sub, "could not record the grade:\n" + traceback.format_exc(limit=5)
            )
        if not summary.get("not_recorded"):
            self.recorded += 1
        return summary

    def _write(self, key: tuple[str, str], checksum: str, conn=None) -> None:
        """Replace the row of ``key`` (in ``conn``'s transaction, or committed on its own)."""
        import datetime

        from sqlalchemy import create_engine

        t = self.table
        where = (t.c.course_id == self.course_id) & (t.c.student == key[0])
        where = where & (t.c.assignment == key[1])
        row = {
            "course_id": self.course_id,
            "student": key[0],
            "assignment": key[1],
            "checksum": checksum,
            "recorded_at": datetime.datetime.now(datetime.UTC),
        }
        if conn is not None:
            conn.execute(t.delete().where(where))
            conn.execute(t.insert().values(**row))
            return
        engine = create_engine(self.url)
        try:
            with engine.begin() as own:
                own.execute(t.delete().where(where))
                own.execute(t.insert().values(**row))
        except Exception as exc:
            if gradebook_db.is_connection_lost(exc):
                raise gradebook_db.unavailable(self.url, exc, "marking a grade pending") from exc
            raise
        finally:
            engine.dispose()
