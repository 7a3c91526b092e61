"""The gated recurrent unit (GRU) in PyTorch: the mirror of ``np_ref.gru``, and the stacked step
that ``torch_ref.GRU`` runs.

    r_t = σ(W_r · [h_{t-1}, x_t] + b_r)                       reset gate
    z_t = σ(W_z · [h_{t-1}, x_t] + b_z)                       update gate
    n_t = tanh(W_xn x_t + b_xn + r_t * (W_hn h_{t-1} + b_hn))  new gate (candidate)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Letters: N batch, T steps, D input size, H hidden size. W_r, W_z (H, H + D); W_xn (H, D);
W_hn (H, H); every bias (H,).
"""

from __future__ import annotations

import torch

from lstm_ref.specs import gate_rows
from lstm_ref.torch_ref._common import concat, step_backward, step_forward
from lstm_ref.torch_ref.sequence import sequence_backward, sequence_forward


def _gru_cell_forward(x_t, h_prev, p):
    hx = concat(h_prev, x_t)  # [h_{t-1}, x_t]: (N, H + D)
    r_t = torch.sigmoid(hx @ p["W_r"].T + p["b_r"])  # reset gate
    z_t = torch.sigmoid(hx @ p["W_z"].T + p["b_z"])  # update gate
    hn = h_prev @ p["W_hn"].T + p["b_hn"]  # hidden part of the new gate
    n_t = torch.tanh(x_t @ p["W_xn"].T + p["b_xn"] + r_t * hn)  # new gate
    h_t = (1 - z_t) * n_t + z_t * h_prev  # interpolate between new and old
    return (h_t,)


def gru_step(gi, gh, h_prev):
    """The same step in torch.nn's stacked layout: gi = W_ih x_t + b_ih, gh = W_hh h + b_hh,
    both (N, 3H) in the order of ``specs.GATE_ORDER["gru"]``. Returns (h_t,)."""
    rows = gate_rows("gru", h_prev.shape[1])
    r_t = torch.sigmoid(gi[:, rows["r"]] + gh[:, rows["r"]])  # reset gate
    z_t = torch.sigmoid(gi[:, rows["z"]] + gh[:, rows["z"]])  # update gate
    n_t = torch.tanh(gi[:, rows["n"]] + r_t * gh[:, rows["n"]])  # r_t scales the hidden part
    h_t = (1 - z_t) * n_t + z_t * h_prev
    return (h_t,)


def gru_cell_forward(x_t, h_prev, params):
    """One GRU step. x_t (N, D), h_prev (N, H), params as in the module docstring.

    Returns h_t (N, H) and a cache for gru_cell_backward.
    """
    return step_forward("gru", _gru_cell_forward, x_t, params, h_prev=h_prev)


def gru_cell_backward(dh_t, cache):
    """dh_t (N, H) -> dx_t (N, D), dh_prev (N, H), dparams (keyed like params), by autograd."""
    return step_backward("gru", cache, dh_t=dh_t)


def gru_forward(x, params, h0=None):
    """Run the GRU over x (N, T, D) from h0 (N, H), zeros when None.

    Returns hs (N, T, H), h_T (N, H) and a cache for gru_backward.
    """
    hs, (h_T,), cache = sequence_forward("gru", _gru_cell_forward, x, params, h0=h0)
    return hs, h_T, cache


def gru_backward(dhs, cache, dh_T=None):
    """dhs (N, T, H), dh_T (N, H) or None -> dx (N, T, D), dh0 (N, H), dparams (autograd)."""
    dx, (dh0,), dparams = sequence_backward("gru", dhs, cache, dh_T)
    return dx, dh0, dparams
