"""Execute one notebook's code cells inside the sandbox and stream the outputs to the grader.

Started by the grader as ``python -I -m lstm_course.autograde._runner --result-fd N`` inside
bubblewrap. It reads a job (JSON) from stdin before any student code runs: the code cells of the
restored notebook, each with its kind (``student``, ``release`` or ``test``), the time limit per
cell and the resource limits. It then sets the limits, drops root (when started as root), and runs
the cells in order in one IPython shell, as a Jupyter kernel would. After every cell it writes one
JSON line with the cell's outputs in nbformat form (``_capture``) to the result descriptor, so
what finished before a crash or a timeout still counts.

Graded test cells are not run through IPython: before each one the guard (``_guard``) checks the
protected modules and puts back anything the student replaced, and the test runs with a plain
``exec``; a change made while the test ran makes that test fail with a ``GradingIntegrityError``.

Before the student's code, the runner imports only the standard library, IPython, NumPy and
the protected modules (``policy``) that the notebook's own import statements name, so that
their clean state is what the guard remembers.

With ``"mode": "oracle"`` in the job it runs the outside check's side instead (``_recompute``).
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import linecache
import os
import resource
import signal
import sys
import threading
import time
import traceback

from lstm_course.autograde import policy
from lstm_course.autograde._capture import _Sink, _Stream
from lstm_course.autograde._guard import _Guard

_write = os.write  # kept before any student code runs


class CellTimeout(BaseException):  # noqa: N818 (a BaseException, like KeyboardInterrupt)
    """Raised inside a cell that ran past its time limit."""


class _Reporter:
    def __init__(self, fd: int, nonce: str):
        self.fd = fd
        self._nonce = nonce  # messages without it are not the runner's
        self._pid = os.getpid()

    def send(self, message: dict) -> None:
        if os.getpid() != self._pid:  # a forked child of the notebook: never report, just go
            os._exit(0)
        message["nonce"] = self._nonce
        data = (json.dumps(message) + "\n").encode("utf-8", "replace")
        view = memoryview(data)
        while view:
            n = _write(self.fd, view)
            view = view[n:]


def _set_limits(limits: dict) -> None:
    names = {
        "cpu": resource.RLIMIT_CPU,
        "as": resource.RLIMIT_AS,
        "nproc": resource.RLIMIT_NPROC,
        "fsize": resource.RLIMIT_FSIZE,
        "nofile": resource.RLIMIT_NOFILE,
        "core": resource.RLIMIT_CORE,
    }
    for key, value in limits.items():
        if value is None:
            continue
        value = int(value)
        if key == "cpu":  # SIGXCPU at the soft limit, SIGKILL at the hard one
            resource.setrlimit(names[key], (value, value + 5))
        else:
            resource.setrlimit(names[key], (value, value))


def _drop_root(uid: int) -> None:
    """Become an unprivileged user (used when the grader runs as root)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_no_new_privs = 38
    libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise RuntimeError("could not drop root")


def _imported_modules(sources: list[str]) -> set[str]:
    """Every module the notebook's cells import (by their import statements)."""
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _preimport(roots: list[str], modules: set[str]) -> None:
    """Import the protected modules the notebook uses before any of its code runs."""
    import math  # noqa: F401

    import numpy  # noqa: F401

    for name in sorted(modules):
        root = name.split(".")[0]
        if root not in roots or name.startswith(policy.GRADER_PACKAGE):
            continue
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 (not a module, or broken: the notebook will say)
            pass


def _make_shell(sink: _Sink):
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class Hook(DisplayHook):
        def start_displayhook(self):
            pass

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            sink.execute_result(format_dict, md_dict or {})

        def finish_displayhook(self):
            pass

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kw):
            sink.display(data, metadata or {})

        def clear_output(self, wait=False):
            sink.clear()

    class Shell(InteractiveShell):
        displayhook_class = Hook
        display_pub_class = Publisher

        def _showtraceback(self, etype, evalue, stb):
            sink.error(etype.__name__, str(evalue), list(stb))

        def init_io(self):  # keep our sys.stdout / sys.stderr
            pass

        def enable_gui(self, gui=None):  # %matplotlib inline needs no event loop
            pass

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Context"
    shell = Shell.instance(config=config)
    return shell


def _run_test(source: str, ns: dict, filename: str, sink: _Sink) -> None:
    """Run one graded test cell with plain exec; errors become an error output."""
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    try:
        tree = ast.parse(source, filename)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, filename, "exec"), ns)  # noqa: S102
        if last is not None:
            value = eval(compile(last, filename, "eval"), ns)  # noqa: S307
            if value is not None:
                sink.execute_result({"text/plain": repr(value)}, {})
    except BaseException as exc:  # noqa: BLE001 (every failure of a test is a result)
        if isinstance(exc, SystemExit | KeyboardInterrupt) and not isinstance(exc, CellTimeout):
            pass
        tb = exc.__traceback__
        if tb is not None and tb.tb_frame.f_code is _run_test.__code__:
            tb = tb.tb_next
        text = traceback.format_exception(type(exc), exc, tb)
        sink.error(type(exc).__name__, str(exc), [line.rstrip("\n") for line in text])


