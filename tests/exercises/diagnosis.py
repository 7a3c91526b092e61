"""Grade a hand-written answer in this process, as ``nbgrader autograde`` would, in milliseconds.

``grade(assignment, {cell_id: source})`` takes the instructor's notebook
(``solutions/<assignment>/*.ipynb``), puts each given source in place of the solution cell with
that id (as ``test_pipeline.submission`` does for a rewrite), strips the solution markers, and
runs every code cell in order in one fresh namespace, with the assignment's folder as the working
directory. The test cells run as the solution holds them, hidden tests included, as autograde
runs them. A test cell that raises anything scores 0, otherwise its points; a cell that is not a
test may fail (a "try it" cell calling a broken function) and the run goes on, as nbgrader's does.

``Graded.messages`` maps the grade id of each failing test to what the student reads: an
AssertionError's message (and, where ``grading.run`` wrapped an error of the student's code, that
error after it), or ``"<Type>: <message>"`` for any other exception.

The full nbgrader cycle (``test_pipeline``) stays the proof that the course grades right, and it
checks that this runner gives nbgrader's score to every submission graded both ways; this runner
is for the many wrong answers of ``mistakes/`` (the hand-written ones and most planted ones), which
would take minutes through nbgrader. Nothing is cached between calls: each call reads the
notebook afresh.

    python tests/exercises/diagnosis.py --report   # the diagnosis table, per assignment
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIKELY = "Likely mistake: "


@dataclass
class Graded:
    score: float
    max_score: float
    messages: dict[str, str] = field(default_factory=dict)  # grade id -> what the student reads

    def text(self) -> str:
        """Every message, one after the other."""
        return "\n".join(self.messages.values())


def strip_markers(source: str) -> str:
    """A solution cell as the student writes it: without nbgrader's solution markers."""
    return "\n".join(
        line
        for line in source.split("\n")
        if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
    )


def answer(nb: dict, row: tuple) -> tuple[str, str]:
    """(cell id, the student's source) of a row of ``mistakes/``: a whole cell, (student, cell,
    source, phrase), or a planted mistake, (student, cell, old, new, phrase), whose old text must
    occur exactly once in the solution cell of ``nb``."""
    if len(row) == 4:
        student, cell_id, source, _ = row
        return cell_id, source.strip("\n")
    student, cell_id, old, new, _ = row
    (cell,) = [c for c in nb["cells"] if c.get("id") == cell_id]
    source = strip_markers("".join(cell["source"]))
    count = source.count(old)
    assert count == 1, f"{student}: {old!r} occurs {count} times in cell {cell_id}"
    return cell_id, source.replace(old, new)


def notebook(assignment: str) -> dict:
    (path,) = (ROOT / "solutions" / assignment).glob("*.ipynb")
    return json.loads(path.read_text())


def message(error: BaseException) -> str:
    """What the student reads for a failing test cell."""
    if isinstance(error, AssertionError):
        text = str(error) or "the test's assertion failed"
        if error.__cause__ is not None:  # grading.run: the student's code raised
            cause = error.__cause__
            text += f"\n{type(cause).__name__}: {cause}"
        return text
    return f"{type(error).__name__}: {error}"


def grade(assignment: str, answers: dict[str, str]) -> Graded:
    """Run the solution notebook of ``assignment`` with ``answers`` {cell id: source} in place of
    those solution cells; see the module's docstring."""
    nb = notebook(assignment)
    ids = {cell.get("id") for cell in nb["cells"]}
    unknown = sorted(set(answers) - ids)
    if unknown:
        raise KeyError(f"{assignment} has no cell {unknown}; its cells: {sorted(ids - {None})}")
    folder = ROOT / "solutions" / assignment
    namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
    graded = Graded(0.0, 0.0)
    previous = Path.cwd()
    os.chdir(folder)
    try:
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            for number, cell in enumerate(nb["cells"]):
                if cell["cell_type"] != "code":
                    continue
                meta = cell["metadata"].get("nbgrader", {})
                source = "".join(cell["source"])
                if cell.get("id") in answers:
                    source = answers[cell["id"]].strip("\n")
                elif meta.get("solution"):
                    source = strip_markers(source)
                points = float(meta.get("points", 0)) if meta.get("grade") else 0.0
                graded.max_score += points
                try:
                    code = compile(source, f"<cell {cell.get('id') or number}>", "exec")
                    exec(code, namespace)
                except Exception as error:  # noqa: BLE001 (a cell's error is its result)
                    if meta.get("grade"):
                        graded.messages[meta["grade_id"]] = message(error)
                    continue
                graded.score += points
    finally:
        os.chdir(previous)
    return graded


# ---------------------------------------------------------------------------------------------
# The diagnosis of the hand-written answers: named, misnamed, full marks.


@dataclass
class Row:
    assignment: str
    student: str
    phrase: str
    graded: Graded

    @property
    def named(self) -> bool:
        return LIKELY + self.phrase in self.graded.text()

    @property
    def misnamed(self) -> list[str]:
        """The "Likely mistake:" lines that name something other than the row's phrase."""
        lines = [line for line in self.graded.text().splitlines() if LIKELY in line]
        return [line for line in lines if not line.split(LIKELY, 1)[1].startswith(self.phrase)]

    @property
    def full_marks(self) -> bool:
        return self.graded.score == self.graded.max_score


def diagnose_rows(rows: dict[str, list[tuple]]) -> list[Row]:
    """Grade each (student, cell id, source, phrase) row of {assignment: rows}."""
    return [
        Row(assignment, student, phrase, grade(assignment, {cell_id: source}))
        for assignment, table in rows.items()
        for student, cell_id, source, phrase in table
    ]


def report(results: list[Row]) -> str:
    """The table: per assignment, rows, named, misnamed and full marks, then the total."""
    lines = [f"{'assignment':<18}{'rows':>6}{'named':>7}{'rate':>7}{'misnamed':>10}{'full':>6}"]
    groups = sorted({r.assignment for r in results})
    for name, members in [(a, [r for r in results if r.assignment == a]) for a in groups] + [
        ("total", results)
    ]:
        named = sum(r.named for r in members)
        rate = named / len(members) if members else 0.0
        lines.append(
            f"{name:<18}{len(members):>6}{named:>7}{rate:>7.0%}"
            f"{sum(bool(r.misnamed) for r in members):>10}{sum(r.full_marks for r in members):>6}"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # the mistakes package
    from mistakes import HANDWRITTEN

    if "--report" not in argv:
        print(__doc__)
        return 2
    results = diagnose_rows(HANDWRITTEN)
    print(report(results))
    for r in results:
        if not r.named or r.misnamed or r.full_marks:
            what = "full marks" if r.full_marks else "misnamed" if r.misnamed else "not named"
            print(f"  {r.assignment} {r.student}: {what} (wants {r.phrase!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
