"""Reference LSTM implementations for the open LSTM course.

``lstm_ref.np_ref`` is the NumPy reference (no torch needed); ``lstm_ref.torch_ref`` the PyTorch
one, imported only when asked for, so ``import lstm_ref`` never imports torch.
"""

from lstm_ref.specs import LSTM_GATES, PARAM_SPECS

__all__ = ["LSTM_GATES", "PARAM_SPECS"]
__version__ = "0.1.0"
