"""The red-team corpus of issue 10: attacks written by someone who has read the grader's source.

Every attack is one student folder, built from the assignment's own release and solution
notebooks, and states its SAFE outcome, the one the grader must give whatever it is built on:

    most      the most it may score: "zero", "zeros" (what answers that return zeros of the
              right shape earn: ex03's shape test, 1 point), "baseline" (the honest ×1.01 answer
              of ex03, which really passes 15 of 21 points: its shape test, sigmoid, forget and the
              tasks that use the course's gate, forget_on_cue and half_life), "full" (its honest
              content is correct:
              the attack is on the feedback, the terminal or the run, not on the points), or
              "task:<grade_id>"
              (full marks less the points of that answer's task: the answer breaks an exercise
              rule or calls the reference, everything else is honest), or "less:<points>"
              (the same where the task's tests do not follow its answer cell directly)
    flagged   True where issue 10 asks for the instructor's review (the reference reached, an
              exercise rule broken, the grader's channel, reports or process tampered with);
              None where the design makes the attack inert and only the score is checked
    forbid    text that must not appear in the student's graded notebook (what a probe prints
              when it reached something: a hidden test, a user namespace, another process)
    canary    text that must appear there (the probe ran and its output was kept; without it a
              forbidden text could be missing for the wrong reason)
    feedback  nbgrader's feedback is rendered and must hold no live payload (``live_payloads``)
    terminal  a tag: the escape sequences of this attack (which carry "F-esc-<tag>") must not
              reach the grader's terminal output, nor any ESC next to the student's id

Attacks in the same ``run`` of the same assignment are graded together, in ONE run of
``python -m lstm_course.autograde`` (``run == "main"``); the attacks on the run itself (a FIFO
as timestamp.txt, a student folder named like the summary, names that forge CSV rows, a grade
that cannot be recorded) get a small run of their own, with one honest control student. Most
attacks start from the blank release (honest content: nothing) or from the ×1.01 answer.

The attacks are grouped by what they go for: ``outputs`` (forged outputs, returned objects, what
crosses between the processes), ``process`` (the grader's channel and memory, other processes,
monkeypatching), ``reference`` (reaching the answers, exercise rules, predicting the inputs),
``feedback`` (stored XSS, terminal escapes), ``run`` (the whole run: denial of service, names,
timestamp.txt, the gradebook) and ``exercises`` (ex02, ex06, ex07).

To write the submissions into a course by hand (then grade it with make autograde):

    python tests/autograde/corpus/attacks --course-dir COURSE --assignment ex03_forget_gate
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent  # tests/autograde/corpus/attacks
sys.path.insert(0, str(HERE.parents[1]))
import autograde_harness as harness  # noqa: E402

cases = harness.load_cases()
EX03 = "ex03_forget_gate"
TIMESTAMP = cases.TIMESTAMP
LATER = "2026-01-02 12:00:00.000000 UTC"
XSS = "XSSF"  # in every stored-XSS payload: live_payloads looks for it in executable places


@dataclass
class Ctx:
    """What a builder gets: the corpus's Context (release, answers) and the student id."""

    base: object  # cases.Context
    student: str

    @property
    def course(self) -> Path:
        return self.base.course

    @property
    def assignment(self) -> str:
        return self.base.assignment

    @property
    def notebook(self) -> str:
        return self.base.notebook

    @property
    def release(self):
        return copy.deepcopy(self.base.release)

    def solved(self):
        return self.base.solved()

    def functions(self) -> list[tuple[str, list[str], str]]:
        """(name, parameters, grade_id) of every function the answer cells define, in order."""
        out = []
        for cell in self.base.release.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if not meta.get("solution"):
                continue
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.FunctionDef):
                    out.append((node.name, [a.arg for a in node.args.args], meta["grade_id"]))
        return out

    def nb(self, notebook) -> dict[str, bytes]:
        return {f"{self.notebook}.ipynb": cases.dumps(notebook)}


