"""One table of every cell's parameters: names and shapes in letters.

Letters: D input size, H hidden size, K outputs of the linear head. Weights are (out, in) and act on
the concatenation ``[h_{t-1}, x_t]`` (hidden part first), as in ``f_t = σ(W_f · [h_{t-1}, x_t] + b_f)``.
In code a batch is stacked as rows, so ``W_f · z`` is written ``z @ W_f.T``, as torch.nn.Linear does.
"""

from __future__ import annotations

HD = ("H", "H + D")
H1 = ("H",)

# PyTorch stacks the LSTM gates in the order i, f, g, o; our names for them (g is our candidate c).
LSTM_GATES = ("i", "f", "c", "o")
# PyTorch stacks the GRU gates in the order r, z, n.
GRU_GATES = ("r", "z", "n")

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
