"""The LSTM's fast path in PyTorch (the mirror of ``np_ref.lstm_fast``), and the stacked step
that ``torch_ref.LSTM`` runs. The input projection of all T steps is one matrix product before the
loop; inside it, one product per step for h_{t-1} @ W_hh^T, the gates stacked as
``specs.GATE_ORDER["lstm"]``; the step's gate arithmetic is one function, ``lstm_pointwise``, that
``speed.fuse`` may compile into one kernel (unfused on the CPU it runs in place).

The backward pass is written out from the equations (``LSTMLayerFunction.backward``): the loop
runs backwards through time computing only what must be sequential, the gate gradients and
dh_{t-1} = dgates_t @ W_hh, and the weight gradients come after the loop in three large products
over all steps at once (dW_ih = dgates^T X, dW_hh = dgates^T H_prev, dx = dgates W_ih), which is
what cuDNN and oneDNN do. Where a hand-written backward cannot serve (a second derivative,
``torch.func`` transforms, forward-mode AD), the same layer runs on autograd instead
(``lstm_layer_eager``), so no use of autograd that works with torch.nn.LSTM fails here.
"""

from __future__ import annotations

import torch
import torch.autograd.forward_ad as fwAD

from lstm_ref.params import stack_gates
from lstm_ref.specs import LSTM_GATES, gate_rows
from lstm_ref.torch_ref import speed
from lstm_ref.torch_ref._common import check_sequence, make_cache
from lstm_ref.torch_ref.sequence import run_layer, sequence_backward

# ---------------------------------------------------------------------------------------------
# The pointwise part of one step, forward and backward: plain functions that speed.fuse compiles.


def lstm_pointwise(gates: torch.Tensor, c_prev: torch.Tensor):
    """The gate arithmetic of one step, given the pre-activations.

    gates (N, 4H): W_ih x_t + W_hh h_{t-1} + b, stacked as specs.GATE_ORDER["lstm"]; c_prev (N, H).
    Returns h_t (N, H), c_t (N, H) and the activated gates (N, 4H) that the backward pass needs.
    """
    rows = gate_rows("lstm", c_prev.shape[1])
    i_t = torch.sigmoid(gates[:, rows["i"]])  # input gate
    f_t = torch.sigmoid(gates[:, rows["f"]])  # forget gate
    c_tilde = torch.tanh(gates[:, rows["c"]])  # candidate C̃_t (PyTorch's g)
    o_t = torch.sigmoid(gates[:, rows["o"]])  # output gate
    c_t = f_t * c_prev + i_t * c_tilde  # cell update
    h_t = o_t * torch.tanh(c_t)  # hidden state
    acts = {"i": i_t, "f": f_t, "c": c_tilde, "o": o_t}
    return h_t, c_t, torch.cat([acts[gate] for gate in LSTM_GATES], dim=1)


def lstm_pointwise_backward(dh_t, dc_t, acts, c_prev, c_t):
    """Backward of ``lstm_pointwise``: dh_t, dc_t (N, H), the loss's gradients with respect to
    h_t and c_t (all paths summed); acts (N, 4H), the activated gates; c_prev, c_t (N, H).
    Returns dgates (N, 4H), stacked like the gates, and dc_prev (N, H)."""
    rows = gate_rows("lstm", c_prev.shape[1])
    i_t, f_t, c_tilde, o_t = (acts[:, rows[gate]] for gate in ("i", "f", "c", "o"))
    tanh_c = torch.tanh(c_t)
    do_t = dh_t * tanh_c  # h_t = o_t * tanh(C_t)
    dc = dc_t + dh_t * o_t * (1 - tanh_c * tanh_c)  # both paths into C_t
    dc_prev = dc * f_t  # C_t = f_t * C_{t-1} + i_t * C̃_t
    da = {
        "i": dc * c_tilde * i_t * (1 - i_t),  # σ' = σ(1 - σ)
        "f": dc * c_prev * f_t * (1 - f_t),
        "c": dc * i_t * (1 - c_tilde * c_tilde),  # tanh' = 1 - tanh²
        "o": do_t * o_t * (1 - o_t),
    }
    return torch.cat([da[gate] for gate in LSTM_GATES], dim=1), dc_prev


def lstm_step(gi, gh, h_prev, c_prev):
    """One step in torch.nn's layout: gi = W_ih x_t + b_ih, gh = W_hh h_{t-1} + b_hh (N, 4H)."""
    h_t, c_t, _ = lstm_pointwise(gi + gh, c_prev)
    return h_t, c_t


def lstm_pointwise_(a, c_prev, h_out, c_out):
    """``lstm_pointwise`` in place, for the unfused CPU path: no temporaries, no copies.

    a (N, 4H): the pre-activations, overwritten with the activated gates; the new states are
    written into h_out and c_out (N, H), which may be the same tensor as c_prev.
    """
    rows = gate_rows("lstm", c_prev.shape[1])
    i_t, f_t, c_tilde, o_t = (a[:, rows[gate]] for gate in ("i", "f", "c", "o"))
    for gate in (i_t, f_t, o_t):
        gate.sigmoid_()
    c_tilde.tanh_()
    torch.mul(f_t, c_prev, out=c_out).addcmul_(i_t, c_tilde)  # C_t = f_t * C_{t-1} + i_t * C̃_t
    torch.tanh(c_out, out=h_out).mul_(o_t)  # h_t = o_t * tanh(C_t)


