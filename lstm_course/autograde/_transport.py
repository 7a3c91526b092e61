"""Plain data between the answer process (A) and the verifier (V): never pickles, never objects.

A value crosses as a JSON tree. Numbers, strings, ``None``, lists, tuples and dicts with string
keys cross as themselves; NumPy arrays and scalars of a numeric dtype as ``.npy`` bytes in base64;
tensors as their values (an array), dtype, ``requires_grad`` and ``.grad``, rebuilt on the other
side (``torch`` is imported only when a tensor comes); ``torch.device`` and ``torch.dtype`` by
name. Anything else never crosses: the side that holds it keeps it and sends a handle (``{"t":
"h"}``), an id in its own table, so no method of a student's object ever runs in V. From V, a
callable becomes a callback id (A calls it back through V) and a module built from ``torch.nn``
classes alone crosses as its structure and state (the test's own models, e.g. ex10's
``nn.Sequential``). NumPy and the standard library only: A imports this module.
"""

from __future__ import annotations

import base64
import io
import types

import numpy as np

MAX_ARRAY_BYTES = 64 * 2**20  # a larger array is refused
MAX_STRING = 1_000_000  # characters of one string
MAX_ITEMS = 100_000  # items of one list, tuple or dict
MAX_DEPTH = 24
NUMERIC_KINDS = "biufc"  # bool, int, unsigned, float, complex


class TransportError(ValueError):
    """A value that may not cross, or a malformed message."""


def encode_array(a: np.ndarray) -> str:
    buf = io.BytesIO()
    a = np.asarray(a)  # (np.ascontiguousarray would make a 0-d array 1-d)
    np.save(buf, a if a.flags.c_contiguous else a.copy(order="C"), allow_pickle=False)
    if buf.tell() > MAX_ARRAY_BYTES:
        raise TransportError(f"an array of {buf.tell()} bytes is larger than the grader accepts")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def decode_array(text: str) -> np.ndarray:
    if not isinstance(text, str) or len(text) > MAX_ARRAY_BYTES * 4 // 3 + 8:
        raise TransportError("array too large or malformed")
    data = base64.b64decode(text.encode("ascii"), validate=True)
    a = np.load(io.BytesIO(data), allow_pickle=False)
    if a.dtype.kind not in NUMERIC_KINDS:
        raise TransportError(f"arrays of dtype {a.dtype} do not cross")
    return a


def _torch():
    import sys

    return sys.modules.get("torch")


