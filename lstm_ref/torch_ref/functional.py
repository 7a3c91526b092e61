"""The cells in PyTorch, gate by gate: the same functions as ``lstm_ref.np_ref``.

Same names, argument order, local names and return values as the NumPy reference; only the array
calls differ (``torch.cat`` for ``np.concatenate``, ``torch.tanh`` for ``np.tanh``). Letters:
N batch, T steps, D input size, H hidden size, K outputs. A step is (N, D), a sequence (N, T, D)
(batch first, like np_ref), states (N, H). Every weight acting on z = [h_{t-1}, x_t] is (H, H + D)
and is applied as ``z @ W.T``. Parameters are dicts keyed like np_ref's (W_f, b_f, ...).

Gradients: every function here is differentiable by autograd. The ``*_backward`` functions exist
so the book can show the NumPy and PyTorch versions side by side; they take the cache a forward
function returned and get the gradients by autograd (``torch.autograd.grad``), recomputing the
forward pass from the cached inputs. They return the same values, in the same order, as np_ref's.

The module classes (``LSTM``, ``GRU`` ...) and the fast path live in ``modules`` and ``fused``.
"""

from __future__ import annotations

import torch

from lstm_ref.specs import LSTM_GATES, PARAM_SPECS
from lstm_ref.torch_ref import fused
from lstm_ref.torch_ref._common import (
    TensorChecker,
    check_sequence,
    check_step,
    concat,
    grads_via_autograd,
    sigmoid,
)

__all__ = [
    "sigmoid",
    "forget_gate",
    "input_gate",
    "candidate",
    "cell_update",
    "output_gate",
    "hidden_state",
    "lstm_cell_forward",
    "lstm_cell_backward",
    "lstm_forward",
    "lstm_backward",
    "lstm_forward_fast",
    "lstm_backward_fast",
    "stack_lstm_params",
    "stack_gates",
    "unstack_gates",
    "predict",
    "rnn_cell_forward",
    "rnn_cell_backward",
    "rnn_forward",
    "rnn_backward",
    "gru_cell_forward",
    "gru_cell_backward",
    "gru_forward",
    "gru_backward",
    "peephole_cell_forward",
    "peephole_cell_backward",
    "peephole_forward",
    "peephole_backward",
    "coupled_cell_forward",
    "coupled_cell_backward",
    "coupled_forward",
    "coupled_backward",
    "linear_forward",
    "linear_backward",
]

# ---------------------------------------------------------------------------------------------
# The gates one at a time.


def _check_gate(h_prev, x_t, W, b, W_name: str, b_name: str):
    check = TensorChecker()
    h_prev = check("h_prev", h_prev, "N", "H")
    x_t = check("x_t", x_t, "N", "D")
    W = check(W_name, W, "H", "H + D")
    b = check(b_name, b, "H")
    return concat(h_prev, x_t), W, b


def forget_gate(h_prev, x_t, W_f, b_f) -> torch.Tensor:
    """f_t = σ(W_f · [h_{t-1}, x_t] + b_f).

    h_prev (N, H), x_t (N, D), W_f (H, H + D), b_f (H,) -> f_t (N, H), every entry in (0, 1).
    """
    z, W_f, b_f = _check_gate(h_prev, x_t, W_f, b_f, "W_f", "b_f")
    return torch.sigmoid(z @ W_f.T + b_f)  # (N, H + D) @ (H + D, H) -> (N, H)


def input_gate(h_prev, x_t, W_i, b_i) -> torch.Tensor:
    """i_t = σ(W_i · [h_{t-1}, x_t] + b_i): how much of each candidate entry to write.

    h_prev (N, H), x_t (N, D), W_i (H, H + D), b_i (H,) -> i_t (N, H).
    """
    z, W_i, b_i = _check_gate(h_prev, x_t, W_i, b_i, "W_i", "b_i")
    return torch.sigmoid(z @ W_i.T + b_i)


def candidate(h_prev, x_t, W_c, b_c) -> torch.Tensor:
    """C̃_t = tanh(W_c · [h_{t-1}, x_t] + b_c): new values, in (-1, 1), that could be written.

    h_prev (N, H), x_t (N, D), W_c (H, H + D), b_c (H,) -> c_tilde (N, H).
    """
    z, W_c, b_c = _check_gate(h_prev, x_t, W_c, b_c, "W_c", "b_c")
    return torch.tanh(z @ W_c.T + b_c)


