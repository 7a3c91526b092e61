"""The fast path of the LSTM: the same maths as ``functional``, arranged for speed.

Three changes make it fast, none of which changes a number beyond rounding:

1. The input projection of all T steps is one matrix product, (T·N, D) @ (D, 4H), before the loop.
2. Inside the loop, one matrix product per step for the recurrent part, h_{t-1} @ W_hh^T, with
   the four gates stacked in PyTorch's order i, f, g, o (g is our candidate C̃_t).
3. The pointwise gate arithmetic of a step (three sigmoids, two tanh, the cell update) runs as one
   fused kernel, compiled by ``torch.compile`` (or TorchScript) from the plain functions
   ``lstm_pointwise`` and ``lstm_pointwise_backward`` below. We compile the step, never the loop:
   a compiled loop would be unrolled and recompiled for every sequence length.

The backward pass is written out from the equations (``LSTMLayerFunction.backward``): the loop
runs backwards through time computing only what must be sequential, the gate gradients and
dh_{t-1} = dgates_t @ W_hh, and the weight gradients come after the loop in three large products
over all steps at once (dW_ih = dgates^T X, dW_hh = dgates^T H_prev, dx = dgates W_ih), which is
what cuDNN and oneDNN do. Tests check it against autograd on the readable path and torch.nn.

Fusion is the default on a GPU only (``set_fusion``): on a CPU the compiled step measured slower
than the plain one, so there the step runs unfused but in place (``lstm_pointwise_``: no
temporaries), and the recurrent weight is packed once per sequence for MKL's matrix product
(``_recurrent_product``). On a GPU, ``set_cuda_graphs(True)`` also records each layer's loop
as a CUDA graph. If compiling or recording fails (no C compiler, no Triton ...), a warning says
so and the same functions run plainly: slower, never wrong.
"""

from __future__ import annotations

import os
import warnings

import torch

__all__ = [
    "lstm_pointwise",
    "lstm_pointwise_backward",
    "LSTMLayerFunction",
    "lstm_layer",
    "set_fusion",
    "get_fusion",
    "resolve_fusion",
    "set_cuda_graphs",
]

# ---------------------------------------------------------------------------------------------
# The pointwise part of one step, forward and backward: plain functions, compiled below.


def lstm_pointwise(gates: torch.Tensor, c_prev: torch.Tensor):
    """The gate arithmetic of one step, given the pre-activations.

    gates (N, 4H): W_ih x_t + W_hh h_{t-1} + b, stacked i, f, g, o; c_prev (N, H).
    Returns h_t (N, H), c_t (N, H) and the activated gates (N, 4H) that the backward pass needs.
    """
    a_i, a_f, a_g, a_o = gates.chunk(4, dim=1)
    i_t = torch.sigmoid(a_i)  # input gate
    f_t = torch.sigmoid(a_f)  # forget gate
    c_tilde = torch.tanh(a_g)  # candidate C̃_t (PyTorch's g)
    o_t = torch.sigmoid(a_o)  # output gate
    c_t = f_t * c_prev + i_t * c_tilde  # cell update
    h_t = o_t * torch.tanh(c_t)  # hidden state
    return h_t, c_t, torch.cat([i_t, f_t, c_tilde, o_t], dim=1)


def lstm_pointwise_backward(dh_t, dc_t, acts, c_prev, c_t):
    """Backward of ``lstm_pointwise``: the gradients of the pre-activations and of c_prev.

    dh_t, dc_t (N, H): the loss's gradients with respect to h_t and c_t (all paths summed);
    acts (N, 4H): the activated gates i, f, g, o; c_prev, c_t (N, H).
    Returns dgates (N, 4H), stacked i, f, g, o, and dc_prev (N, H).
    """
    i_t, f_t, c_tilde, o_t = acts.chunk(4, dim=1)
    tanh_c = torch.tanh(c_t)
    do_t = dh_t * tanh_c  # h_t = o_t * tanh(C_t)
    dc = dc_t + dh_t * o_t * (1 - tanh_c * tanh_c)  # both paths into C_t
    dc_prev = dc * f_t  # C_t = f_t * C_{t-1} + i_t * C̃_t
    da_i = dc * c_tilde * i_t * (1 - i_t)  # σ' = σ(1 - σ)
    da_f = dc * c_prev * f_t * (1 - f_t)
    da_g = dc * i_t * (1 - c_tilde * c_tilde)  # tanh' = 1 - tanh²
    da_o = do_t * o_t * (1 - o_t)
    return torch.cat([da_i, da_f, da_g, da_o], dim=1), dc_prev


# ---------------------------------------------------------------------------------------------
# Fusion: torch.compile (default), TorchScript, or none; a failure falls back with a warning.

_FUSION = os.environ.get("LSTM_REF_FUSION", "auto")
_FUSIONS = ("auto", "compile", "script", "none")
_compiled: dict[tuple[str, str], object] = {}
_failed: set[str] = set()


