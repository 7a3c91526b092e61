"""The simple (Elman) RNN cell: one tanh layer, the cell an LSTM contains.

    h_t = tanh(W_h · [h_{t-1}, x_t] + b_h)

Letters: N batch, T steps, D input size, H hidden size. W_h (H, H + D), b_h (H,).
This is torch.nn.RNN with nonlinearity='tanh'.
"""

from __future__ import annotations

import numpy as np

from lstm_ref.np_ref._common import affine_backward, concat, step_backward, step_forward
from lstm_ref.np_ref.sequence import sequence_backward, sequence_forward


def _rnn_cell_forward(x_t, h_prev, p):
    hx = concat(h_prev, x_t)  # [h_{t-1}, x_t]: (N, H + D)
    h_t = np.tanh(hx @ p["W_h"].T + p["b_h"])
    return h_t, (hx, h_t, p)


def _rnn_cell_backward(dh_t, cache):
    hx, h_t, p = cache
    da = {"h": dh_t * (1 - h_t**2)}  # tanh' = 1 - tanh²
    dh_prev, dx_t, dparams = affine_backward(da, hx, p)
    return dx_t, dh_prev, dparams


def rnn_cell_forward(x_t, h_prev, params):
    """One RNN step. x_t (N, D), h_prev (N, H), params W_h (H, H + D), b_h (H,).

    Returns h_t (N, H) and a cache for rnn_cell_backward.
    """
    return step_forward("rnn", _rnn_cell_forward, x_t, params, h_prev=h_prev)


def rnn_cell_backward(dh_t, cache):
    """dh_t (N, H) -> dx_t (N, D), dh_prev (N, H), dparams (keyed like params)."""
    return step_backward("rnn", _rnn_cell_backward, cache, dh_t=dh_t)


def rnn_forward(x, params, h0=None):
    """Run the RNN over x (N, T, D) from h0 (N, H), zeros when None.

    Returns hs (N, T, H), h_T (N, H) and a cache for rnn_backward.
    """
    hs, (h_T,), cache = sequence_forward("rnn", _rnn_cell_forward, x, params, h0=h0)
    return hs, h_T, cache


def rnn_backward(dhs, cache, dh_T=None):
    """dhs (N, T, H), dh_T (N, H) or None -> dx (N, T, D), dh0 (N, H), dparams."""
    dx, (dh0,), dparams = sequence_backward("rnn", _rnn_cell_backward, dhs, cache, dh_T)
    return dx, dh0, dparams
