"""``python -m lstm_course.autograde``: grade every submission, in parallel, each in a sandbox.

Workers (threads, one per job slot) copy a submission to a private scratch folder, read and
restore its notebooks and run them in bubblewrap; only the main thread touches the gradebook and
``autograded/``, one submission at a time, through nbgrader's own preprocessors (SaveAutoGrades,
AssignLatePenalties, LimitOutput, ...), so the database is never written concurrently and the
results are exactly what nbgrader's tools expect.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import os
import queue
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_markdown_cell

from lstm_course.autograde import oracle
from lstm_course.autograde.notebook import (
    Template,
    defined_names,
    load_submission,
    reference_imports,
    reference_use,
    restore,
    unrun_notebook,
)
from lstm_course.autograde.sandbox import HOME, Limits, Sandbox, SandboxUnavailable

MAX_EXTRA_FILE = 20 * 2**20  # larger extra files are not copied into autograded/
SUMMARY_NAME = "autograde_summary.json"


@dataclass
class Submission:
    student: str
    assignment: str
    path: Path
    notebooks: list[str]


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


# -- the course -------------------------------------------------------------------------------
class Course:
    """The nbgrader course directory, read with the course's own nbgrader_config.py."""

    def __init__(self, root: Path):
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        self.root = root.resolve()
        config = Config()
        if (self.root / "nbgrader_config.py").exists():
            config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        if "root" not in config.get("CourseDirectory", {}):
            config.CourseDirectory.root = str(self.root)
        self.config = config
        self.coursedir = CourseDirectory(config=config)
        self.db_url = self.coursedir.db_url

    def path(self, kind: str, student: str, assignment: str) -> Path:
        folder = getattr(self.coursedir, f"{kind}_directory")
        return Path(self.coursedir.format_path(folder, student, assignment))

    def gradebook(self):
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url, self.coursedir.course_id)

    def templates(self, assignment: str) -> dict[str, Template]:
        """The notebooks of an assignment, from the release and the gradebook."""
        from nbgrader.api import MissingEntry

        out: dict[str, Template] = {}
        with self.gradebook() as gb:
            try:
                record = gb.find_assignment(assignment)
            except MissingEntry as exc:
                raise LookupError(
                    f"assignment {assignment!r} is not in the gradebook; "
                    "run `make release` (nbgrader generate_assignment) first"
                ) from exc
            for nb in record.notebooks:
                release = self.path("release", ".", assignment) / f"{nb.name}.ipynb"
                if not release.exists():
                    raise LookupError(
                        f"the released notebook {release} is missing; run `make release` first"
                    )
                source_cells = {
                    c.name: {
                        "cell_type": c.cell_type,
                        "source": c.source,
                        "checksum": c.checksum,
                        "locked": c.locked,
                    }
                    for c in nb.source_cells
                }
                points = {c.name: float(c.max_score) for c in nb.grade_cells}
                kernelspec = json.loads(nb.kernelspec) if nb.kernelspec else None
                out[nb.name] = Template(
                    assignment,
                    nb.name,
                    nbformat.read(str(release), as_version=4),
                    source_cells,
                    points,
                    kernelspec,
                )
        return out


def _timestamp(folder: Path):
    from nbgrader.utils import parse_utc

    path = folder / "timestamp.txt"
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        return parse_utc(text) if text else None
    except (OSError, ValueError):
        return None


# -- one submission (runs in a worker thread; never touches the gradebook) ---------------------
def _safe_copy(src: Path, dest: Path, notes: list[str] | None, ignore: list[str]) -> None:
    """Copy regular files only (no links, devices or huge files)."""
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        rel = Path(dirpath).relative_to(src)
        dirnames[:] = [d for d in dirnames if not any(fnmatch.fnmatch(d, p) for p in ignore)]
        for name in dirnames:
            if (Path(dirpath) / name).is_symlink() and notes is not None:
                notes.append(f"the link {rel / name} was not copied")
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in filenames:
            if any(fnmatch.fnmatch(name, p) for p in ignore):
                continue
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                if notes is not None:
                    notes.append(f"{rel / name} is a link or special file and was not copied")
                continue
            if path.stat().st_size > MAX_EXTRA_FILE and not name.endswith(".ipynb"):
                if notes is not None:
                    notes.append(f"{rel / name} is larger than 20 MB and was not copied")
                continue
            shutil.copyfile(path, dest / rel / name)