@dataclass
class Attack:
    name: str
    cls: str  # the class of attack, in issue 10's words
    doc: str
    build: Callable[[Ctx], dict]
    assignment: str = EX03
    run: str = "main"
    most: str = "zero"
    flagged: bool | None = None
    forbid: tuple[str, ...] = ()
    canary: str | None = None
    feedback: bool = False
    terminal: str | None = None
    student: str | None = None  # the folder's name, when the name is the attack
    max_seconds: float | None = None

    @property
    def sid(self) -> str:
        """The student id: atkfb-* for those whose feedback is rendered (one glob for all)."""
        prefix = "atkfb-" if self.feedback else "atk-"
        return self.student or prefix + self.name.replace("_", "-")


ATTACKS: dict[str, Attack] = {}
# The honest submissions every run compares with (not attacks).
BASELINES = ("solved", "blank", "wrong101", "zeros")


def attack(cls: str, **kw):
    def register(fn):
        name = fn.__name__.removeprefix("atk_")
        ATTACKS[name] = Attack(name, cls, (fn.__doc__ or "").strip(), fn, **kw)
        return fn

    return register


# -- building blocks ------------------------------------------------------------------------
def with_answers(ctx: Ctx, body: Callable[[str, list[str]], str], prelude: str = ""):
    """The release with every answer cell replaced by ``prelude`` (first cell only) and, for each
    function, ``def name(params):`` whose body is ``body(name, params)``."""
    nb = ctx.release
    first = True
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        names = [
            (n.name, [a.arg for a in n.args.args])
            for n in ast.parse(cell.source).body
            if isinstance(n, ast.FunctionDef)
        ]
        parts = [prelude] if first and prelude else []
        for name, params in names:
            parts.append(f"def {name}({', '.join(params)}):\n" + _indent(body(name, params)))
        cell.source = "\n\n".join(parts)
        first = False
    return nb


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.strip("\n").splitlines())


def stubs_with(ctx: Ctx, line: str):
    """The release with ``line`` added to every stub before its ``raise NotImplementedError``."""
    nb = ctx.release
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source = cell.source.replace(
                "    raise NotImplementedError", f"    {line}\n    raise NotImplementedError"
            )
    return nb


def wrong101(ctx: Ctx):
    """The solved notebook whose forget_gate returns the right values × 1.01 (honest, wrong)."""
    nb = ctx.solved()
    wrapper = (
        "_honest_forget_gate = forget_gate\n\n\n"
        "def forget_gate(h_prev, x_t, W_f, b_f):\n"
        "    return _honest_forget_gate(h_prev, x_t, W_f, b_f) * 1.01"
    )
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "forget_gate":
            cell.source += "\n\n\n" + wrapper
    return nb


def before_tests(nb, source: str):
    return cases.insert_before_first_test(nb, source)


def replace_answer(nb, grade_id: str, source: str):
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return nb
    raise LookupError(grade_id)


# The shape an ex03 answer must have, for attacks that return something of the right shape.
SHAPE = """
import numpy as np


def _shape(name, args):
    if name == "forget_gate":
        return (np.shape(args[0])[0], np.shape(args[2])[0])
    if name == "forget_on_cue":  # (H, D, cue) -> the shape of W_f, (H, H + D)
        return (int(args[0]), int(args[0]) + int(args[1]))
    return np.shape(args[0])
"""


def zeros_answers(ctx, prelude: str):
    """The release with every answer returning zeros of the right shape, after ``prelude``."""
    body = "return np.zeros(_shape({n!r}, ({a},)))"
    return with_answers(ctx, lambda n, p: body.format(n=n, a=", ".join(p)), SHAPE + prelude)


# -- the baselines ----------------------------------------------------------------------------
def build_solved(ctx):
    return ctx.nb(ctx.solved())


def build_blank(ctx):
    return ctx.nb(ctx.release)


def build_wrong101(ctx):
    return ctx.nb(wrong101(ctx))


def build_zeros(ctx):
    """Every answer returns zeros of the right shape: honest, and empty."""
    return ctx.nb(zeros_answers(ctx, ""))


BASELINE_BUILDERS = {
    "solved": build_solved,
    "blank": build_blank,
    "wrong101": build_wrong101,
    "zeros": build_zeros,
}


