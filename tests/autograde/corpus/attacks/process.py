"""Attacks on the grader's process: its channel, nonce and reports, its memory, other
processes, a user namespace, and monkeypatching NumPy, grading, builtins and the runner's
modules (issue 10)."""

from __future__ import annotations

from attacks import (
    attack,
    before_tests,
    zeros_answers,
)

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


# == 5. monkeypatching NumPy, grading, builtins, the runner's modules ========================
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


@attack("monkeypatching NumPy", flagged=True, most="zeros")
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


@attack("monkeypatching NumPy (ctypes, immutable type)", flagged=True, most="zeros")
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


@attack("monkeypatching builtins and grading", flagged=True, most="zeros")
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
