"""Inside the verifier (V): the student's names as proxies to the answer process (A).

A test cell in V sees every name the student defines as a :class:`Remote`: calling it, reading an
attribute or an item, iterating over it or asking its length sends one request to A and returns
plain data (arrays, tensors, numbers, tuples, dicts), or another ``Remote`` for an object that is
not plain data (a module the student's class made, a bound method). No method of a student's
object runs in V, and nothing but plain data and handle ids comes back.

Arguments go the other way as plain data too: the test's arrays and tensors (as the function left
them, they are written back: a function that edits its input in place edits the test's copy, as
it would in the notebook), its ``torch.nn`` models (as structure and state), and its functions as
callbacks that A calls through V. A tensor a call returns with an autograd graph (a forward
through the student's module) is tied into V's graph by :class:`_Bridge`: ``.backward()`` in the
test runs A's backward there, so the student's parameters get their ``.grad`` as in a notebook.
"""

from __future__ import annotations

import builtins
import inspect
import sys
import warnings

from lstm_course.autograde import _transport
from lstm_course.autograde._rpc import Endpoint, PeerGone


class AnswerProcessGone(RuntimeError):
    """The answer process stopped (crashed, ran out of memory or time): its answers are lost."""


_EXCEPTIONS = {
    name: value
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, Exception)
}
_WARNINGS = {name: value for name, value in _EXCEPTIONS.items() if issubclass(value, Warning)}


def _exception(error: dict) -> Exception:
    """The student's exception, rebuilt in V as an exception of the same name (a builtin class
    when it is one: a stub's NotImplementedError stays one; never a BaseException)."""
    name = str(error.get("type", "Exception"))[:100]
    message = str(error.get("message", ""))[:4000]
    base = _EXCEPTIONS.get(name)
    if base is None or base in (StopIteration, StopAsyncIteration):
        base = type(name if name.isidentifier() else "StudentError", (Exception,), {})
    try:
        exc = base(message)
    except Exception:  # noqa: BLE001 (an exception class with another signature)
        exc = Exception(f"{name}: {message}")
    trace = [str(line) for line in error.get("traceback", [])][-8:]
    if trace:
        exc.add_note("In the student's code:\n" + "".join(trace).rstrip())
    return exc


class Remote:
    """An object of the answer process, seen from V. ``_origin`` is the student's name it came
    from (a breach of the exercise's rules during a call is charged to that name)."""

    __slots__ = ("_client", "_id", "_origin", "_callable", "_function", "_type", "_open",
                 "__weakref__")  # fmt: skip

    def __init__(self, client: Client, hid: int, origin: str, tree: dict, is_open: bool):
        object.__setattr__(self, "_client", client)
        object.__setattr__(self, "_id", hid)
        object.__setattr__(self, "_origin", origin)
        object.__setattr__(self, "_callable", bool(tree.get("callable")))
        # what a call returns may be read only for a class (its instance) or a bound method
        object.__setattr__(self, "_function", not (tree.get("cls") or tree.get("method")))
        object.__setattr__(self, "_type", str(tree.get("type", "object"))[:100])
        # Open: a name of the notebook, an object of a class the student wrote (an nn.Module),
        # or one reached from it (a submodule, a bound method): a test may read it. Closed:
        # what a function returned that is not plain data: not an answer, nothing of it is read.
        object.__setattr__(self, "_open", is_open)

    def _closed(self, what: str):
        return TypeError(
            f"the student's code returned a {self._type} object where plain data (an array, a "
            f"number, a tuple) is expected; its {what} is not read"
        )

    def _ask(self, op: str, **fields):
        return self._client.ask(dict(fields, op=op, id=self._id), self._origin, self._open)

    def __call__(self, *args, **kwargs):
        if not self._callable:
            raise TypeError(f"a {self._type} object is not callable")
        if not self._open and self._client.returned(self):
            raise self._closed("call")
        message = {"op": "call", "id": self._id}
        results_open = self._open and not self._function
        return self._client.call(message, args, kwargs, self._origin, results_open)

    def __getattr__(self, name: str):
        if name.startswith("__") and name not in ("__name__", "__qualname__", "__doc__"):
            raise AttributeError(name)
        if not self._open and name not in ("__name__", "__qualname__", "__doc__"):
            raise AttributeError(f"{name} ({self._closed('attributes')})")
        return self._ask("getattr", name=name)

    def __setattr__(self, name, value):
        raise AttributeError("a test cannot change the student's objects")

    def __getitem__(self, key):
        if not self._open:
            raise self._closed("items")
        return self._ask("getitem", key=self._client.codec.encode(key))

    def __len__(self):
        if not self._open:
            raise self._closed("length")
        return int(self._ask("len"))

    def __iter__(self):
        if not self._open:
            raise self._closed("items")
        return iter(self._ask("iter"))

    def __repr__(self):
        return str(self._ask("repr"))

    def __copy__(self):
        return self  # the test's copies of its inputs leave the student's objects alone

    def __deepcopy__(self, memo):
        return self

    @property
    def __signature__(self):
        if not self._callable:
            raise AttributeError("__signature__")
        params = []
        for name, kind, has_default in self._ask("signature"):
            default = _DEFAULT if has_default else inspect.Parameter.empty
            params.append(
                inspect.Parameter(str(name), inspect._ParameterKind(kind), default=default)
            )
        return inspect.Signature(params)


