"""The wrong answers the tests grade, one module per assignment (``exNN_name.py``), each with:

- ``MUTATIONS``: (student id, solution cell, old text, new text, what the feedback must say): one
  classic mistake planted in the solution (the old text occurs exactly once in that cell); each
  is graded in-process by ``test_diagnosis``, and some also through nbgrader by ``test_pipeline``
  (the first of each assignment, and the students of ``CAUSES``);
- ``REWRITES``: (student id, solution cell, the student's cell, what the feedback must say): the
  whole cell written independently of the solution, the way students write it;
- ``IN_PLACE``: (student id, cell, the student's cell, what the feedback must say): right values,
  but an input edited in place: the feedback names the edit and shows no false numbers;
- ``CAUSES``: (student of MUTATIONS with a wrong cell, what the sequence tests must say): the
  sequence tests blame the student's own cell, not the loop;
- ``HANDWRITTEN``: rows as in ``REWRITES``, written by hand the way students write them (their own
  names, loops, np.hstack...), not edits of the solution, one mistake each; graded in-process by
  ``test_diagnosis`` (``diagnosis.grade``), which measures how many get "Likely mistake: <phrase>".

A module leaves out the tables it has no rows for. Each assignment's owner edits only its module;
this package gathers them by assignment id.
"""

from __future__ import annotations

import importlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULES = {
    path.stem: importlib.import_module(f"mistakes.{path.stem}")
    for path in sorted(HERE.glob("ex[0-9][0-9]_*.py"))
}


def table(name: str) -> dict[str, list[tuple]]:
    """{assignment: rows} of one table (``MUTATIONS``, ``REWRITES``, ...), where it has rows."""
    return {a: list(getattr(m, name, [])) for a, m in MODULES.items() if getattr(m, name, [])}


MUTATIONS = table("MUTATIONS")
REWRITES = table("REWRITES")
IN_PLACE = table("IN_PLACE")
HANDWRITTEN = table("HANDWRITTEN")
CAUSES = [(a, *row) for a, rows in table("CAUSES").items() for row in rows]
