"""Two LSTM variants: peephole connections and coupled input and forget gates.

Peephole LSTM (Gers and Schmidhuber, 2000), with one peephole weight per unit (element-wise), as
Keras and TensorFlow implement it. The gates also look at the cell state: f_t and i_t at C_{t-1},
o_t at the new C_t.

    f_t = σ(W_f · [h_{t-1}, x_t] + p_f * C_{t-1} + b_f)
    i_t = σ(W_i · [h_{t-1}, x_t] + p_i * C_{t-1} + b_i)
    C̃_t = tanh(W_c · [h_{t-1}, x_t] + b_c)
    C_t = f_t * C_{t-1} + i_t * C̃_t
    o_t = σ(W_o · [h_{t-1}, x_t] + p_o * C_t + b_o)
    h_t = o_t * tanh(C_t)

Coupled input and forget gates (CIFG): write exactly as much as is forgotten, i_t = 1 - f_t.

    C_t = f_t * C_{t-1} + (1 - f_t) * C̃_t

Letters: N batch, T steps, D input size, H hidden size; weights (H, H + D), biases and p_* (H,).
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


def _peephole_cell_forward(x_t, h_prev, c_prev, p):
    hx = concat(h_prev, x_t)  # [h_{t-1}, x_t]: (N, H + D)
    f_t = _sigmoid(hx @ p["W_f"].T + p["p_f"] * c_prev + p["b_f"])  # forget gate, peeks at C_{t-1}
    i_t = _sigmoid(hx @ p["W_i"].T + p["p_i"] * c_prev + p["b_i"])  # input gate, peeks at C_{t-1}
    c_tilde = np.tanh(hx @ p["W_c"].T + p["b_c"])  # candidate
    c_t = f_t * c_prev + i_t * c_tilde  # cell update
    o_t = _sigmoid(hx @ p["W_o"].T + p["p_o"] * c_t + p["b_o"])  # output gate, peeks at C_t
    tanh_c = np.tanh(c_t)
    h_t = o_t * tanh_c  # hidden state
    return h_t, c_t, (hx, c_prev, f_t, i_t, c_tilde, c_t, o_t, tanh_c, p)


def _peephole_cell_backward(dh_t, dc_t, cache):
    hx, c_prev, f_t, i_t, c_tilde, c_t, o_t, tanh_c, p = cache
    da_o = dh_t * tanh_c * o_t * (1 - o_t)
    # C_t reaches the loss through c_t itself, through h_t, and through the output gate's peephole
    dc = dc_t + dh_t * o_t * (1 - tanh_c**2) + da_o * p["p_o"]
    da_f = dc * c_prev * f_t * (1 - f_t)
    da_i = dc * c_tilde * i_t * (1 - i_t)
    da_c = dc * i_t * (1 - c_tilde**2)
    dc_prev = dc * f_t + da_f * p["p_f"] + da_i * p["p_i"]
    dh_prev, dx_t, dparams = affine_backward({"f": da_f, "i": da_i, "c": da_c, "o": da_o}, hx, p)
    dparams["p_f"] = (da_f * c_prev).sum(axis=0)
    dparams["p_i"] = (da_i * c_prev).sum(axis=0)
    dparams["p_o"] = (da_o * c_t).sum(axis=0)
    return dx_t, dh_prev, dc_prev, dparams


def _coupled_cell_forward(x_t, h_prev, c_prev, p):
    hx = concat(h_prev, x_t)  # [h_{t-1}, x_t]: (N, H + D)
    f_t = _sigmoid(hx @ p["W_f"].T + p["b_f"])  # forget gate
    c_tilde = np.tanh(hx @ p["W_c"].T + p["b_c"])  # candidate
    c_t = f_t * c_prev + (1 - f_t) * c_tilde  # coupled update: the input gate is 1 - f_t
    o_t = _sigmoid(hx @ p["W_o"].T + p["b_o"])  # output gate
    tanh_c = np.tanh(c_t)
    h_t = o_t * tanh_c  # hidden state
    return h_t, c_t, (hx, c_prev, f_t, c_tilde, o_t, tanh_c, p)


def _coupled_cell_backward(dh_t, dc_t, cache):
    hx, c_prev, f_t, c_tilde, o_t, tanh_c, p = cache
    dc = dc_t + dh_t * o_t * (1 - tanh_c**2)
    da = {
        "f": dc * (c_prev - c_tilde) * f_t * (1 - f_t),
        "c": dc * (1 - f_t) * (1 - c_tilde**2),
        "o": dh_t * tanh_c * o_t * (1 - o_t),
    }
    dh_prev, dx_t, dparams = affine_backward(da, hx, p)
    return dx_t, dh_prev, dc * f_t, dparams


def peephole_cell_forward(x_t, h_prev, c_prev, params):
    """One peephole-LSTM step: x_t (N, D), h_prev, c_prev (N, H) -> h_t, c_t (N, H), cache."""
    return step_forward(
        "peephole", _peephole_cell_forward, x_t, params, h_prev=h_prev, c_prev=c_prev
    )


def peephole_cell_backward(dh_t, dc_t, cache):
    """dh_t, dc_t (N, H) -> dx_t (N, D), dh_prev (N, H), dc_prev (N, H), dparams."""
    return step_backward("peephole", _peephole_cell_backward, cache, dh_t=dh_t, dc_t=dc_t)


def peephole_forward(x, params, h0=None, c0=None):
    """x (N, T, D), h0, c0 (N, H) or None -> hs (N, T, H), (h_T, c_T), cache."""
    return sequence_forward("peephole", _peephole_cell_forward, x, params, h0=h0, c0=c0)


def peephole_backward(dhs, cache, dh_T=None, dc_T=None):
    """dhs (N, T, H), dh_T, dc_T (N, H) or None -> dx, dh0, dc0, dparams."""
    dx, (dh0, dc0), dparams = sequence_backward(
        "peephole", _peephole_cell_backward, dhs, cache, dh_T, dc_T
    )
    return dx, dh0, dc0, dparams


def coupled_cell_forward(x_t, h_prev, c_prev, params):
    """One coupled-gate LSTM step: x_t (N, D), h_prev, c_prev (N, H) -> h_t, c_t, cache."""
    return step_forward("coupled", _coupled_cell_forward, x_t, params, h_prev=h_prev, c_prev=c_prev)


def coupled_cell_backward(dh_t, dc_t, cache):
    """dh_t, dc_t (N, H) -> dx_t (N, D), dh_prev (N, H), dc_prev (N, H), dparams."""
    return step_backward("coupled", _coupled_cell_backward, cache, dh_t=dh_t, dc_t=dc_t)


def coupled_forward(x, params, h0=None, c0=None):
    """x (N, T, D), h0, c0 (N, H) or None -> hs (N, T, H), (h_T, c_T), cache."""
    return sequence_forward("coupled", _coupled_cell_forward, x, params, h0=h0, c0=c0)


def coupled_backward(dhs, cache, dh_T=None, dc_T=None):
    """dhs (N, T, H), dh_T, dc_T (N, H) or None -> dx, dh0, dc0, dparams."""
    dx, (dh0, dc0), dparams = sequence_backward(
        "coupled", _coupled_cell_backward, dhs, cache, dh_T, dc_T
    )
    return dx, dh0, dc0, dparams
