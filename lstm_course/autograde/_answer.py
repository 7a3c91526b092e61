"""The answer process (A): the student's sandbox. It runs the notebook's cells and answers calls.

Started by the grader as ``python -I -m lstm_course.autograde._answer --in-fd R --out-fd W``
inside bubblewrap, with a filtered copy of the course's packages (no reference, no grading
helpers: ``policy``) and, for a NumPy-only assignment, without PyTorch. It reads a job (JSON)
from stdin before any student code runs (limits, the uid to drop to, the exercise's rules), then
serves the verifier's requests one at a time (``_rpc``):

- ``exec``: run one non-test cell in an IPython shell, as a kernel would (time limit per cell),
  and answer its outputs in nbformat form (``_capture``);
- ``get``: a name of the notebook, ``call``: call a name or a handle, ``getattr``, ``getitem``,
  ``len``, ``iter``, ``repr``, ``signature``: on the student's objects, answered as plain data
  (``_transport``); an object that is not plain data stays here and V gets a handle to it;
- ``backward``: autograd through a tensor a call returned (a test's ``.backward()`` in V).

Nothing this process says is trusted beyond being the student's answer: V computes every verdict.
"""

from __future__ import annotations

import argparse
import builtins
import importlib.abc
import inspect
import io
import json
import os
import signal
import sys
import time
import traceback
import types
import warnings

from lstm_course.autograde import _transport
from lstm_course.autograde._capture import _Sink, _Stream
from lstm_course.autograde._kernel import CellTimeout, _alarm, drop_root, make_shell, set_limits
from lstm_course.autograde._rpc import Endpoint, PeerGone
from lstm_course.autograde._seccomp import forbid_user_namespaces

MAX_HANDLES = 200_000


class _Absent(importlib.abc.MetaPathFinder):
    """Says why a package the exercise forbids cannot be imported (it is not in the sandbox)."""

    def __init__(self, roots: list[str], reason: str):
        self.roots, self.reason = tuple(roots), reason

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.roots:
            raise ModuleNotFoundError(f"No module named {fullname!r}: {self.reason}")
        return None


class _Watch(importlib.abc.MetaPathFinder):
    """Notes the student's code reaching for a module that is not in its sandbox on purpose
    (the reference, the grading helpers): the import fails as it would anyway, and the attempt
    is reported (for the instructor's review; the student's process could hide it, and gains
    nothing by it)."""

    def __init__(self, server: Server, prefixes: tuple[str, ...]):
        self.server, self.prefixes = server, prefixes

    def find_spec(self, fullname, path=None, target=None):
        if self.server.recording and fullname.startswith(self.prefixes):
            self.server.attempts.append(fullname)
        return None


class Callback:
    """A function of the test (in V) that the student's code was given: calling it asks V."""

    def __init__(self, server: Server, cid: int):
        self._server, self._id = server, cid

    def __call__(self, *args, **kwargs):
        reply = self._server.peer.request(
            {
                "op": "callback",
                "id": self._id,
                "args": self._server.codec.encode(list(args)),
                "kwargs": self._server.codec.encode(kwargs),
            }
        )
        if "error" in reply:
            raise RuntimeError(f"the test's function raised {reply['error']}")
        return self._server.codec.decode(reply.get("value"))


