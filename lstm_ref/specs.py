"""Every cell's parameters and every gate order: the only place they are written.

Letters: D input size, H hidden size, K outputs of the linear head. Weights are (out, in) and act on
the concatenation ``[h_{t-1}, x_t]`` (hidden part first), as in ``f_t = σ(W_f · [h_{t-1}, x_t] + b_f)``.
In code a batch is stacked as rows, so ``W_f · z`` is written ``z @ W_f.T``, as torch.nn.Linear does.

Stacked layouts (``lstm_ref.params.stack_gates``, the fast paths, torch.nn's modules) put the gates
in rows, in the order of ``GATE_ORDER``. PyTorch calls our candidate ``c`` ``g``: its LSTM order
i, f, g, o is our i, f, c, o.
"""

from __future__ import annotations

HD = ("H", "H + D")
H1 = ("H",)

# The gates in the order a stacked weight holds them (PyTorch's order where PyTorch has the cell).
LSTM_GATES = ("i", "f", "c", "o")  # PyTorch's i, f, g, o
GRU_GATES = ("r", "z", "n")  # PyTorch's r, z, n
COUPLED_GATES = ("f", "c", "o")  # no input gate: it is 1 - f_t
GATE_ORDER: dict[str, tuple[str, ...]] = {
    "rnn": ("h",),
    "lstm": LSTM_GATES,
    "gru": GRU_GATES,
    "peephole": LSTM_GATES,
    "coupled": COUPLED_GATES,
}


def gate_rows(cell: str, H: int) -> dict[str, slice]:
    """Where each gate sits in a stacked (G·H, ...) weight: {'i': slice(0, H), 'f': ...}."""
    return {gate: slice(k * H, (k + 1) * H) for k, gate in enumerate(GATE_ORDER[cell])}


# The peephole weights stacked into one (3H,) vector, ``weight_peephole`` in torch_ref's modules.
PEEPHOLE_ORDER = ("p_i", "p_f", "p_o")
# PyTorch's name for each of our gate letters, where they differ.
TORCH_GATE_NAMES = {"c": "g"}

PARAM_SPECS: dict[str, dict[str, tuple[str, ...]]] = {
    "rnn": {"W_h": HD, "b_h": H1},
    "lstm": {
        "W_f": HD,
        "b_f": H1,  # forget gate
        "W_i": HD,
        "b_i": H1,  # input gate
        "W_c": HD,
        "b_c": H1,  # candidate C̃_t
        "W_o": HD,
        "b_o": H1,  # output gate
    },  # fmt: skip
    "gru": {
        "W_r": HD,
        "b_r": H1,  # reset gate
        "W_z": HD,
        "b_z": H1,  # update gate
        # The new gate keeps its input and hidden parts apart: r_t multiplies only the hidden part.
        "W_xn": ("H", "D"),
        "b_xn": H1,
        "W_hn": ("H", "H"),
        "b_hn": H1,
    },  # fmt: skip
    "peephole": {
        "W_f": HD,
        "b_f": H1,
        "p_f": H1,  # p_*: peephole weights, one per unit, on the cell state
        "W_i": HD,
        "b_i": H1,
        "p_i": H1,
        "W_c": HD,
        "b_c": H1,
        "W_o": HD,
        "b_o": H1,
        "p_o": H1,
    },  # fmt: skip
    "coupled": {
        "W_f": HD,
        "b_f": H1,  # the input gate is 1 - f_t: no W_i
        "W_c": HD,
        "b_c": H1,
        "W_o": HD,
        "b_o": H1,
    },  # fmt: skip
    "linear": {"W_y": ("K", "H"), "b_y": ("K",)},
}

# Cells whose state is (h, c) rather than h alone.
CELL_STATE_CELLS = ("lstm", "peephole", "coupled")
# Cells that torch.nn has (nn.RNN, nn.LSTM, nn.GRU and their cells).
TORCH_CELLS = ("rnn", "lstm", "gru")
