"""The classic mistakes, recomputed: each function returns {mistake key: value with it planted}.

A test cell computes these on its own inputs and passes them to ``compare(..., mistakes=...)``,
which names the mistake whose value the student's answer matches (the keys are those of
``lstm_course.grading.mistakes.MISTAKES``). Where the computation around a mistake is the
reference's (a sequence loop around a correct cell, gates read from relabelled weights, the
forward pass under a wrong backward), it is ``lstm_ref.np_ref``'s public functions; what is
written here is the mistake itself.

Letters: N batch, T steps, D input size, H hidden size. Every function accepts arrays (or
tensors, where it says so) and computes in float64.
"""

from __future__ import annotations

import itertools

import numpy as np

from lstm_course.grading.checks import as_array
from lstm_course.grading.mistakes import describe
from lstm_ref import np_ref

_ACTIVATIONS = {"sigmoid": np_ref.sigmoid, "tanh": np.tanh}


def _float64(*values) -> list[np.ndarray]:
    return [np.asarray(v, dtype=np.float64) for v in values]


def _params64(params) -> dict[str, np.ndarray]:
    return {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}


def _lstm_step(x_t, h_prev, c_prev, p) -> tuple[np.ndarray, np.ndarray]:
    """The reference's (h_t, c_t), without its cache."""
    h_t, c_t, _ = np_ref.lstm_cell_forward(x_t, h_prev, c_prev, p)
    return h_t, c_t


# ---------------------------------------------------------------------------------------------
# One gate, one LSTM cell, a sequence.


def gate_mistakes(h_prev, x_t, W, b, activation: str = "sigmoid") -> dict[str, np.ndarray]:
    """One gate act(W · [h_prev, x_t] + b) with each classic mistake planted, one at a time.

    h_prev (N, H), x_t (N, D), W (H, H + D), b (H,); activation "sigmoid" (a gate) or "tanh"
    (the candidate, the RNN's state).
    """
    h_prev, x_t, W, b = _float64(h_prev, x_t, W, b)
    act = _ACTIVATIONS[activation]
    other = "tanh" if activation == "sigmoid" else "sigmoid"
    H = h_prev.shape[1]
    z = np.concatenate([h_prev, x_t], axis=1)
    a = z @ W.T + b
    out = {
        "order_xh": act(np.concatenate([x_t, h_prev], axis=1) @ W.T + b),
        f"{other}_for_{activation}": _ACTIVATIONS[other](a),
        "no_activation": a,
        "no_bias": act(z @ W.T),
        "bias_twice": act(a + b),
        "bias_outside_activation": act(z @ W.T) + b,
        "ignores_h": act(x_t @ W[:, H:].T + b),
        "ignores_x": act(h_prev @ W[:, :H].T + b),
    }
    if activation == "sigmoid":
        out["wrong_sign"] = act(-a)
    return out


def _lstm_cell(x_t, h_prev, c_prev, p, **mistake):
    """The LSTM cell with one mistake planted (a keyword flag); returns (h_t, c_t)."""
    first, second = (x_t, h_prev) if mistake.get("order_xh") else (h_prev, x_t)
    z = np.concatenate([first, second], axis=1)
    bias = 0.0 if mistake.get("no_bias") else 1.0
    gate = _ACTIVATIONS["tanh" if mistake.get("tanh_for_sigmoid") else "sigmoid"]
    cand = _ACTIVATIONS["sigmoid" if mistake.get("sigmoid_for_tanh") else "tanh"]
    f_t = gate(z @ p["W_f"].T + bias * p["b_f"])
    i_t = gate(z @ p["W_i"].T + bias * p["b_i"])
    c_tilde = cand(z @ p["W_c"].T + bias * p["b_c"])
    o_t = gate(z @ p["W_o"].T + bias * p["b_o"])
    flag = next((key for key, on in mistake.items() if on), "")
    c_t = {
        "no_forget": i_t * c_tilde,
        "one_minus_f": (1 - f_t) * c_prev + i_t * c_tilde,
        "no_forget_gate": c_prev + i_t * c_tilde,
        "no_input_gate": f_t * c_prev + c_tilde,
    }.get(flag, f_t * c_prev + i_t * c_tilde)
    h_t = {
        "c_for_tanh_c": o_t * c_t,
        "tanh_of_product": np.tanh(o_t * c_t),
        "tanh_c_prev": o_t * np.tanh(c_prev),
    }.get(flag, o_t * np.tanh(c_t))
    return h_t, c_t


# The flags of _lstm_cell, one mistake each. f_t and i_t swapped in C_t gives the same numbers
# as their weights swapped: that one is among the relabellings below, named both ways.
_CELL_FLAGS = ("order_xh", "tanh_for_sigmoid", "sigmoid_for_tanh", "no_bias", "no_forget",
               "one_minus_f", "no_forget_gate", "no_input_gate", "c_for_tanh_c",
               "tanh_of_product", "tanh_c_prev")  # fmt: skip