def output_gate(h_prev, x_t, W_o, b_o) -> torch.Tensor:
    """o_t = σ(W_o · [h_{t-1}, x_t] + b_o): how much of each squashed cell entry to show.

    h_prev (N, H), x_t (N, D), W_o (H, H + D), b_o (H,) -> o_t (N, H).
    """
    z, W_o, b_o = _check_gate(h_prev, x_t, W_o, b_o, "W_o", "b_o")
    return torch.sigmoid(z @ W_o.T + b_o)


def cell_update(f_t, c_prev, i_t, c_tilde) -> torch.Tensor:
    """C_t = f_t * C_{t-1} + i_t * C̃_t. All four tensors and the result are (N, H)."""
    check = TensorChecker()
    f_t = check("f_t", f_t, "N", "H")
    c_prev = check("c_prev", c_prev, "N", "H")
    i_t = check("i_t", i_t, "N", "H")
    c_tilde = check("c_tilde", c_tilde, "N", "H")
    return f_t * c_prev + i_t * c_tilde


def hidden_state(o_t, c_t) -> torch.Tensor:
    """h_t = o_t * tanh(C_t): o_t (N, H), c_t (N, H) -> h_t (N, H)."""
    check = TensorChecker()
    o_t = check("o_t", o_t, "N", "H")
    c_t = check("c_t", c_t, "N", "H")
    return o_t * torch.tanh(c_t)


# ---------------------------------------------------------------------------------------------
# Caches and the backward functions: autograd on the cached inputs.


class _Cache:
    """What a ``*_backward`` function needs: the step or sequence function and its inputs."""

    def __init__(self, fn, inputs: tuple, params: dict, check: TensorChecker, n_out: int):
        self.fn, self.inputs, self.params, self.check, self.n_out = fn, inputs, params, check, n_out


def _backward(cache: _Cache, **grads):
    """Check the upstream gradients (None: zeros), then run autograd through ``cache.fn``."""
    if not isinstance(cache, _Cache):
        raise TypeError(f"cache must be the cache a forward function returned, got {cache!r:.60}")
    check = TensorChecker(**cache.check.dims)
    check.dtype, check.device, check.source = cache.check.dtype, cache.check.device, "the forward"
    upstream = []
    for name, value in grads.items():
        letters = ("N", "T", "H") if name == "dhs" else ("N", "H")
        upstream.append(None if value is None else check(name, value, *letters))
    if all(g is None for g in upstream):  # nothing reaches the loss: every gradient is zero
        zeros = tuple(torch.zeros_like(t) for t in cache.inputs)
        return zeros, {key: torch.zeros_like(value) for key, value in cache.params.items()}
    return grads_via_autograd(cache.fn, cache.inputs, cache.params, tuple(upstream))


# ---------------------------------------------------------------------------------------------
# The LSTM cell and sequence.


def _lstm_cell_forward(x_t, h_prev, c_prev, p):
    z = concat(h_prev, x_t)  # [h_{t-1}, x_t]: (N, H + D)
    f_t = torch.sigmoid(z @ p["W_f"].T + p["b_f"])  # forget gate
    i_t = torch.sigmoid(z @ p["W_i"].T + p["b_i"])  # input gate
    c_tilde = torch.tanh(z @ p["W_c"].T + p["b_c"])  # candidate C̃_t
    c_t = f_t * c_prev + i_t * c_tilde  # cell update
    o_t = torch.sigmoid(z @ p["W_o"].T + p["b_o"])  # output gate
    h_t = o_t * torch.tanh(c_t)  # hidden state
    return h_t, c_t


def lstm_cell_forward(x_t, h_prev, c_prev, params):
    """One LSTM step.

    x_t (N, D), h_prev (N, H), c_prev (N, H), params: W_f, W_i, W_c, W_o (H, H + D) and
    b_f, b_i, b_c, b_o (H,). Returns h_t (N, H), c_t (N, H) and a cache for lstm_cell_backward.
    """
    check, x_t, params, (h_prev, c_prev) = check_step(
        "lstm", x_t, params, h_prev=h_prev, c_prev=c_prev
    )
    h_t, c_t = _lstm_cell_forward(x_t, h_prev, c_prev, params)
    return h_t, c_t, _Cache(_lstm_cell_forward, (x_t, h_prev, c_prev), params, check, 2)


