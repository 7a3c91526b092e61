"""The verifier (V): runs the graded test cells, where no student code ever runs; its verdicts
are the grades.

Started by the grader as ``python -I -m lstm_course.autograde._verifier --in-fd R --out-fd W
--result-fd F`` in a bubblewrap sandbox of its own, with the reference and the grading helpers,
and without the submission's files. It reads its job (JSON) from stdin: the notebook's code
cells with their kind, the names the student writes, the run's secret salt. Then, cell by cell:

- a non-test cell is run by the answer process (A, the student's sandbox) and its outputs are
  passed on; a locked cell of the release (the setup: imports, given helpers) also runs here,
  so the tests' ``np``, ``torch`` or helpers are never the student's;
- a graded test cell runs here, with plain ``exec``, every student name bound to a proxy to A
  (``_proxy``); it passes when it raises nothing. Inside ``### BEGIN/END HIDDEN TESTS`` the seeds
  of ``grading.random_arrays``, ``grading.random_params`` and ``torch.manual_seed`` are mixed
  with the salt, so hidden inputs differ on every run and cannot be looked up in advance.

Each cell's result goes to the grader on the result descriptor, which only V holds: one JSON line
per event (``ready``, ``start``, ``cell`` with ``passed`` for a test, ``done`` with the breaches
of the exercise's rules that A reported).

A failing test's error output keeps the error's type and message (``ename``, ``evalue``) and, as
its traceback, the lines the student's notebook shows (:func:`lstm_course.display.failure_lines`:
the test's name, the message and the likely mistake, wrapped; the student's own lines when their
code raised, as A reported them): never a frame of the grader or a path of the grading machine,
which the autograded notebook would otherwise put in the formgrader and the feedback.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import hashlib
import io
import json
import linecache
import os
import re
import signal
import sys
import time
import traceback

from lstm_course.autograde._capture import _Null, _Sink, _Stream
from lstm_course.autograde._kernel import CellTimeout, drop_root, set_limits
from lstm_course.autograde._proxy import AnswerProcessGone, Client
from lstm_course.autograde._rpc import Endpoint, PeerGone
from lstm_course.autograde._seccomp import forbid_user_namespaces
from lstm_course.display import failure_lines, test_title

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SEEDED = re.compile(r"\b(random_arrays|random_params|manual_seed)\(")
# A frame of the student's code in A's traceback (A runs the cells in an IPython shell).
_CELL_FRAME = re.compile(
    r'File "<ipython-input-(\d+)-[0-9a-f]+>", line (\d+), in ([^\n]+)\n(?: {4}([^\n]*)\n)?'
)


def _alarm(signum, frame):
    raise CellTimeout("the test ran past its time limit and was stopped by the grader")


class Reporter:
    def __init__(self, fd: int):
        self.fd = fd

    def send(self, message: dict) -> None:
        view = memoryview((json.dumps(message) + "\n").encode("utf-8", "replace"))
        while view:
            view = view[os.write(self.fd, view) :]


class Salt:
    """Hidden tests' seeds mixed with the run's secret: on while a hidden region runs."""

    def __init__(self, secret: str, seeded=None):
        self.secret = secret.encode()
        self.seeded = seeded  # told every seed given to torch (A seeds its own torch too)
        self.hidden = False
        self.forced = False  # a visible test's confirmation run: every seed salted
        self.patched: set[str] = set()

    def seed(self, seed):
        if not (self.hidden or self.forced) or not isinstance(seed, int):
            return seed
        digest = hashlib.sha256(self.secret + str(seed).encode()).digest()
        return int.from_bytes(digest[:4], "little")

    def switch(self, on: bool) -> None:
        self.hidden = on

    def patch(self) -> None:
        """Wrap the seeding functions the tests use (once each, when their module is loaded)."""
        grading = sys.modules.get("lstm_course.grading")
        if grading is not None and "grading" not in self.patched:
            self.patched.add("grading")
            for name in ("random_arrays", "random_params"):
                setattr(grading, name, self._salted(getattr(grading, name), name))
        torch = sys.modules.get("torch")
        if torch is not None and "torch" not in self.patched:
            self.patched.add("torch")
            seed_here = self._salted(torch.manual_seed, "manual_seed")

            def manual_seed(seed):
                if self.seeded is not None:
                    self.seeded(self.seed(seed))
                return seed_here(seed)

            manual_seed.__doc__ = seed_here.__doc__
            torch.manual_seed = manual_seed

    def _salted(self, fn, name):
        if name == "random_params":

            def salted(cell, D, H, seed, *args, **kwargs):
                return fn(cell, D, H, self.seed(seed), *args, **kwargs)
        else:

            def salted(seed, *args, **kwargs):
                return fn(self.seed(seed), *args, **kwargs)

        salted.__name__ = salted.__qualname__ = name
        salted.__doc__ = fn.__doc__
        return salted


def mark_hidden(source: str) -> str:
    """The test's source with its hidden markers turned into switches of the salt (same lines)."""
    lines = []
    for line in source.splitlines():
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped == HIDDEN_BEGIN:
            line = f"{indent}__grader_hidden__(True)"
        elif stripped == HIDDEN_END:
            line = f"{indent}__grader_hidden__(False)"
        lines.append(line)
    return "\n".join(lines)


