"""The pipeline's third stage: run the restored notebook as two processes, keep the verdicts.

The code cells go to the verifier (V) with their kind (``student``, ``release``, ``test``); V has
the non-test cells run by the answer process (A, the student's sandbox) and runs the graded test
cells itself (``sandbox``). What comes back becomes validated nbformat outputs on the restored
notebook's cells. The grade of a test cell is V's verdict, never its outputs: the outputs kept
are streams, plain text and an error, built so that nbgrader's reading of them (an error output
scores zero, nothing else) gives exactly the verdict, and a test without a verdict (the notebook
crashed or timed out first) gets an error output that says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from lstm_course.autograde import policy
from lstm_course.autograde.channel import RunResult
from lstm_course.autograde.restore import Restored, Template
from lstm_course.autograde.sandbox import HOME, Sandbox
from lstm_course.autograde.verify import given_references, rule_breaches, test_names


@dataclass
class Executed:
    notebook: NotebookNode  # the restored notebook with the outputs of its run
    cells: list[dict]  # the code cells as V got them: index, kind, source, grade_id
    run: RunResult
    workdir: str  # the notebook's working folder, as it sees it
    flags: list[str] = field(default_factory=list)


def execute(
    sandbox: Sandbox,
    restored: Restored,
    template: Template,
    scratch: Path,
    private: Path,
    slot: int,
) -> Executed:
    """Run ``restored`` with the submitted files in ``scratch``; ``private`` is the grader's own
    folder for this submission, ``slot`` the job slot (a uid when the grader runs as root)."""
    cells = []
    for i, (cell, kind) in enumerate(zip(restored.notebook.cells, restored.kinds, strict=True)):
        if kind == "markdown":
            continue
        meta = cell.metadata.get("nbgrader") or {}
        cells.append(
            {
                "index": i,
                "kind": kind,
                "source": cell.source,
                "grade_id": meta.get("grade_id"),
                # a locked cell of the release (setup, given helpers) runs in V too
                "verifier": kind == "release" and bool(meta.get("locked")),
            }
        )
    assignment = template.assignment
    rules = policy.forbidden(assignment)
    job = {"cells": cells, "solution_names": template.solution_names()}
    answer_job = {
        "forbidden_calls": list(rules.get("calls", ())),
        "watched_imports": list(policy.WATCHED_IMPORTS),
    }
    masks = []
    if policy.numpy_only(assignment) and sandbox.enabled:
        masks = sandbox.torch_masks()
        answer_job["absent"] = list(policy.TORCH_PACKAGES)
        answer_job["absent_reason"] = "this exercise is NumPy only"
    given = given_references(restored)
    workdir = f"{HOME}/{assignment}" if sandbox.enabled else str(scratch)
    run = sandbox.run(job, answer_job, scratch, workdir, private, slot, masks, given)
    flags: list[str] = []
    if run.garbage:
        flags.append(f"internal grader error: {run.garbage} malformed line(s) from the verifier")
    if run.attempts:
        flags.append(
            "the student's code reached for what is not its own (a module not in its sandbox, "
            "or a test's tensor): " + ", ".join(run.attempts[:5])
        )
    nb = restored.notebook
    # A breach of the exercise's rules (seen in the answers, or reported while a test called
    # them) costs the tests of the function that broke it.
    breaches = rule_breaches(restored, template)
    for name, what in run.breaches.items():
        breaches.setdefault(str(name), []).extend(f"it called {w}" for w in what)
    for name, reasons in sorted(breaches.items()):
        flags.append(f"{name} breaks the exercise's rule ({rules.get('rule', 'see policy')}): "
                     + "; ".join(sorted(set(reasons))[:5]) + "; its tests were failed")  # fmt: skip
    for cell in cells:
        target = nb.cells[cell["index"]]
        report = run.cells.get(cell["index"])
        if report is None:
            target.outputs = [_error("GraderError", _not_run(cell, run))]
            continue
        outputs = _outputs(report.get("outputs", []))
        if cell["kind"] != "test":
            target.outputs = outputs
            target.execution_count = report.get("execution_count")
            continue
        passed = report.get("passed") is True
        broken = sorted(n for n in breaches if n in test_names(cell["source"]))
        if passed and broken:
            passed = False
            outputs.append(
                _error(
                    "RuleBreach",
                    f"{', '.join(broken)} breaks the exercise's rule: "
                    f"{rules.get('rule', '')}. This test scores zero.",
                )
            )
        target.outputs = _verdict_outputs(outputs, passed)
    if run.failure and not run.ready:
        flags.append(
            "the notebook could not start: "
            + (run.verifier_stderr.strip()[-300:] or run.stderr_tail.strip()[-300:])
        )
    return Executed(nb, cells, run, workdir, flags)


def _not_run(cell: dict, run: RunResult) -> str:
    if run.started == cell["index"]:
        return run.failure or "the cell did not finish"
    return "not run, because an earlier cell stopped the notebook: " + (
        run.failure or "the notebook did not finish"
    )


def _error(ename: str, text: str):
    return nbformat.v4.new_output("error", ename=ename, evalue=text, traceback=[f"{ename}: {text}"])


def _verdict_outputs(outputs: list, passed: bool) -> list:
    """A test cell's outputs for its verdict: streams on stdout and display data only, then an
    error when it failed. nbgrader scores a cell zero on an error or stderr output and takes an
    ``execute_result`` as a score, so none of those may remain on a passed test."""
    kept = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            kept.append(nbformat.v4.new_output("stream", name="stdout", text=out["text"]))
        elif kind in ("display_data", "execute_result"):
            kept.append(nbformat.v4.new_output("display_data", data=out["data"], metadata={}))
        elif kind == "error" and not passed:
            kept.append(out)
    if not passed and not any(o.get("output_type") == "error" for o in kept):
        kept.append(_error("GraderError", "the test failed"))
    return kept


def _outputs(raw: list) -> list:
    """The outputs as validated nbformat outputs (anything else is dropped)."""
    new_output = nbformat.v4.new_output
    outputs = []
    for item in raw if isinstance(raw, list) else []:
        try:
            kind = item["output_type"]
            if kind == "stream":
                name = item["name"] if item["name"] in ("stdout", "stderr") else "stdout"
                outputs.append(new_output("stream", name=name, text=str(item["text"])))
            elif kind in ("display_data", "execute_result"):
                data = {str(k): v for k, v in dict(item["data"]).items()}
                extra = {"execution_count": item.get("execution_count")}
                outputs.append(
                    new_output(
                        kind,
                        data=data,
                        metadata=dict(item.get("metadata") or {}),
                        **(extra if kind == "execute_result" else {}),
                    )
                )
            elif kind == "error":
                outputs.append(
                    new_output(
                        "error",
                        ename=str(item["ename"]),
                        evalue=str(item["evalue"]),
                        traceback=[str(t) for t in item["traceback"]],
                    )
                )
        except Exception:  # noqa: BLE001 (a malformed output is dropped)
            continue
    return outputs