# ---------------------------------------------------------------------------------------------
# One layer over a whole sequence, time-major, with a hand-written backward pass.


def _layer_forward(x, h0, c0, w_ih, w_hh, bias, step, save: bool):
    """x (T, N, D), h0, c0 (N, H), w_ih (4H, D), w_hh (4H, H), bias (4H,) or None.

    ``step``: the pointwise step (fused or not), or None for the in-place unfused step.
    Returns hs (T, N, H), h_T, c_T and, if ``save``, (h_prev (T, N, H), cs (T + 1, N, H),
    acts (T, N, 4H)); h_prev is its own copy, so the caller may edit hs in place.
    """
    T, N, D = x.shape
    H = h0.shape[1]
    x2 = x.reshape(T * N, D)
    xw = x2 @ w_ih.t() if bias is None else torch.addmm(bias, x2, w_ih.t())
    xw = xw.view(T, N, w_ih.shape[0])  # (T·N, D) @ (D, 4H): every step's input at once
    recurrent_ = speed.recurrent_product(w_hh, N)  # a += h_{t-1} @ W_hh^T
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
        h, c, acts = hs[T - 1].clone(), c.clone(), xw
    else:
        hs, cs, acts = [], [c0], []  # kept as lists and stacked once: one copy, not one per step
        for t in range(T):
            a = xw[t]
            recurrent_(a, h)  # (N, 4H): one product per step
            h, c, a = step(a, c)  # one fused kernel
            hs.append(h)
            if save:
                cs.append(c)
                acts.append(a)
        hs = torch.stack(hs)
        cs, acts = (torch.stack(cs), torch.stack(acts)) if save else (None, None)
    saved = (torch.cat([h0.unsqueeze(0), hs[:-1]]), cs, acts) if save else None  # h_0 .. h_{T-1}
    return hs, h, c, saved


def _backward_step(dh_next, dh_out, dc_t, acts, c_prev, c_t):
    """``lstm_pointwise_backward`` with the two gradients reaching h_t added first (one kernel
    when fused): dh_next from step t + 1 and dh_out from the output at step t."""
    return lstm_pointwise_backward(dh_next + dh_out, dc_t, acts, c_prev, c_t)


def _layer_backward(dhs, dh_T, dc_T, x, w_ih, w_hh, h_prev, cs, acts, step_backward, need):
    """Backpropagation through time for ``_layer_forward``; ``need`` says which gradients
    (dx, dw_ih, dw_hh, dbias) to compute. Returns dx, dh0, dc0, dw_ih, dw_hh, dbias."""
    T, N, D = x.shape
    dh, dc = dh_T, dc_T
    dgates = [None] * T
    for t in reversed(range(T)):
        # h_t feeds the output at t and the next step: step_backward adds the two gradients
        dgates[t], dc = step_backward(dh, dhs[t], dc, acts[t], cs[t], cs[t + 1])
        dh = dgates[t] @ w_hh  # (N, 4H) @ (4H, H) -> dh_{t-1}
    dg = torch.stack(dgates).view(T * N, w_hh.shape[0])  # (T·N, 4H)
    need_x, need_w_ih, need_w_hh, need_bias = need
    dx = (dg @ w_ih).view(T, N, D) if need_x else None  # (T·N, 4H) @ (4H, D)
    dw_ih = dg.t() @ x.reshape(T * N, D) if need_w_ih else None  # (4H, T·N) @ (T·N, D)
    dw_hh = (
        dg.t() @ h_prev.reshape(T * N, w_hh.shape[1]) if need_w_hh else None
    )  # (4H, T·N) @ (T·N, H)
    dbias = dg.sum(0) if need_bias else None
    return dx, dh, dc, dw_ih, dw_hh, dbias


def _forward(x, h0, c0, w_ih, w_hh, bias, fusion, save):
    step = None if fusion == "none" else speed.fuse(lstm_pointwise, fusion)

    def run(x, h0, c0, w_ih, w_hh, bias):
        hs, h_T, c_T, saved = _layer_forward(x, h0, c0, w_ih, w_hh, bias, step, save)
        return (hs, h_T, c_T, *(saved or ()))

    args = (x, h0, c0, w_ih, w_hh, bias)
    if speed.use_graphs(x):
        return speed.graphed("forward", (fusion, save), run, args)
    return run(*args)