class Server:
    def __init__(self, job: dict, shell, sink: _Sink):
        self.job, self.shell, self.sink = job, shell, sink
        self.ns = shell.user_ns
        self.objects: dict[int, object] = {}
        self.ids: dict[int, int] = {}
        self.graphs: dict[int, tuple] = {}
        self.timeout = float(job.get("cell_timeout", 60))
        self.breaches: list[str] = []
        self.attempts: list[str] = []
        self.recording = False  # a student's cell or a call runs: forbidden imports are noted
        self.in_call = False
        self.leaves: list = []
        self.codec = _transport.Codec(self._handle, self._remote)
        self.codec._tensor = self._tagged_tensor(self.codec._tensor)
        self.peer: Endpoint | None = None

    # -- handles -------------------------------------------------------------------------------
    def _handle(self, obj) -> dict:
        if isinstance(obj, Callback):
            return {"t": "cb", "id": obj._id}
        key = id(obj)
        if key not in self.ids:
            if len(self.objects) >= MAX_HANDLES:
                raise _transport.TransportError("too many objects handed to the tests")
            hid = len(self.objects) + 1
            self.objects[hid] = obj
            self.ids[key] = hid
        return {
            "t": "h",
            "id": self.ids[key],
            "callable": callable(obj),
            "cls": isinstance(obj, type),
            "method": isinstance(obj, types.MethodType),
            "type": type(obj).__name__[:100],
        }

    def _remote(self, tree: dict):
        if tree["t"] == "cb":
            return Callback(self, int(tree["id"]))
        try:
            return self.objects[int(tree["id"])]
        except (KeyError, ValueError, TypeError) as exc:
            raise _transport.TransportError("unknown handle") from exc

    def _tagged_tensor(self, encode_tensor):
        def encode(torch, t, depth):
            tree = encode_tensor(torch, t, depth)
            if self.in_call and t.requires_grad and t.grad_fn is not None:
                gid = len(self.graphs) + 1
                self.graphs[gid] = (t, list(self.leaves))
                tree["graph"] = gid
            return tree

        return encode

    def _decode_args(self, req: dict):
        args = self.codec.decode(req.get("args", {"t": "list", "items": []}))
        kwargs = self.codec.decode(req.get("kwargs", {"t": "dict", "items": []}))
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise _transport.TransportError("malformed call")
        return args, kwargs

    # -- requests ------------------------------------------------------------------------------
    def serve(self, req: dict) -> dict:
        op = req.get("op")
        top = self.peer.depth == 1  # not inside a callback of an outer request
        if top:
            self.sink.reset()
            self.attempts = []
            self.recording = op != "exec"  # the student's functions, called by a test
            signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            reply = self._exec(req) if op == "exec" else self._answer(op, req)
            if self.attempts:
                reply["attempts"] = sorted(set(self.attempts))[:20]
            return reply
        except CellTimeout as exc:
            return {"error": {"type": "CellTimeout", "message": str(exc)}}
        except BaseException as exc:  # noqa: BLE001 (every failure is the student's answer)
            if isinstance(exc, PeerGone):
                raise
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            return {
                "error": {
                    "type": type(exc).__name__[:100],
                    "message": str(exc)[:4000],
                    "traceback": [line[:2000] for line in tb[-12:]],
                }
            }
        finally:
            if top:
                signal.setitimer(signal.ITIMER_REAL, 0)
                self.recording = False
                sys.stdout, sys.stderr = self.streams

    def _exec(self, req: dict) -> dict:
        self.sink.execution_count += 1
        self.shell.execution_count = self.sink.execution_count
        try:
            self.shell.run_cell(str(req["source"]), store_history=False, silent=False)
        except CellTimeout as exc:
            self.sink.error("CellTimeout", str(exc), [f"CellTimeout: {exc}"])
        signal.setitimer(signal.ITIMER_REAL, 0)
        return {"outputs": self.sink.outputs, "execution_count": self.sink.execution_count}

    def _answer(self, op, req: dict) -> dict:
        if op == "get":
            name = str(req["name"])
            if name not in self.ns:
                return {"missing": True}
            value = self.ns[name]
            if inspect.ismodule(value):
                return {"module": True}
            return {"value": self.codec.encode(value)}
        if op == "backward":
            return self._backward(req)
        if op == "seed":
            if "torch" in sys.modules:
                sys.modules["torch"].manual_seed(self.codec.decode(req["seed"]))
            return {"value": None}
        target = self._remote({"t": "h", "id": req["id"]}) if "id" in req else None
        if op == "call":
            if target is None:
                target = self.ns[str(req["name"])]
            return self._call(target, req)
        if op == "getattr":
            return {"value": self.codec.encode(getattr(target, str(req["name"])))}
        if op == "getitem":
            return {"value": self.codec.encode(target[self.codec.decode(req["key"])])}
        if op == "len":
            return {"value": len(target)}
        if op == "iter":
            return {"value": self.codec.encode(list(_bounded_iter(target)))}
        if op == "repr":
            return {"value": repr(target)[:2000]}
        if op == "signature":
            params = inspect.signature(target).parameters.values()
            return {"value": [[p.name, int(p.kind), p.default is not p.empty] for p in params]}
        raise ValueError(f"unknown request {op!r}")

    def _call(self, target, req: dict) -> dict:
        self.leaves = []
        self.codec.leaves = self.leaves
        try:
            args, kwargs = self._decode_args(req)
        finally:
            self.codec.leaves = None
        leaves = list(self.leaves)
        self.leaves = [x for x in leaves if getattr(x, "requires_grad", False)]
        before = [_snapshot(x) for x in leaves]
        caught: list = []
        self.in_call = True
        self.breaches = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = target(*args, **kwargs)
            value = self.codec.encode(result)
        finally:
            self.in_call = False
        reply = {"value": value, "stdout": self._streams()}
        reply["warnings"] = [[w.category.__name__, str(w.message)[:2000]] for w in caught[:50]]
        # Arrays edited in place go back (as in a notebook, the test sees the edit, and says
        # so); tensors and modules do not: a test's reference model must stay the test's.
        reply["writeback"] = []
        for k, (leaf, old) in enumerate(zip(leaves, before, strict=True)):
            if old is None or not _changed(leaf, old):
                continue
            if type(old) is type(leaf):  # an array
                reply["writeback"].append([k, self.codec.encode(leaf)])
            else:
                self.attempts.append(
                    "an in-place edit of a tensor a test handed to a " + type(target).__name__[:80]
                )
        if self.breaches:
            reply["breaches"] = sorted(set(self.breaches))[:10]
        return reply

    def _backward(self, req: dict) -> dict:
        import torch

        output, leaves = self.graphs[int(req["graph"])]
        grad = self.codec.decode(req["grad"])
        for leaf in leaves:
            leaf.grad = None
        torch.autograd.backward([output], [grad], retain_graph=True)
        grads = [None if leaf.grad is None else leaf.grad.detach() for leaf in leaves]
        return {"value": self.codec.encode(grads)}

    def _streams(self) -> dict:
        out = {"stdout": "", "stderr": ""}
        for o in self.sink.outputs:
            if o["output_type"] == "stream":
                out[o["name"]] += o["text"]
            elif o["output_type"] in ("display_data", "execute_result"):
                out["stdout"] += str(o["data"].get("text/plain", "")) + "\n"
        self.sink.reset()
        return out


