"""The course directory after a graded run, nbgrader's own tools on the results, and the CLI.

- nothing outside nbgrader's outputs (gradebook.db, autograded/, feedback/) changed, byte for byte;
- ``nbgrader generate_feedback`` and ``nbgrader export`` work on what the grader wrote;
- a serial run (--jobs 1) gives the same scores as the parallel run;
- without bubblewrap the grader refuses to run, unless --allow-unsandboxed;
- already graded submissions are skipped unless --force, as with nbgrader.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from autograde_harness import ASSIGNMENT, autograde, env

UNPRIVILEGED_BLOCKED = [
    "read_gradebook",
    "list_solutions",
    "read_other_student",
    "list_course",
    "write_course",
    "write_venv",
    "write_package",
    "write_usr",
    "network_internet",
    "network_host_loopback",
    "see_host_processes",
    "allocate_8GB",
    "write_100MB_file",
    "fill_disk_2GB",
    "environment_leak",
]
SERIAL = ["solved", "blank", "wrong", "attack_numpy", "syntax_error", "edited_metadata"]


def test_course_directory_is_unchanged(graded):
    assert graded.before == graded.after
    assert any(k.startswith("submitted/") for k in graded.before)


def test_feedback_and_export_work_on_the_results(graded):
    nbgrader = [sys.executable, "-m", "nbgrader"]
    out = subprocess.run(
        [*nbgrader, "generate_feedback", ASSIGNMENT, "--student", "corpus-invalid-json"],
        cwd=graded.course,
        capture_output=True,
        text=True,
        env=env(),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    html = graded.course / "feedback" / "corpus-invalid-json" / ASSIGNMENT / "forget_gate.html"
    assert "not valid JSON" in html.read_text()
    out = subprocess.run(
        [*nbgrader, "export", "--to", "grades.csv"],
        cwd=graded.course,
        capture_output=True,
        text=True,
        env=env(),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    with open(graded.course / "grades.csv") as fh:
        rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(fh)}
    for entry in graded.summary["submissions"]:
        assert rows[entry["student"]] == entry["score"], entry["student"]


@pytest.fixture(scope="module")
def copy_course(graded, tmp_path_factory) -> Path:
    """A copy of the graded course (the session's copy stays as graded)."""
    dest = tmp_path_factory.mktemp("copy") / "course"
    shutil.copytree(graded.course, dest, symlinks=True)
    cfg = dest / "nbgrader_config.py"
    assert "ROOT" in cfg.read_text()  # the config finds the course from its own path
    return dest


def test_serial_run_gives_the_same_scores(graded, copy_course):
    students = [f"corpus-{c.replace('_', '-')}" for c in SERIAL]
    args = ["--force", "--jobs", "1", "--timeout", "3", "--memory", "1536", "--quiet"]
    for s in students:
        args += ["--student", s]
    proc = autograde(copy_course, *args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    serial = json.loads((copy_course / "autograded" / "autograde_summary.json").read_text())
    assert serial["jobs"] == 1
    got = {s["student"]: s["score"] for s in serial["submissions"]}
    want = {s["student"]: s["score"] for s in graded.summary["submissions"] if s["student"] in got}
    assert got == want and len(got) == len(students)


def test_refuses_without_bubblewrap(copy_course, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    environ = dict(env(), PATH=str(bindir))  # no bwrap anywhere on PATH
    summary = tmp_path / "summary.json"
    proc = autograde(
        copy_course,
        "--force",
        "--student",
        "corpus-solved",
        "--summary",
        str(summary),
        environ=environ,
    )
    assert proc.returncode == 2
    assert "refusing" in proc.stderr and "bubblewrap" in proc.stderr
    assert not summary.exists()


def test_refuses_when_bubblewrap_cannot_sandbox(copy_course, tmp_path):
    """A bwrap that exists but fails (as where user namespaces are disabled) is refused too."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    environ = dict(env(), PATH=f"{bindir}:{os.environ.get('PATH', '/usr/bin')}")
    proc = autograde(copy_course, "--force", "--student", "corpus-solved", environ=environ)
    assert proc.returncode == 2
    assert "cannot create a sandbox" in proc.stderr


def test_allow_unsandboxed_grades_with_a_warning(copy_course, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    environ = dict(env(), PATH=str(bindir))
    summary = tmp_path / "summary.json"
    proc = autograde(
        copy_course,
        "--force",
        "--allow-unsandboxed",
        "--student",
        "corpus-solved",
        "--summary",
        str(summary),
        environ=environ,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "WITHOUT a sandbox" in proc.stderr
    report = json.loads(summary.read_text())
    assert report["sandbox"] is False
    assert report["submissions"][0]["score"] == report["submissions"][0]["max_score"] > 0


def test_already_graded_submissions_are_skipped_without_force(copy_course, tmp_path):
    summary = tmp_path / "summary.json"
    proc = autograde(copy_course, "--student", "corpus-solved", "--summary", str(summary))
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(summary.read_text())
    assert report["submissions"] == []
    assert report["skipped_already_graded"] == [f"corpus-solved/{ASSIGNMENT}"]


def test_works_from_a_virtual_environment_reached_through_a_link(copy_course, tmp_path):
    """A course whose .venv is a link to a shared environment (pyvenv.cfg is found by path)."""
    link = tmp_path / "venv-link"
    link.symlink_to(Path(sys.prefix))
    summary = tmp_path / "summary.json"
    proc = subprocess.run(
        [
            str(link / "bin" / "python"),
            "-m",
            "lstm_course.autograde",
            "--course-dir",
            str(copy_course),
        ]
        + ["--force", "--student", "corpus-solved", "--summary", str(summary), "--quiet"],
        capture_output=True,
        text=True,
        env=env(),
        cwd=copy_course,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(summary.read_text())
    assert report["sandbox"] is True
    assert report["submissions"][0]["score"] == report["submissions"][0]["max_score"] > 0


def test_unprivileged_layout_grades_too(copy_course, tmp_path):
    """The layout used without root (a user namespace, --disable-userns, no uid switch)."""
    summary = tmp_path / "summary.json"
    environ = dict(env(), LSTM_AUTOGRADE_USERNS="1")
    args = ["--force", "--student", "corpus-solved", "--student", "corpus-blank"]
    args += ["--student", "corpus-sandbox-probe"]
    proc = autograde(copy_course, *args, "--summary", str(summary), environ=environ)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(summary.read_text())
    scores = {s["student"]: (s["score"], s["max_score"]) for s in report["submissions"]}
    assert report["sandbox"] is True
    assert scores["corpus-solved"][0] == scores["corpus-solved"][1] > 0
    assert scores["corpus-blank"][0] == 0
    nb = json.loads(
        (
            copy_course / "autograded" / "corpus-sandbox-probe" / ASSIGNMENT / "forget_gate.ipynb"
        ).read_text()
    )
    texts = ["".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])]
    probe = json.loads(next(t for t in texts if t.startswith("PROBE "))[len("PROBE ") :])
    # (as root, the user namespace maps to root: the process limit does not bind root)
    for name in UNPRIVILEGED_BLOCKED:
        assert probe[name].startswith("BLOCKED"), (name, probe[name])
