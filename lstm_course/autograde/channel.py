"""The verifier's result channel: its messages read under a watchdog, and how a run ended.

The verifier (V) writes one JSON line per event (``ready``, ``start``, ``cell``, ``done``) to a
pipe only it holds: the answer process (A), where the student's code runs, has no way to it. A
line that is not one of V's messages is counted (a bug of the grader, never believed). The
watchdog stops both processes when a cell runs past its limit and does not stop when
interrupted, when the notebook runs past its limit, or when V reports more than the grader
accepts.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass, field


@dataclass
class RunResult:
    """What came back from one sandboxed run."""

    cells: dict[int, dict] = field(default_factory=dict)  # index -> {"outputs", "passed"?}
    breaches: dict[str, list[str]] = field(default_factory=dict)  # answer -> rules it broke
    answer_gone: str | None = None  # why the answer process stopped before the end
    attempts: list[str] = field(default_factory=list)  # forbidden imports A reported
    ready: bool = False
    done: bool = False
    started: int | None = None  # the cell running when the run ended, if it did not finish
    failure: str | None = None  # why the run ended early, in words
    stderr_tail: str = ""  # of A
    verifier_stderr: str = ""
    garbage: int = 0  # lines on the result channel that were not V's messages
    wall_s: float = 0.0


def watch(procs: list[subprocess.Popen], rfd: int, result: RunResult, t0: float, limits) -> None:
    """Read V's messages into ``result`` until it ends or a limit is reached; then stop both
    processes, whatever they are doing."""
    buffer = b""
    total = 0
    cap = 8 * limits.max_output + 16 * 2**20
    cell_started = time.monotonic()
    grace = max(2.0, 0.25 * limits.cell_timeout)
    try:
        while True:
            now = time.monotonic()
            cell_deadline = cell_started + limits.cell_timeout + grace
            deadline = min(t0 + limits.notebook_timeout, cell_deadline)
            if now >= deadline:
                if now >= t0 + limits.notebook_timeout:
                    result.failure = (
                        f"the notebook ran past the grader's limit of "
                        f"{limits.notebook_timeout:g} s and was stopped"
                    )
                else:
                    result.failure = (
                        f"a cell ran past the limit of {limits.cell_timeout:g} s and did not "
                        "stop when interrupted; the notebook was stopped"
                    )
                break
            ready, _, _ = select.select([rfd], [], [], min(1.0, deadline - now))
            if not ready:
                continue
            chunk = os.read(rfd, 1 << 16)
            if not chunk:  # V closed the channel: let it exit on its own
                try:
                    procs[-1].wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
                break
            total += len(chunk)
            if total > cap:
                result.failure = "the notebook produced more output than the grader accepts"
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if _message(line, result):
                    cell_started = time.monotonic()
    finally:
        for proc in procs:
            _kill(proc)
        os.close(rfd)


def _message(line: bytes, result: RunResult) -> bool:
    """Record one message; return True when a new cell started."""
    try:
        msg = json.loads(line)
        event = msg["event"]
    except (ValueError, KeyError, TypeError, AttributeError):
        result.garbage += 1
        return False
    if event == "ready":
        result.ready = True
    elif event == "start" and isinstance(msg.get("index"), int):
        result.started = msg["index"]
        return True
    elif event == "cell" and isinstance(msg.get("index"), int):
        result.cells[msg["index"]] = msg
        result.started = None
    elif event == "done":
        result.done = True
        result.answer_gone = msg.get("answer_gone") or None
        breaches = msg.get("breaches")
        result.breaches = breaches if isinstance(breaches, dict) else {}
        attempts = msg.get("attempts")
        result.attempts = [str(a) for a in attempts] if isinstance(attempts, list) else []
    else:
        result.garbage += 1
    return False


def explain_end(result: RunResult, code: int | None, verifier_code: int | None = 0) -> None:
    """Say in ``result.failure`` how a run that did not finish ended (A's exit status or signal;
    V's, if V itself failed)."""
    if not result.done and result.failure is None and not result.ready:
        result.failure = "the grader's verifier could not start: " + (
            result.verifier_stderr.strip()[-300:] or f"exit status {verifier_code}"
        )
        return
    if not result.done and result.failure is None:
        result.failure = "the grader's verifier stopped: " + (
            result.verifier_stderr.strip()[-300:] or f"exit status {verifier_code}"
        )
        return
    if result.answer_gone and result.failure is None and " sent " in result.answer_gone:
        result.failure = (
            "the notebook's process stopped answering: it wrote to the grader's channel "
            "(the tests after that point could not run)"
        )
        return
    if result.answer_gone and result.failure is None:
        how = (
            f"was killed by signal {signal.Signals(-code).name}"
            if code is not None and code < 0
            else f"exited with status {code}"
        )
        if not result.ready:
            result.failure = f"the notebook could not be started: the runner {how}"
        else:
            result.failure = f"the kernel died: the notebook's process {how}"
        hint = _crash_hint(result.stderr_tail, code)
        if hint:
            result.failure += f" ({hint})"


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


def _crash_hint(stderr: str, code: int | None) -> str:
    text = stderr.lower()
    if "memoryerror" in text or "cannot allocate" in text or "out of memory" in text:
        return "it ran out of memory; the limit is the --memory option"
    if code == -signal.SIGXCPU or code == -signal.SIGKILL and "cpu" in text:
        return "it used up its CPU time"
    if code == -signal.SIGXFSZ:
        return "it wrote a file larger than the limit"
    if code == -signal.SIGKILL:
        return "killed: out of memory, CPU time, or stopped by the grader"
    if code is not None and code >= 0:
        return "the notebook called exit or os._exit, or crashed"
    return ""
