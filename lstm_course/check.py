"""``make check NB=path``: ``nbgrader validate`` with the course's settings, and an exit status.

``nbgrader validate`` exits 0 even when tests fail; this runs the same validator (the one behind
the notebook's Validate button, configured by ``nbgrader_config.py`` in the course directory),
prints what it prints, and exits 1 when a test fails or a locked cell was changed, 2 when the
notebook cannot be read. Run from the course directory (``make check`` does):
``python -m lstm_course.check exercises/ex03_forget_gate/forget_gate.ipynb``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from nbgrader.apps import NbGrader
from nbgrader.validator import Validator

PROBLEMS = ("failed", "changed", "type_changed")


class _Validator(Validator):
    results: dict = {}

    def validate(self, filename):
        self.results = super().validate(filename)
        return self.results


def check(notebook: str | Path, course_dir: str | Path = ".") -> int:
    """Validate ``notebook`` with the configuration of ``course_dir``; 0 when every test passes."""
    path = Path(notebook).resolve()
    if path.suffix != ".ipynb" or not path.is_file():
        print(
            f"NB: expected the path of a notebook (.ipynb), got {str(notebook)!r}", file=sys.stderr
        )
        return 2
    here = os.getcwd()
    os.chdir(course_dir)
    try:
        app = NbGrader()
        app.load_config_file()
        validator = _Validator(config=app.config)
        validator.validate_and_print(str(path))
    finally:
        os.chdir(here)
    return 1 if any(validator.results.get(key) for key in PROBLEMS) else 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: make check NB=path/to/notebook.ipynb", file=sys.stderr)
        return 2
    return check(args[0])


if __name__ == "__main__":
    sys.exit(main())