def set_fusion(backend: str) -> None:
    """Choose how the fast path fuses the pointwise step.

    "compile" (torch.compile), "script" (TorchScript), "none" (plain eager ops), or "auto"
    (the default): "compile" on a GPU, "none" on the CPU. On the CPU the step's gate arithmetic
    is too small for fusion to pay: measured on the course machine, the compiled step took longer
    than the eager one (the call overhead of a compiled region, 40 to 50 µs, is more than the
    fusion saves), and TorchScript's CPU fuser needs an LLVM that PyTorch's wheels do not ship.
    """
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


def _fused(fn, backend: str | None = None):
    """``fn`` compiled with the backend; on the first failure warn and run ``fn`` uncompiled."""
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
# One layer over a whole sequence, time-major, with a hand-written backward pass.


def lstm_pointwise_(a, c_prev, h_out, c_out):
    """``lstm_pointwise`` in place, for the unfused CPU path: no temporaries, no copies.

    a (N, 4H): the pre-activations, overwritten with the activated gates i, f, g, o; the new
    states are written into h_out and c_out (N, H), which may be the same tensor as c_prev.
    """
    H = c_prev.shape[1]
    a[:, : 2 * H].sigmoid_()  # i, f
    a[:, 3 * H :].sigmoid_()  # o
    a[:, 2 * H : 3 * H].tanh_()  # g, the candidate
    i_t, f_t, c_tilde, o_t = a.chunk(4, dim=1)
    torch.mul(f_t, c_prev, out=c_out).addcmul_(i_t, c_tilde)  # C_t = f_t * C_{t-1} + i_t * C̃_t
    torch.tanh(c_out, out=h_out).mul_(o_t)  # h_t = o_t * tanh(C_t)