class Grader:
    def __init__(self, course: Course, sandbox: Sandbox, scratch_root: Path, oracle: bool = True):
        self.course = course
        self.sandbox = sandbox
        self.scratch_root = scratch_root
        self.templates: dict[str, dict[str, Template]] = {}
        self.slots: queue.Queue[int] = queue.Queue()
        self.oracle = oracle

    def grade(self, sub: Submission, index: int) -> SubmissionResult:
        slot = self.slots.get()
        t0 = time.monotonic()
        result = SubmissionResult(sub)
        private = self.scratch_root / f"{index:04d}"
        try:
            private.mkdir(mode=0o700)
            scratch = private / "work"
            scratch.mkdir()
            _safe_copy(sub.path, scratch, result.notes, [".ipynb_checkpoints", "__pycache__"])
            templates = self.templates[sub.assignment]
            present = sorted(p.name for p in scratch.glob("*.ipynb") if p.is_file())
            expected = {f"{name}.ipynb" for name in templates}
            strays = [p for p in present if p not in expected]
            if not strays and not any((scratch / n).is_file() for n in expected):
                # a notebook saved one folder too deep, or under another name there
                strays = sorted(
                    str(p.relative_to(scratch))
                    for p in scratch.rglob("*.ipynb")
                    if ".ipynb_checkpoints" not in p.parts and p.is_file()
                )
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
        path = scratch / f"{template.notebook}.ipynb"
        if not path.is_file():
            if len(strays) == 1 and len(self.templates[sub.assignment]) == 1:
                out.notes.append(
                    f"the notebook was submitted as {strays[0]} instead of "
                    f"{template.notebook}.ipynb; it was graded under the right name"
                )
                path = scratch / strays[0]
            else:
                found = ", ".join(strays) if strays else "none"
                out.failure = (
                    f"the notebook {template.notebook}.ipynb was not submitted "
                    f"(notebooks found: {found})"
                )
                out.notebook = unrun_notebook(template, out.failure).notebook
                return out
        nb, notes, fatal = load_submission(path.read_bytes())
        out.notes += notes
        if fatal:
            out.failure = fatal
            out.notebook = unrun_notebook(template, fatal).notebook
            return out
        # the file the student's code will see is the restored notebook, without hidden tests
        path.unlink()
        restored = restore(nb, template)
        out.notes += restored.notes
        out.flags += self._reference_flags(restored, template)
        cells = [
            {
                "index": i,
                "kind": kind,
                "source": cell.source,
                "grade_id": (cell.metadata.get("nbgrader") or {}).get("grade_id"),
            }
            for i, (cell, kind) in enumerate(
                zip(restored.notebook.cells, restored.kinds, strict=True)
            )
            if kind != "markdown"
        ]
        job = {"cells": cells, "solution_names": template.solution_names()}
        kinds_by_index = {c["index"]: c["kind"] for c in cells}
        workdir = f"{HOME}/{sub.assignment}"
        if not self.sandbox.enabled:
            workdir = str(scratch)
        run = self.sandbox.run(job, scratch, workdir, private, slot)
        out.wall_s = run.wall_s
        out.failure = run.failure
        for index in sorted(run.conflicts):
            out.flags.append(
                f"cell {index + 1} was reported twice with different outputs on the grader's "
                "private channel (the notebook forged a report)"
            )
            if kinds_by_index.get(index) == "test":
                run.cells.pop(index, None)  # no report is trusted: the cell fails below
        if run.garbage:
            out.flags.append(
                f"{run.garbage} line(s) not written by the grader appeared on its private result "
                "channel (the notebook wrote to the grader's file descriptor)"
            )
        nb = restored.notebook
        seen: set[str] = set()
        for cell in cells:
            target = nb.cells[cell["index"]]
            report = run.cells.get(cell["index"])
            if report is not None:
                target.outputs = _outputs(report.get("outputs", []))
                target.execution_count = report.get("execution_count")
                for reason in report.get("tamper", []):
                    if reason not in seen:  # each change once, at the first test it affected
                        seen.add(reason)
                        out.flags.append(f"before test {cell['grade_id']}: {reason}")
                continue
            if cell["index"] in run.conflicts:
                text = "the notebook forged the grader's report of this test; it is not trusted"
            elif run.started == cell["index"]:
                text = run.failure or "the cell did not finish"
            else:
                text = "not run, because an earlier cell stopped the notebook: " + (
                    run.failure or "the notebook did not finish"
                )
            target.outputs = [
                nbformat.v4.new_output(
                    "error", ename="GraderError", evalue=text, traceback=[f"GraderError: {text}"]
                )
            ]
        if out.failure and not run.ready:
            out.flags.append("the notebook could not start: " + run.stderr_tail.strip()[-300:])
        if self.oracle and run.ready:
            self._oracle_check(sub, template, nb, cells, private, slot, workdir, out, restored)
        out.notebook = nb
        return out

    def _oracle_check(
        self, sub, template, nb, cells, private, slot, workdir, out, restored_kinds
    ) -> None:
        """Recompute the answer functions in a fresh sandbox and compare them here."""
        seed_text = f"{sub.student}/{sub.assignment}/{template.notebook}"
        calls = oracle.plan(template.solution_signatures(), seed_text)
        if not calls:
            return
        work = private / "oracle"
        work.mkdir()
        _safe_copy(sub.path, work, None, [".ipynb_checkpoints", "__pycache__", "*.ipynb"])
        job = {
            "mode": "oracle",
            "allowed_refs": sorted(_given_references(restored_kinds)[0]),
            "cells": [c for c in cells if c["kind"] != "test"],
            "calls": [
                {"id": c.id, "name": c.name, "args": oracle.encode_args(c.args)} for c in calls
            ],
        }
        if not self.sandbox.enabled:
            workdir = str(work)
        run = self.sandbox.run(job, work, workdir, private, slot)
        tests = [
            (c, nb.cells[c["index"]], _names(c["source"])) for c in cells if c["kind"] == "test"
        ]
        for call in calls:
            verdict = oracle.judge(call, run.oracle.get(call.id))
            if verdict.reference_calls:
                out.flags.append(
                    f"{call.name} calls {', '.join(verdict.reference_calls)} instead of "
                    "implementing it (seen when the grader ran it in a fresh sandbox)"
                )
            mine = [(c, cell) for c, cell, names in tests if call.name in names]
            passed = [(c, cell) for c, cell in mine if _passed(cell)]
            if verdict.wrong and mine and len(passed) == len(mine):
                _fail_passes(
                    passed,
                    f"this test passed in the notebook, but when the grader ran {call.name} "
                    f"again in a fresh sandbox on new inputs, {verdict.wrong}. The pass is "
                    "not trusted",
                )
                out.flags.append(
                    f"{call.name}: every test of it passed in the notebook, but recomputed "
                    f"outside the student's kernel, {verdict.wrong}; those tests were failed"
                )
            elif not run.ready and mine and len(passed) == len(mine):
                # The notebook's own cells stopped the fresh process before the check could
                # run: a notebook whose tests all passed has no honest reason to do that.
                why = run.failure or "the process stopped"
                _fail_passes(
                    passed,
                    f"this test passed in the notebook, but the grader could not run "
                    f"{call.name} again in a fresh sandbox ({why}). The pass is not trusted",
                )
                out.flags.append(
                    f"{call.name}: its tests passed, but the notebook's cells stopped the fresh "
                    f"sandbox that checks it ({why}); those tests were failed"
                )
            elif verdict.failed and passed:
                out.flags.append(
                    f"{call.name} passed its tests but could not be checked in a fresh sandbox: "
                    f"{verdict.failed}"
                )

    @staticmethod
    def _reference_flags(restored, template: Template) -> list[str]:
        given, in_tests = _given_references(restored)
        ref_names = in_tests - given
        flags = []
        answers = set(template.solution_names())
        for cell, kind in zip(restored.notebook.cells, restored.kinds, strict=True):
            if kind != "student":
                continue
            is_answer = bool((cell.metadata.get("nbgrader") or {}).get("solution"))
            if not is_answer and not (defined_names(cell.source) & answers):
                continue  # a scratch cell; only answers (or redefinitions of them) count
            found = reference_use(cell.source, ref_names, frozenset(given))
            if found:
                where = (cell.metadata.get("nbgrader") or {}).get("grade_id", "an added cell")
                flags.append(
                    f"{where}: may call lstm_ref instead of implementing ({'; '.join(found)})"
                )
        return flags


