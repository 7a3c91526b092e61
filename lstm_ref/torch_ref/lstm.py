"""The LSTM in PyTorch, gate by gate: the mirror of ``np_ref.lstm``.

Same names, argument order, local names and return values as the NumPy reference; only the array
calls differ (``torch.cat`` for ``np.concatenate``, ``torch.tanh`` for ``np.tanh``). Letters:
N batch, T steps, D input size, H hidden size. A step is (N, D), a sequence (N, T, D) (batch
first, like np_ref), states (N, H). Every weight is (H, H + D) and acts on hx = [h_{t-1}, x_t]
as ``hx @ W.T``. The ``*_backward`` functions get their gradients by autograd on the cached
inputs, so the book can show the two versions side by side.

    f_t = σ(W_f · [h_{t-1}, x_t] + b_f)          forget gate
    i_t = σ(W_i · [h_{t-1}, x_t] + b_i)          input gate
    C̃_t = tanh(W_c · [h_{t-1}, x_t] + b_c)       candidate
    C_t = f_t * C_{t-1} + i_t * C̃_t              cell update
    o_t = σ(W_o · [h_{t-1}, x_t] + b_o)          output gate
    h_t = o_t * tanh(C_t)                         hidden state

The fast path of the same maths is in ``lstm_fast``.
"""

from __future__ import annotations

import torch

from lstm_ref._checks import TensorChecker
from lstm_ref.torch_ref._common import concat, step_backward, step_forward
from lstm_ref.torch_ref.sequence import sequence_backward, sequence_forward

# ---------------------------------------------------------------------------------------------
# The gates one at a time.


def _check_gate(h_prev, x_t, W, b, W_name: str, b_name: str):
    check = TensorChecker()
    h_prev = check("h_prev", h_prev, "N", "H")
    x_t = check("x_t", x_t, "N", "D")
    W = check(W_name, W, "H", "H + D")
    b = check(b_name, b, "H")
    return concat(h_prev, x_t), W, b  # [h_{t-1}, x_t]: (N, H + D)


def forget_gate(h_prev, x_t, W_f, b_f) -> torch.Tensor:
    """f_t = σ(W_f · [h_{t-1}, x_t] + b_f).

    h_prev (N, H), x_t (N, D), W_f (H, H + D), b_f (H,) -> f_t (N, H), every entry in (0, 1).
    """
    hx, W_f, b_f = _check_gate(h_prev, x_t, W_f, b_f, "W_f", "b_f")
    return torch.sigmoid(hx @ W_f.T + b_f)  # (N, H + D) @ (H + D, H) -> (N, H)


def input_gate(h_prev, x_t, W_i, b_i) -> torch.Tensor:
    """i_t = σ(W_i · [h_{t-1}, x_t] + b_i): how much of each candidate entry to write.

    h_prev (N, H), x_t (N, D), W_i (H, H + D), b_i (H,) -> i_t (N, H).
    """
    hx, W_i, b_i = _check_gate(h_prev, x_t, W_i, b_i, "W_i", "b_i")
    return torch.sigmoid(hx @ W_i.T + b_i)


def candidate(h_prev, x_t, W_c, b_c) -> torch.Tensor:
    """C̃_t = tanh(W_c · [h_{t-1}, x_t] + b_c): new values, in (-1, 1), that could be written.

    h_prev (N, H), x_t (N, D), W_c (H, H + D), b_c (H,) -> c_tilde (N, H).
    """
    hx, W_c, b_c = _check_gate(h_prev, x_t, W_c, b_c, "W_c", "b_c")
    return torch.tanh(hx @ W_c.T + b_c)


def output_gate(h_prev, x_t, W_o, b_o) -> torch.Tensor:
    """o_t = σ(W_o · [h_{t-1}, x_t] + b_o): how much of each squashed cell entry to show.

    h_prev (N, H), x_t (N, D), W_o (H, H + D), b_o (H,) -> o_t (N, H).
    """
    hx, W_o, b_o = _check_gate(h_prev, x_t, W_o, b_o, "W_o", "b_o")
    return torch.sigmoid(hx @ W_o.T + b_o)


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
# One cell: forward returns what backward needs.


def _lstm_cell_forward(x_t, h_prev, c_prev, p):
    hx = concat(h_prev, x_t)  # [h_{t-1}, x_t]: (N, H + D)
    f_t = torch.sigmoid(hx @ p["W_f"].T + p["b_f"])  # forget gate
    i_t = torch.sigmoid(hx @ p["W_i"].T + p["b_i"])  # input gate
    c_tilde = torch.tanh(hx @ p["W_c"].T + p["b_c"])  # candidate C̃_t
    c_t = f_t * c_prev + i_t * c_tilde  # cell update
    o_t = torch.sigmoid(hx @ p["W_o"].T + p["b_o"])  # output gate
    tanh_c = torch.tanh(c_t)
    h_t = o_t * tanh_c  # hidden state
    return h_t, c_t


def lstm_cell_forward(x_t, h_prev, c_prev, params):
    """One LSTM step.

    x_t (N, D), h_prev (N, H), c_prev (N, H), params: W_f, W_i, W_c, W_o (H, H + D) and
    b_f, b_i, b_c, b_o (H,). Returns h_t (N, H), c_t (N, H) and a cache for lstm_cell_backward.
    """
    return step_forward("lstm", _lstm_cell_forward, x_t, params, h_prev=h_prev, c_prev=c_prev)


def lstm_cell_backward(dh_t, dc_t, cache):
    """Gradients of one LSTM step, by autograd.

    dh_t (N, H), dc_t (N, H): the loss's gradients with respect to h_t and c_t (None: zeros).
    Returns dx_t (N, D), dh_prev (N, H), dc_prev (N, H) and dparams (keyed like params).
    """
    return step_backward("lstm", cache, dh_t=dh_t, dc_t=dc_t)


# ---------------------------------------------------------------------------------------------
# A whole sequence, one readable step at a time.


def lstm_forward(x, params, h0=None, c0=None):
    """Run the LSTM over a sequence.

    x (N, T, D); params as for lstm_cell_forward; h0, c0 (N, H), zeros when None.
    Returns hs (N, T, H), every hidden state; (h_T, c_T), the final states; and a cache.
    """
    hs, (h_T, c_T), cache = sequence_forward("lstm", _lstm_cell_forward, x, params, h0=h0, c0=c0)
    return hs, (h_T, c_T), cache


def lstm_backward(dhs, cache, dh_T=None, dc_T=None):
    """Backpropagation through time for lstm_forward (by autograd).

    dhs (N, T, H); dh_T, dc_T (N, H), zeros when None.
    Returns dx (N, T, D), dh0 (N, H), dc0 (N, H), dparams.
    """
    dx, (dh0, dc0), dparams = sequence_backward("lstm", dhs, cache, dh_T, dc_T)
    return dx, dh0, dc0, dparams
