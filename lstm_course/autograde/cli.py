"""The command line: ``lstm-course grade`` and ``python -m lstm_course.autograde``.

``lstm-course`` (the console script ``pyproject.toml`` installs) takes a subcommand; ``grade``
grades every submission under ``submitted/`` in parallel, each in a sandbox, into nbgrader's
gradebook and ``autograded/`` (``grader`` holds the pipeline). ``python -m lstm_course.autograde``
takes the same options without the subcommand, as ``make autograde`` calls it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

from lstm_course.autograde import gradebook_db, results
from lstm_course.autograde.course import Course
from lstm_course.autograde.grader import Grader, grade_class
from lstm_course.autograde.sandbox import Limits, Sandbox, SandboxUnavailable

GRADE_DESCRIPTION = (
    "Grade every submission under submitted/ in parallel, each in a sandbox, "
    "into nbgrader's gradebook and autograded/."
)


def build_parser(prog: str = "python -m lstm_course.autograde") -> argparse.ArgumentParser:
    """The parser of ``python -m lstm_course.autograde``: the grade options alone."""
    return add_grade_options(argparse.ArgumentParser(prog=prog, description=GRADE_DESCRIPTION))


def build_course_parser() -> argparse.ArgumentParser:
    """The parser of ``lstm-course``: one subcommand per task."""
    p = argparse.ArgumentParser(
        prog="lstm-course", description="Tools of the open LSTM course for instructors."
    )
    commands = p.add_subparsers(dest="command", title="commands", required=True)
    add_grade_options(
        commands.add_parser(
            "grade", help="grade every submission, each in a sandbox", description=GRADE_DESCRIPTION
        )
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """``lstm-course COMMAND [options]``."""
    args = build_course_parser().parse_args(argv)
    if args.command == "grade":
        return grade(args)
    raise AssertionError(args.command)  # argparse accepts only the subcommands above


def grade_main(argv: list[str] | None = None) -> int:
    """``python -m lstm_course.autograde [options]``."""
    return grade(build_parser().parse_args(argv))


def add_grade_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``lstm-course grade`` and ``python -m lstm_course.autograde``."""
    p.add_argument("--course-dir", default=".", help="the course directory (default: .)")
    p.add_argument("--assignment", action="append", default=[], help="grade only this assignment")
    p.add_argument("--student", action="append", default=[], help="grade only this student")
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="parallel jobs")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per cell (default: the course's Execute.timeout, else 60)",
    )
    p.add_argument(
        "--notebook-timeout", type=float, default=600, help="seconds per notebook (default 600)"
    )
    p.add_argument("--memory", type=int, default=4096, help="MB of memory per process")
    p.add_argument("--nproc", type=int, default=64, help="processes and threads per sandbox")
    p.add_argument("--max-output", type=int, default=200_000, help="characters kept per cell")
    p.add_argument("--force", action="store_true", help="regrade submissions already graded")
    p.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="the gradebook's database (default: the course's, gradebook.db): "
        "sqlite:///PATH or postgresql://USER@HOST/DBNAME",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="grade on this Dask cluster (tcp://HOST:8786 or tls://...; see the instructors' page)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="grade on a Dask cluster of N worker processes started on this machine",
    )
    p.add_argument(
        "--allow-unsandboxed",
        action="store_true",
        help="run student code without a sandbox when bubblewrap is unavailable (unsafe)",
    )
    p.add_argument("--scratch", default=None, help="folder for scratch copies (default: temp)")
    p.add_argument(
        "--summary",
        default=None,
        help=f"where to write the JSON summary (default: autograded/{results.SUMMARY_NAME})",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--no-oracle",
        action="store_true",
        help="no effect, kept for old scripts: every test runs in the verifier, apart from the "
        "student's code",
    )
    return p


def grade(args: argparse.Namespace) -> int:
    """Grade the class as ``args`` (the grade options) say; the exit status."""
    t0 = time.monotonic()
    # nbgrader's gradebook code triggers SQLAlchemy warnings that say nothing to an instructor
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    gradebook_db.quiet_rollback_log()
    # nbgrader runs `alembic` from PATH when it creates a gradebook
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    course = Course(Path(args.course_dir))
    try:
        gradebook_db.use(course, args.db)
    except (ValueError, gradebook_db.GradebookUnavailable) as exc:
        print(f"autograde: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ValueError) else 3
    timeout = args.timeout
    if timeout is None:
        timeout = float(course.config.get("Execute", {}).get("timeout", 60) or 60)
    limits = Limits(
        cell_timeout=timeout,
        notebook_timeout=args.notebook_timeout,
        memory_mb=args.memory,
        nproc=args.nproc,
        max_cell_output=args.max_output,
        max_output=10 * args.max_output,
    )
    scratch_root = Path(tempfile.mkdtemp(prefix="lstm-autograde-", dir=args.scratch))
    os.chmod(scratch_root, 0o711)
    sandbox = Sandbox(limits, enabled=True)
    try:
        try:
            sandbox.probe(scratch_root)
        except SandboxUnavailable as exc:
            if not args.allow_unsandboxed:
                print(f"autograde: refusing to run student code: {exc}", file=sys.stderr)
                return 2
            print(
                f"autograde: WARNING: running WITHOUT a sandbox ({exc}); student code can read "
                "and change everything this user can",
                file=sys.stderr,
            )
            sandbox = Sandbox(limits, enabled=False)
        return _grade_class(args, course, sandbox, scratch_root, t0)
    finally:
        shutil.rmtree(scratch_root, ignore_errors=True)


def _grade_class(args, course: Course, sandbox: Sandbox, scratch_root: Path, t0: float) -> int:
    grader = Grader(course, sandbox, scratch_root)
    executor = None
    try:
        if args.scheduler or args.workers:  # Dask: lstm_course.autograde.distributed
            from lstm_course.autograde.distributed import DaskGrading

            executor = DaskGrading(
                args.scheduler, args.workers, sandbox.limits, not sandbox.enabled
            )
            print(executor.describe(), file=sys.stderr)
        summaries, skipped, jobs = grade_class(
            course,
            grader,
            args.assignment,
            args.student,
            args.jobs,
            args.force,
            progress=None if args.quiet else _progress,
            executor=executor,
        )
    except (gradebook_db.GradebookUnavailable, ConnectionError) as exc:  # the database, Dask
        print(f"autograde: stopped: {exc}", file=sys.stderr)
        return 3
    finally:
        if executor is not None:
            executor.close()
    summary = results.report(summaries, skipped, jobs, sandbox, time.monotonic() - t0)
    if executor is not None:
        summary.update(executor.summary())
    path = results.write_report(course, summary, args.summary)
    results.print_report(summary, path)
    if executor is not None:
        executor.print_retried(summary)
    return 0


def _progress(total: int):
    from tqdm import tqdm

    return tqdm(total=total, desc="autograde", unit="submission", file=sys.stderr)
