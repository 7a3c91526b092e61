"""Each restriction of the sandbox, proved from inside a graded notebook.

The corpus case ``sandbox_probe`` is a correct submission with one more cell that tries every
forbidden action and prints ``BLOCKED <exception>`` or ``ALLOWED <result>`` for each. Every probe
is paired with a control run here, on the host, showing that the same action succeeds outside the
sandbox, so that a probe cannot pass only because the thing it reaches for does not exist.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import pytest
from autograde_harness import ASSIGNMENT

MUST_BE_BLOCKED = [
    "read_gradebook",
    "list_solutions",
    "read_solution",
    "read_other_student",
    "list_course",
    "write_course",
    "write_venv",
    "write_package",
    "write_usr",
    "see_other_scratch",
    "network_internet",
    "network_dns",
    "network_host_loopback",
    "is_root",
    "see_host_processes",
    "allocate_8GB",
    "write_100MB_file",
    "spawn_200_processes",
    "fill_disk_2GB",
    "cpu_unlimited",
    "environment_leak",
]


@pytest.fixture(scope="module")
def probe(graded) -> dict:
    nb = graded.notebook("sandbox_probe")
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", ""))
            if text.startswith("PROBE "):
                return json.loads(text[len("PROBE ") :])
    raise AssertionError("the probe cell printed nothing")


@pytest.mark.parametrize("name", MUST_BE_BLOCKED)
def test_blocked_inside_the_sandbox(probe, name):
    assert probe[name].startswith("BLOCKED"), f"{name}: {probe[name]}"


def test_scratch_folder_is_writable(probe):
    assert probe["scratch_writable"].startswith("ALLOWED"), probe["scratch_writable"]


def test_controls_on_the_host(graded):
    """What the probes reach for exists and is reachable outside the sandbox."""
    course = graded.course
    assert (course / "gradebook.db").read_bytes()[:16] == b"SQLite format 3\0"
    assert (course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT[5:]}.ipynb").exists()
    assert (course / "submitted" / "corpus-solved" / ASSIGNMENT).is_dir()
    with socket.create_connection(("127.0.0.1", graded.port), timeout=3):
        pass
    assert len([p for p in os.listdir("/proc") if p.isdigit()]) >= 1


def test_nothing_was_written_outside_the_scratch_folder(graded):
    assert not (graded.course / "pwned.txt").exists()
    assert not (Path(sys.prefix) / "pwned.txt").exists()
    import lstm_ref

    assert not (Path(lstm_ref.__file__).parent / "pwned.py").exists()


def test_the_notebook_ran_as_a_user_without_privileges(probe):
    """is_root is BLOCKED: the notebook's uid is not 0 even when the grader runs as root."""
    assert "PermissionError" in probe["is_root"]
