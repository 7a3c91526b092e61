"""The NumPy reference: every cell the book teaches, forward and backward.

Letters: N batch, T steps, D input size, H hidden size. A step is (N, D), a sequence (N, T, D),
states (N, H). Each weight is (H, H + D) and acts on [h_{t-1}, x_t]; in code ``hx @ W.T``.
Caches never alias the caller's arrays (both paths): inputs may be edited in place after forward.
"""

from lstm_ref.np_ref._common import sigmoid
from lstm_ref.np_ref.gru import gru_backward, gru_cell_backward, gru_cell_forward, gru_forward
from lstm_ref.np_ref.head import linear_backward, linear_forward, predict
from lstm_ref.np_ref.lstm import (
    candidate,
    cell_update,
    forget_gate,
    hidden_state,
    input_gate,
    lstm_backward,
    lstm_cell_backward,
    lstm_cell_forward,
    lstm_forward,
    output_gate,
)
from lstm_ref.np_ref.lstm_fast import (
    lstm_backward_fast,
    lstm_forward_fast,
    stack_gates,
    unstack_gates,
)
from lstm_ref.np_ref.rnn import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward
from lstm_ref.np_ref.variants import (
    coupled_backward,
    coupled_cell_backward,
    coupled_cell_forward,
    coupled_forward,
    peephole_backward,
    peephole_cell_backward,
    peephole_cell_forward,
    peephole_forward,
)

__all__ = [
    "candidate", "cell_update", "coupled_backward", "coupled_cell_backward",
    "coupled_cell_forward", "coupled_forward", "forget_gate", "gru_backward", "gru_cell_backward",
    "gru_cell_forward", "gru_forward", "hidden_state", "input_gate", "linear_backward",
    "linear_forward", "lstm_backward", "lstm_backward_fast", "lstm_cell_backward",
    "lstm_cell_forward", "lstm_forward", "lstm_forward_fast", "output_gate", "peephole_backward",
    "peephole_cell_backward", "peephole_cell_forward", "peephole_forward", "predict",
    "rnn_backward", "rnn_cell_backward", "rnn_cell_forward", "rnn_forward", "sigmoid",
    "stack_gates", "unstack_gates"
]  # fmt: skip
