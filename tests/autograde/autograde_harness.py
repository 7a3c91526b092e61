"""Helpers of the autograde tests: a temporary course, the corpus, the real command line.

The session fixture ``graded`` copies nbgrader_config.py and one real assignment
(ex03_forget_gate) into a temporary folder, releases it with nbgrader (which creates the
gradebook), writes every case of tests/autograde/corpus/cases.py as a submission, hashes the
course directory, runs ``python -m lstm_course.autograde`` on it (two jobs, short limits), and hashes
it again. A TCP server on the host's loopback stands in for the instructor's network services.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ASSIGNMENT = "ex03_forget_gate"
# Where nbgrader is expected to write: everything else must be byte-identical after grading.
OUTPUTS = ("gradebook.db", "autograded", "feedback", "grades.csv")
GRADE_ARGS = ["--timeout", "3", "--memory", "1536", "--jobs", "2", "--quiet"]


def load_cases():
    spec = importlib.util.spec_from_file_location("autograde_corpus", HERE / "corpus" / "cases.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def env() -> dict:
    e = dict(os.environ)
    e["PATH"] = f"{Path(sys.executable).parent}:{e.get('PATH', '/usr/bin:/bin')}"
    return e


def autograde(course: Path, *args: str, environ: dict | None = None, timeout: float = 600):
    """Run the real command line on a course; return the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "lstm_course.autograde", "--course-dir", str(course), *args],
        capture_output=True,
        text=True,
        env=environ or env(),
        timeout=timeout,
        cwd=course,
    )


def tree_hashes(course: Path) -> dict[str, str]:
    """sha256 of every file (and the target of every link) outside nbgrader's outputs."""
    out = {}
    for path in sorted(course.rglob("*")):
        rel = path.relative_to(course)
        if rel.parts[0] in OUTPUTS or rel.name.endswith("-journal"):
            continue
        if path.is_symlink():
            out[str(rel)] = "link:" + os.readlink(path)
        elif path.is_file():
            out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[str(rel)] = "dir"
    return out


def make_course(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", dest)
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder / ASSIGNMENT, dest / folder / ASSIGNMENT)
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"],
        cwd=dest,
        check=True,
        capture_output=True,
        env=env(),
    )
    return dest


class _Listener:
    """A TCP server on the host's loopback that accepts and closes connections."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
                conn.close()
            except OSError:
                return


@dataclass
class Graded:
    course: Path
    summary: dict
    stdout: str
    stderr: str
    returncode: int
    before: dict
    after: dict
    port: int
    students: list[str]

    def student(self, case: str) -> dict:
        sid = f"corpus-{case.replace('_', '-')}"
        for entry in self.summary["submissions"]:
            if entry["student"] == sid:
                return entry
        raise KeyError(sid)

    def notebook(self, case: str) -> dict:
        sid = f"corpus-{case.replace('_', '-')}"
        path = self.course / "autograded" / sid / ASSIGNMENT / f"{ASSIGNMENT[5:]}.ipynb"
        return json.loads(path.read_text())


def grade_corpus(tmp_path_factory) -> Graded:
    if shutil.which("bwrap") is None:
        pytest.fail(
            "bubblewrap (bwrap) is not installed: apt-get install bubblewrap (.ci/run does)"
        )
    course = make_course(tmp_path_factory.mktemp("autograde") / "course")
    listener = _Listener()
    cases = load_cases()
    students = cases.build(course, ASSIGNMENT, port=listener.port)
    before = tree_hashes(course)
    proc = autograde(course, *GRADE_ARGS)
    after = tree_hashes(course)
    summary_path = course / "autograded" / "autograde_summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    return Graded(
        course,
        summary,
        proc.stdout,
        proc.stderr,
        proc.returncode,
        before,
        after,
        listener.port,
        students,
    )
