"""Read a submitted notebook file whatever state it is in.

``load_submission`` turns the bytes of a submitted file into a notebook or a reason why it is
not one (empty file, invalid JSON, not a notebook). It repairs what can be repaired and says so:
bytes that are not UTF-8, missing kernel information, cells without ids, an old format.
"""

from __future__ import annotations

import copy
import json

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

MAX_NOTEBOOK_BYTES = 50 * 2**20
NEW_CELL = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}


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


def source_text(value) -> str:
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
        source = source_text(cell.get("source", cell.get("input", "")))
        new = NEW_CELL[cell["cell_type"]](source=source)
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
