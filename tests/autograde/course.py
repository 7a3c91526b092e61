"""A tiny nbgrader course built in a temporary folder, and helpers to submit to it.

The assignment ``ex00_tiny`` has one notebook, ``tiny.ipynb``: a locked setup cell, two solution
cells (``square`` and ``gate``, the latter compared against ``lstm_ref.np_ref.sigmoid``), and
graded test cells with visible and hidden parts, 1 + 2 + 3 = 6 points in all.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ASSIGNMENT = "ex00_tiny"
NOTEBOOK = "tiny"
MAX_SCORE = 6.0
NBGRADER = [sys.executable, "-m", "nbgrader"]

CONFIG = """c = get_config()
c.CourseDirectory.course_id = "tiny-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.Execute.timeout = 30
"""

SOLUTION_SQUARE = '''def square(x):
    """Return x squared, elementwise."""
    ### BEGIN SOLUTION
    return np.asarray(x, dtype=float) ** 2
    ### END SOLUTION'''

SOLUTION_GATE = '''def gate(z):
    """The logistic sigmoid of z, elementwise."""
    ### BEGIN SOLUTION
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))
    ### END SOLUTION'''

TEST_SQUARE = '''"""Check that square(3) is 9."""
assert np.allclose(square(3.0), 9.0), "square(3.0) should be 9.0"'''

TEST_SQUARE_HIDDEN = '''"""Check square on random inputs."""
x = np.random.default_rng(1).normal(size=7)
assert square(x).shape == (7,)
### BEGIN HIDDEN TESTS
assert np.allclose(square(x), x * x), "square(x) differs from x * x"
### END HIDDEN TESTS'''

TEST_GATE = '''"""Check gate against the reference sigmoid."""
from lstm_ref.np_ref import sigmoid as reference_sigmoid
z = np.linspace(-5.0, 5.0, 11)
### BEGIN HIDDEN TESTS
assert np.allclose(gate(z), reference_sigmoid(z)), "gate(z) differs from the sigmoid"
### END HIDDEN TESTS'''


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        new_markdown_cell("# A tiny exercise", metadata=_meta("intro", locked=True)),
        new_code_cell("import numpy as np", metadata=_meta("setup", locked=True)),
        new_code_cell(SOLUTION_SQUARE, metadata=_meta("square", solution=True)),
        new_code_cell(
            TEST_SQUARE, metadata=_meta("test_square", grade=True, locked=True, points=1)
        ),
        new_code_cell(
            TEST_SQUARE_HIDDEN,
            metadata=_meta("test_square_hidden", grade=True, locked=True, points=2),
        ),
        new_code_cell(SOLUTION_GATE, metadata=_meta("gate", solution=True)),
        new_code_cell(TEST_GATE, metadata=_meta("test_gate", grade=True, locked=True, points=3)),
    ]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


def make_course(root: Path) -> Path:
    """Write the course and release it with nbgrader (creates gradebook.db and exercises/)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(CONFIG)
    src = root / "solutions" / ASSIGNMENT
    src.mkdir(parents=True)
    nbformat.write(source_notebook(), str(src / f"{NOTEBOOK}.ipynb"))
    (src / "data.txt").write_text("shared data file\n")
    subprocess.run(
        [*NBGRADER, "generate_assignment", ASSIGNMENT, "--force"],
        cwd=root,
        check=True,
        capture_output=True,
        env=env(),
    )
    return root


def env() -> dict:
    """The environment with the venv's bin first (nbgrader runs `alembic` from PATH)."""
    e = dict(os.environ)
    e["PATH"] = f"{Path(sys.executable).parent}:{e.get('PATH', '/usr/bin:/bin')}"
    return e


def release(root: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(root / "exercises" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"), as_version=4)


def answer(solution: str) -> str:
    """A solution cell's source without nbgrader's markers."""
    return solution.replace("    ### BEGIN SOLUTION\n", "").replace("\n    ### END SOLUTION", "")


def solved(root: Path) -> nbformat.NotebookNode:
    """The release notebook with correct answers typed in, as a student would."""
    nb = copy.deepcopy(release(root))
    set_answer(nb, "square", answer(SOLUTION_SQUARE))
    return set_answer(nb, "gate", answer(SOLUTION_GATE))


def set_answer(nb: nbformat.NotebookNode, grade_id: str, source: str) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return nb
    raise KeyError(grade_id)


def submit(root: Path, student: str, files: dict[str, bytes | str | nbformat.NotebookNode]) -> Path:
    """Create submitted/<student>/<assignment>/ with the given files and a timestamp."""
    folder = root / "submitted" / student / ASSIGNMENT
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text("2026-01-01 12:00:00.000000 UTC")
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, nbformat.NotebookNode):
            content = json.dumps(content, indent=1)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
    return folder