def free_names(source: str) -> set[str]:
    """Names a cell reads that it does not bind itself."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    return loaded - bound


class Verifier:
    def __init__(self, job: dict, client: Client, reporter: Reporter, sink: _Sink):
        self.job, self.client, self.reporter, self.sink = job, client, reporter, sink
        self.solution_names = set(job.get("solution_names", []))
        self.timeout = float(job.get("cell_timeout", 60))
        self.salt = Salt(job.get("salt", ""), client.seed)
        self.ns: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.ns["__grader_hidden__"] = self._hidden
        self.streams = (_Stream(sink, "stdout"), _Stream(sink, "stderr"))

    def _hidden(self, on: bool) -> None:
        self.salt.switch(on)
        self.client.hidden = on or self.salt.forced

    def run(self) -> None:
        for cell in self.job["cells"]:
            self.sink.reset()
            self.reporter.send({"event": "start", "index": cell["index"]})
            if cell["kind"] == "test":
                passed = self.test(cell)
                message = {"event": "cell", "index": cell["index"], "passed": passed}
                self.reporter.send(dict(message, outputs=self.sink.outputs))
                if self.client.gone:
                    break
                continue
            try:
                reply = self.client._request(
                    {"op": "exec", "source": cell["source"], "kind": cell["kind"]}
                )
                self.client.attempts.update(str(a)[:200] for a in reply.get("attempts", [])[:20])
            except AnswerProcessGone:
                break
            outputs = reply.get("outputs") if isinstance(reply.get("outputs"), list) else []
            if cell.get("verifier"):
                self.setup(cell)
            self.reporter.send(
                {
                    "event": "cell",
                    "index": cell["index"],
                    "outputs": outputs,
                    "execution_count": reply.get("execution_count"),
                }
            )
        self.reporter.send(
            {
                "event": "done",
                "answer_gone": self.client.gone,
                "breaches": {k: sorted(v) for k, v in self.client.breaches.items()},
                "attempts": sorted(self.client.attempts)[:20],
            }
        )

    def setup(self, cell: dict) -> None:
        """A locked release cell runs here too: the tests get the release's own names."""
        sys.stdout = sys.stderr = _Null()
        try:
            source = cell["source"]
            if any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()):
                from IPython.core.inputtransformer2 import TransformerManager

                source = TransformerManager().transform_cell(source)
            signal.setitimer(signal.ITIMER_REAL, self.timeout)
            exec(compile(source, f"<setup cell {cell['index']}>", "exec"), self.ns)  # noqa: S102
        except BaseException:  # noqa: BLE001 (the same cell shows its error from A)
            pass
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr = self.streams

    def bind(self, source: str) -> None:
        """The student's names the test reads, as proxies (solution names always from A)."""
        for name in sorted(free_names(source)):
            mine = name in self.solution_names
            if not mine and (name in self.ns or hasattr(builtins, name)):
                continue
            found, value = self.client.get(name)
            if found:
                self.ns[name] = value
            elif mine:
                self.ns.pop(name, None)

    def test(self, cell: dict) -> bool:
        """Run one graded test cell; True when it raised nothing. A visible test that draws its
        inputs from seeds is then run again on salted seeds (its outputs dropped): its points
        are confirmed on inputs nobody could know in advance, not only on the ones it shows."""
        filename = f"<graded cell {cell.get('grade_id') or cell['index']}>"
        source = mark_hidden(cell["source"])
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        code = None
        try:
            self._start()
            self.bind(cell["source"])
            self.salt.patch()
            code = compile(source, filename, "exec")
            exec(code, self.ns)  # noqa: S102
        except BaseException as exc:  # noqa: BLE001 (every failure of a test is a result)
            self._failed(exc, filename, test_title(cell["source"]))
            return False
        finally:
            self._stop()
        if HIDDEN_BEGIN in cell["source"] or not SEEDED.search(cell["source"]):
            return True
        shown = list(self.sink.outputs)
        try:
            self._start(confirm=True)
            exec(code, self.ns)  # noqa: S102
            self.sink.outputs = shown
            return True
        except BaseException as exc:  # noqa: BLE001
            self.sink.outputs = shown
            message = (
                "this test passed on the inputs it shows, but not when the grader ran it again "
                f"on new inputs of the same shapes: {exc}"
            )
            lines = failure_lines(
                AssertionError(message), lambda _: None, test_title(cell["source"])
            )
            self.sink.error("AssertionError", message, lines)
            return False
        finally:
            self._stop()

    def _start(self, confirm: bool = False) -> None:
        sys.stdout, sys.stderr = self.streams
        self.salt.forced = confirm
        self._hidden(confirm)
        signal.setitimer(signal.ITIMER_REAL, self.timeout)

    def _stop(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.salt.forced = False
        self._hidden(False)
        sys.stdout, sys.stderr = self.streams

    def _failed(self, exc: BaseException, filename: str, title: str | None) -> None:
        """The error output of a failing test: its type and message as raised, and the lines
        the notebook shows as its traceback (only the test's frame is named, "the test")."""
        origin = exc
        if isinstance(exc, AssertionError) and exc.__cause__ is not None:
            origin = exc.__cause__  # grading.run: the student's code raised it
        label = lambda name: "the test" if name == filename else None  # noqa: E731
        lines = failure_lines(exc, label, title, student_frames(origin))
        self.sink.error(type(exc).__name__, str(exc), lines)


def student_frames(error: BaseException) -> list[tuple[str, traceback.FrameSummary]]:
    """The frames of the student's cells in the traceback A sent with an error (``_proxy``
    adds it as a note), labelled as the notebook labels them ("In[6]"); A's own frames and
    paths are left out. Empty in a hidden test (A's traceback is not passed on there)."""
    text = "\n".join(str(n) for n in getattr(error, "__notes__", None) or [])
    return [
        (f"In[{cell}]", traceback.FrameSummary(f"<cell {cell}>", int(line), name, line=code or ""))
        for cell, line, name, code in _CELL_FRAME.findall(text + "\n")
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-fd", type=int, required=True)
    parser.add_argument("--out-fd", type=int, required=True)
    parser.add_argument("--result-fd", type=int, required=True)
    args = parser.parse_args(argv)
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    sys.stdin.close()
    sys.stdin = io.StringIO("")
    reporter = Reporter(args.result_fd)
    t0 = time.perf_counter()
    set_limits(job.get("limits", {}))
    if job.get("uid") is not None and os.getuid() == 0:
        drop_root(int(job["uid"]))
    if job.get("sandboxed"):
        forbid_user_namespaces()
    signal.signal(signal.SIGALRM, _alarm)
    import numpy  # noqa: F401

    import lstm_course.grading  # noqa: F401 (so that the salt wraps its seeding functions)

    sink = _Sink(int(job.get("max_cell_output", 200_000)), int(job.get("max_output", 2_000_000)))
    peer = Endpoint(args.in_fd, args.out_fd)
    client = Client(peer)
    try:
        first = peer.receive(time.monotonic() + float(job.get("start_timeout", 120)))
        if first.get("kind") != "ready":
            raise PeerGone("the student's process did not start")
    except PeerGone as exc:
        reporter.send({"event": "done", "answer_gone": f"could not start ({exc})", "breaches": {}})
        os._exit(0)
    reporter.send({"event": "ready", "setup_s": round(time.perf_counter() - t0, 3)})
    Verifier(job, client, reporter, sink).run()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
