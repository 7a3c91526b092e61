"""Helpers of the record-stage tests (test_outputs, test_names, test_recording).

They grade without running anything: a notebook is restored from the release as the grader does
(``restore.restore``), given the outputs a run would have left, and handed to the record stage
(``results.record``) with a real gradebook made by ``nbgrader generate_assignment``; then the real
``nbgrader generate_feedback`` and ``nbgrader export`` read what was recorded.
"""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import autograde_harness as harness
import nbformat

from lstm_course.autograde import results
from lstm_course.autograde.course import Course, Submission
from lstm_course.autograde.restore import restore

ASSIGNMENT = harness.ASSIGNMENT
NOTEBOOK = ASSIGNMENT[5:]  # forget_gate
TIMESTAMP = "2026-01-01 12:00:00.000000 UTC"
MARK = "ATTACK"  # every script an attack tries to run mentions this


def solved(course: Path) -> nbformat.NotebookNode:
    """The release with the instructor's answers in it: an honest, correct submission."""
    return harness.load_cases().context(course, ASSIGNMENT).solved()


def submit(course: Path, student: str, nb, timestamp: str | None = TIMESTAMP) -> Path:
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    if timestamp is not None:
        (folder / "timestamp.txt").write_text(timestamp)
    nbformat.write(nb, str(folder / f"{NOTEBOOK}.ipynb"))
    return folder


def graded(course: Path, nb, outputs: dict[str, list] | None = None, failing: set[str] = ()):
    """``nb`` restored as the grader does, with the outputs a run would leave: a code cell whose
    source holds ``# OUT:key`` gets ``outputs[key]``; the test cells in ``failing`` an error."""
    template = Course(course).templates(ASSIGNMENT)[NOTEBOOK]
    restored = restore(nb, template)
    for cell, kind in zip(restored.notebook.cells, restored.kinds, strict=True):
        if cell.cell_type != "code":
            continue
        for key, outs in (outputs or {}).items():
            if f"# OUT:{key}" in cell.source:
                cell.outputs = [nbformat.from_dict(o) for o in outs]
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if kind == "test" and gid in failing:
            cell.outputs = [
                nbformat.v4.new_output(
                    "error", ename="AssertionError", evalue="wrong", traceback=["wrong"]
                )
            ]
    return restored


def record(course: Path, student: str, notebook, notes=(), failure=None) -> dict:
    """The record stage on one graded notebook of ``submitted/<student>/<assignment>``."""
    sub = Submission(student, ASSIGNMENT, course / "submitted" / student / ASSIGNMENT, [NOTEBOOK])
    nbres = SimpleNamespace(
        name=NOTEBOOK, notebook=notebook, notes=list(notes), failure=failure, flags=[], wall_s=0.0
    )
    result = SimpleNamespace(submission=sub, notebooks=[nbres], notes=[], error=None, wall_s=0.0)
    return results.record(Course(course), result)


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        capture_output=True,
        text=True,
        env=harness.env(),
        timeout=600,
    )


def feedback_html(course: Path, student: str) -> str:
    return (course / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()


class ActiveContent(HTMLParser):
    """What in a page could run: scripts' text, event handlers, script URLs, frames, objects."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self.urls: list[str] = []
        self.embeds: list[str] = []
        self._in_script = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._in_script = True
            self.scripts.append(" ".join(f"{k}={v}" for k, v in attrs))
        if tag in ("iframe", "object", "embed", "svg", "math", "base", "form", "meta"):
            self.embeds.append(tag)
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}={value}>")
            squeezed = "".join(value.split()).lower()
            if name in ("href", "src", "action", "formaction", "xlink:href", "data") and (
                squeezed.startswith(("javascript:", "vbscript:", "data:text", "data:image/svg"))
            ):
                self.urls.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real PNG image (red pixels), built by hand: signature, IHDR, IDAT, IEND."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