# Gate-order mistakes for a parameter dict: gate -> the gate whose weights were used for it.
_GATE_WORDS = {"f": "the forget gate", "i": "the input gate", "c": "the candidate",
               "o": "the output gate"}  # fmt: skip
_LSTM_RELABELLINGS = {
    **{
        f"the weights of {_GATE_WORDS[a]} and {_GATE_WORDS[b]} swapped": {a: b, b: a}
        for a, b in itertools.combinations("fico", 2)
    },
    **{
        f"{_GATE_WORDS[a]} computed with the weights of {_GATE_WORDS[b]} (W_{b}, b_{b})": {a: b}
        for a, b in itertools.permutations("fico", 2)
    },
    "the weights of f and i swapped, and of the candidate and o": {
        "f": "i",
        "i": "f",
        "c": "o",
        "o": "c",
    },
}


def lstm_cell_mistakes(x_t, h_prev, c_prev, params) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The LSTM cell with each classic mistake planted: {mistake key: (h_t, c_t)}.

    x_t (N, D), h_prev (N, H), c_prev (N, H), params with W_f, b_f, W_i, b_i, W_c, b_c, W_o, b_o.
    Use :func:`~lstm_course.grading.pick` to take the h_t or the c_t of every variant.
    """
    x_t, h_prev, c_prev = _float64(x_t, h_prev, c_prev)
    p = _params64(params)
    out = {flag: _lstm_cell(x_t, h_prev, c_prev, p, **{flag: True}) for flag in _CELL_FLAGS}
    out["outputs_swapped"] = _lstm_step(x_t, h_prev, c_prev, p)[::-1]
    # Gates computed from another gate's weights (stacked or unpacked in the wrong order).
    for detail, relabel in _LSTM_RELABELLINGS.items():
        if relabel == {"f": "i", "i": "f"}:
            detail += ", or f_t and i_t swapped in C_t = f_t * C_{t-1} + i_t * C̃_t"
        q = dict(p)
        for gate, source in relabel.items():
            q[f"W_{gate}"], q[f"b_{gate}"] = p[f"W_{source}"], p[f"b_{source}"]
        out[f"gate_order:{detail}"] = _lstm_step(x_t, h_prev, c_prev, q)
    # One gate's bias alone: another gate's (a copy-paste slip), or left out.
    for gate, other in itertools.permutations("fico", 2):
        q = dict(p, **{f"b_{gate}": p[f"b_{other}"]})
        out[f"wrong_bias:{_GATE_WORDS[gate]} adds b_{other}"] = _lstm_step(x_t, h_prev, c_prev, q)
    for gate in "fico":
        q = dict(p, **{f"b_{gate}": np.zeros_like(p[f"b_{gate}"])})
        out[f"no_bias:b_{gate}, in {_GATE_WORDS[gate]}"] = _lstm_step(x_t, h_prev, c_prev, q)
    return out


def lstm_sequence_mistakes(x, params, h0, c0) -> dict[str, tuple[np.ndarray, ...]]:
    """The LSTM over a sequence with each state-passing mistake planted: {key: (hs, h_T, c_T)}.

    x (N, T, D); h0, c0 (N, H). These are the mistakes of the loop around a correct cell, and
    of a loop that steps with a cell of its own instead of the cell it is given ("own_step",
    one per mistake of :func:`lstm_cell_mistakes`' flags).
    """
    x, h0, c0 = _float64(x, h0, c0)
    p = _params64(params)

    def unroll(carry_h=True, carry_c=True, zeros=False, before=False, cells=False, step=None):
        step = step or _lstm_step
        h, c = (np.zeros_like(h0), np.zeros_like(c0)) if zeros else (h0, c0)
        hs = []
        for t in range(x.shape[1]):
            h_t, c_t = step(x[:, t], h, c, p)
            hs.append(h if before else c_t if cells else h_t)
            h, c = (h_t if carry_h else h), (c_t if carry_c else c)
        return np.stack(hs, axis=1), h_t, c_t

    out = {
        "state_not_carried": unroll(False, False),
        "state_not_carried:c_t is not passed on, every step starts from c0": unroll(True, False),
        "state_not_carried:h_t is not passed on, every step starts from h0": unroll(False, True),
        "initial_state_ignored": unroll(zeros=True),
        "hs_before_step": unroll(before=True),
        "hs_holds_c": unroll(cells=True),
    }
    for flag in _CELL_FLAGS:

        def step(x_t, h, c, q, flag=flag):
            return _lstm_cell(x_t, h, c, q, **{flag: True})

        out[f"own_step:{describe(flag)}"] = unroll(step=step)
    return out


def rnn_sequence_mistakes(x, W_h, b_h, h0) -> dict[str, np.ndarray]:
    """The RNN over a sequence with the state-passing mistakes planted: {key: hs (N, T, H)}."""
    x, W_h, b_h, h0 = _float64(x, W_h, b_h, h0)
    p = {"W_h": W_h, "b_h": b_h}

    def unroll(carry: bool, zeros: bool = False):
        h = np.zeros_like(h0) if zeros else h0
        hs = []
        for t in range(x.shape[1]):
            h_t, _ = np_ref.rnn_cell_forward(x[:, t], h, p)
            h = h_t if carry else h
            hs.append(h_t)
        return np.stack(hs, axis=1)

    return {"state_not_carried": unroll(False), "initial_state_ignored": unroll(True, True)}


# ---------------------------------------------------------------------------------------------
# PyTorch's stacked layout (the GRU and the peephole cell: planted_variants).


def _from_torch(W_ih, W_hh, b_ih, b_hh, order: str = "ifgo") -> dict[str, np.ndarray]:
    """nn.LSTMCell's weights as the course's params, its four blocks read in ``order``."""
    W = np.concatenate([W_hh, W_ih], axis=1)  # acts on [h, x]: (4H, H + D)
    blocks_W = dict(zip(order, np.split(W, 4), strict=True))
    blocks_b = dict(zip(order, np.split(b_ih + b_hh, 4), strict=True))
    return np_ref.unstack_gates(
        np.concatenate([blocks_W[g] for g in "ifgo"]), np.concatenate([blocks_b[g] for g in "ifgo"])
    )


def torch_lstm_cell_mistakes(x, h, c, state_dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """nn.LSTMCell's step with each classic mistake planted: {key: (h_t, c_t)}.

    x (N, D), h and c (N, H) and the cell's state_dict (weight_ih (4H, D), weight_hh (4H, H),
    bias_ih, bias_hh (4H,)); tensors or arrays. Covers the 23 wrong orders of reading the four
    stacked gates, a missing bias, and the activation mistakes.
    """
    x, h, c = (as_array(v).astype(np.float64) for v in (x, h, c))
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    W_ih, W_hh, b_ih, b_hh = (as_array(state_dict[k]).astype(np.float64) for k in names)
    out = {}
    for order in itertools.permutations("ifgo"):
        if order != tuple("ifgo"):
            key = f"gate_order:you read the four blocks as {', '.join(order)}"
            out[key] = _lstm_step(x, h, c, _from_torch(W_ih, W_hh, b_ih, b_hh, "".join(order)))
    no_bias = np.zeros_like(b_ih)
    out["one_bias:bias_ih is missing"] = _lstm_step(x, h, c, _from_torch(W_ih, W_hh, no_bias, b_hh))
    out["one_bias:bias_hh is missing"] = _lstm_step(x, h, c, _from_torch(W_ih, W_hh, b_ih, no_bias))
    p = _from_torch(W_ih, W_hh, b_ih, b_hh)
    for mistake in ("tanh_for_sigmoid", "sigmoid_for_tanh", "c_for_tanh_c"):
        out[mistake] = _lstm_cell(x, h, c, p, **{mistake: True})
    return out


def stacked_gate_order_mistakes(stacked, H: int, gates: str = "ifgo") -> dict[str, np.ndarray]:
    """Every other order of the four H-row blocks of ``stacked`` (4H, ...) or (4H,).

    Returned as {"gate_order:you stacked them f, i, g, o": ..., ...}, so a stacked weight or
    bias built in the wrong order is recognised and the order used is named.
    """
    stacked = as_array(stacked)
    blocks = {g: stacked[k * H : (k + 1) * H] for k, g in enumerate(gates)}
    out = {}
    for order in itertools.permutations(gates):
        if "".join(order) != gates:
            key = f"gate_order:you stacked them {', '.join(order)}"
            out[key] = np.concatenate([blocks[g] for g in order], axis=0)
    return out


# ---------------------------------------------------------------------------------------------
# Backward passes: the RNN's state gradient (the LSTM's are in planted_backward).


def rnn_state_gradient_mistakes(hs, h0, W_h, dh_T) -> dict[str, np.ndarray]:
    """∂L/∂h_k for k = 0..T (an (N, T + 1, H) array) when L depends on h_T alone, with the
    classic backpropagation mistakes planted. hs (N, T, H) holds h_1..h_T; W_h (H, H + D)."""
    hs, h0, W_h, dh_T = _float64(hs, h0, W_h, dh_T)
    N, T, H = hs.shape
    states = np.concatenate([h0[:, None], hs], axis=1)  # h_0..h_T
    W_hh = W_h[:, :H]

    def back(derivative_at: int | None, W):
        grads = np.zeros((N, T + 1, H))
        grads[:, T] = dh_T
        for k in range(T, 0, -1):
            da = (
                grads[:, k]
                if derivative_at is None
                else grads[:, k] * (1 - states[:, k + derivative_at] ** 2)
            )
            grads[:, k - 1] = da @ W
        return grads

    return {
        "missing_tanh_derivative": back(None, W_hh),
        "derivative_wrong_step": back(-1, W_hh),
        "transposed_weight": back(0, W_hh.T),
        "order_xh": back(0, W_h[:, -H:]),  # the last H columns: W_h[:, D:], not W_h[:, :H]
    }
