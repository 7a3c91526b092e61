"""The pipeline's first stage: the nbgrader course directory and the submissions in it.

``Course`` reads the course's own ``nbgrader_config.py`` and knows where everything is
(``submitted/``, ``release/``, ``autograded/``, the gradebook); ``templates`` gives what each
notebook of an assignment must look like, from the release and the gradebook (``restore`` rebuilds
submissions on them). ``find_submissions`` lists ``submitted/<student>/<assignment>``.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from lstm_course.autograde.restore import Template

MAX_EXTRA_FILE = 20 * 2**20  # larger extra files are not copied into autograded/


@dataclass
class Submission:
    student: str
    assignment: str
    path: Path
    notebooks: list[str]


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


def find_submissions(
    course: Course, assignments: list[str], students: list[str]
) -> list[Submission]:
    """Every submitted/<student>/<assignment> folder (not links), limited to those named."""
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


def needs_grading(course: Course, sub: Submission, force: bool) -> bool:
    """Not graded yet, or submitted again since (by nbgrader's timestamp.txt), or forced."""
    dest = course.path("autograded", sub.student, sub.assignment)
    if force or not dest.exists():
        return True
    new, old = timestamp(sub.path), timestamp(dest)
    return new is not None and old is not None and new > old


def timestamp(folder: Path):
    """The time in a folder's timestamp.txt (nbgrader's), or None."""
    from nbgrader.utils import parse_utc

    path = folder / "timestamp.txt"
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        return parse_utc(text) if text else None
    except (OSError, ValueError):
        return None


def copy_files(src: Path, dest: Path, notes: list[str] | None, ignore: list[str]) -> None:
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