_DEFAULT = object()


class Client:
    """V's end: asks A, decodes its answers, serves A's callbacks into the test's functions."""

    def __init__(self, peer: Endpoint):
        self.peer = peer
        self.peer.serve = self._serve_callback
        self.remotes: dict[int, Remote] = {}
        self.named: set[int] = set()  # handles bound to a name of the notebook
        self.callbacks: list = []
        self.breaches: dict[str, set[str]] = {}
        self.attempts: set[str] = set()  # forbidden imports A saw (student-reported: a flag)
        self.gone: str | None = None
        self.hidden = False  # a hidden test runs: what A says about its inputs is not shown
        self._opening = False
        self.codec = _transport.Codec(self._local, self._remote_tree, send_modules=True)
        self._origin = ""
        plain = self.codec.decode_tensor

        def decode_tensor(torch, tree, depth=0):
            t = plain(torch, tree, depth)
            if "graph" in tree:
                t._remote_graph = int(tree["graph"])
            return t

        self.codec.decode_tensor = decode_tensor

    # -- encoding the test's values ------------------------------------------------------------
    def _local(self, obj):
        if isinstance(obj, Remote):
            return {"t": "h", "id": obj._id}
        if callable(obj):
            self.callbacks.append(obj)
            return {"t": "cb", "id": len(self.callbacks) - 1}
        raise _transport.TransportError(
            f"a {type(obj).__name__} cannot be handed to the student's code by a test"
        )

    def _remote_tree(self, tree: dict):
        if tree["t"] == "cb":
            return self.callbacks[int(tree["id"])]
        hid = int(tree["id"])
        is_open = self._opening or bool(tree.get("cls"))
        if hid not in self.remotes:
            self.remotes[hid] = Remote(self, hid, self._origin, tree, is_open)
        elif is_open:
            object.__setattr__(self.remotes[hid], "_open", True)
        return self.remotes[hid]

    def returned(self, remote: Remote) -> bool:
        """Whether a closed handle came back from a call (not from a name of the notebook)."""
        return remote._id not in self.named

    # -- requests ------------------------------------------------------------------------------
    def _request(self, message: dict) -> dict:
        if self.gone:
            raise AnswerProcessGone(self.gone)
        try:
            return self.peer.request(message)
        except PeerGone as exc:
            self.gone = f"the student's process stopped ({exc})"
            raise AnswerProcessGone(self.gone) from None

    def _value(self, reply: dict, origin: str, is_open: bool = False):
        if "error" in reply:
            error = dict(reply["error"])
            if self.hidden:  # its message may quote a hidden input
                error["message"] = "(the message is not shown in a hidden test)"
                error["traceback"] = []
            raise _exception(error)
        for text in reply.get("breaches", []):
            self.breaches.setdefault(origin, set()).add(str(text))
        self.attempts.update(str(a)[:200] for a in reply.get("attempts", [])[:20])
        self._origin, self._opening = origin, is_open
        try:
            return self._decode(reply.get("value"))
        finally:
            self._opening = False

    def _decode(self, tree):
        import_torch = "torch" in sys.modules
        value = self.codec.decode(tree)
        if import_torch or "torch" in sys.modules:
            value = _Bridge.tie(self, value)
        return value

    def ask(self, message: dict, origin: str, is_open: bool = False):
        return self._value(self._request(message), origin, is_open)

    def get(self, name: str):
        """(found, value) for a name of the notebook in A; modules are never taken from A."""
        reply = self._request({"op": "get", "name": name})
        if reply.get("missing") or reply.get("module"):
            return False, None
        value = self._value(reply, name, is_open=True)
        if isinstance(value, Remote):
            self.named.add(value._id)
        return True, value

    def seed(self, seed) -> None:
        """The test seeded torch: so does A, as one kernel would have been seeded."""
        try:
            self._request({"op": "seed", "seed": self.codec.encode(seed)})
        except AnswerProcessGone:
            pass

    def call(self, message: dict, args, kwargs, origin: str, is_open: bool = False):
        leaves: list = []
        self.codec.leaves = leaves
        try:
            message["args"] = self.codec.encode(list(args))
            message["kwargs"] = self.codec.encode(dict(kwargs))
        finally:
            self.codec.leaves = None
        reply = self._request(message)
        # What the student's code printed goes to the test's output, except in a hidden test,
        # where it could quote the hidden inputs: there only its length is said.
        streams = reply.get("stdout") or {}
        printed = str(streams.get("stdout") or "") + str(streams.get("stderr") or "")
        if self.hidden and printed:
            print(f"[your code printed {len(printed)} characters during a hidden test: not shown]")
        elif printed:
            if streams.get("stdout"):
                sys.stdout.write(str(streams["stdout"]))
            if streams.get("stderr"):
                sys.stderr.write(str(streams["stderr"]))
        for category, text in reply.get("warnings", []):
            cls = _WARNINGS.get(str(category), UserWarning)
            warnings.warn_explicit(str(text), cls, "<student's code>", 0)
        value = self._value(reply, origin, is_open)
        for index, tree in reply.get("writeback", []):
            _write_back(leaves[int(index)], self.codec.decode(tree))
        return value

    def _serve_callback(self, req: dict) -> dict:
        """A asks for a test function it was given (a callback); the reply is plain data."""
        try:
            if req.get("op") != "callback":
                raise ValueError("unexpected request from the student's process")
            fn = self.callbacks[int(req["id"])]
            args = self.codec.decode(req.get("args"))
            kwargs = self.codec.decode(req.get("kwargs"))
            return {"value": self.codec.encode(fn(*args, **kwargs))}
        except Exception as exc:  # noqa: BLE001 (the error goes back to the student's code)
            return {"error": f"{type(exc).__name__}: {exc}"[:2000]}


