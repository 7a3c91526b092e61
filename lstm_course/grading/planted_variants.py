"""The classic mistakes of the LSTM's variants (exercise 8), recomputed: {mistake key: value}.

As in ``planted``: a test cell computes these on its own inputs and passes them to
``compare(..., mistakes=...)``, which names the mistake the student's answer matches. The GRU
follows PyTorch's equations, the peephole cell Gers and Schmidhuber's (f_t and i_t peek at
C_{t-1}, o_t at C_t), as ``lstm_ref.np_ref`` computes them; what is written here is the mistakes.

Letters: N batch, D input size, H hidden size. Every function computes in float64.
"""

from __future__ import annotations

import numpy as np

from lstm_course.grading.planted import _GATE_WORDS, _float64, _params64
from lstm_ref import np_ref

# The GRU's mistakes, each a flag of _gru below. A square W_hn (H, H) used as h_prev @ W_hn runs
# without error and gives its transpose; W_xn (H, D) used so fails on its shape, so is not here.
_GRU_FLAGS = ("order_xh", "tanh_for_sigmoid", "sigmoid_for_tanh", "gru_reset_inside",
              "gru_bias_outside_reset", "gru_update_swapped", "gru_w_hn_untransposed",
              "gru_reset_uses_w_z", "gru_reset_uses_w_z:and b_z, so r_t = z_t",
              "gru_update_uses_w_r", "gru_update_uses_w_r:and b_r, so z_t = r_t")  # fmt: skip


def _gru(x_t, h_prev, p, mistake: str = "") -> np.ndarray:
    """One GRU step (PyTorch's equations) with at most one mistake planted; returns h_t."""
    sigmoid = np_ref.sigmoid
    first, second = (x_t, h_prev) if mistake == "order_xh" else (h_prev, x_t)
    hx = np.concatenate([first, second], axis=1)  # (N, H + D)
    gate = np.tanh if mistake == "tanh_for_sigmoid" else sigmoid
    # Which weights and bias each gate reads: a copy-paste slip gives one gate the other's.
    W_r, b_r = p["W_r"], p["b_r"]
    W_z, b_z = p["W_z"], p["b_z"]
    if mistake.startswith("gru_reset_uses_w_z"):
        W_r, b_r = p["W_z"], (p["b_z"] if ":" in mistake else p["b_r"])
    if mistake.startswith("gru_update_uses_w_r"):
        W_z, b_z = p["W_r"], (p["b_r"] if ":" in mistake else p["b_z"])
    r_t = gate(hx @ W_r.T + b_r)
    z_t = gate(hx @ W_z.T + b_z)
    W_hn = p["W_hn"] if mistake == "gru_w_hn_untransposed" else p["W_hn"].T  # acts as h @ W.T
    if mistake == "gru_reset_inside":
        r_part = (r_t * h_prev) @ W_hn + p["b_hn"]
    elif mistake == "gru_bias_outside_reset":
        r_part = r_t * (h_prev @ W_hn) + p["b_hn"]
    else:
        r_part = r_t * (h_prev @ W_hn + p["b_hn"])
    act = sigmoid if mistake == "sigmoid_for_tanh" else np.tanh
    n_t = act(x_t @ p["W_xn"].T + p["b_xn"] + r_part)
    if mistake == "gru_update_swapped":
        return z_t * n_t + (1 - z_t) * h_prev
    return (1 - z_t) * n_t + z_t * h_prev


def gru_cell_mistakes(x_t, h_prev, params) -> dict[str, np.ndarray]:
    """One GRU step (PyTorch's equations) with each classic mistake planted: {key: h_t}."""
    x_t, h_prev = _float64(x_t, h_prev)
    p = _params64(params)
    return {key: _gru(x_t, h_prev, p, key) for key in _GRU_FLAGS}


def _peephole(x_t, h_prev, c_prev, p, mistake: str = "", missing: str = ""):
    """One peephole LSTM step with at most one mistake planted; returns (h_t, c_t).

    missing: the gate ("f", "i" or "o") whose peephole term is left out. A peephole on h
    (mistake "peephole_on_h": every gate; "peephole_on_h:in o_t": o_t alone) multiplies p by
    h_{t-1} instead of C.
    """
    sigmoid = np_ref.sigmoid
    first, second = (x_t, h_prev) if mistake == "order_xh" else (h_prev, x_t)
    hx = np.concatenate([first, second], axis=1)
    peep = {g: (0.0 if g == missing else p[f"p_{g}"]) for g in "fio"}
    on_h = {"peephole_on_h": "fio", "peephole_on_h:in o_t": "o"}.get(mistake, "")
    seen_fi = h_prev if "f" in on_h else c_prev
    f_t = sigmoid(hx @ p["W_f"].T + peep["f"] * seen_fi + p["b_f"])
    i_t = sigmoid(hx @ p["W_i"].T + peep["i"] * seen_fi + p["b_i"])
    c_tilde = np.tanh(hx @ p["W_c"].T + p["b_c"])
    c_t = f_t * c_prev + i_t * c_tilde
    seen_o = c_prev if mistake == "peephole_o_uses_c_prev" else c_t
    seen_o = h_prev if "o" in on_h else seen_o
    o_t = sigmoid(hx @ p["W_o"].T + peep["o"] * seen_o + p["b_o"])
    h_t = o_t * c_t if mistake == "c_for_tanh_c" else o_t * np.tanh(c_t)
    return h_t, c_t


def peephole_cell_mistakes(x_t, h_prev, c_prev, params) -> dict[str, tuple[np.ndarray, ...]]:
    """One peephole LSTM step with each classic mistake planted: {key: (h_t, c_t)}."""
    x_t, h_prev, c_prev = _float64(x_t, h_prev, c_prev)
    p = _params64(params)
    # On h in f_t and i_t alone gives the same C_t as on h everywhere: one key for both, so that
    # the C_t check names it (a second key would make it "one of" two).
    keys = ("order_xh", "peephole_o_uses_c_prev", "c_for_tanh_c", "peephole_on_h",
            "peephole_on_h:in o_t")  # fmt: skip
    out = {key: _peephole(x_t, h_prev, c_prev, p, key) for key in keys}
    for gate in "fio":
        out[f"peephole_missing:{_GATE_WORDS[gate]}'s p_{gate}"] = _peephole(
            x_t, h_prev, c_prev, p, missing=gate
        )
    return out
