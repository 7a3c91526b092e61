"""Inside the sandbox: the outputs of the running cell, collected within a size budget.

The runner points ``sys.stdout`` and ``sys.stderr`` at a :class:`_Stream` each and IPython's
display hooks at the :class:`_Sink`, which keeps the outputs in nbformat form until the cell ends
and truncates them (once, with a note) past the budget of a cell and of the notebook. Standard
library only: imported before any student code runs.
"""

from __future__ import annotations

import io
import json


class _Sink:
    """Collects the outputs of the cell that is running, within a size budget."""

    def __init__(self, cell_budget: int, total_budget: int):
        self.cell_budget = cell_budget
        self.total_left = total_budget
        self.outputs: list[dict] = []
        self.used = 0
        self.truncated = False
        self.execution_count = 0

    def reset(self) -> None:
        self.outputs = []
        self.used = 0
        self.truncated = False

    def _take(self, n: int) -> int:
        """How many of n characters still fit; marks truncation once."""
        room = max(0, min(self.cell_budget - self.used, self.total_left))
        take = min(n, room)
        self.used += take
        self.total_left -= take
        return take

    def _note_truncated(self, name: str) -> None:
        if not self.truncated:
            self.truncated = True
            note = (
                f"\n[... output truncated by the grader: more than {self.cell_budget} characters "
                "from one cell ...]\n"
            )
            self._append_stream(name, note)

    def _append_stream(self, name: str, text: str) -> None:
        last = self.outputs[-1] if self.outputs else None
        if last and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def stream(self, name: str, text: str) -> None:
        if not text:
            return
        if self.truncated:
            if name == "stderr" and not any(
                o["output_type"] == "stream" and o["name"] == "stderr" for o in self.outputs
            ):
                self._append_stream("stderr", "[stderr output truncated]\n")
            return
        take = self._take(len(text))
        if take:
            self._append_stream(name, text[:take])
        if take < len(text):
            self._note_truncated(name)

    def _bundle(self, data: dict) -> dict:
        clean = {}
        for mime, value in (data or {}).items():
            if not isinstance(value, str):
                value = json.dumps(value) if mime.endswith("json") else str(value)
            take = self._take(len(value))
            if take < len(value):
                self._note_truncated("stdout")
                if mime != "text/plain":
                    continue
                value = value[:take]
            clean[mime] = value
        return clean

    def display(self, data: dict, metadata: dict) -> None:
        bundle = self._bundle(data)
        if bundle:
            self.outputs.append(
                {"output_type": "display_data", "data": bundle, "metadata": _jsonable(metadata)}
            )

    def execute_result(self, data: dict, metadata: dict) -> None:
        bundle = self._bundle(data)
        if bundle:
            self.outputs.append(
                {
                    "output_type": "execute_result",
                    "data": bundle,
                    "metadata": _jsonable(metadata),
                    "execution_count": self.execution_count,
                }
            )

    def error(self, ename: str, evalue: str, tb: list[str]) -> None:
        tb = [str(line)[:2000] for line in tb[:60]]
        self.outputs.append(
            {"output_type": "error", "ename": ename, "evalue": str(evalue)[:2000], "traceback": tb}
        )

    def clear(self) -> None:
        self.outputs = []


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return {}


class _Stream(io.TextIOBase):
    def __init__(self, sink: _Sink, name: str):
        self._sink = sink
        self._name = name

    def write(self, text) -> int:
        text = str(text)
        self._sink.stream(self._name, text)
        return len(text)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return "utf-8"


class _Null(io.TextIOBase):
    def write(self, text) -> int:
        return len(str(text))

    def writable(self) -> bool:
        return True
