"""The Makefile's commands always run: a target named like a folder (``book``) must be phony."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def targets_and_phony():
    text = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):(?!=)", text, flags=re.M))
    phony = set(" ".join(re.findall(r"^\.PHONY:(.*)$", text, flags=re.M)).split())
    return targets, phony


def test_every_command_target_is_phony():
    targets, phony = targets_and_phony()
    assert {"book", "test", "bench", "release", "autograde", "feedback", "grades"} <= targets
    assert targets <= phony, f"not declared .PHONY: {sorted(targets - phony)}"


def test_make_book_runs_even_though_a_book_folder_exists():
    assert (ROOT / "book").is_dir()
    dry_run = subprocess.run(
        ["make", "-n", "book"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "jupyter-book build" in dry_run.stdout, dry_run.stdout + dry_run.stderr