class Codec:
    """Encodes and decodes for one side. ``local(obj)`` gives the handle tree of an object that
    does not cross (or raises TransportError); ``remote(tree)`` rebuilds the other side's handle
    or callback; ``graph(tensor)`` (A only) may tag a tensor that carries an autograd graph."""

    def __init__(self, local, remote, send_modules: bool = False):
        self.local = local
        self.remote = remote
        # V sends its torch.nn models to A as structure and state; it never takes one from A
        # (a module rebuilt in V would compute there what the student's code must compute).
        self.send_modules = send_modules
        # When a list, every array, tensor and module met is appended in the order met, the
        # same order on both sides: a call's arguments come back by position ("writeback").
        self.leaves: list | None = None

    def _leaf(self, value):
        if self.leaves is not None:
            self.leaves.append(value)
        return value

    # -- encoding ------------------------------------------------------------------------------
    def encode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise TransportError("a value nested too deeply")
        if value is None or isinstance(value, bool):
            return value
        if type(value) is int:
            return value if abs(value) < 2**63 else {"t": "bigint", "v": str(value)}
        if type(value) is float:
            return {"t": "float", "v": repr(value)}  # nan and inf stay exact
        if type(value) is complex:
            return {"t": "complex", "v": [value.real, value.imag]}
        if type(value) is str:
            if len(value) > MAX_STRING:
                raise TransportError("a string longer than the grader accepts")
            return {"t": "str", "v": value}
        if type(value) in (list, tuple) or isinstance(value, types.GeneratorType):
            items = []
            for item in value:
                if len(items) >= MAX_ITEMS:
                    raise TransportError("a sequence longer than the grader accepts")
                items.append(self.encode(item, depth + 1))
            return {"t": "tuple" if type(value) is tuple else "list", "items": items}
        if type(value) is dict or _is_plain_mapping(value):
            if not all(type(k) is str for k in value):
                return self.local(value)
            if len(value) > MAX_ITEMS:
                raise TransportError("a dict larger than the grader accepts")
            return {
                "t": "dict",
                "items": [[k, self.encode(v, depth + 1)] for k, v in value.items()],
            }
        if type(value) is np.ndarray and value.dtype.kind in NUMERIC_KINDS:
            return {"t": "array", "npy": encode_array(self._leaf(value))}
        if isinstance(value, np.generic) and type(value).__module__ == "numpy":
            if np.asarray(value).dtype.kind in NUMERIC_KINDS:
                return {"t": "scalar", "npy": encode_array(np.asarray(value))}
        torch = _torch()
        if torch is not None:
            tree = self._encode_torch(torch, value, depth)
            if tree is not None:
                return tree
        return self.local(value)

    def _encode_torch(self, torch, value, depth):
        if type(value) is torch.device:
            return {"t": "device", "v": str(value)}
        if type(value) is torch.dtype:
            return {"t": "dtype", "v": str(value).removeprefix("torch.")}
        if type(value) in (torch.Tensor, torch.nn.Parameter):
            return self._tensor(torch, self._leaf(value), depth)
        if self.send_modules and isinstance(value, torch.nn.Module):
            tree = self._module(torch, value, depth)
            if tree.get("t") == "module":
                self._leaf(value)
            return tree
        return None

    def _tensor(self, torch, t, depth):
        if t.layout != torch.strided:
            raise TransportError("sparse tensors do not cross")
        data = t.detach().cpu()
        dtype = str(data.dtype).removeprefix("torch.")
        if data.dtype == torch.bfloat16:
            data = data.float()
        tree = {
            "t": "tensor",
            "npy": encode_array(data.numpy()),
            "dtype": dtype,
            "requires_grad": bool(t.requires_grad),
            "param": isinstance(t, torch.nn.Parameter),
            "device": t.device.type,
        }
        if t.is_leaf and t.grad is not None and depth < MAX_DEPTH:
            tree["grad"] = self._tensor(torch, t.grad, depth + 1)
        return tree

    def _module(self, torch, m, depth):
        cls = type(m)
        if getattr(torch.nn, cls.__name__, None) is not cls:
            return self.local(m)  # only torch.nn's own classes cross as structure
        attrs = {}
        for key, val in vars(m).items():
            if key.startswith("__") or key in ("_parameters", "_buffers", "_modules"):
                continue
            if val is None or type(val) in (bool, int, float, str):
                attrs[key] = val
            elif type(val) in (tuple, list) and _plain_nested(val):
                attrs[key] = {"t": "tuple" if type(val) is tuple else "list", "v": list(val)}
        return {
            "t": "module",
            "cls": cls.__name__,
            "attrs": attrs,
            "params": {
                k: None if p is None else self._tensor(torch, p, depth + 1)
                for k, p in m._parameters.items()
            },  # fmt: skip
            "buffers": {
                k: None if b is None else self._tensor(torch, b, depth + 1)
                for k, b in m._buffers.items()
            },  # fmt: skip
            "modules": {
                k: None if s is None else self._module(torch, s, depth + 1)
                for k, s in m._modules.items()
            },  # fmt: skip
        }

    # -- decoding ------------------------------------------------------------------------------
    def decode(self, tree, depth: int = 0):
        if depth > MAX_DEPTH:
            raise TransportError("a value nested too deeply")
        if tree is None or isinstance(tree, bool):
            return tree
        if type(tree) is int:
            return tree
        if type(tree) is not dict:
            raise TransportError(f"malformed value of type {type(tree).__name__}")
        t = tree.get("t")
        if t == "float":
            return float(tree["v"])
        if t == "bigint":
            return int(str(tree["v"])[:400])
        if t == "complex":
            return complex(float(tree["v"][0]), float(tree["v"][1]))
        if t == "str":
            return str(tree["v"])[:MAX_STRING]
        if t in ("list", "tuple"):
            items = [self.decode(item, depth + 1) for item in _bounded(tree["items"])]
            return tuple(items) if t == "tuple" else items
        if t == "dict":
            return {str(k): self.decode(v, depth + 1) for k, v in _bounded(tree["items"])}
        if t == "array":
            return self._leaf(decode_array(tree["npy"]))
        if t == "scalar":
            return decode_array(tree["npy"])[()]
        if t in ("h", "cb"):
            return self.remote(tree)
        torch = _torch()
        if t in ("tensor", "device", "dtype", "module"):
            if torch is None:
                import torch  # noqa: F811 (a tensor came: the other side has torch)
        if t == "tensor":
            return self._leaf(self.decode_tensor(torch, tree, depth))
        if t == "device":
            return torch.device(str(tree["v"]))
        if t == "dtype":
            dtype = getattr(torch, str(tree["v"]), None)
            if not isinstance(dtype, torch.dtype):
                raise TransportError(f"unknown dtype {tree['v']!r}")
            return dtype
        if t == "module":
            if self.send_modules:
                raise TransportError("a module does not cross from the student's process")
            return self._leaf(self._decode_module(torch, tree, depth))
        raise TransportError(f"unknown value tag {t!r}")

    def decode_tensor(self, torch, tree, depth: int = 0):
        dtype = getattr(torch, str(tree["dtype"]), None)
        if not isinstance(dtype, torch.dtype):
            raise TransportError(f"unknown dtype {tree['dtype']!r}")
        value = torch.from_numpy(decode_array(tree["npy"]).copy()).to(dtype)
        if tree.get("param"):
            value = torch.nn.Parameter(value, requires_grad=bool(tree.get("requires_grad")))
        elif tree.get("requires_grad") and (dtype.is_floating_point or dtype.is_complex):
            value.requires_grad_(True)
        if tree.get("grad") is not None and value.requires_grad:
            value.grad = self.decode_tensor(torch, tree["grad"], depth + 1).detach()
        return value

    def _decode_module(self, torch, tree, depth):
        cls = getattr(torch.nn, str(tree["cls"]), None)
        if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
            raise TransportError(f"unknown module class {tree['cls']!r}")
        m = cls.__new__(cls)
        torch.nn.Module.__init__(m)
        for key, val in dict(tree["attrs"]).items():
            if isinstance(val, dict):
                val = tuple(val["v"]) if val["t"] == "tuple" else list(val["v"])
            object.__setattr__(m, str(key), val)
        for key, p in dict(tree["params"]).items():
            m._parameters[str(key)] = None if p is None else self.decode_tensor(torch, p)
        for key, b in dict(tree["buffers"]).items():
            m._buffers[str(key)] = None if b is None else self.decode_tensor(torch, b)
        for key, s in dict(tree["modules"]).items():
            m._modules[str(key)] = None if s is None else self._decode_module(torch, s, depth + 1)
        if hasattr(m, "_init_flat_weights"):  # nn.LSTM and friends keep a list of their weights
            m._init_flat_weights()
        return m


def _plain_nested(value, depth: int = 0) -> bool:
    """Numbers, strings and (nested) lists of them: a module's settings, e.g. nn.LSTM's names."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    return (
        depth < 4
        and type(value) in (list, tuple)
        and all(_plain_nested(v, depth + 1) for v in value)
    )


def _bounded(items):
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise TransportError("malformed or too long a sequence")
    return items


def _is_plain_mapping(value) -> bool:
    """OrderedDict and the like: dicts whose class is the standard library's."""
    return isinstance(value, dict) and type(value).__module__ == "collections"