def lstm_cell_backward(dh_t, dc_t, cache):
    """Gradients of one LSTM step, by autograd.

    dh_t (N, H), dc_t (N, H): the loss's gradients with respect to h_t and c_t (None: zeros).
    Returns dx_t (N, D), dh_prev (N, H), dc_prev (N, H) and dparams (keyed like params).
    """
    (dx_t, dh_prev, dc_prev), dparams = _backward(cache, dh_t=dh_t, dc_t=dc_t)
    return dx_t, dh_prev, dc_prev, dparams


def _run(cell_forward, x, state0: tuple, params: dict):
    """Unroll ``cell_forward(x_t, *state, params) -> state`` over the T steps of x (N, T, D).

    Returns (hs (N, T, H), *final state).
    """
    state = state0
    hs = []
    for t in range(x.shape[1]):
        state = cell_forward(x[:, t], *state, params)
        hs.append(state[0])
    return (torch.stack(hs, dim=1), *state)  # T tensors (N, H) -> (N, T, H)


def _lstm_sequence(x, h0, c0, params):
    return _run(_lstm_cell_forward, x, (h0, c0), params)


def lstm_forward(x, params, h0=None, c0=None):
    """Run the LSTM over a sequence, one readable step at a time.

    x (N, T, D); params as for lstm_cell_forward; h0, c0 (N, H), zeros when None.
    Returns hs (N, T, H), every hidden state; (h_T, c_T), the final states; and a cache.
    """
    check, x, params, (h0, c0) = check_sequence("lstm", x, params, h0=h0, c0=c0)
    hs, h_T, c_T = _lstm_sequence(x, h0, c0, params)
    return hs, (h_T, c_T), _Cache(_lstm_sequence, (x, h0, c0), params, check, 3)


def lstm_backward(dhs, cache, dh_T=None, dc_T=None):
    """Backpropagation through time for lstm_forward (by autograd).

    dhs (N, T, H); dh_T, dc_T (N, H), zeros when None.
    Returns dx (N, T, D), dh0 (N, H), dc0 (N, H), dparams.
    """
    (dx, dh0, dc0), dparams = _backward(cache, dhs=dhs, dh_T=dh_T, dc_T=dc_T)
    return dx, dh0, dc0, dparams


# ---------------------------------------------------------------------------------------------
# The plain RNN: h_t = tanh(W_h · [h_{t-1}, x_t] + b_h).


def _rnn_cell_forward(x_t, h_prev, p):
    z = concat(h_prev, x_t)  # (N, H + D)
    h_t = torch.tanh(z @ p["W_h"].T + p["b_h"])  # (N, H)
    return (h_t,)


def rnn_cell_forward(x_t, h_prev, params):
    """One RNN step: x_t (N, D), h_prev (N, H), params W_h (H, H + D), b_h (H,).

    Returns h_t (N, H) and a cache for rnn_cell_backward.
    """
    check, x_t, params, (h_prev,) = check_step("rnn", x_t, params, h_prev=h_prev)
    (h_t,) = _rnn_cell_forward(x_t, h_prev, params)
    return h_t, _Cache(_rnn_cell_forward, (x_t, h_prev), params, check, 1)


def rnn_cell_backward(dh_t, cache):
    """Gradients of one RNN step, by autograd: returns dx_t (N, D), dh_prev (N, H), dparams."""
    (dx_t, dh_prev), dparams = _backward(cache, dh_t=dh_t)
    return dx_t, dh_prev, dparams


def _rnn_sequence(x, h0, params):
    return _run(_rnn_cell_forward, x, (h0,), params)


def rnn_forward(x, params, h0=None):
    """Run the RNN over x (N, T, D); h0 (N, H), zeros when None.

    Returns hs (N, T, H), h_T (N, H) and a cache.
    """
    check, x, params, (h0,) = check_sequence("rnn", x, params, h0=h0)
    hs, h_T = _rnn_sequence(x, h0, params)
    return hs, h_T, _Cache(_rnn_sequence, (x, h0), params, check, 2)


