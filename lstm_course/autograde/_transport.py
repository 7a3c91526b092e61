"""Arrays between the grader and the sandbox as ``.npy`` bytes in base64: never pickles.

The grader sends the inputs of the outside check (``encode_args``), the runner decodes them
(``decode_args``) and sends back what each function returned (``encode_result``), which the
grader reads with ``decode_array``. NumPy and the standard library only: the runner imports it.
"""

from __future__ import annotations

import base64
import io

import numpy as np

MAX_ARRAY_BYTES = 64 * 2**20  # a larger array from the sandbox is not read
MAX_RESULT_SIZE = 2_000_000  # entries; a larger result is not sent


def encode_array(a: np.ndarray) -> str:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def decode_array(text: str) -> np.ndarray:
    data = base64.b64decode(text.encode("ascii"), validate=True)
    if len(data) > MAX_ARRAY_BYTES:
        raise ValueError("array too large")
    return np.load(io.BytesIO(data), allow_pickle=False)


def encode_args(args: dict) -> dict:
    """{name: array or dict of arrays} -> {name: {"array": ...} or {"dict": {...}}}."""
    out = {}
    for k, v in args.items():
        if isinstance(v, dict):
            out[k] = {"dict": {kk: encode_array(vv) for kk, vv in v.items()}}
        else:
            out[k] = {"array": encode_array(v)}
    return out


def decode_args(args: dict) -> dict:
    """The inverse of encode_args."""
    out = {}
    for key, spec in args.items():
        if "dict" in spec:
            out[key] = {k: decode_array(v) for k, v in spec["dict"].items()}
        else:
            out[key] = decode_array(spec["array"])
    return out


def encode_result(value, depth: int = 0) -> dict:
    """A function's return value as a tree: {"t": "array", "npy": ...}, {"t": "seq", "items":
    [...]} for a tuple (or a list of tuples or dicts), {"t": "other"} for anything else."""
    if depth > 4 or isinstance(value, dict):
        return {"t": "other"}
    if isinstance(value, tuple) or (isinstance(value, list) and depth == 0 and _ragged(value)):
        return {"t": "seq", "items": [encode_result(v, depth + 1) for v in value[:16]]}
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError):
        return {"t": "other"}
    if array.size > MAX_RESULT_SIZE:
        return {"t": "other"}
    return {"t": "array", "npy": encode_array(array)}


def _ragged(value: list) -> bool:
    return any(isinstance(v, tuple | dict) for v in value)
