"""The pipeline's second stage: the notebook to grade, from the submission and the release.

``restore_submission`` finds the notebook in the submitted folder (under its own name, or the only
notebook there), reads it (``load``) and rebuilds it with ``restore``: the graded test cells,
locked cells and task cells come from the gradebook (hidden tests included), in the release's
order, whatever the student deleted, edited, reordered, duplicated or relabelled; the student's
answers (solution cells) and any cells they added keep their place after the release cell they
followed. Nothing is taken from the student's metadata; a markdown cell keeps its attachments
(pasted images) when they are real PNG, JPEG or GIF images (``sanitize.clean_attachments``), since
nbconvert cannot render a cell whose image is missing. A notebook that cannot run becomes the
release with every test failed and the reason (``unrun_notebook``).
"""

from __future__ import annotations

import ast
import copy
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell, new_notebook

from lstm_course.autograde.load import NEW_CELL, load_submission, source_text
from lstm_course.autograde.sanitize import clean_attachments, markdown_text


@dataclass
class Template:
    """What one notebook of an assignment must look like, from the release and the gradebook."""

    assignment: str
    notebook: str
    release: NotebookNode
    source_cells: dict[str, dict]  # grade_id -> cell_type, source, checksum, locked
    points: dict[str, float]  # grade_id -> max score of each graded cell
    kernelspec: dict | None = None

    def solution_signatures(self) -> dict[str, list[str]]:
        """The functions the solution stubs define, with their parameter names."""
        out: dict[str, list[str]] = {}
        for cell in self.release.cells:
            meta = _nbg(cell)
            if cell.cell_type == "code" and meta and meta.get("solution"):
                try:
                    tree = ast.parse(cell.source)
                except SyntaxError:
                    continue
                for node in tree.body:
                    if isinstance(node, ast.FunctionDef):
                        args = node.args
                        out[node.name] = [a.arg for a in args.posonlyargs + args.args]
                        out[node.name] += [a.arg for a in args.kwonlyargs]
        return out

    def solution_names(self) -> list[str]:
        """Names the solution stubs define (the functions the student writes)."""
        names: set[str] = set()
        for cell in self.release.cells:
            meta = _nbg(cell)
            if cell.cell_type == "code" and meta and meta.get("solution"):
                names |= defined_names(cell.source)
        return sorted(names)


@dataclass
class Restored:
    notebook: NotebookNode
    kinds: list[str]  # per cell: "test", "release", "student" or "markdown"
    notes: list[str] = field(default_factory=list)  # repairs, shown in the feedback
    failure: str | None = None  # why the notebook cannot run (then every test fails)


def _nbg(cell) -> dict | None:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    value = meta.get("nbgrader") if isinstance(meta, dict) else None
    return value if isinstance(value, dict) else None


def defined_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _canonical(rcell: NotebookNode, template: Template) -> NotebookNode:
    """The release cell with the gradebook's source (hidden tests included) and checksum."""
    cell = copy.deepcopy(rcell)
    meta = _nbg(cell)
    gid = meta.get("grade_id") if meta else None
    info = template.source_cells.get(gid) if gid else None
    if info is not None:
        if info["cell_type"] != cell.cell_type:
            cell = _retype(cell, info["cell_type"])
        cell.source = info["source"]
        cell.metadata["nbgrader"]["checksum"] = info["checksum"]
    if gid in template.points:
        cell.metadata["nbgrader"]["points"] = template.points[gid]
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    return cell


def _retype(cell: NotebookNode, cell_type: str) -> NotebookNode:
    new = NEW_CELL[cell_type](source=cell.source)
    new.metadata = copy.deepcopy(cell.metadata)
    if "id" in cell:
        new["id"] = cell["id"]
    return new


def _answer(
    student: NotebookNode, rcell: NotebookNode, template: Template, notes: list[str]
) -> NotebookNode:
    """The student's answer in a solution cell, with the release's type and metadata."""
    cell = _canonical(rcell, template)
    cell.source = source_text(student.get("source", ""))
    return _keep_attachments(student, cell, notes)