def rnn_backward(dhs, cache, dh_T=None):
    """BPTT for rnn_forward (by autograd): returns dx (N, T, D), dh0 (N, H), dparams."""
    (dx, dh0), dparams = _backward(cache, dhs=dhs, dh_T=dh_T)
    return dx, dh0, dparams


# ---------------------------------------------------------------------------------------------
# The GRU, with PyTorch's equations (gate order r, z, n).


def _gru_cell_forward(x_t, h_prev, p):
    z = concat(h_prev, x_t)  # (N, H + D)
    r_t = torch.sigmoid(z @ p["W_r"].T + p["b_r"])  # reset gate
    z_t = torch.sigmoid(z @ p["W_z"].T + p["b_z"])  # update gate
    n_t = torch.tanh(
        x_t @ p["W_xn"].T + p["b_xn"] + r_t * (h_prev @ p["W_hn"].T + p["b_hn"])
    )  # new gate: r_t scales only the hidden part
    h_t = (1 - z_t) * n_t + z_t * h_prev  # interpolate between new and old
    return (h_t,)


def gru_cell_forward(x_t, h_prev, params):
    """One GRU step: x_t (N, D), h_prev (N, H); params W_r, W_z (H, H + D), b_r, b_z (H,),
    W_xn (H, D), b_xn (H,), W_hn (H, H), b_hn (H,). Returns h_t (N, H) and a cache."""
    check, x_t, params, (h_prev,) = check_step("gru", x_t, params, h_prev=h_prev)
    (h_t,) = _gru_cell_forward(x_t, h_prev, params)
    return h_t, _Cache(_gru_cell_forward, (x_t, h_prev), params, check, 1)


def gru_cell_backward(dh_t, cache):
    """Gradients of one GRU step, by autograd: returns dx_t (N, D), dh_prev (N, H), dparams."""
    (dx_t, dh_prev), dparams = _backward(cache, dh_t=dh_t)
    return dx_t, dh_prev, dparams


def _gru_sequence(x, h0, params):
    return _run(_gru_cell_forward, x, (h0,), params)


def gru_forward(x, params, h0=None):
    """Run the GRU over x (N, T, D); returns hs (N, T, H), h_T (N, H) and a cache."""
    check, x, params, (h0,) = check_sequence("gru", x, params, h0=h0)
    hs, h_T = _gru_sequence(x, h0, params)
    return hs, h_T, _Cache(_gru_sequence, (x, h0), params, check, 2)


def gru_backward(dhs, cache, dh_T=None):
    """BPTT for gru_forward (by autograd): returns dx (N, T, D), dh0 (N, H), dparams."""
    (dx, dh0), dparams = _backward(cache, dhs=dhs, dh_T=dh_T)
    return dx, dh0, dparams


# ---------------------------------------------------------------------------------------------
# The peephole LSTM: the gates also look at the cell state.


def _peephole_cell_forward(x_t, h_prev, c_prev, p):
    z = concat(h_prev, x_t)  # (N, H + D)
    f_t = torch.sigmoid(z @ p["W_f"].T + p["p_f"] * c_prev + p["b_f"])  # forget gate
    i_t = torch.sigmoid(z @ p["W_i"].T + p["p_i"] * c_prev + p["b_i"])  # input gate
    c_tilde = torch.tanh(z @ p["W_c"].T + p["b_c"])  # candidate
    c_t = f_t * c_prev + i_t * c_tilde  # cell update
    o_t = torch.sigmoid(z @ p["W_o"].T + p["p_o"] * c_t + p["b_o"])  # output gate sees C_t
    h_t = o_t * torch.tanh(c_t)  # hidden state
    return h_t, c_t


def peephole_cell_forward(x_t, h_prev, c_prev, params):
    """One peephole-LSTM step; params as the LSTM's plus p_f, p_i, p_o (H,).

    Returns h_t (N, H), c_t (N, H) and a cache.
    """
    check, x_t, params, (h_prev, c_prev) = check_step(
        "peephole", x_t, params, h_prev=h_prev, c_prev=c_prev
    )
    h_t, c_t = _peephole_cell_forward(x_t, h_prev, c_prev, params)
    return h_t, c_t, _Cache(_peephole_cell_forward, (x_t, h_prev, c_prev), params, check, 2)