# -- writing the submissions -----------------------------------------------------------------
def write_files(folder: Path, files: dict, timestamp: str = TIMESTAMP) -> None:
    """Write a submission; values are bytes, or "@fifo", "@link:TARGET", "@sparse:SIZE"; the key
    "@link:NAME" (bytes target) and "@pathmax" (a file whose path is 4095 characters) too."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    files = dict(files)
    files.setdefault("timestamp.txt", timestamp.encode())
    for rel, data in files.items():
        if rel == "@pathmax":
            _path_max_file(folder, data)
            continue
        if rel.startswith("@link:"):
            (folder / rel.removeprefix("@link:")).symlink_to(data.decode())
            continue
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if data == "@fifo":
            os.mkfifo(path)
        elif isinstance(data, str) and data.startswith("@link:"):
            path.symlink_to(data.removeprefix("@link:"))
        elif isinstance(data, str) and data.startswith("@sparse:"):
            with open(path, "wb") as fh:
                fh.truncate(int(data.removeprefix("@sparse:")))
        else:
            path.write_bytes(data)


def _path_max_file(folder: Path, data: bytes) -> None:
    """A file whose absolute path is exactly 4095 characters (PATH_MAX - 1)."""
    left = 4095 - len(str(folder)) - 1
    parts = []
    while left > 250:
        parts.append("d" * 200)
        left -= 201
    parts.append("f" * left)
    *dirs, name = parts
    fd = os.open(str(folder), os.O_RDONLY)
    try:  # walk down with openat, each step well under PATH_MAX
        for d in dirs:
            os.mkdir(d, dir_fd=fd)
            new = os.open(d, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        out = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, data)
        os.close(out)
    finally:
        os.close(fd)


def build(course: Path, assignment: str, names: list[str], baselines=BASELINES) -> dict[str, str]:
    """Write the baselines and the named attacks of one assignment into course/submitted/;
    return {case name: student id}."""
    base = cases.context(course, assignment)
    out = {}
    for name in baselines:
        sid = f"base-{name}"
        write_files(
            course / "submitted" / sid / assignment, BASELINE_BUILDERS[name](Ctx(base, sid))
        )
        out[name] = sid
    for name in names:
        spec = ATTACKS[name]
        files = spec.build(Ctx(base, spec.sid))
        write_files(course / "submitted" / spec.sid / assignment, files)
        out[name] = spec.sid
    return out


# -- what the checks look for ---------------------------------------------------------------------
SAFE_MIME = {"text/plain", "image/png", "image/jpeg", "text/latex"}
LIVE = [
    re.compile(r"<script\b[^>]*>[^<]*" + XSS, re.I),
    re.compile(r"<[a-z][^<>]*\son\w+\s*=[^<>]*" + XSS, re.I),
    re.compile(r"<[a-z][^<>]*\s(?:href|src|action)\s*=\s*[\"']?\s*javascript:[^<>]*" + XSS, re.I),
    re.compile(r"<(?:iframe|object|embed|meta|base|form)\b[^<>]*" + XSS, re.I),
]


def live_payloads(html: str) -> list[str]:
    """The payloads of this corpus that would run in a browser: a marker inside a <script>, an
    event handler, a javascript: URL or an iframe, as written in the page (escaped text is not)."""
    found = []
    for pattern in LIVE:
        found += [m.group(0)[:120] for m in pattern.finditer(html)]
    return found


def unsafe_outputs(nb: dict) -> list[str]:
    """Outputs of a graded notebook with a MIME type outside SAFE_MIME that carry a payload."""
    bad = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) or []:
            for mime, value in (out.get("data") or {}).items():
                text = value if isinstance(value, str) else json.dumps(value)
                if mime not in SAFE_MIME and XSS in text:
                    bad.append(f"{mime}: {text[:80]}")
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the attacks into a course's submitted/.")
    parser.add_argument("--course-dir", default=".")
    parser.add_argument("--assignment", default=EX03)
    args = parser.parse_args(argv)
    names = [n for n, a in ATTACKS.items() if a.assignment == args.assignment and a.run == "main"]
    ids = build(Path(args.course_dir).resolve(), args.assignment, names)
    print(f"wrote {len(ids)} submissions under submitted/*/{args.assignment}")
    return 0


# The groups register their attacks when imported (they import the building blocks above).
from attacks import exercises, feedback, outputs, process, reference, run  # noqa: E402, F401
