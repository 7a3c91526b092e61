"""The pipeline, one submission at a time: find → restore → run sandboxed → verify → record.

``grade_class`` finds the submissions (``course``), hands each to a worker thread, one per job
slot, and records every result as it comes back (``results``, main thread only). A worker
(``Grader.grade``) copies the submission to a private scratch folder, then for each notebook of
the assignment:

1. restores the notebook to grade from the submission and the release (``restore``);
2. runs it sandboxed and puts its outputs back (``execute``),
   as two processes: the student's code in the answer process, the graded tests in the
   verifier, whose verdicts are the grades;
3. reads the answers (``verify``) for what is flagged for review.

A worker never touches the gradebook, and a grader error in one notebook fails that notebook
(with the reason) instead of the class.
"""

from __future__ import annotations

import ast
import queue
import shutil
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from lstm_course.autograde import results, resume, verify
from lstm_course.autograde.course import Course, Submission, copy_files, find_submissions
from lstm_course.autograde.execute import execute
from lstm_course.autograde.restore import (
    Template,
    restore_submission,
    stray_notebooks,
    unrun_notebook,
)
from lstm_course.autograde.sandbox import Sandbox

# CPython 3.11 converts ASTs with one interpreter-wide recursion counter (gh-106905): two worker
# threads parsing at once fail with "AST constructor recursion depth mismatch". The grader's
# threads read the answers' source, so its parses take turns.
_parse, _parse_lock = ast.parse, threading.Lock()


def _locked_parse(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _locked_parse


@dataclass
class NotebookResult:
    name: str
    notebook: nbformat.NotebookNode | None = None
    failure: str | None = None  # why it (or part of it) did not run
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    wall_s: float = 0.0


@dataclass
class SubmissionResult:
    submission: Submission
    notebooks: list[NotebookResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # an error of the grader itself
    wall_s: float = 0.0


class Grader:
    """Grades submissions in worker threads; ``slots`` hands each running one its job slot."""

    def __init__(self, course: Course, sandbox: Sandbox, scratch_root: Path):
        self.course = course
        self.sandbox = sandbox
        self.scratch_root = scratch_root
        self.templates: dict[str, dict[str, Template]] = {}
        self.slots: queue.Queue[int] = queue.Queue()

    def grade(self, sub: Submission, index: int) -> SubmissionResult:
        slot = self.slots.get()
        t0 = time.monotonic()
        result = SubmissionResult(sub)
        private = self.scratch_root / f"{index:04d}"
        try:
            private.mkdir(mode=0o700)
            scratch = private / "work"
            scratch.mkdir()
            copy_files(sub.path, scratch, result.notes, [".ipynb_checkpoints", "__pycache__"])
            templates = self.templates[sub.assignment]
            strays = stray_notebooks(scratch, {f"{name}.ipynb" for name in templates})
            for name in sub.notebooks:
                try:
                    nbres = self._grade_notebook(
                        sub, templates[name], scratch, private, slot, strays
                    )
                except Exception as exc:  # noqa: BLE001 (a grader bug must not stop the class)
                    reason = (
                        f"the grader could not grade this notebook ({type(exc).__name__}: {exc})"
                    )
                    nbres = NotebookResult(name, unrun_notebook(templates[name], reason).notebook)
                    nbres.failure = reason
                    nbres.flags.append("internal grader error:\n" + traceback.format_exc(limit=5))
                result.notebooks.append(nbres)
        except Exception:  # noqa: BLE001 (a grader bug must not stop the class)
            result.error = "internal grader error:\n" + traceback.format_exc(limit=5)
        finally:
            shutil.rmtree(private, ignore_errors=True)
            self.slots.put(slot)
            result.wall_s = time.monotonic() - t0
        return result

    def _grade_notebook(
        self,
        sub: Submission,
        template: Template,
        scratch: Path,
        private: Path,
        slot: int,
        strays: list[str],
    ) -> NotebookResult:
        out = NotebookResult(template.notebook)
        only = len(self.templates[sub.assignment]) == 1
        restored = restore_submission(scratch, template, strays, only)
        out.notes += restored.notes
        if restored.failure:
            out.failure, out.notebook = restored.failure, restored.notebook
            return out
        executed = execute(self.sandbox, restored, template, scratch, private, slot)
        out.wall_s, out.failure = executed.run.wall_s, executed.run.failure
        out.flags += verify.reference_flags(restored, template) + verify.suspicious_flags(
            restored, template
        )
        out.flags += executed.flags
        out.notebook = executed.notebook
        return out


def grade_class(
    course: Course,
    grader: Grader,
    assignments: list[str],
    students: list[str],
    jobs: int,
    force: bool,
    progress: Callable[[int], object] | None = None,
    executor=None,
) -> tuple[list[dict], list[str], int]:
    """Grade and record every submission found; return their summaries, the submissions
    skipped as already graded, and the number of parallel jobs used. ``progress(total)``
    makes a progress bar (with ``update`` and ``close``). ``executor`` (a
    ``distributed.DaskGrading``) grades on a Dask cluster instead of the thread pool; either
    way ``resume`` skips what is graded from the same files and records each submission in
    one transaction (``gradebook_db.GradebookUnavailable`` stops the run)."""
    state = resume.Resume(course, force)
    summaries: list[dict] = []
    skipped: list[str] = []
    todo: list[Submission] = []
    for sub in find_submissions(course, assignments, students):
        if sub.assignment not in grader.templates:
            try:
                grader.templates[sub.assignment] = course.templates(sub.assignment)
            except LookupError as exc:
                grader.templates[sub.assignment] = {}
                summaries.append(results.failed_summary(sub, str(exc)))
                continue
        if not grader.templates[sub.assignment]:
            summaries.append(
                results.failed_summary(sub, f"assignment {sub.assignment!r} cannot be graded")
            )
            continue
        if state.skip(sub):
            skipped.append(f"{sub.student}/{sub.assignment}")
            continue
        sub.notebooks = sorted(grader.templates[sub.assignment])
        todo.append(sub)
    jobs = max(1, min(jobs, len(todo) or 1))
    for slot in range(jobs):
        grader.slots.put(slot)
    bar = progress(len(todo)) if progress else None
    run = executor.run if executor is not None else _thread_pool(jobs)
    try:
        for result in run(grader, todo):
            summaries.append(state.record(result))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return summaries, skipped, jobs


def _thread_pool(jobs: int):
    """The local executor: ``run(grader, todo)`` yields results as worker threads finish."""

    def run(grader: Grader, todo: list[Submission]):
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            futures = [pool.submit(grader.grade, sub, i) for i, sub in enumerate(todo)]
            for future in as_completed(futures):
                yield future.result()
        finally:  # a run stopped early (the database went away) starts nothing more
            pool.shutdown(wait=True, cancel_futures=True)

    return run
