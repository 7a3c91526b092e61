"""Execute one notebook's code cells inside the sandbox and stream the outputs to the grader.

Started by the grader as ``python -I -m lstm_course.autograde._runner --result-fd N`` inside
bubblewrap. It reads a job (JSON) from stdin before any student code runs: the code cells of the
restored notebook, each with its kind (``student``, ``release`` or ``test``), the time limit per
cell and the resource limits. It then sets the limits, drops root (when started as root), and runs
the cells in order in one IPython shell, as a Jupyter kernel would. After every cell it writes one
JSON line with the cell's outputs in nbformat form to the result descriptor, so what finished
before a crash or a timeout still counts.

Graded test cells are not run through IPython: before each one the runner checks that NumPy,
``lstm_ref`` (grading helpers included), ``math`` and ``builtins`` are exactly as they were imported,
puts back anything the student replaced (a reason is reported), and runs the test with a plain
``exec``; a change made while the test ran makes that test fail with a ``GradingIntegrityError``.
This makes the common forgeries fail; it cannot stop code that attacks this runner itself, which
is why the grader also recomputes the student's functions in a fresh sandbox (the oracle).

Before the student's code, the runner imports only the standard library, IPython, NumPy and
the ``lstm_ref`` modules (and PyTorch) that the notebook's own import statements name, so that
their clean state is what the guard remembers.

With ``"mode": "oracle"`` in the job it runs the notebook's non-test cells only, then calls the
answer functions on the grader's inputs and sends back their results as ``.npy`` arrays (see
``lstm_course.autograde.oracle``).
"""

from __future__ import annotations

import argparse
import ast
import builtins
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
import types

_write = os.write  # kept before any student code runs


class CellTimeout(BaseException):  # noqa: N818 (a BaseException, like KeyboardInterrupt)
    """Raised inside a cell that ran past its time limit."""


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


