"""How the fast path runs, apart from what it computes: fusion, MKL packing, CUDA graphs.

None of these changes a number beyond rounding; each falls back, with a warning, to the plain
operations if it fails (no C compiler, no Triton, an old driver ...): slower, never wrong.
Fusion: ``set_fusion`` or ``LSTM_REF_FUSION``; CUDA graphs: ``set_cuda_graphs`` or
``LSTM_REF_CUDA_GRAPHS=1`` (each layer's loop recorded once per shape and replayed, so Python
issues one call per layer instead of a few per step); MKL packing: ``recurrent_product``.
"""

from __future__ import annotations

import os
import warnings

import torch

__all__ = ["set_fusion", "get_fusion", "resolve_fusion", "set_cuda_graphs"]

# ---------------------------------------------------------------------------------------------
# Fusion: torch.compile, TorchScript, or none; a failure falls back with a warning.

_FUSION = os.environ.get("LSTM_REF_FUSION", "auto")
_FUSIONS = ("auto", "compile", "script", "none")
_compiled: dict[tuple[str, str], object] = {}
_failed: set[str] = set()


def set_fusion(backend: str) -> None:
    """How the fast path fuses the pointwise step: "compile" (torch.compile), "script"
    (TorchScript), "none", or "auto" (the default): "compile" on a GPU, "none" on the CPU, where
    the compiled step measured slower (a compiled region's call overhead, 40 to 50 µs, is more
    than fusion saves) and TorchScript's CPU fuser needs an LLVM that PyTorch's wheels lack."""
    global _FUSION
    if backend not in _FUSIONS:
        raise ValueError(f"fusion must be one of {_FUSIONS}, got {backend!r}")
    _FUSION = backend


def get_fusion() -> str:
    """The fusion setting ("auto", "compile", "script" or "none")."""
    return _FUSION


def resolve_fusion(fusion: str | None, device: torch.device) -> str:
    """The backend that ``fusion`` (None: the global setting) means on ``device``."""
    fusion = fusion or _FUSION
    if fusion not in _FUSIONS:
        raise ValueError(f"fusion must be one of {_FUSIONS}, got {fusion!r}")
    if fusion == "auto":
        return "compile" if device.type == "cuda" else "none"
    return fusion


def _compile(fn, backend: str):
    if backend == "compile":
        # Shapes start static; a second batch size recompiles once with dynamic shapes.
        return torch.compile(fn, fullgraph=True)
    if backend == "script":
        torch._C._jit_override_can_fuse_on_cpu(True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TorchScript is deprecated but still works
            return torch.jit.script(fn)
    return fn


def fuse(fn, backend: str | None = None):
    """``fn`` compiled with the backend; on the first failure warn and run ``fn`` uncompiled.
    (A step, never a loop: a loop would be unrolled and recompiled for every sequence length.)"""
    backend = backend or _FUSION
    if backend == "none" or backend in _failed:
        return fn
    key = (fn.__name__, backend)
    if key not in _compiled:
        _compiled[key] = _compile(fn, backend)
    compiled = _compiled[key]

    def run(*args):
        if backend in _failed:
            return fn(*args)
        try:
            return compiled(*args)
        except Exception as error:  # a compiler missing or broken: correct but slower
            _failed.add(backend)
            warnings.warn(
                f"lstm_ref.torch_ref: fusing the LSTM step with {backend!r} failed "
                f"({type(error).__name__}: {str(error)[:200]}); running it unfused instead",
                RuntimeWarning,
                stacklevel=3,
            )
            return fn(*args)

    return run


# ---------------------------------------------------------------------------------------------
# The recurrent product of every step, with the weight packed once per sequence where that pays.


def recurrent_product(w, N: int):
    """A function ``(a, h) -> a += h @ w^T`` in place, for a (N, 4H) and h (N, H).

    On the CPU in float32 the weight is packed once per sequence for MKL's matrix product instead
    of once per product: about 1.3 times faster on the course machine (sizes S and M, one thread).
    Elsewhere, for an empty batch (MKL prints an error for a zero size), or without the (internal)
    MKL ops, one ``addmm_``: a single BLAS call, one kernel on a GPU."""
    if (
        w.device.type == "cpu"
        and w.dtype == torch.float32
        and N > 0
        and hasattr(torch.ops.mkl, "_mkl_linear")
    ):
        try:
            packed = torch.ops.mkl._mkl_reorder_linear_weight(w, N)

            def packed_product(a, h):
                a += torch.ops.mkl._mkl_linear(h, packed, w, None, N)

            return packed_product
        except (RuntimeError, AttributeError):  # a build without MKL
            pass
    w_t = w.t()

    def product(a, h):
        a.addmm_(h, w_t)

    return product


# ---------------------------------------------------------------------------------------------
# Optional CUDA graphs: off unless asked for; any failure warns and runs without.

_CUDA_GRAPHS = os.environ.get("LSTM_REF_CUDA_GRAPHS", "0") == "1"
_graphs: dict[tuple, object] = {}


def set_cuda_graphs(enabled: bool) -> None:
    """Replay each layer's step loop as a CUDA graph (CUDA tensors only; off by default)."""
    global _CUDA_GRAPHS
    _CUDA_GRAPHS = bool(enabled)


class _Graphed:
    """``fn(*tensors) -> tuple`` recorded as a CUDA graph on static copies of its inputs."""

    def __init__(self, fn, args):
        self.inputs = [None if a is None else a.detach().clone() for a in args]
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):  # warm up (compilation, workspaces) before recording
            for _ in range(2):
                fn(*self.inputs)
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.outputs = fn(*self.inputs)

    def __call__(self, *args):
        for static, value in zip(self.inputs, args, strict=True):
            if static is not None:
                static.copy_(value)
        self.graph.replay()
        return tuple(None if o is None else o.clone() for o in self.outputs)


def graphed(kind: str, key: tuple, fn, args):
    """Run ``fn(*args)`` through a cached CUDA graph for ``key``, or directly if that fails."""
    global _CUDA_GRAPHS
    full_key = (kind, *key, *((None,) if a is None else (a.shape, a.dtype, a.device) for a in args))
    try:
        if full_key not in _graphs:
            _graphs[full_key] = _Graphed(fn, args)
        return _graphs[full_key](*args)
    except Exception as error:  # an unsupported op in capture, an old driver ...
        _CUDA_GRAPHS = False
        warnings.warn(
            f"lstm_ref.torch_ref: CUDA graphs failed ({type(error).__name__}: "
            f"{str(error)[:200]}); running without them",
            RuntimeWarning,
            stacklevel=3,
        )
        return fn(*args)


def use_graphs(x) -> bool:
    """Whether to run ``x``'s layer through a CUDA graph (asked for, on a GPU, not capturing)."""
    return _CUDA_GRAPHS and x.is_cuda and not torch.cuda.is_current_stream_capturing()