class LSTMLayerFunction(torch.autograd.Function):
    """One LSTM layer with its hand-written backward: forward(x, h0, c0, w_ih, w_hh, bias,
    fusion) -> hs, h_T, c_T, with the shapes of ``lstm_layer``."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, bias, fusion):
        hs, h_T, c_T, h_prev, cs, acts = _forward(x, h0, c0, w_ih, w_hh, bias, fusion, save=True)
        ctx.fusion = fusion
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, bias, h_prev, cs, acts)
        return hs, h_T, c_T

    @staticmethod
    def backward(ctx, dhs, dh_T, dc_T):
        x, h0, c0, w_ih, w_hh, bias, h_prev, cs, acts = ctx.saved_tensors
        inputs = (x, h0, c0, w_ih, w_hh, bias)
        n = ctx.needs_input_grad
        if torch.is_grad_enabled():  # create_graph=True: a backward that autograd can differentiate
            wanted = [t for t, needed in zip(inputs, n, strict=False) if needed]
            with torch.enable_grad():
                outputs = lstm_layer_eager(*inputs)
            grads = iter(torch.autograd.grad(outputs, wanted, (dhs, dh_T, dc_T), create_graph=True,
                                             allow_unused=True))  # fmt: skip
            return (*(next(grads) if needed else None for needed in n[:6]), None)
        step_backward = speed.fuse(_backward_step, ctx.fusion)
        need = (n[0], n[3], n[4], bias is not None and n[5])

        def run(dhs, dh_T, dc_T, x, w_ih, w_hh, h_prev, cs, acts):
            return _layer_backward(
                dhs, dh_T, dc_T, x, w_ih, w_hh, h_prev, cs, acts, step_backward, need
            )

        args = (dhs, dh_T, dc_T, x, w_ih, w_hh, h_prev, cs, acts)
        if speed.use_graphs(x):
            grads = speed.graphed("backward", (ctx.fusion, need), run, args)
        else:
            grads = run(*args)
        return (*grads, None)


def lstm_layer_eager(x, h0, c0, w_ih, w_hh, bias=None):
    """The same layer as ``lstm_layer``, differentiated by autograd: any order, any transform."""
    hs, (h_T, c_T) = run_layer(lstm_step, x, (h0, c0), w_ih, w_hh, bias)
    return hs, h_T, c_T


def _transformed(tensors) -> bool:
    """Whether torch.func or forward-mode AD is at work: the hand-written backward serves neither."""
    if torch._C._functorch.peek_interpreter_stack() is not None:
        return True
    return fwAD._current_level >= 0 and any(
        fwAD.unpack_dual(t).tangent is not None for t in tensors
    )


def lstm_layer(x, h0, c0, w_ih, w_hh, bias=None, fusion: str | None = None):
    """One LSTM layer on the fast path, time-major: x (T, N, D) -> hs (T, N, H), h_T, c_T.

    ``fusion``: see ``speed.set_fusion``; None uses the global setting. w_ih (4H, D), w_hh (4H, H)
    and bias (4H,) (the sum of PyTorch's two biases, or None) are stacked like the gates.
    Differentiable; without autograd it saves nothing for a backward pass.
    """
    fusion = speed.resolve_fusion(fusion, x.device)
    tensors = (x, h0, c0, w_ih, w_hh) + (() if bias is None else (bias,))
    if _transformed(tensors):
        return lstm_layer_eager(x, h0, c0, w_ih, w_hh, bias)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        return LSTMLayerFunction.apply(x, h0, c0, w_ih, w_hh, bias, fusion)
    hs, h_T, c_T = _forward(x, h0, c0, w_ih, w_hh, bias, fusion, save=False)
    return hs, h_T, c_T


# ---------------------------------------------------------------------------------------------
# The functional fast path: the same arguments and return values as lstm_forward / lstm_backward.


def _lstm_sequence_fast(x, h0, c0, params):
    H = h0.shape[1]
    W, b = stack_gates(params)  # (4H, H + D), (4H,)
    hs, h_T, c_T = lstm_layer(x.transpose(0, 1).contiguous(), h0, c0, W[:, H:], W[:, :H], b)
    return hs.transpose(0, 1), h_T, c_T  # (T, N, H) -> (N, T, H)


def lstm_forward_fast(x, params, h0=None, c0=None):
    """Same inputs and outputs as ``lstm_forward``; the cache is for ``lstm_backward_fast``."""
    check, x, params, (h0, c0) = check_sequence("lstm", x, params, h0=h0, c0=c0)
    hs, h_T, c_T = _lstm_sequence_fast(x, h0, c0, params)
    cache = make_cache("lstm_forward_fast", _lstm_sequence_fast, (x, h0, c0), params, check)
    return hs, (h_T, c_T), cache


def lstm_backward_fast(dhs, cache, dh_T=None, dc_T=None):
    """Same inputs and outputs as ``lstm_backward``, for the cache of ``lstm_forward_fast``
    (autograd through the fast path's own backward)."""
    dx, (dh0, dc0), dparams = sequence_backward(
        "lstm", dhs, cache, dh_T, dc_T, forward="lstm_forward_fast"
    )
    return dx, dh0, dc0, dparams