class _Guard:
    """Snapshots of the protected modules, checked and restored around graded test cells."""

    SKIP_KEYS = {"__warningregistry__", "_", "__", "___"}
    # PyTorch changes its own modules as it runs (lazy initialisation, caches, hooks), so only
    # what a test compares with is watched there.
    NARROW = {
        "torch": {"allclose", "isclose", "equal", "eq", "abs", "max", "all", "any", "sum",
                  "tensor", "as_tensor", "from_numpy", "testing", "Tensor", "nn"},
        "torch.testing": {"assert_close", "assert_allclose"},
        "torch.nn.functional": {"mse_loss", "l1_loss"},
    }  # fmt: skip
    NARROW_CLASSES = {"Tensor": {"allclose", "equal", "__eq__", "abs", "max", "all", "any",
                                 "sum", "item", "numpy", "tolist", "detach"}}  # fmt: skip

    def __init__(self, roots: list[str]):
        self.roots = tuple(roots)
        self.modules: dict[str, tuple] = {}
        self.names: dict[str, object] = {}

    def _protected(self, name: str) -> bool:
        return any(name == r or name.startswith(r + ".") for r in self.roots)

    def take(self) -> None:
        """Record every protected module not yet recorded (as first imported)."""
        for name, mod in list(sys.modules.items()):
            if name in self.modules or not isinstance(mod, types.ModuleType):
                continue
            if not self._protected(name):
                continue
            namespace = dict(vars(mod))
            narrow = name == "torch" or name.startswith("torch.")
            if narrow:
                if name not in self.NARROW:
                    continue
                namespace = {k: v for k, v in namespace.items() if k in self.NARROW[name]}
            codes = {}
            classes = {}
            for key, value in namespace.items():
                func = value if isinstance(value, types.FunctionType) else None
                impl = None
                if func is None and not isinstance(value, types.ModuleType):
                    try:  # NumPy's dispatchers keep their Python function here
                        impl = getattr(value, "_implementation", None)
                    except Exception:  # noqa: BLE001 (objects with odd __getattr__, e.g. torch)
                        impl = None
                for f in (func, impl):
                    if isinstance(f, types.FunctionType):
                        codes[id(f)] = (f, f.__code__, f.__defaults__, f.__kwdefaults__)
                if (
                    isinstance(value, type)
                    and getattr(value, "__module__", None) == name
                    and not (value.__flags__ & (1 << 8))  # Py_TPFLAGS_IMMUTABLETYPE
                    and key not in self.SKIP_KEYS
                ):
                    try:
                        cdict = dict(vars(value))
                    except TypeError:
                        continue
                    if narrow:
                        keep = self.NARROW_CLASSES.get(key, set())
                        cdict = {k: v for k, v in cdict.items() if k in keep}
                    classes[key] = (value, cdict, narrow)
                elif narrow and key in self.NARROW_CLASSES and isinstance(value, type):
                    keep = self.NARROW_CLASSES[key]
                    classes[key] = (
                        value,
                        {k: v for k, v in vars(value).items() if k in keep},
                        True,
                    )
            self.modules[name] = (mod, namespace, codes, classes, narrow)

    def remember_names(self, ns: dict, exclude: set[str]) -> None:
        """Remember notebook names bound to protected modules (np, lstm_course.grading, ...)."""
        for key, value in list(ns.items()):
            if key in exclude or key.startswith("_") or key in self.names:
                continue
            modname = (
                value.__name__
                if isinstance(value, types.ModuleType)
                else getattr(value, "__module__", None)
            )
            if isinstance(modname, str) and self._protected(modname) and modname != "builtins":
                if isinstance(value, types.ModuleType) or callable(value):
                    self.names[key] = value

    def check_and_restore(self, ns: dict) -> list[str]:
        """Put back every change to the protected state; return what was changed."""
        changed: list[str] = []
        for name, (mod, namespace, codes, classes, narrow) in self.modules.items():
            if sys.modules.get(name) is not mod:
                changed.append(f"sys.modules[{name!r}] was replaced")
                sys.modules[name] = mod
            current = vars(mod)
            for key, value in namespace.items():
                if key in self.SKIP_KEYS:
                    continue
                if key not in current or current[key] is not value:
                    changed.append(f"{name}.{key} was replaced")
                    current[key] = value
            added = [] if narrow else [k for k in current if k not in namespace]
            for key in [k for k in added if k not in self.SKIP_KEYS]:
                value = current[key]
                if (
                    isinstance(value, types.ModuleType)
                    and sys.modules.get(f"{name}.{key}") is value
                ):
                    continue  # a submodule imported later
                if key.startswith("__") and key.endswith("__"):
                    continue
                changed.append(f"{name}.{key} was added")
                del current[key]
            for f, code, defaults, kwdefaults in codes.values():
                if f.__code__ is not code or f.__defaults__ is not defaults:
                    changed.append(f"the code of {f.__module__}.{f.__qualname__} was replaced")
                    f.__code__, f.__defaults__ = code, defaults
                if f.__kwdefaults__ is not kwdefaults:
                    f.__kwdefaults__ = kwdefaults
            for key, (cls, cdict, narrow_cls) in classes.items():
                now = vars(cls)
                for attr, value in cdict.items():
                    if attr in ("__dict__", "__weakref__", "__doc__"):
                        continue
                    if now.get(attr, _MISSING) is not value:
                        changed.append(f"{name}.{key}.{attr} was replaced")
                        try:
                            setattr(cls, attr, value)
                        except (TypeError, AttributeError):
                            pass
                for attr in [] if narrow_cls else [a for a in now if a not in cdict]:
                    changed.append(f"{name}.{key}.{attr} was added")
                    try:
                        delattr(cls, attr)
                    except (TypeError, AttributeError):
                        pass
        for key, value in self.names.items():
            if ns.get(key) is not value:
                changed.append(f"the notebook name {key!r} was rebound")
                ns[key] = value
        if ns.get("__builtins__") is not builtins:
            changed.append("the notebook's __builtins__ was replaced")
            ns["__builtins__"] = builtins
        if sys.gettrace() is not None or sys.getprofile() is not None:
            changed.append("a trace or profile function was installed")
            sys.settrace(None)
            sys.setprofile(None)
        return changed


_MISSING = object()


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
        if root not in roots or name.startswith("lstm_course.autograde"):
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


class _Null(io.TextIOBase):
    def write(self, text) -> int:
        return len(str(text))

    def writable(self) -> bool:
        return True


def _encode_result(value, depth: int = 0) -> dict:
    """A function's return value as a tree of .npy arrays (the oracle's transport)."""
    import base64

    import numpy as np

    if depth > 4 or isinstance(value, dict):
        return {"t": "other"}
    if isinstance(value, tuple) or (isinstance(value, list) and depth == 0 and _ragged(value)):
        return {"t": "seq", "items": [_encode_result(v, depth + 1) for v in value[:16]]}
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError):
        return {"t": "other"}
    if array.size > 2_000_000:
        return {"t": "other"}
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return {"t": "array", "npy": base64.b64encode(buf.getvalue()).decode("ascii")}