def _given_references(restored) -> tuple[set[str], set[str]]:
    """Names imported from lstm_ref's reference by the release's cells, and by its tests."""
    given: set[str] = set()
    in_tests: set[str] = set()
    for cell, kind in zip(restored.notebook.cells, restored.kinds, strict=True):
        if kind == "release":
            given |= reference_imports(cell.source)
        elif kind == "test":
            in_tests |= reference_imports(cell.source)
    return given, in_tests


def _names(source: str) -> set[str]:
    try:
        return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return set()


def _fail_passes(passed: list, text: str) -> None:
    """Replace the outputs of passed test cells with a GradingIntegrityError saying why."""
    for _c, cell in passed:
        cell.outputs = [
            nbformat.v4.new_output(
                "error",
                ename="GradingIntegrityError",
                evalue=text,
                traceback=[f"GradingIntegrityError: {text}"],
            )
        ]


def _passed(cell) -> bool:
    """nbgrader's rule: a test passes unless it has an error or stderr output."""
    return not any(
        o.get("output_type") == "error"
        or (o.get("output_type") == "stream" and o.get("name") == "stderr")
        for o in cell.get("outputs", [])
    )


def _outputs(raw: list) -> list:
    """The runner's outputs rebuilt as validated nbformat outputs (anything else is dropped)."""
    new_output = nbformat.v4.new_output
    outputs = []
    for item in raw if isinstance(raw, list) else []:
        try:
            kind = item["output_type"]
            if kind == "stream":
                name = item["name"] if item["name"] in ("stdout", "stderr") else "stdout"
                outputs.append(new_output("stream", name=name, text=str(item["text"])))
            elif kind in ("display_data", "execute_result"):
                data = {str(k): v for k, v in dict(item["data"]).items()}
                extra = {"execution_count": item.get("execution_count")}
                outputs.append(
                    new_output(
                        kind,
                        data=data,
                        metadata=dict(item.get("metadata") or {}),
                        **(extra if kind == "execute_result" else {}),
                    )
                )
            elif kind == "error":
                outputs.append(
                    new_output(
                        "error",
                        ename=str(item["ename"]),
                        evalue=str(item["evalue"]),
                        traceback=[str(t) for t in item["traceback"]],
                    )
                )
        except Exception:  # noqa: BLE001 (a malformed output is dropped)
            continue
    return outputs


