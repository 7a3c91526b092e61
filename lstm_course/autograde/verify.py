"""The pipeline's fourth stage: each answer checked outside the student's kernel.

Two checks, both independent of what the notebook's tests reported:

- ``reference_flags`` reads the answers: one that imports the reference (``policy``) or calls a
  name the tests import from it is flagged for the instructor.
- ``recompute`` runs the notebook's non-test cells in a second, fresh sandbox, calls each answer
  function that has a namesake in ``lstm_ref.np_ref`` on new inputs (``oracle.plan``) and compares
  the results with the reference computed here, where no student code ran (``oracle.judge``). A
  function whose tests all passed but whose values are wrong loses those tests (the pass is not
  trusted) and is flagged; one that calls the reference, or cannot be checked, is flagged only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from lstm_course.autograde import oracle, policy
from lstm_course.autograde._transport import encode_args
from lstm_course.autograde.course import Submission, copy_files
from lstm_course.autograde.execute import Executed
from lstm_course.autograde.restore import Restored, Template, defined_names
from lstm_course.autograde.sandbox import Sandbox


def reference_flags(restored: Restored, template: Template) -> list[str]:
    """Answers that may call the reference instead of implementing, read from their source."""
    given, in_tests = _given_references(restored)
    ref_names = in_tests - given
    flags = []
    answers = set(template.solution_names())
    for cell, kind in zip(restored.notebook.cells, restored.kinds, strict=True):
        if kind != "student":
            continue
        is_answer = bool((cell.metadata.get("nbgrader") or {}).get("solution"))
        if not is_answer and not (defined_names(cell.source) & answers):
            continue  # a scratch cell; only answers (or redefinitions of them) count
        found = reference_use(cell.source, ref_names, frozenset(given))
        if found:
            where = (cell.metadata.get("nbgrader") or {}).get("grade_id", "an added cell")
            flags.append(f"{where}: may call lstm_ref instead of implementing ({'; '.join(found)})")
    return flags


def recompute(
    sandbox: Sandbox,
    sub: Submission,
    template: Template,
    restored: Restored,
    executed: Executed,
    private: Path,
    slot: int,
) -> list[str]:
    """Recompute the answer functions in a fresh sandbox and compare them here; return the flags.
    Fails, in ``executed.notebook``, the passed tests of a function whose values are wrong."""
    seed_text = f"{sub.student}/{sub.assignment}/{template.notebook}"
    calls = oracle.plan(template.solution_signatures(), seed_text)
    if not calls:
        return []
    work = private / "oracle"
    work.mkdir()
    copy_files(sub.path, work, None, [".ipynb_checkpoints", "__pycache__", "*.ipynb"])
    job = {
        "mode": "oracle",
        "allowed_refs": sorted(_given_references(restored)[0]),
        "cells": [c for c in executed.cells if c["kind"] != "test"],
        "calls": [{"id": c.id, "name": c.name, "args": encode_args(c.args)} for c in calls],
    }
    workdir = executed.workdir if sandbox.enabled else str(work)
    run = sandbox.run(job, work, workdir, private, slot)
    nb = executed.notebook
    tests = [
        (c, nb.cells[c["index"]], _names(c["source"]))
        for c in executed.cells
        if c["kind"] == "test"
    ]
    flags: list[str] = []
    for call in calls:
        verdict = oracle.judge(call, run.oracle.get(call.id))
        if verdict.reference_calls:
            flags.append(
                f"{call.name} calls {', '.join(verdict.reference_calls)} instead of "
                "implementing it (seen when the grader ran it in a fresh sandbox)"
            )
        mine = [(c, cell) for c, cell, names in tests if call.name in names]
        passed = [(c, cell) for c, cell in mine if _passed(cell)]
        if verdict.wrong and mine and len(passed) == len(mine):
            _fail_passes(
                passed,
                f"this test passed in the notebook, but when the grader ran {call.name} "
                f"again in a fresh sandbox on new inputs, {verdict.wrong}. The pass is "
                "not trusted",
            )
            flags.append(
                f"{call.name}: every test of it passed in the notebook, but recomputed "
                f"outside the student's kernel, {verdict.wrong}; those tests were failed"
            )
        elif not run.ready and mine and len(passed) == len(mine):
            # The notebook's own cells stopped the fresh process before the check could
            # run: a notebook whose tests all passed has no honest reason to do that.
            why = run.failure or "the process stopped"
            _fail_passes(
                passed,
                f"this test passed in the notebook, but the grader could not run "
                f"{call.name} again in a fresh sandbox ({why}). The pass is not trusted",
            )
            flags.append(
                f"{call.name}: its tests passed, but the notebook's cells stopped the fresh "
                f"sandbox that checks it ({why}); those tests were failed"
            )
        elif verdict.failed and passed:
            flags.append(
                f"{call.name} passed its tests but could not be checked in a fresh sandbox: "
                f"{verdict.failed}"
            )
    return flags


def _given_references(restored) -> tuple[set[str], set[str]]:
    """Names imported from lstm_ref's reference by the release's cells, and by its tests."""
    given: set[str] = set()
    in_tests: set[str] = set()
    for cell, kind in zip(restored.notebook.cells, restored.kinds, strict=True):
        if kind == "release":
            given |= reference_imports(cell.source)
        elif kind == "test":
            in_tests |= reference_imports(cell.source)
    return given, in_tests


def _names(source: str) -> set[str]:
    try:
        return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return set()


def _fail_passes(passed: list, text: str) -> None:
    """Replace the outputs of passed test cells with a GradingIntegrityError saying why."""
    for _c, cell in passed:
        cell.outputs = [
            nbformat.v4.new_output(
                "error",
                ename="GradingIntegrityError",
                evalue=text,
                traceback=[f"GradingIntegrityError: {text}"],
            )
        ]


def _passed(cell) -> bool:
    """nbgrader's rule: a test passes unless it has an error or stderr output."""
    return not any(
        o.get("output_type") == "error"
        or (o.get("output_type") == "stream" and o.get("name") == "stderr")
        for o in cell.get("outputs", [])
    )


# -- reading the answers ------------------------------------------------------------
def reference_use(
    source: str, reference_names: set[str], given: frozenset[str] = frozenset()
) -> list[str]:
    """Reasons to believe this student cell calls lstm_ref's reference instead of implementing.

    reference_names: names the tests import from the reference (suspicious in an answer);
    given: names the release's own cells import from it for the student to use (allowed).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.names
            and all(a.name in given for a in node.names)
        ):
            continue  # re-importing a helper the release gives
        if isinstance(node, ast.Import):
            for alias in node.names:
                if policy.is_reference(alias.name):
                    found.append(f"imports {alias.name}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            policy.REFERENCE_PACKAGE
        ):
            module = node.module or ""
            if policy.imports_reference(module, [a.name for a in node.names]):
                found.append(f"imports from {module}")
        elif isinstance(node, ast.Attribute) and node.attr in policy.SUSPICIOUS_ATTRIBUTES:
            found.append(f"uses .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if any(word in node.value for word in policy.SUSPICIOUS_TEXT):
                found.append("names lstm_ref in a string")
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for node in ast.walk(func):
                if isinstance(node, ast.Name) and node.id in reference_names:
                    found.append(f"calls {node.id} (imported from the reference by the notebook)")
    return sorted(set(found))


def reference_imports(source: str) -> set[str]:
    """Names a release cell imports from lstm_ref's reference modules."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and policy.is_reference(node.module or ""):
            names |= {a.asname or a.name for a in node.names}
    return names