def _ragged(value: list) -> bool:
    return any(isinstance(v, tuple | dict) for v in value)


def _decode_args(args: dict) -> dict:
    import base64

    import numpy as np

    def one(text):
        return np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)

    out = {}
    for key, spec in args.items():
        if "dict" in spec:
            out[key] = {k: one(v) for k, v in spec["dict"].items()}
        else:
            out[key] = one(spec["array"])
    return out


def _trap_references(calls: set, allowed: set[str]) -> None:
    """Wrap every function of lstm_ref's references so that a call to one is recorded.

    Functions the release itself hands the student (``allowed``, by name) are not recorded,
    nor is anything they call.
    """
    import functools

    refs = ("lstm_ref.np_ref", "lstm_ref.torch_ref")
    wrapped: dict[int, object] = {}
    depth: list[int] = []
    for modname, mod in list(sys.modules.items()):
        if not modname.startswith("lstm_ref") or not isinstance(mod, types.ModuleType):
            continue
        for key, value in list(vars(mod).items()):
            if not isinstance(value, types.FunctionType):
                continue
            if not str(getattr(value, "__module__", "")).startswith(refs):
                continue
            if id(value) not in wrapped:
                qual = f"{value.__module__}.{value.__qualname__}"

                def make(fn, qual=qual, given=value.__name__ in allowed):
                    @functools.wraps(fn)
                    def wrapper(*args, **kwargs):
                        if not depth and not given:  # the outermost call: the student's
                            calls.add(qual)
                        depth.append(1)
                        try:
                            return fn(*args, **kwargs)
                        finally:
                            depth.pop()

                    del wrapper.__wrapped__  # no way back to the untrapped function
                    return wrapper

                wrapped[id(value)] = make(value)
            setattr(mod, key, wrapped[id(value)])


def _oracle(job: dict, reporter: _Reporter) -> None:
    """Run the non-test cells, then call the answer functions on the grader's inputs."""
    from IPython.core.inputtransformer2 import TransformerManager

    calls: set[str] = set()
    _trap_references(calls, set(job.get("allowed_refs", [])))
    null = _Null()
    sys.stdout = sys.stderr = null
    transformer = TransformerManager()
    ns: dict = {"__name__": "__main__", "__builtins__": builtins}
    timeout = float(job.get("cell_timeout", 60))
    for cell in job["cells"]:
        try:
            signal.setitimer(signal.ITIMER_REAL, timeout)
            code = transformer.transform_cell(cell["source"])
            exec(compile(code, f"<cell {cell['index']}>", "exec"), ns)  # noqa: S102
        except BaseException:  # noqa: BLE001 (a failing cell fails in the main run too)
            pass
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdout = sys.stderr = null
    reporter.send({"event": "ready", "setup_s": 0})
    for call in job.get("calls", []):
        calls.clear()
        message = {"event": "oracle", "id": call["id"], "result": None, "error": None}
        try:
            fn = ns.get(call["name"])
            if not callable(fn):
                raise NameError(f"{call['name']} is not defined")
            args = _decode_args(call["args"])
            signal.setitimer(signal.ITIMER_REAL, timeout)
            value = fn(**args)
            signal.setitimer(signal.ITIMER_REAL, 0)
            message["result"] = _encode_result(value)
        except BaseException as exc:  # noqa: BLE001
            signal.setitimer(signal.ITIMER_REAL, 0)
            message["error"] = f"{type(exc).__name__}: {exc}"[:300]
        message["reference_calls"] = sorted(calls)
        reporter.send(message)
    reporter.send({"event": "done", "total_s": 0})
    os._exit(0)


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
    roots = list(job.get("protect", ["numpy", "lstm_ref", "lstm_course", "math", "builtins"]))
    cells = job["cells"]
    modules = _imported_modules([c["source"] for c in cells])
    if any(m == "torch" or m.startswith(("torch.", "lstm_ref.torch_ref")) for m in modules):
        roots.append("torch")
        modules.add("torch")
    if job.get("mode") == "oracle":
        modules.add("lstm_ref.np_ref")
    _preimport(roots, modules)
    if job.get("mode") == "oracle":
        signal.signal(signal.SIGALRM, _alarm)
        _oracle(job, reporter)

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
