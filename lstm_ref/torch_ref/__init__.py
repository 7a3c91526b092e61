"""The PyTorch reference: np_ref's files and functions for tensors, and drop-in nn.Modules.

``lstm``, ``rnn``, ``gru``, ``variants``, ``head``, ``sequence``, ``lstm_fast`` mirror np_ref (the
``*_backward`` functions by autograd) and hold each cell's step in torch.nn's stacked layout, which
``modules`` (LSTM, GRU, their cells, the variants) runs; ``speed`` says how the fast path runs.
Written from the equations: nothing here calls torch.nn's recurrent modules or kernels.
"""

from lstm_ref.params import load_params, params_from_module, stack_gates, unstack_gates
from lstm_ref.torch_ref import speed
from lstm_ref.torch_ref._common import sigmoid
from lstm_ref.torch_ref.gru import gru_backward, gru_cell_backward, gru_cell_forward, gru_forward
from lstm_ref.torch_ref.head import linear_backward, linear_forward, predict
from lstm_ref.torch_ref.lstm import (
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
from lstm_ref.torch_ref.lstm_fast import lstm_backward_fast, lstm_forward_fast
from lstm_ref.torch_ref.modules import (
    GRU,
    LSTM,
    CoupledLSTM,
    CoupledLSTMCell,
    GRUCell,
    LSTMCell,
    PeepholeLSTM,
    PeepholeLSTMCell,
)
from lstm_ref.torch_ref.rnn import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward
from lstm_ref.torch_ref.variants import (
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
    "CoupledLSTM", "CoupledLSTMCell", "GRU", "GRUCell", "LSTM", "LSTMCell", "PeepholeLSTM",
    "PeepholeLSTMCell", "candidate", "cell_update", "coupled_backward", "coupled_cell_backward",
    "coupled_cell_forward", "coupled_forward", "forget_gate", "gru_backward", "gru_cell_backward",
    "gru_cell_forward", "gru_forward", "hidden_state", "input_gate", "linear_backward",
    "linear_forward", "load_params", "lstm_backward", "lstm_backward_fast", "lstm_cell_backward",
    "lstm_cell_forward", "lstm_forward", "lstm_forward_fast", "output_gate", "params_from_module",
    "peephole_backward", "peephole_cell_backward", "peephole_cell_forward", "peephole_forward",
    "predict", "rnn_backward", "rnn_cell_backward", "rnn_cell_forward", "rnn_forward", "sigmoid",
    "speed", "stack_gates", "unstack_gates"
]  # fmt: skip