def _alarm(signum, frame):
    raise CellTimeout("the cell ran past its time limit and was stopped by the grader")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--result-fd", type=int, required=True)
    args = parser.parse_args(argv)
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    reporter = _Reporter(args.result_fd, job.pop("nonce", ""))
    sys.stdin.close()
    sys.stdin = io.StringIO("")
    os.close(0)
    os.open(os.devnull, os.O_RDONLY)

    t0 = time.perf_counter()
    _set_limits(job.get("limits", {}))
    if job.get("uid") is not None and os.getuid() == 0:
        _drop_root(int(job["uid"]))
    if job.get("copy_from"):  # into the sandbox's size-limited home, as the student's own files
        import shutil

        shutil.copytree(job["copy_from"], job["workdir"], symlinks=True, dirs_exist_ok=True)
        os.chdir(job["workdir"])
    roots = list(job.get("protect", policy.PROTECTED_ROOTS))
    cells = job["cells"]
    modules = _imported_modules([c["source"] for c in cells])
    if any(policy.needs_torch(m) for m in modules):
        roots.append("torch")
        modules.add("torch")
    if job.get("mode") == "oracle":  # imported now, so that the trap wraps its functions
        modules.add(policy.NUMPY_REFERENCE)
    _preimport(roots, modules)
    if job.get("mode") == "oracle":
        from lstm_course.autograde import _recompute

        signal.signal(signal.SIGALRM, _alarm)
        _recompute.run(job, reporter)

    try:
        shell, ns, guard, stdout, stderr, sink = _setup(job, roots)
    except BaseException:  # noqa: BLE001 (the grader reads it from stderr)
        os.write(2, traceback.format_exc().encode("utf-8", "replace"))
        raise
    solution_names = set(job.get("solution_names", []))
    cell_timeout = float(job.get("cell_timeout", 60))
    reporter.send({"event": "ready", "setup_s": round(time.perf_counter() - t0, 3)})
    _run_cells(
        job, cells, reporter, shell, ns, guard, stdout, stderr, sink, solution_names, cell_timeout
    )


def _setup(job: dict, roots: list[str]):
    sink = _Sink(int(job.get("max_cell_output", 200_000)), int(job.get("max_output", 2_000_000)))
    stdout, stderr = _Stream(sink, "stdout"), _Stream(sink, "stderr")
    sys.stdout, sys.stderr = stdout, stderr
    sys.path.insert(0, os.getcwd())
    shell = _make_shell(sink)
    ns = shell.user_ns
    guard = _Guard(roots)
    guard.take()
    return shell, ns, guard, stdout, stderr, sink


def _run_cells(
    job, cells, reporter, shell, ns, guard, stdout, stderr, sink, solution_names, cell_timeout
):
    for cell in cells:
        index, kind, source = cell["index"], cell["kind"], cell["source"]
        sink.reset()
        sink.execution_count += 1
        shell.execution_count = sink.execution_count
        sys.stdout, sys.stderr = stdout, stderr
        tamper: list[str] = []
        reporter.send({"event": "start", "index": index})
        signal.signal(signal.SIGALRM, _alarm)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            if kind == "test":
                guard.take()
                tamper = guard.check_and_restore(ns)
                if threading.active_count() > 1:
                    tamper.append(
                        f"{threading.active_count() - 1} background thread(s) started by the "
                        "notebook were running when this test started"
                    )
                signal.setitimer(signal.ITIMER_REAL, cell_timeout)
                _run_test(source, ns, f"<graded cell {cell.get('grade_id', index)}>", sink)
                signal.setitimer(signal.ITIMER_REAL, 0)
                sys.stdout, sys.stderr = stdout, stderr
                during = guard.check_and_restore(ns)
                if during:
                    sink.outputs = [o for o in sink.outputs if o["output_type"] == "stream"]
                    sink.error(
                        "GradingIntegrityError",
                        "while this test ran, " + "; ".join(during[:5]),
                        [
                            "GradingIntegrityError: the code called by this test changed the "
                            "grading environment (" + "; ".join(during[:5]) + "). The result of "
                            "this test is not trusted and it scores zero."
                        ],
                    )
                    tamper += ["during the test: " + d for d in during]
            else:
                signal.setitimer(signal.ITIMER_REAL, cell_timeout)
                shell.run_cell(source, store_history=False, silent=False)
                signal.setitimer(signal.ITIMER_REAL, 0)
                if kind == "release":
                    guard.take()
                    guard.remember_names(ns, solution_names)
        except CellTimeout as exc:
            sink.error("CellTimeout", str(exc), [f"CellTimeout: {exc}"])
        except BaseException as exc:  # noqa: BLE001
            sink.error(type(exc).__name__, str(exc), traceback.format_exception_only(exc))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdout, sys.stderr = stdout, stderr
        reporter.send(
            {
                "event": "cell",
                "index": index,
                "outputs": sink.outputs,
                "execution_count": sink.execution_count,
                "tamper": tamper,
            }
        )
    reporter.send({"event": "done", "total_s": 0})
    sys.stdout.flush()
    os._exit(0)  # skip atexit handlers the student may have registered


if __name__ == "__main__":
    sys.exit(main())