def _recurrent_product(w, N: int):
    """A function ``(a, h) -> a += h @ w^T`` in place, for a (N, 4H) and h (N, H).

    On the CPU in float32 the weight is packed once, here, for MKL's matrix product: a step's
    product is small, and packing once per sequence instead of once per product made it about
    1.3 times faster on the course machine (sizes S and M, one thread). Elsewhere, or if this
    PyTorch lacks the (internal) MKL ops, one ``addmm_``: a single BLAS call, one kernel on a GPU.
    """
    if (
        w.device.type == "cpu"
        and w.dtype == torch.float32
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


def _layer_forward(x, h0, c0, w_ih, w_hh, bias, step, save: bool):
    """x (T, N, D), h0, c0 (N, H), w_ih (4H, D), w_hh (4H, H), bias (4H,) or None.

    ``step``: the pointwise step (fused or not), or None for the in-place unfused step.
    Returns hs (T, N, H), h_T, c_T and, if ``save``, (cs (T + 1, N, H), acts (T, N, 4H)).
    """
    T, N, D = x.shape
    H = h0.shape[1]
    x2 = x.reshape(T * N, D)
    if bias is None:
        xw = (x2 @ w_ih.t()).view(T, N, -1)  # (T·N, D) @ (D, 4H): every step's input at once
    else:
        xw = torch.addmm(bias, x2, w_ih.t()).view(T, N, -1)
    recurrent_ = _recurrent_product(w_hh, N)  # a += h_{t-1} @ W_hh^T
    h, c = h0, c0
    if step is None:  # in place: xw becomes the activated gates, step by step
        hs = x.new_empty(T, N, H)
        cs = x.new_empty(T + 1, N, H) if save else torch.empty_like(c0)
        if save:
            cs[0] = c0
        for t in range(T):
            a = xw[t]
            recurrent_(a, h)  # (N, 4H): one product per step
            c_out = cs[t + 1] if save else cs
            lstm_pointwise_(a, c, hs[t], c_out)
            h, c = hs[t], c_out
        saved = (cs, xw) if save else None
        return hs, hs[T - 1].clone(), c.clone(), saved
    hs, cs, acts = [], [c0], []  # kept as lists and stacked once: one copy, not one per step
    for t in range(T):
        a = xw[t]
        recurrent_(a, h)  # (N, 4H): one product per step
        h, c, a = step(a, c)  # one fused kernel
        hs.append(h)
        if save:
            cs.append(c)
            acts.append(a)
    saved = (torch.stack(cs), torch.stack(acts)) if save else None
    return torch.stack(hs), h, c, saved


def _backward_step(dh_next, dh_out, dc_t, acts, c_prev, c_t):
    """``lstm_pointwise_backward`` with the two gradients reaching h_t added first (one kernel
    when fused): dh_next from step t + 1 and dh_out from the output at step t."""
    return lstm_pointwise_backward(dh_next + dh_out, dc_t, acts, c_prev, c_t)


def _layer_backward(dhs, dh_T, dc_T, x, h0, w_ih, w_hh, hs, cs, acts, step_backward, need):
    """Backpropagation through time for ``_layer_forward``; ``need`` says which gradients
    (dx, dw_ih, dw_hh, dbias) to compute. Returns dx, dh0, dc0, dw_ih, dw_hh, dbias."""
    T, N, D = x.shape
    dh, dc = dh_T, dc_T
    dgates = [None] * T
    for t in reversed(range(T)):
        # h_t feeds the output at t and the next step: step_backward adds the two gradients
        dgates[t], dc = step_backward(dh, dhs[t], dc, acts[t], cs[t], cs[t + 1])
        dh = dgates[t] @ w_hh  # (N, 4H) @ (4H, H) -> dh_{t-1}
    dg = torch.stack(dgates).view(T * N, -1)  # (T·N, 4H)
    need_x, need_w_ih, need_w_hh, need_bias = need
    dx = (dg @ w_ih).view(T, N, D) if need_x else None  # (T·N, 4H) @ (4H, D)
    h_prev = torch.cat([h0.unsqueeze(0), hs[:-1]]).view(T * N, -1)  # h_0 .. h_{T-1}
    dw_ih = dg.t() @ x.reshape(T * N, D) if need_w_ih else None  # (4H, T·N) @ (T·N, D)
    dw_hh = dg.t() @ h_prev if need_w_hh else None  # (4H, T·N) @ (T·N, H)
    dbias = dg.sum(0) if need_bias else None
    return dx, dh, dc, dw_ih, dw_hh, dbias


# ---------------------------------------------------------------------------------------------
# Optional CUDA graphs: record a whole layer's loop once per shape, then replay it, so that
# Python issues one call per layer instead of a few per step. Off unless asked for
# (set_cuda_graphs(True) or LSTM_REF_CUDA_GRAPHS=1); any failure warns and runs without.

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


def _graphed(kind: str, key: tuple, fn, args):
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


def _use_graphs(x) -> bool:
    return _CUDA_GRAPHS and x.is_cuda and not torch.cuda.is_current_stream_capturing()


def _forward(x, h0, c0, w_ih, w_hh, bias, fusion, save):
    step = None if fusion == "none" else _fused(lstm_pointwise, fusion)

    def run(x, h0, c0, w_ih, w_hh, bias):
        hs, h_T, c_T, saved = _layer_forward(x, h0, c0, w_ih, w_hh, bias, step, save)
        return (hs, h_T, c_T, *(saved or ()))

    args = (x, h0, c0, w_ih, w_hh, bias)
    if _use_graphs(x):
        return _graphed("forward", (fusion, save), run, args)
    return run(*args)


class LSTMLayerFunction(torch.autograd.Function):
    """One LSTM layer, forward and backward, with the fused pointwise step.

    forward(x (T, N, D), h0 (N, H), c0 (N, H), w_ih (4H, D), w_hh (4H, H), bias (4H,) or None,
    fusion) -> hs (T, N, H), h_T (N, H), c_T (N, H).
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, bias, fusion):
        hs, h_T, c_T, cs, acts = _forward(x, h0, c0, w_ih, w_hh, bias, fusion, save=True)
        ctx.fusion = fusion
        ctx.has_bias = bias is not None
        ctx.save_for_backward(x, h0, w_ih, w_hh, hs, cs, acts)
        return hs, h_T, c_T

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dhs, dh_T, dc_T):
        x, h0, w_ih, w_hh, hs, cs, acts = ctx.saved_tensors
        step_backward = _fused(_backward_step, ctx.fusion)
        n = ctx.needs_input_grad
        need = (n[0], n[3], n[4], ctx.has_bias and n[5])

        def run(dhs, dh_T, dc_T, x, h0, w_ih, w_hh, hs, cs, acts):
            return _layer_backward(
                dhs, dh_T, dc_T, x, h0, w_ih, w_hh, hs, cs, acts, step_backward, need
            )

        args = (dhs, dh_T, dc_T, x, h0, w_ih, w_hh, hs, cs, acts)
        if _use_graphs(x):
            grads = _graphed("backward", (ctx.fusion, need), run, args)
        else:
            grads = run(*args)
        return (*grads, None)


def lstm_layer(x, h0, c0, w_ih, w_hh, bias=None, fusion: str | None = None):
    """One LSTM layer on the fast path, time-major: x (T, N, D) -> hs (T, N, H), h_T, c_T.

    ``fusion``: see ``set_fusion``; None uses the global setting.
    w_ih (4H, D), w_hh (4H, H) and bias (4H,) (the sum of PyTorch's two biases, or None) are
    stacked i, f, g, o. Differentiable; without autograd it saves nothing for a backward pass.
    """
    fusion = resolve_fusion(fusion, x.device)
    tensors = (x, h0, c0, w_ih, w_hh) + (() if bias is None else (bias,))
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        return LSTMLayerFunction.apply(x, h0, c0, w_ih, w_hh, bias, fusion)
    hs, h_T, c_T = _forward(x, h0, c0, w_ih, w_hh, bias, fusion, save=False)
    return hs, h_T, c_T
