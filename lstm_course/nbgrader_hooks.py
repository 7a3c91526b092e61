"""The course's hooks into nbgrader: what Validate, the feedback pages and the formgrader show.

:mod:`lstm_course.nbgrader_settings` puts them in nbgrader's configuration:

- :func:`name_failed_tests` (wraps ``Validator.validate``): the Validate dialog and ``nbgrader
  validate`` name a failing test by its docstring line, so its message is in the first screenful.
- :class:`ReadableFeedback` (``GenerateFeedback.preprocessors``): every test cell's error as
  :mod:`lstm_course.display` writes it (the test's name, the message wrapped at 79 columns), never
  a traceback through the grader with its paths; the test's name for the page's list of tests.
- :func:`copy_mathjax` (``GenerateFeedback.post_convert_hook``): the MathJax that the book
  serves (sphinx-mathjax-offline's copy) next to each student's pages, so formulas typeset
  offline; the template ``nbgrader_templates/lstm_feedback`` loads it from there.
- :class:`TimedFileNameCollector` (``ZipCollectApp.collector_plugin``): nbgrader's collector,
  with the times LMS file names carry (``2026-11-20-17-45-03``) read as times: dateutil reads
  that string as 20:00 (the ``-17-45-03`` as a time-zone offset), so late penalties were wrong.
- :class:`AutogradeRefused` (the formgrader's ``Autograde.exporter_class``): the formgrader's
  Autograde button would run plain ``nbgrader autograde``, the students' code unsandboxed
  beside the tests; it stops before touching anything and says to run ``make autograde``.
"""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path

from nbconvert.exporters import NotebookExporter
from nbconvert.filters import strip_ansi
from nbconvert.preprocessors import Preprocessor
from nbgrader import utils
from nbgrader.plugins import FileNameCollectorPlugin
from traitlets import Bool

from lstm_course.display import FAILED, test_title, wrap

# ---------------------------------------------------------------------------------------------
# Validate


def name_failed_tests(validate):
    """Wrap ``Validator.validate``: each failing test is shown by its docstring line instead of
    its whole source, so its message follows at once. The Validate dialog and ``nbgrader
    validate`` print a failing cell's source first, and a test cell's dozen lines pushed the
    message out of the dialog's first screenful; nbgrader offers no setting for it
    (``Validator.preprocessors`` is not configurable, and its Execute overrides nbclient's
    ``on_cell_executed`` hook). Changed cells are reported with their whole source, as before."""
    if getattr(validate, "names_failed_tests", False):
        return validate

    @functools.wraps(validate)
    def wrapper(self, filename):
        results = validate(self, filename)
        for cell in results.get("failed", []):
            source = cell.get("source", "")
            if test_title(source) is not None:
                cell["source"] = source.strip().splitlines()[0]
        return results

    wrapper.names_failed_tests = True
    return wrapper


# ---------------------------------------------------------------------------------------------
# Feedback


def _readable(output, title: str | None) -> list[str]:
    """An error output's traceback as the notebook shows it: kept when the kernel's handler
    (lstm_course.display) already wrote it, rebuilt from the error's type and message when it
    is a plain traceback (the grader's verifier, a hidden test cut to its last line)."""
    lines = [strip_ansi(line) for line in output.get("traceback", [])]
    if lines and lines[0].startswith(FAILED):
        return lines
    ename, evalue = output.get("ename", "Error"), output.get("evalue", "")
    if ename == "AssertionError":
        body = wrap(evalue or "the test's assertion failed")
    else:
        body = wrap(f"{ename}: {evalue}")
    return (wrap(FAILED + title) if title else []) + body


SUMMARY = "from lstm_course.display import summary"  # the exercises' last cell


class ReadableFeedback(Preprocessor):
    """Each test cell's error as the notebook shows it, and the test's name in its metadata
    (``lstm_course.title``) for the feedback page's list of tests."""

    enabled = Bool(True).tag(config=True)  # nbconvert's preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and SUMMARY in cell.source and not utils.is_grade(cell):
            cell.outputs = []  # the grader runs no test in the student's kernel: nothing to sum up
        if cell.cell_type != "code" or not utils.is_grade(cell):
            return cell, resources
        title = test_title(cell.source)
        if title:
            cell.metadata["lstm_course"] = {"title": title}
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = _readable(output, title)
        return cell, resources


def mathjax_dir() -> Path:
    """The MathJax 3 that sphinx-mathjax-offline ships (the copy the book serves)."""
    from importlib.metadata import PackageNotFoundError, files

    try:
        for record in files("sphinx-mathjax-offline") or []:
            if record.name == "tex-chtml.js":
                return Path(record.locate()).parent
    except PackageNotFoundError:
        pass
    raise FileNotFoundError("sphinx-mathjax-offline is not installed: it is in requirements.txt")


# What a page needs: the TeX-to-HTML bundle, its fonts, and the "safe" extension.
MATHJAX_FILES = ("tex-chtml.js", "ui/safe.js", "output/chtml/fonts/woff-v2")


def copy_mathjax(feedback_dir: str | Path, student: str = "*", **_) -> list[Path]:
    """Copy MathJax into ``feedback/<student>/mathjax/`` for each student folder that ``student``
    names (nbgrader passes its ``--student`` pattern, ``*`` by default). A student's pages are in
    ``feedback/<student>/<assignment>/`` and load ``../mathjax/tex-chtml.js``."""
    source, copied = mathjax_dir(), []
    for folder in sorted(Path(feedback_dir).glob(student or "*")):
        if not folder.is_dir() or folder.is_symlink():
            continue
        dest = folder / "mathjax"
        for name in MATHJAX_FILES:
            src, out = source / name, dest / name
            if out.exists():
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, out)
            else:
                shutil.copyfile(src, out)
        copied.append(dest)
    return copied


# ---------------------------------------------------------------------------------------------
# Formgrader

REFUSED = (
    "This course grades only in its sandbox: the formgrader's Autograde button is turned off, "
    "because plain `nbgrader autograde` would run the students' code unsandboxed, in the same "
    "process as the tests. Run `make autograde` in the course directory (add "
    'AUTOGRADE_ARGS="--assignment ASSIGNMENT --student STUDENT" for one submission), then '
    "reload this page: the grades appear here."
)


class AutogradeRefused(NotebookExporter):
    """The exporter of the formgrader's autograde: refuses before anything is read or written."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(REFUSED)


# ---------------------------------------------------------------------------------------------
# zip_collect

_DASHED_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)[-_ T](\d\d)[-_:.](\d\d)[-_:.](\d\d)")


class TimedFileNameCollector(FileNameCollectorPlugin):
    """FileNameCollectorPlugin whose ``timestamp`` group may be written with dashes
    (``2026-11-20-17-45-03``, Blackboard's): rewritten ``2026-11-20 17:45:03`` for nbgrader."""

    def collect(self, submitted_file):
        info = super().collect(submitted_file)
        stamp = info.get("timestamp") if info else None
        if stamp and (match := _DASHED_TIME.fullmatch(stamp.strip())):
            y, mo, d, h, mi, sec = match.groups()
            info["timestamp"] = f"{y}-{mo}-{d} {h}:{mi}:{sec}"
        return info
