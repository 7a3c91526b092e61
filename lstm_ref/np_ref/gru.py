"""The gated recurrent unit (GRU), with PyTorch's equations (its gates in specs.GATE_ORDER).

    r_t = σ(W_r · [h_{t-1}, x_t] + b_r)                       reset gate
    z_t = σ(W_z · [h_{t-1}, x_t] + b_z)                       update gate
    n_t = tanh(W_xn x_t + b_xn + r_t * (W_hn h_{t-1} + b_hn))  new gate (candidate)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

The reset gate multiplies only the hidden part of n_t, so that part keeps its own weight and bias.
Letters: N batch, T steps, D input size, H hidden size. W_r, W_z (H, H + D); W_xn (H, D);
W_hn (H, H); every bias (H,).
"""

from __future__ import annotations

import numpy as np

from lstm_ref.np_ref._common import (
    _sigmoid,
    affine_backward,
    concat,
    step_backward,
    step_forward,
)
from lstm_ref.np_ref.sequence import sequence_backward, sequence_forward


def _gru_cell_forward(x_t, h_prev, p):
    hx = concat(h_prev, x_t)  # [h_{t-1}, x_t]: (N, H + D)
    r_t = _sigmoid(hx @ p["W_r"].T + p["b_r"])  # reset gate
    z_t = _sigmoid(hx @ p["W_z"].T + p["b_z"])  # update gate
    hn = h_prev @ p["W_hn"].T + p["b_hn"]  # hidden part of the new gate
    n_t = np.tanh(x_t @ p["W_xn"].T + p["b_xn"] + r_t * hn)  # new gate
    h_t = (1 - z_t) * n_t + z_t * h_prev  # interpolate between new and old
    return h_t, (hx, x_t, h_prev, r_t, z_t, hn, n_t, p)


def _gru_cell_backward(dh_t, cache):
    hx, x_t, h_prev, r_t, z_t, hn, n_t, p = cache
    # h_t = (1 - z_t) * n_t + z_t * h_{t-1}
    dn_t = dh_t * (1 - z_t)
    dz_t = dh_t * (h_prev - n_t)
    dh_prev = dh_t * z_t
    # n_t = tanh(a_xn + r_t * hn)
    da_n = dn_t * (1 - n_t**2)
    dr_t = da_n * hn
    dhn = da_n * r_t
    da = {"r": dr_t * r_t * (1 - r_t), "z": dz_t * z_t * (1 - z_t)}
    dh_from_gates, dx_t, dparams = affine_backward(da, hx, p)
    dparams["W_xn"] = da_n.T @ x_t  # (H, N) @ (N, D) -> (H, D)
    dparams["b_xn"] = da_n.sum(axis=0)
    dparams["W_hn"] = dhn.T @ h_prev  # (H, N) @ (N, H) -> (H, H)
    dparams["b_hn"] = dhn.sum(axis=0)
    dx_t = dx_t + da_n @ p["W_xn"]
    dh_prev = dh_prev + dh_from_gates + dhn @ p["W_hn"]
    return dx_t, dh_prev, dparams


def gru_cell_forward(x_t, h_prev, params):
    """One GRU step. x_t (N, D), h_prev (N, H), params as in the module docstring.

    Returns h_t (N, H) and a cache for gru_cell_backward.
    """
    return step_forward("gru", _gru_cell_forward, x_t, params, h_prev=h_prev)


def gru_cell_backward(dh_t, cache):
    """dh_t (N, H) -> dx_t (N, D), dh_prev (N, H), dparams (keyed like params)."""
    return step_backward("gru", _gru_cell_backward, cache, dh_t=dh_t)


def gru_forward(x, params, h0=None):
    """Run the GRU over x (N, T, D) from h0 (N, H), zeros when None.

    Returns hs (N, T, H), h_T (N, H) and a cache for gru_backward.
    """
    hs, (h_T,), cache = sequence_forward("gru", _gru_cell_forward, x, params, h0=h0)
    return hs, h_T, cache


def gru_backward(dhs, cache, dh_T=None):
    """dhs (N, T, H), dh_T (N, H) or None -> dx (N, T, D), dh0 (N, H), dparams."""
    dx, (dh0,), dparams = sequence_backward("gru", _gru_cell_backward, dhs, cache, dh_T)
    return dx, dh0, dparams