def _bounded_iter(obj):
    for k, item in enumerate(obj):
        if k >= _transport.MAX_ITEMS:
            raise _transport.TransportError("an iterable longer than the grader accepts")
        yield item


def _snapshot(leaf):
    import numpy as np

    if type(leaf) is np.ndarray:
        return leaf.copy()
    if hasattr(leaf, "detach") and hasattr(leaf, "numpy"):  # a tensor: its values, as an array
        return leaf.detach().cpu().numpy().copy()
    return None


def _changed(leaf, old) -> bool:
    import numpy as np

    now = leaf if type(leaf) is np.ndarray else leaf.detach().cpu().numpy()
    return now.shape != old.shape or not np.array_equal(now, old, equal_nan=True)


def _install_rules(job: dict, server: Server) -> None:
    """The runtime side of "no nn.LSTM / nn.LSTMCell in your code": a call to one while a test
    calls the student's code is reported (the static side is in ``verify``)."""
    targets = job.get("forbidden_calls") or []
    if not targets:
        return
    import functools
    import importlib

    for target in targets:
        module_name, _, attr = target.rpartition(".")
        owner_name, _, cls_attr = module_name.rpartition(".")
        try:
            owner = importlib.import_module(module_name)
            holder, name = owner, attr
        except ImportError:
            owner = importlib.import_module(owner_name)
            holder, name = getattr(owner, cls_attr), attr
        original = getattr(holder, name, None)
        if original is None:
            continue

        def wrapper(*args, _original=original, _target=target, **kwargs):
            if server.in_call:
                server.breaches.append(_target)
            return _original(*args, **kwargs)

        functools.update_wrapper(wrapper, original)
        setattr(holder, name, wrapper)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-fd", type=int, required=True)
    parser.add_argument("--out-fd", type=int, required=True)
    args = parser.parse_args(argv)
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    sys.stdin.close()
    sys.stdin = io.StringIO("")
    os.close(0)
    os.open(os.devnull, os.O_RDONLY)
    set_limits(job.get("limits", {}))
    if job.get("uid") is not None and os.getuid() == 0:
        drop_root(int(job["uid"]))
    if job.get("sandboxed") and not forbid_user_namespaces():
        os.write(2, b"autograde: the seccomp filter against user namespaces is not in place\n")
    if job.get("copy_from"):  # into the sandbox's size-limited home, as the student's own files
        import shutil

        shutil.copytree(job["copy_from"], job["workdir"], symlinks=True, dirs_exist_ok=True)
        os.chdir(job["workdir"])
    if job.get("absent"):
        sys.meta_path.insert(0, _Absent(job["absent"], job.get("absent_reason", "")))
    import numpy  # noqa: F401 (before the student's code, as a kernel has it)

    sink = _Sink(int(job.get("max_cell_output", 200_000)), int(job.get("max_output", 2_000_000)))
    streams = (_Stream(sink, "stdout"), _Stream(sink, "stderr"))
    sys.stdout, sys.stderr = streams
    sys.path.insert(0, os.getcwd())
    shell = make_shell(sink)
    shell.user_ns["__builtins__"] = builtins
    server = Server(job, shell, sink)
    server.streams = streams
    if job.get("forbidden_calls"):
        _install_rules(job, server)
    sys.meta_path.insert(0, _Watch(server, tuple(job.get("watched_imports", ()))))
    server.peer = Endpoint(args.in_fd, args.out_fd, server.serve)
    server.peer.send({"kind": "ready", "setup_s": round(time.process_time(), 3)})
    try:
        server.peer.serve_forever()
    except PeerGone:
        pass
    os._exit(0)  # skip atexit handlers the student may have registered


if __name__ == "__main__":
    sys.exit(main())