# -- the main thread: gradebook and autograded/ ----------------------------------------------
def _write_results(course: Course, result: SubmissionResult) -> dict:
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
    timestamp = _timestamp(sub.path)
    with course.gradebook() as gb:
        gb.update_or_create_student(sub.student)
        if timestamp is not None:
            gb.update_or_create_submission(sub.assignment, sub.student, timestamp=timestamp)
        else:
            gb.update_or_create_submission(sub.assignment, sub.student)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    ignore = list(course.coursedir.ignore) + ["*.ipynb"]
    _safe_copy(sub.path, dest, None, ignore)
    source_dir = course.path("source", ".", sub.assignment)
    if source_dir.exists():
        _safe_copy(source_dir, dest, None, ignore)

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


# -- discovery and the command line -----------------------------------------------------------
def find_submissions(
    course: Course, assignments: list[str], students: list[str]
) -> list[Submission]:
    found = []
    base = Path(course.coursedir.format_path(course.coursedir.submitted_directory, ".", "."))
    if not base.exists():
        return []
    for student_dir in sorted(base.iterdir()):
        if not student_dir.is_dir() or student_dir.is_symlink():
            continue
        if students and student_dir.name not in students:
            continue
        for adir in sorted(student_dir.iterdir()):
            if not adir.is_dir() or adir.is_symlink():
                continue
            if assignments and adir.name not in assignments:
                continue
            found.append(Submission(student_dir.name, adir.name, adir, []))
    return found


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m lstm_course.autograde",
        description="Grade every submission under submitted/ in parallel, each in a sandbox, "
        "into nbgrader's gradebook and autograded/.",
    )
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
        "--allow-unsandboxed",
        action="store_true",
        help="run student code without a sandbox when bubblewrap is unavailable (unsafe)",
    )
    p.add_argument("--scratch", default=None, help="folder for scratch copies (default: temp)")
    p.add_argument(
        "--summary",
        default=None,
        help=f"where to write the JSON summary (default: autograded/{SUMMARY_NAME})",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--no-oracle",
        action="store_true",
        help="skip recomputing the answer functions in a fresh sandbox (faster, less safe)",
    )
    return p


