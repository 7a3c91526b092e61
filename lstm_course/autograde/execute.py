"""The pipeline's third stage: run the restored notebook in the sandbox, keep its outputs.

The code cells go to the runner with their kind (``student``, ``release``, ``test``); what it
reports comes back as validated nbformat outputs on the restored notebook's cells. A test cell
that did not report (the notebook crashed, timed out, or forged the report) gets an error output,
so that nbgrader scores it zero; what the runner saw (forged reports, stray lines on its channel,
protected modules changed before a test) becomes a flag for the instructor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from lstm_course.autograde.channel import RunResult
from lstm_course.autograde.restore import Restored, Template
from lstm_course.autograde.sandbox import HOME, Sandbox


@dataclass
class Executed:
    notebook: NotebookNode  # the restored notebook with the outputs of its run
    cells: list[dict]  # the code cells as the runner got them: index, kind, source, grade_id
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
    cells = [
        {
            "index": i,
            "kind": kind,
            "source": cell.source,
            "grade_id": (cell.metadata.get("nbgrader") or {}).get("grade_id"),
        }
        for i, (cell, kind) in enumerate(zip(restored.notebook.cells, restored.kinds, strict=True))
        if kind != "markdown"
    ]
    job = {"cells": cells, "solution_names": template.solution_names()}
    kinds_by_index = {c["index"]: c["kind"] for c in cells}
    workdir = f"{HOME}/{template.assignment}" if sandbox.enabled else str(scratch)
    run = sandbox.run(job, scratch, workdir, private, slot)
    flags = []
    for index in sorted(run.conflicts):
        flags.append(
            f"cell {index + 1} was reported twice with different outputs on the grader's "
            "private channel (the notebook forged a report)"
        )
        if kinds_by_index.get(index) == "test":
            run.cells.pop(index, None)  # no report is trusted: the cell fails below
    if run.garbage:
        flags.append(
            f"{run.garbage} line(s) not written by the grader appeared on its private result "
            "channel (the notebook wrote to the grader's file descriptor)"
        )
    nb = restored.notebook
    seen: set[str] = set()
    for cell in cells:
        target = nb.cells[cell["index"]]
        report = run.cells.get(cell["index"])
        if report is not None:
            target.outputs = _outputs(report.get("outputs", []))
            target.execution_count = report.get("execution_count")
            for reason in report.get("tamper", []):
                if reason not in seen:  # each change once, at the first test it affected
                    seen.add(reason)
                    flags.append(f"before test {cell['grade_id']}: {reason}")
            continue
        if cell["index"] in run.conflicts:
            text = "the notebook forged the grader's report of this test; it is not trusted"
        elif run.started == cell["index"]:
            text = run.failure or "the cell did not finish"
        else:
            text = "not run, because an earlier cell stopped the notebook: " + (
                run.failure or "the notebook did not finish"
            )
        target.outputs = [
            nbformat.v4.new_output(
                "error", ename="GraderError", evalue=text, traceback=[f"GraderError: {text}"]
            )
        ]
    if run.failure and not run.ready:
        flags.append("the notebook could not start: " + run.stderr_tail.strip()[-300:])
    return Executed(nb, cells, run, workdir, flags)


def _outputs(raw: list) -> list:
    """The runner's outputs rebuilt as validated nbformat outputs (anything else is dropped)."""
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