def _plain(cell: NotebookNode, notes: list[str]) -> NotebookNode:
    """A student cell as an ordinary, ungraded cell."""
    cell_type = cell.get("cell_type") if cell.get("cell_type") in NEW_CELL else "raw"
    new = NEW_CELL[cell_type](source=source_text(cell.get("source", "")))
    return _keep_attachments(cell, new, notes)


def _keep_attachments(student: NotebookNode, cell: NotebookNode, notes: list[str]):
    """The student's valid pasted images on a markdown cell; a note for each one dropped."""
    if cell.cell_type == "markdown" and isinstance(student, dict) and "attachments" in student:
        kept, dropped = clean_attachments(student["attachments"])
        notes += dropped
        if kept:
            cell["attachments"] = kept
    return cell


def restore(student_nb: NotebookNode, template: Template) -> Restored:
    """Rebuild the notebook to grade: release structure, gradebook tests, student answers."""
    release = template.release
    notes: list[str] = []
    anchors: dict[str, NotebookNode] = {}
    plain_ids: dict[str, NotebookNode] = {}
    for rcell in release.cells:
        meta = _nbg(rcell)
        if meta and meta.get("grade_id"):
            anchors[meta["grade_id"]] = rcell
        elif rcell.get("id"):
            plain_ids[rcell["id"]] = rcell
    anchor_by_cell_id = {c["id"]: gid for gid, c in anchors.items() if c.get("id")}

    matched: dict[str, NotebookNode] = {}
    attached: dict[str | None, list[NotebookNode]] = {}
    last: str | None = None
    edited, duplicated, relabelled = [], [], []
    for cell in student_nb.cells:
        meta = _nbg(cell)
        gid = meta.get("grade_id") if meta else None
        gid = gid if isinstance(gid, str) else None
        key = None
        if gid in anchors:
            if gid in matched:
                duplicated.append(gid)
            else:
                key = gid
        elif cell.get("id") in anchor_by_cell_id and anchor_by_cell_id[cell["id"]] not in matched:
            key = anchor_by_cell_id[cell["id"]]
            relabelled.append(key)
        elif cell.get("id") in plain_ids and ("plain:" + cell["id"]) not in matched:
            key = "plain:" + cell["id"]
        elif gid is not None:
            relabelled.append(gid)
        if key is not None:
            matched[key] = cell
            last = key
            continue
        attached.setdefault(last, []).append(_plain(cell, notes))

    cells: list[NotebookNode] = []
    kinds: list[str] = []

    def emit(cell: NotebookNode, kind: str) -> None:
        cells.append(cell)
        kinds.append(kind if cell.cell_type == "code" else "markdown")

    for cell in attached.get(None, []):
        emit(cell, "student")
    missing = []
    for rcell in release.cells:
        meta = _nbg(rcell)
        gid = meta.get("grade_id") if meta else None
        key = gid if gid else ("plain:" + rcell["id"] if rcell.get("id") else None)
        scell = matched.get(key) if key else None
        if gid:
            if meta.get("solution"):
                if scell is not None:
                    emit(_answer(scell, rcell, template, notes), "student")
                elif meta.get("grade"):  # a manually graded answer must exist to be graded
                    emit(_canonical(rcell, template), "release")
                    missing.append(gid)
            else:
                canon = _canonical(rcell, template)
                kind = "test" if meta.get("grade") and canon.cell_type == "code" else "release"
                if scell is None:
                    missing.append(gid)
                elif source_text(scell.get("source", "")) != rcell.source or _nbg(scell) != meta:
                    edited.append(gid)
                emit(canon, kind)
        else:
            if scell is not None:
                emit(
                    _plain(scell, notes) if scell.get("cell_type") else copy.deepcopy(rcell),
                    "student",
                )
                cells[-1]["id"] = rcell["id"]
            else:
                emit(copy.deepcopy(rcell), "release")
        if key is not None:
            for cell in attached.get(key, []):
                emit(cell, "student")

    if missing:
        notes.append(
            "graded cells missing from the submission were put back: " + ", ".join(missing)
        )
    if edited:
        notes.append(
            "graded or read-only cells that had been changed were restored: "
            + ", ".join(sorted(set(edited)))
        )
    if duplicated:
        notes.append(
            "duplicated graded cells were graded once; the copies ran as ordinary cells: "
            + ", ".join(sorted(set(duplicated)))
        )
    if relabelled:
        notes.append(
            "cells whose nbgrader metadata had been edited were matched to the release: "
            + ", ".join(sorted(set(relabelled)))
        )

    nb = new_notebook()
    nb.metadata = copy.deepcopy(release.metadata)
    if template.kernelspec:
        nb.metadata["kernelspec"] = template.kernelspec
    seen: set[str] = set()
    for cell in cells:
        cid = cell.get("id")
        if not isinstance(cid, str) or cid in seen or not cid:
            cell["id"] = uuid.uuid4().hex[:8]
        seen.add(cell["id"])
    nb.cells = cells
    return Restored(nb, kinds, notes)