def _needs_grading(course: Course, sub: Submission, force: bool) -> bool:
    dest = course.path("autograded", sub.student, sub.assignment)
    if force or not dest.exists():
        return True
    new, old = _timestamp(sub.path), _timestamp(dest)
    return new is not None and old is not None and new > old


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    t0 = time.monotonic()
    # nbgrader's gradebook code triggers SQLAlchemy warnings that say nothing to an instructor
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    # nbgrader runs `alembic` from PATH when it creates a gradebook
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    course = Course(Path(args.course_dir))
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
        return _run(args, course, sandbox, scratch_root, t0)
    finally:
        shutil.rmtree(scratch_root, ignore_errors=True)


def _run(args, course: Course, sandbox: Sandbox, scratch_root: Path, t0: float) -> int:
    grader = Grader(course, sandbox, scratch_root, oracle=not args.no_oracle)
    subs = find_submissions(course, args.assignment, args.student)
    summaries: list[dict] = []
    skipped: list[str] = []
    todo: list[Submission] = []
    for sub in subs:
        if sub.assignment not in grader.templates:
            try:
                grader.templates[sub.assignment] = course.templates(sub.assignment)
            except LookupError as exc:
                grader.templates[sub.assignment] = {}
                summaries.append(_failed_summary(sub, str(exc)))
                continue
        if not grader.templates[sub.assignment]:
            summaries.append(
                _failed_summary(sub, f"assignment {sub.assignment!r} cannot be graded")
            )
            continue
        if not _needs_grading(course, sub, args.force):
            skipped.append(f"{sub.student}/{sub.assignment}")
            continue
        sub.notebooks = sorted(grader.templates[sub.assignment])
        todo.append(sub)
    jobs = max(1, min(args.jobs, len(todo) or 1))
    for slot in range(jobs):
        grader.slots.put(slot)
    progress = _progress(len(todo), args.quiet)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(grader.grade, sub, i) for i, sub in enumerate(todo)]
        for future in as_completed(futures):
            result = future.result()
            try:
                summaries.append(_write_results(course, result))
            except Exception:  # noqa: BLE001
                summaries.append(
                    _failed_summary(
                        result.submission,
                        "could not record the grade:\n" + traceback.format_exc(limit=5),
                    )
                )
            progress.update(1)
    progress.close()
    summaries.sort(key=lambda s: (s["assignment"], s["student"]))
    report = {
        "graded": sum(1 for s in summaries if not s.get("not_recorded")),
        "skipped_already_graded": skipped,
        "jobs": jobs,
        "sandbox": sandbox.enabled,
        "seconds": round(time.monotonic() - t0, 2),
        "limits": vars(sandbox.limits),
        "failures": [
            f"{s['student']}/{s['assignment']}: {f}" for s in summaries for f in s["failures"]
        ],
        "flagged": [
            f"{s['student']}/{s['assignment']}: {f}" for s in summaries for f in s["flags"]
        ],
        "submissions": summaries,
    }
    path = (
        Path(args.summary)
        if args.summary
        else (
            Path(course.coursedir.format_path(course.coursedir.autograded_directory, ".", "."))
            / SUMMARY_NAME
        )
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, default=str) + "\n")
    _print_report(report, path)
    return 0


def _failed_summary(sub: Submission, reason: str) -> dict:
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


class _NoProgress:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, quiet: bool):
    if quiet:
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, desc="autograde", unit="submission", file=sys.stderr)


def _print_report(report: dict, path: Path) -> None:
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
