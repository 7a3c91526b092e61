"""Read a submitted notebook whatever state it is in, and restore its graded cells.

``load_submission`` turns the bytes of a submitted file into a notebook or a reason why it is
not one (empty file, invalid JSON, not a notebook). It repairs what can be repaired and says so:
bytes that are not UTF-8, missing kernel information, cells without ids, an old format.

``restore`` rebuilds the notebook to be graded from the release notebook and the gradebook: the
graded test cells, locked cells and task cells come from the gradebook (hidden tests included),
in the release's order, whatever the student deleted, edited, reordered, duplicated or relabelled;
the student's answers (solution cells) and any cells they added keep their place after the
release cell they followed. Nothing is taken from the student's metadata.
"""

from __future__ import annotations

import ast
import copy
import json
import uuid
from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

MAX_NOTEBOOK_BYTES = 50 * 2**20

# lstm_ref modules a student may use in an answer; anything else there is the reference itself.
ALLOWED_LSTM_REF = ("lstm_ref.data", "lstm_ref.params", "lstm_ref.specs", "lstm_ref._checks")


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
    flags: list[str] = field(default_factory=list)  # for the instructor's review


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


# -- loading ------------------------------------------------------------------------------
def load_submission(data: bytes) -> tuple[NotebookNode | None, list[str], str | None]:
    """Return (notebook, notes, fatal reason); the notebook is None when fatal is set."""
    notes: list[str] = []
    if len(data) > MAX_NOTEBOOK_BYTES:
        return None, notes, f"the notebook file is larger than {MAX_NOTEBOOK_BYTES >> 20} MB"
    if not data.strip():
        return None, notes, "the notebook file is empty"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", "replace")
        notes.append(
            f"the notebook file is not valid UTF-8 (first bad byte at offset {exc.start}); "
            "the bad bytes were replaced by \ufffd and the notebook was graded"
        )
    try:
        raw = json.loads(text)
    except ValueError as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if hasattr(exc, "lineno") else ""
        msg = getattr(exc, "msg", str(exc))
        return None, notes, f"the notebook file is not valid JSON: {msg}{where}"
    if not isinstance(raw, dict):
        return None, notes, "the notebook file is JSON but not a notebook (no 'cells')"
    nb = None
    if raw.get("nbformat") in (3, 4) and "cells" in raw or "worksheets" in raw:
        try:
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
        except Exception:  # noqa: BLE001 (any schema problem: rebuild below)
            nb = None
    if nb is None:
        nb = _rebuild(raw, notes)
        if nb is None:
            return None, notes, "the notebook file is JSON but not a notebook (no list of cells)"
    if not nb.metadata.get("kernelspec"):
        notes.append("the notebook had no kernel information; the course's Python kernel was used")
    return nb, notes, None


def _source_text(value) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def _rebuild(raw: dict, notes: list[str]) -> NotebookNode | None:
    """Keep what can be read from a notebook that does not match the format."""
    cells = raw.get("cells")
    if cells is None and isinstance(raw.get("worksheets"), list) and raw["worksheets"]:
        cells = (
            raw["worksheets"][0].get("cells") if isinstance(raw["worksheets"][0], dict) else None
        )
    if not isinstance(cells, list):
        return None
    nb = new_notebook()
    meta = raw.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("kernelspec"), dict):
        nb.metadata["kernelspec"] = meta["kernelspec"]
    dropped = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            dropped += 1
            continue
        source = _source_text(cell.get("source", cell.get("input", "")))
        maker = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}
        new = maker[cell["cell_type"]](source=source)
        meta = cell.get("metadata")
        if isinstance(meta, dict) and isinstance(meta.get("nbgrader"), dict):
            new.metadata["nbgrader"] = copy.deepcopy(meta["nbgrader"])
        if isinstance(cell.get("id"), str):
            new["id"] = cell["id"]
        nb.cells.append(new)
    notes.append(
        "the notebook did not follow the notebook format; its cells were read as well as possible"
        + (f" ({dropped} unreadable cell(s) dropped)" if dropped else "")
    )
    return nb


# -- restoring ----------------------------------------------------------------------------
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
    maker = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}
    new = maker[cell_type](source=cell.source)
    new.metadata = copy.deepcopy(cell.metadata)
    if "id" in cell:
        new["id"] = cell["id"]
    return new


def _answer(student: NotebookNode, rcell: NotebookNode, template: Template) -> NotebookNode:
    """The student's answer in a solution cell, with the release's type and metadata."""
    cell = _canonical(rcell, template)
    cell.source = _source_text(student.get("source", ""))
    return cell


def _plain(cell: NotebookNode) -> NotebookNode:
    """A student cell as an ordinary, ungraded cell."""
    maker = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}
    cell_type = cell.get("cell_type") if cell.get("cell_type") in maker else "raw"
    return maker[cell_type](source=_source_text(cell.get("source", "")))


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
        attached.setdefault(last, []).append(_plain(cell))

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
                    emit(_answer(scell, rcell, template), "student")
                elif meta.get("grade"):  # a manually graded answer must exist to be graded
                    emit(_canonical(rcell, template), "release")
                    missing.append(gid)
            else:
                canon = _canonical(rcell, template)
                kind = "test" if meta.get("grade") and canon.cell_type == "code" else "release"
                if scell is None:
                    missing.append(gid)
                elif _source_text(scell.get("source", "")) != rcell.source or _nbg(scell) != meta:
                    edited.append(gid)
                emit(canon, kind)
        else:
            if scell is not None:
                emit(_plain(scell) if scell.get("cell_type") else copy.deepcopy(rcell), "student")
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
        "**Grader's note:** this notebook was not run, so every test scores zero: " + reason + "."
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


# -- using the reference instead of implementing -----------------------------------------
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
                if alias.name.startswith("lstm_ref") and not alias.name.startswith(
                    ALLOWED_LSTM_REF
                ):
                    found.append(f"imports {alias.name}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lstm_ref"):
            module = node.module or ""
            if not module.startswith(ALLOWED_LSTM_REF) and not (
                module == "lstm_ref"
                and all(a.name in ("data", "params", "specs") for a in node.names)
            ):
                found.append(f"imports from {module}")
        elif isinstance(node, ast.Attribute) and node.attr in ("np_ref", "torch_ref", "grading"):
            found.append(f"uses .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "np_ref" in node.value or "torch_ref" in node.value or "lstm_ref" in node.value:
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
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lstm_ref"):
            if not (node.module or "").startswith(ALLOWED_LSTM_REF):
                names |= {a.asname or a.name for a in node.names}
    return names