def peephole_cell_backward(dh_t, dc_t, cache):
    """Gradients of one peephole step (autograd): dx_t, dh_prev, dc_prev, dparams."""
    (dx_t, dh_prev, dc_prev), dparams = _backward(cache, dh_t=dh_t, dc_t=dc_t)
    return dx_t, dh_prev, dc_prev, dparams


def _peephole_sequence(x, h0, c0, params):
    return _run(_peephole_cell_forward, x, (h0, c0), params)


def peephole_forward(x, params, h0=None, c0=None):
    """Run the peephole LSTM over x (N, T, D): returns hs (N, T, H), (h_T, c_T), cache."""
    check, x, params, (h0, c0) = check_sequence("peephole", x, params, h0=h0, c0=c0)
    hs, h_T, c_T = _peephole_sequence(x, h0, c0, params)
    return hs, (h_T, c_T), _Cache(_peephole_sequence, (x, h0, c0), params, check, 3)


def peephole_backward(dhs, cache, dh_T=None, dc_T=None):
    """BPTT for peephole_forward (by autograd): returns dx, dh0, dc0, dparams."""
    (dx, dh0, dc0), dparams = _backward(cache, dhs=dhs, dh_T=dh_T, dc_T=dc_T)
    return dx, dh0, dc0, dparams


# ---------------------------------------------------------------------------------------------
# The coupled-gate LSTM: what is forgotten is replaced, i_t = 1 - f_t.


def _coupled_cell_forward(x_t, h_prev, c_prev, p):
    z = concat(h_prev, x_t)  # (N, H + D)
    f_t = torch.sigmoid(z @ p["W_f"].T + p["b_f"])  # forget gate
    c_tilde = torch.tanh(z @ p["W_c"].T + p["b_c"])  # candidate
    c_t = f_t * c_prev + (1 - f_t) * c_tilde  # cell update with the coupled input gate
    o_t = torch.sigmoid(z @ p["W_o"].T + p["b_o"])  # output gate
    h_t = o_t * torch.tanh(c_t)  # hidden state
    return h_t, c_t


def coupled_cell_forward(x_t, h_prev, c_prev, params):
    """One coupled-gate LSTM step; params W_f, W_c, W_o (H, H + D), b_f, b_c, b_o (H,).

    Returns h_t (N, H), c_t (N, H) and a cache.
    """
    check, x_t, params, (h_prev, c_prev) = check_step(
        "coupled", x_t, params, h_prev=h_prev, c_prev=c_prev
    )
    h_t, c_t = _coupled_cell_forward(x_t, h_prev, c_prev, params)
    return h_t, c_t, _Cache(_coupled_cell_forward, (x_t, h_prev, c_prev), params, check, 2)


def coupled_cell_backward(dh_t, dc_t, cache):
    """Gradients of one coupled step (autograd): dx_t, dh_prev, dc_prev, dparams."""
    (dx_t, dh_prev, dc_prev), dparams = _backward(cache, dh_t=dh_t, dc_t=dc_t)
    return dx_t, dh_prev, dc_prev, dparams


def _coupled_sequence(x, h0, c0, params):
    return _run(_coupled_cell_forward, x, (h0, c0), params)


def coupled_forward(x, params, h0=None, c0=None):
    """Run the coupled-gate LSTM over x (N, T, D): returns hs (N, T, H), (h_T, c_T), cache."""
    check, x, params, (h0, c0) = check_sequence("coupled", x, params, h0=h0, c0=c0)
    hs, h_T, c_T = _coupled_sequence(x, h0, c0, params)
    return hs, (h_T, c_T), _Cache(_coupled_sequence, (x, h0, c0), params, check, 3)


def coupled_backward(dhs, cache, dh_T=None, dc_T=None):
    """BPTT for coupled_forward (by autograd): returns dx, dh0, dc0, dparams."""
    (dx, dh0, dc0), dparams = _backward(cache, dhs=dhs, dh_T=dh_T, dc_T=dc_T)
    return dx, dh0, dc0, dparams


