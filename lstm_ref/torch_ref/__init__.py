"""The PyTorch reference: the same functions as ``lstm_ref.np_ref``, and drop-in nn.Modules.

- ``functional``: sigmoid, forget_gate, ..., lstm_cell_forward, lstm_forward, rnn_*, gru_*,
  peephole_*, coupled_*, linear_forward, with np_ref's names, arguments and return values
  (tensors instead of arrays). The ``*_backward`` functions get their gradients by autograd.
- ``modules``: LSTMCell, LSTM, GRUCell, GRU (drop-ins for torch.nn's, state dicts included),
  PeepholeLSTMCell, PeepholeLSTM, CoupledLSTMCell, CoupledLSTM.
- ``fused``: the fast path (one input product, one product per step, fused gate arithmetic,
  hand-written backward through time).

Written from the equations: nothing here calls torch.nn's recurrent modules or kernels.
"""

from lstm_ref.torch_ref import fused
from lstm_ref.torch_ref.functional import *  # noqa: F403
from lstm_ref.torch_ref.functional import __all__ as _functional_all
from lstm_ref.torch_ref.modules import *  # noqa: F403
from lstm_ref.torch_ref.modules import __all__ as _modules_all

__all__ = [*_functional_all, *_modules_all, "fused"]