def _write_back(leaf, new) -> None:
    """Put what the student's function left in an array argument back into the test's array."""
    import numpy as np

    if type(leaf) is not np.ndarray or type(new) is not np.ndarray or leaf.shape != new.shape:
        return
    try:
        leaf[...] = new
    except (TypeError, ValueError):  # an edit that does not fit is not written back
        return


class _Bridge:
    """Ties tensors that carry A's autograd graph into V's: one node per tensor, whose backward
    asks A to run backward from that tensor (gradients reach the student's parameters there)."""

    _function = None

    @classmethod
    def tie(cls, client: Client, value):
        import torch

        if cls._function is None:
            cls._function = _make_function(torch)
        return _map_tensors(value, lambda t: cls._one(torch, client, t))

    @classmethod
    def _one(cls, torch, client, t):
        gid = getattr(t, "_remote_graph", None)
        if gid is None or not torch.is_grad_enabled():
            return t
        dummy = torch.zeros((), requires_grad=True)
        return cls._function.apply(client, gid, t.detach(), dummy)


def _make_function(torch):
    class RemoteBackward(torch.autograd.Function):
        @staticmethod
        def forward(ctx, client, gid, value, dummy):
            ctx.client, ctx.gid = client, gid
            return value.clone()

        @staticmethod
        def backward(ctx, grad):
            reply = ctx.client._request(
                {"op": "backward", "graph": ctx.gid, "grad": ctx.client.codec.encode(grad)}
            )
            if "error" in reply:
                raise _exception(reply["error"])
            return None, None, None, None

    return RemoteBackward


def _map_tensors(value, fn):
    if type(value) in (list, tuple):
        return type(value)(_map_tensors(v, fn) for v in value)
    if type(value) is dict:
        return {k: _map_tensors(v, fn) for k, v in value.items()}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor) and hasattr(value, "_remote_graph"):
        return fn(value)
    return value