def unrun_notebook(template: Template, reason: str) -> Restored:
    """The release notebook with the gradebook's tests, for a submission that cannot run."""
    restored = restore(new_notebook(), template)
    restored.notes = []
    note = new_markdown_cell(
        "**Grader's note:** this notebook was not run, so every test scores zero: "
        + markdown_text(reason)
        + "."
    )
    note["id"] = "grader-note"
    for cell, kind in zip(restored.notebook.cells, restored.kinds, strict=True):
        if kind == "test":  # a test cell without an error output would score full points
            cell.outputs = [
                nbformat.v4.new_output(
                    "error",
                    ename="GraderError",
                    evalue=f"not run: {reason}",
                    traceback=[f"GraderError: not run: {reason}"],
                )
            ]
    restored.notebook.cells.insert(0, note)
    restored.kinds.insert(0, "markdown")
    return restored


# -- the stage: from the submitted folder to the notebook to run ----------------------------
def stray_notebooks(scratch: Path, expected: set[str]) -> list[str]:
    """Notebooks in the submitted folder that are not the assignment's, by relative path."""
    present = sorted(p.name for p in scratch.glob("*.ipynb") if p.is_file())
    strays = [p for p in present if p not in expected]
    if not strays and not any((scratch / n).is_file() for n in expected):
        # a notebook saved one folder too deep, or under another name there
        strays = sorted(
            str(p.relative_to(scratch))
            for p in scratch.rglob("*.ipynb")
            if ".ipynb_checkpoints" not in p.parts and p.is_file()
        )
    return strays


def restore_submission(
    scratch: Path, template: Template, strays: list[str], only_notebook: bool
) -> Restored:
    """The notebook to grade from the submitted folder ``scratch``, or, when it cannot run, the
    release with every test failed and ``failure`` set. only_notebook: the assignment has this
    notebook alone, so a single notebook under another name is taken for it."""
    notes: list[str] = []
    path = scratch / f"{template.notebook}.ipynb"
    if not path.is_file():
        if len(strays) == 1 and only_notebook:
            notes.append(
                f"the notebook was submitted as {strays[0]} instead of "
                f"{template.notebook}.ipynb; it was graded under the right name"
            )
            path = scratch / strays[0]
        else:
            found = ", ".join(strays) if strays else "none"
            reason = (
                f"the notebook {template.notebook}.ipynb was not submitted "
                f"(notebooks found: {found})"
            )
            return _unrunnable(template, reason, notes)
    nb, load_notes, fatal = load_submission(path.read_bytes())
    notes += load_notes
    if fatal:
        return _unrunnable(template, fatal, notes)
    # the student's code sees its own files, not the submitted notebook
    path.unlink()
    restored = restore(nb, template)
    restored.notes = notes + restored.notes
    return restored


def _unrunnable(template: Template, reason: str, notes: list[str]) -> Restored:
    restored = unrun_notebook(template, reason)
    restored.notes, restored.failure = notes, reason
    return restored
