"""How long nbgrader takes to grade one correct submission of each assignment.

    .venv/bin/python benchmarks/time_grading.py [assignment ...]

Copies the course to a temporary directory, releases every assignment, submits each solution
notebook as one student, then times `nbgrader autograde <assignment> --student <id>` (nbgrader's
start-up included) and prints a Markdown table. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def nbgrader(course: Path, *args: str) -> float:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    start = time.perf_counter()
    result = subprocess.run(
        [str(BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return time.perf_counter() - start


def main(assignments: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "solutions", course / "solutions")
        nbgrader(course, "generate_assignment", "*", "--force")
        print("| assignment | grading one correct submission (s) | score |")
        print("|---|---|---|")
        for assignment in assignments:
            (source,) = (course / "solutions" / assignment).glob("*.ipynb")
            target = course / "submitted" / "timing" / assignment / source.name
            target.parent.mkdir(parents=True)
            shutil.copy(source, target)
            seconds = nbgrader(course, "autograde", assignment, "--student", "timing")
            graded = json.loads(
                (course / "autograded/timing" / assignment / source.name).read_text()
            )
            cells = [c for c in graded["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
            failed = sum(any(o["output_type"] == "error" for o in c["outputs"]) for c in cells)
            print(
                f"| `{assignment}` | {seconds:.1f} | {len(cells) - failed} / {len(cells)} tests pass |"
            )


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    main(names)
