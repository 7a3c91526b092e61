"""The pipeline's first stage: the nbgrader course directory and the submissions in it.

``Course`` reads the course's own ``nbgrader_config.py`` and knows where everything is
(``submitted/``, ``release/``, ``autograded/``, the gradebook); ``templates`` gives what each
notebook of an assignment must look like, from the release and the gradebook (``restore`` rebuilds
submissions on them). ``find_submissions`` lists ``submitted/<student>/<assignment>``, refusing
(into ``Course.refused``, which the summary reports) folders whose names break ``name_problem``:
a name ends up in paths, in the gradebook, in ``grades.csv``, in HTML and on the terminal.

Files of a submission are opened without following links or blocking (``read_small``,
``copy_files``): a ``timestamp.txt`` that is a FIFO or a link to ``/dev/stdin`` must not hang the
class's run.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import nbformat

from lstm_course.autograde.load import MAX_NOTEBOOK_BYTES
from lstm_course.autograde.restore import Template

MAX_EXTRA_FILE = 20 * 2**20  # larger extra files are not copied into autograded/
MAX_TIMESTAMP = 256  # bytes: nbgrader writes one line of about 30
SUMMARY_NAME = "autograde_summary.json"  # autograded/<this>: no student folder may be named so
RESERVED_NAMES = {SUMMARY_NAME, "__pycache__", "timestamp.txt"}
NAME_RULE = "letters, digits and . _ @ - only, starting with a letter, digit or _"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._@-]*$")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a student, an assignment or a file (None: it can)."""
    if name in RESERVED_NAMES:
        return f"{name!r} is a name the grader reserves"
    if not _NAME.fullmatch(name) or len(name) > 128:
        return f"{ascii(name)} is not a valid name ({NAME_RULE}, at most 128 characters)"
    return None


@dataclass
class Submission:
    student: str
    assignment: str
    path: Path
    notebooks: list[str]


class Course:
    """The nbgrader course directory, read with the course's own nbgrader_config.py."""

    refused: list[dict]  # folders find_submissions refused: {"folder", "reason"}

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
        self.refused = []

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


def find_submissions(
    course: Course, assignments: list[str], students: list[str]
) -> list[Submission]:
    """Every submitted/<student>/<assignment> folder (not links), limited to those named;
    folders with invalid names are refused into ``course.refused``, never graded."""
    found = []
    base = Path(course.coursedir.format_path(course.coursedir.submitted_directory, ".", "."))
    if not base.exists():
        return []
    for student_dir in sorted(base.iterdir()):
        if not student_dir.is_dir() or student_dir.is_symlink():
            continue
        if students and student_dir.name not in students:
            continue
        if problem := name_problem(student_dir.name):
            _refuse(course, base, student_dir, "student folder", problem)
            continue
        for adir in sorted(student_dir.iterdir()):
            if not adir.is_dir() or adir.is_symlink():
                continue
            if assignments and adir.name not in assignments:
                continue
            if problem := name_problem(adir.name):
                _refuse(course, base, adir, "assignment folder", problem)
                continue
            found.append(Submission(student_dir.name, adir.name, adir, []))
    return found


def _refuse(course: Course, base: Path, folder: Path, what: str, problem: str) -> None:
    where = ascii(str(folder.relative_to(base)))
    course.refused.append(
        {"folder": where, "reason": f"the {what} {where} was not graded: {problem}"}
    )


def needs_grading(course: Course, sub: Submission, force: bool) -> bool:
    """Not graded yet, or submitted again since (by nbgrader's timestamp.txt), or forced."""
    dest = course.path("autograded", sub.student, sub.assignment)
    if force or not dest.exists():
        return True
    new, old = timestamp(sub.path), timestamp(dest)
    return new is not None and old is not None and new > old


def read_small(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, opened without following a link
    or blocking; ValueError says what else it is (a FIFO, a device, a link, too large)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if os.path.islink(path):
            raise ValueError("a symbolic link") from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(_kind(info.st_mode))
        too_large = (
            f"larger than {limit / 2**20:.3g} MB" if limit > 2**20 else f"over {limit} bytes"
        )
        if info.st_size > limit:
            raise ValueError(too_large)
        chunks, size = [], 0
        while chunk := os.read(fd, min(2**20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise ValueError(too_large)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder")):  # fmt: skip
        if test(mode):
            return name
    return "not a regular file"


def read_timestamp(folder: Path):
    """(time, problem): the time in a folder's timestamp.txt (nbgrader's) or None, and why a
    timestamp.txt that exists gave no time (None when it did, or when there is none)."""
    from nbgrader.utils import parse_utc

    path = folder / "timestamp.txt"
    if not os.path.lexists(path):
        return None, None
    try:
        data = read_small(path, MAX_TIMESTAMP)
    except ValueError as exc:
        return None, f"timestamp.txt is {exc}"
    except OSError as exc:
        return None, f"timestamp.txt could not be read ({exc.strerror})"
    text = data.decode("utf-8", errors="replace").strip()
    try:
        return parse_utc(text), None
    except (ValueError, OverflowError):
        return None, f"timestamp.txt does not hold a time ({ascii(text[:40])})"


def timestamp(folder: Path):
    """The time in a folder's timestamp.txt (nbgrader's), or None."""
    return read_timestamp(folder)[0]


def copy_files(src: Path, dest: Path, notes: list[str] | None, ignore: list[str]) -> None:
    """Copy regular files only (no links, devices, FIFOs, huge files or invalid names)."""

    def note(text: str) -> None:
        if notes is not None:
            notes.append(text)

    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        rel = Path(dirpath).relative_to(src)
        dirnames[:] = [d for d in dirnames if not any(fnmatch.fnmatch(d, p) for p in ignore)]
        for name in list(dirnames):
            if (Path(dirpath) / name).is_symlink():
                note(f"the link {ascii(str(rel / name))} was not copied")
            elif problem := name_problem(name):
                note(f"the folder {ascii(str(rel / name))} was not copied: {problem}")
                dirnames.remove(name)
        try:
            (dest / rel).mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # e.g. a path that is too long once under dest
            note(f"the folder {ascii(str(rel))} could not be copied ({exc.strerror})")
            dirnames[:] = []
            continue
        for name in filenames:
            if any(fnmatch.fnmatch(name, p) for p in ignore):
                continue
            where = ascii(str(rel / name))
            if (problem := name_problem(name)) and not (
                name.endswith(".ipynb") or (name == "timestamp.txt" and rel == Path("."))
            ):
                note(f"{where} was not copied: {problem}")
                continue
            # a notebook too large is copied so that ``load`` refuses it with its own reason
            limit = MAX_NOTEBOOK_BYTES + 1 if name.endswith(".ipynb") else MAX_EXTRA_FILE
            try:
                data = read_small(Path(dirpath) / name, limit)
            except ValueError as exc:
                note(f"{where} is {exc} and was not copied")
                continue
            except OSError as exc:
                note(f"{where} could not be read ({exc.strerror}) and was not copied")
                continue
            try:
                (dest / rel / name).write_bytes(data)
            except OSError as exc:  # e.g. a path that is too long once under dest
                note(f"{where} could not be copied ({exc.strerror})")
