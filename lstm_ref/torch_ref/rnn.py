"""The simple (Elman) RNN cell in PyTorch: the mirror of ``np_ref.rnn``.

    h_t = tanh(W_h · [h_{t-1}, x_t] + b_h)

Letters: N batch, T steps, D input size, H hidden size. W_h (H, H + D), b_h (H,).
This is torch.nn.RNN with nonlinearity='tanh'.
"""

from __future__ import annotations

import torch

from lstm_ref.torch_ref._common import concat, step_backward, step_forward
from lstm_ref.torch_ref.sequence import sequence_backward, sequence_forward


def _rnn_cell_forward(x_t, h_prev, p):
    hx = concat(h_prev, x_t)  # [h_{t-1}, x_t]: (N, H + D)
    h_t = torch.tanh(hx @ p["W_h"].T + p["b_h"])
    return (h_t,)


def rnn_cell_forward(x_t, h_prev, params):
    """One RNN step. x_t (N, D), h_prev (N, H), params W_h (H, H + D), b_h (H,).

    Returns h_t (N, H) and a cache for rnn_cell_backward.
    """
    return step_forward("rnn", _rnn_cell_forward, x_t, params, h_prev=h_prev)


def rnn_cell_backward(dh_t, cache):
    """dh_t (N, H) -> dx_t (N, D), dh_prev (N, H), dparams (keyed like params), by autograd."""
    return step_backward("rnn", cache, dh_t=dh_t)


def rnn_forward(x, params, h0=None):
    """Run the RNN over x (N, T, D) from h0 (N, H), zeros when None.

    Returns hs (N, T, H), h_T (N, H) and a cache for rnn_backward.
    """
    hs, (h_T,), cache = sequence_forward("rnn", _rnn_cell_forward, x, params, h0=h0)
    return hs, h_T, cache


def rnn_backward(dhs, cache, dh_T=None):
    """dhs (N, T, H), dh_T (N, H) or None -> dx (N, T, D), dh0 (N, H), dparams (autograd)."""
    dx, (dh0,), dparams = sequence_backward("rnn", dhs, cache, dh_T)
    return dx, dh0, dparams