# ---------------------------------------------------------------------------------------------
# The linear head: y = h · W_y^T + b_y.


def _linear(h, p):
    return (h @ p["W_y"].T + p["b_y"],)  # (N, H) @ (H, K) -> (N, K)


def linear_forward(h, W_y, b_y):
    """y = h W_y^T + b_y: h (N, H), W_y (K, H), b_y (K,) -> y (N, K), and a cache."""
    check = TensorChecker()
    h = check("h", h, "N", "H")
    params = check.params("params", {"W_y": W_y, "b_y": b_y}, PARAM_SPECS["linear"])
    (y,) = _linear(h, params)
    return y, _Cache(_linear, (h,), params, check, 1)


def predict(hs, W_y, b_y) -> torch.Tensor:
    """The prediction after the last step: the head applied to h_T = hs[:, -1]. hs (N, T, H)."""
    return linear_forward(hs[:, -1], W_y, b_y)[0]


def linear_backward(dy, cache):
    """Gradients of linear_forward (by autograd): dy (N, K) -> dh (N, H), dW_y (K, H), db_y (K,)."""
    check = TensorChecker(**cache.check.dims)
    check.dtype, check.device, check.source = cache.check.dtype, cache.check.device, "the forward"
    dy = check("dy", dy, "N", "K")
    (dh,), dparams = grads_via_autograd(cache.fn, cache.inputs, cache.params, (dy,))
    return dh, dparams["W_y"], dparams["b_y"]


# ---------------------------------------------------------------------------------------------
# The fast path of the LSTM (see ``fused``): same signatures as lstm_forward / lstm_backward.


def stack_gates(params: dict):
    """W (4H, H + D) and b (4H,): the four gates' weights stacked in the order i, f, g, o."""
    W = torch.cat([params[f"W_{gate}"] for gate in LSTM_GATES])
    b = torch.cat([params[f"b_{gate}"] for gate in LSTM_GATES])
    return W, b


def unstack_gates(W, b) -> dict:
    """The inverse of stack_gates: a params dict keyed W_f, b_f, ..."""
    W_parts, b_parts = W.chunk(len(LSTM_GATES)), b.chunk(len(LSTM_GATES))
    params = {}
    for gate, W_gate, b_gate in zip(LSTM_GATES, W_parts, b_parts, strict=True):
        params[f"W_{gate}"], params[f"b_{gate}"] = W_gate, b_gate
    return params


def stack_lstm_params(params: dict):
    """np_ref's LSTM dict -> PyTorch's stacked layout (gates i, f, g, o).

    Returns w_ih (4H, D), w_hh (4H, H) and bias (4H,); each W is (H, H + D) on [h_{t-1}, x_t],
    so its first H columns act on h_{t-1} and the rest on x_t. Differentiable.
    """
    H = params["W_f"].shape[0]
    W, bias = stack_gates(params)  # (4H, H + D), (4H,)
    return W[:, H:], W[:, :H], bias


def _lstm_sequence_fast(x, h0, c0, params):
    w_ih, w_hh, bias = stack_lstm_params(params)
    hs, h_T, c_T = fused.lstm_layer(x.transpose(0, 1).contiguous(), h0, c0, w_ih, w_hh, bias)
    return hs.transpose(0, 1), h_T, c_T  # (T, N, H) -> (N, T, H)


def lstm_forward_fast(x, params, h0=None, c0=None):
    """lstm_forward on the fast path: one input product for all steps, one product per step,
    fused gate arithmetic, hand-written backward. Same arguments and return values."""
    check, x, params, (h0, c0) = check_sequence("lstm", x, params, h0=h0, c0=c0)
    hs, h_T, c_T = _lstm_sequence_fast(x, h0, c0, params)
    return hs, (h_T, c_T), _Cache(_lstm_sequence_fast, (x, h0, c0), params, check, 3)


def lstm_backward_fast(dhs, cache, dh_T=None, dc_T=None):
    """lstm_backward for lstm_forward_fast (autograd through the fast path's own backward)."""
    return lstm_backward(dhs, cache, dh_T=dh_T, dc_T=dc_T)
