"""Two LSTM variants in PyTorch, peephole connections and coupled input and forget gates: the
mirror of ``np_ref.variants``, and the stacked steps that ``PeepholeLSTM`` and ``CoupledLSTM`` run.

    f_t = σ(W_f · [h_{t-1}, x_t] + p_f * C_{t-1} + b_f)        peephole: the gates see the cell
    i_t = σ(W_i · [h_{t-1}, x_t] + p_i * C_{t-1} + b_i)
    o_t = σ(W_o · [h_{t-1}, x_t] + p_o * C_t + b_o)
    C_t = f_t * C_{t-1} + (1 - f_t) * C̃_t                      coupled: i_t = 1 - f_t

Letters: N batch, T steps, D input size, H hidden size; weights (H, H + D), biases and p_* (H,).
"""

from __future__ import annotations

import torch

from lstm_ref.specs import PEEPHOLE_ORDER, gate_rows
from lstm_ref.torch_ref._common import concat, step_backward, step_forward
from lstm_ref.torch_ref.sequence import sequence_backward, sequence_forward


def _peephole_cell_forward(x_t, h_prev, c_prev, p):
    hx = concat(h_prev, x_t)  # [h_{t-1}, x_t]: (N, H + D)
    f_t = torch.sigmoid(hx @ p["W_f"].T + p["p_f"] * c_prev + p["b_f"])  # forget gate, sees C_{t-1}
    i_t = torch.sigmoid(hx @ p["W_i"].T + p["p_i"] * c_prev + p["b_i"])  # input gate, sees C_{t-1}
    c_tilde = torch.tanh(hx @ p["W_c"].T + p["b_c"])  # candidate
    c_t = f_t * c_prev + i_t * c_tilde  # cell update
    o_t = torch.sigmoid(hx @ p["W_o"].T + p["p_o"] * c_t + p["b_o"])  # output gate, sees C_t
    tanh_c = torch.tanh(c_t)
    h_t = o_t * tanh_c  # hidden state
    return h_t, c_t


def _coupled_cell_forward(x_t, h_prev, c_prev, p):
    hx = concat(h_prev, x_t)  # [h_{t-1}, x_t]: (N, H + D)
    f_t = torch.sigmoid(hx @ p["W_f"].T + p["b_f"])  # forget gate
    c_tilde = torch.tanh(hx @ p["W_c"].T + p["b_c"])  # candidate
    c_t = f_t * c_prev + (1 - f_t) * c_tilde  # coupled update: the input gate is 1 - f_t
    o_t = torch.sigmoid(hx @ p["W_o"].T + p["b_o"])  # output gate
    tanh_c = torch.tanh(c_t)
    h_t = o_t * tanh_c  # hidden state
    return h_t, c_t


# The same steps in torch.nn's stacked layout: gi = W_ih x_t + b_ih, gh = W_hh h_{t-1} + b_hh,
# (N, G·H) in the order of specs.GATE_ORDER; the peephole weights stacked as PEEPHOLE_ORDER.


def peephole_step(gi, gh, h_prev, c_prev, weight_peephole):
    """One peephole step from gi, gh (N, 4H) and weight_peephole (3H,); returns h_t, c_t."""
    rows, a = gate_rows("peephole", c_prev.shape[1]), gi + gh
    p = dict(zip(PEEPHOLE_ORDER, weight_peephole.chunk(len(PEEPHOLE_ORDER)), strict=True))
    i_t = torch.sigmoid(a[:, rows["i"]] + p["p_i"] * c_prev)  # input gate, sees C_{t-1}
    f_t = torch.sigmoid(a[:, rows["f"]] + p["p_f"] * c_prev)  # forget gate, sees C_{t-1}
    c_tilde = torch.tanh(a[:, rows["c"]])  # candidate
    c_t = f_t * c_prev + i_t * c_tilde  # cell update
    o_t = torch.sigmoid(a[:, rows["o"]] + p["p_o"] * c_t)  # output gate, sees C_t
    return o_t * torch.tanh(c_t), c_t


def coupled_step(gi, gh, h_prev, c_prev):
    """One coupled-gate step from gi, gh (N, 3H); returns h_t, c_t (N, H)."""
    rows, a = gate_rows("coupled", c_prev.shape[1]), gi + gh
    f_t = torch.sigmoid(a[:, rows["f"]])  # forget gate
    c_tilde = torch.tanh(a[:, rows["c"]])  # candidate
    c_t = f_t * c_prev + (1 - f_t) * c_tilde  # the input gate is 1 - f_t
    o_t = torch.sigmoid(a[:, rows["o"]])  # output gate
    return o_t * torch.tanh(c_t), c_t


def peephole_cell_forward(x_t, h_prev, c_prev, params):
    """One peephole-LSTM step: x_t (N, D), h_prev, c_prev (N, H) -> h_t, c_t (N, H), cache."""
    return step_forward(
        "peephole", _peephole_cell_forward, x_t, params, h_prev=h_prev, c_prev=c_prev
    )


def peephole_cell_backward(dh_t, dc_t, cache):
    """dh_t, dc_t (N, H) -> dx_t (N, D), dh_prev (N, H), dc_prev (N, H), dparams (autograd)."""
    return step_backward("peephole", cache, dh_t=dh_t, dc_t=dc_t)


def peephole_forward(x, params, h0=None, c0=None):
    """x (N, T, D), h0, c0 (N, H) or None -> hs (N, T, H), (h_T, c_T), cache."""
    return sequence_forward("peephole", _peephole_cell_forward, x, params, h0=h0, c0=c0)


def peephole_backward(dhs, cache, dh_T=None, dc_T=None):
    """dhs (N, T, H), dh_T, dc_T (N, H) or None -> dx, dh0, dc0, dparams (autograd)."""
    dx, (dh0, dc0), dparams = sequence_backward("peephole", dhs, cache, dh_T, dc_T)
    return dx, dh0, dc0, dparams


def coupled_cell_forward(x_t, h_prev, c_prev, params):
    """One coupled-gate LSTM step: x_t (N, D), h_prev, c_prev (N, H) -> h_t, c_t, cache."""
    return step_forward("coupled", _coupled_cell_forward, x_t, params, h_prev=h_prev, c_prev=c_prev)


def coupled_cell_backward(dh_t, dc_t, cache):
    """dh_t, dc_t (N, H) -> dx_t (N, D), dh_prev (N, H), dc_prev (N, H), dparams (autograd)."""
    return step_backward("coupled", cache, dh_t=dh_t, dc_t=dc_t)


def coupled_forward(x, params, h0=None, c0=None):
    """x (N, T, D), h0, c0 (N, H) or None -> hs (N, T, H), (h_T, c_T), cache."""
    return sequence_forward("coupled", _coupled_cell_forward, x, params, h0=h0, c0=c0)


def coupled_backward(dhs, cache, dh_T=None, dc_T=None):
    """dhs (N, T, H), dh_T, dc_T (N, H) or None -> dx, dh0, dc0, dparams (autograd)."""
    dx, (dh0, dc0), dparams = sequence_backward("coupled", dhs, cache, dh_T, dc_T)
    return dx, dh0, dc0, dparams
