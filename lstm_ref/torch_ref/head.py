"""The linear layer after the last step, in PyTorch: the mirror of ``np_ref.head``.

y = W_y · h_T + b_y        h (N, H), W_y (K, H), b_y (K,) -> y (N, K)
"""

from __future__ import annotations

import torch

from lstm_ref._checks import TensorChecker
from lstm_ref.specs import PARAM_SPECS
from lstm_ref.torch_ref._common import backward, make_cache


def _linear(h, p):
    return (h @ p["W_y"].T + p["b_y"],)  # (N, H) @ (H, K) -> (N, K)


def linear_forward(h, W_y, b_y):
    """y = h @ W_y.T + b_y. h (N, H), W_y (K, H), b_y (K,) -> y (N, K), cache."""
    check = TensorChecker()
    h = check("h", h, "N", "H")
    p = check.params("the head", {"W_y": W_y, "b_y": b_y}, PARAM_SPECS["linear"])
    (y,) = _linear(h, p)
    return y, make_cache("linear_forward", _linear, (h,), p, check)


def linear_backward(dy, cache):
    """dy (N, K) -> dh (N, H), dW_y (K, H), db_y (K,), by autograd."""
    dh, dparams = backward(cache, "linear_forward", "linear_backward", dy=dy)
    return dh, dparams["W_y"], dparams["b_y"]


def predict(hs, W_y, b_y) -> torch.Tensor:
    """The prediction after the last step: the head applied to h_T = hs[:, -1]. hs (N, T, H)."""
    hs = TensorChecker()("hs", hs, "N", "T", "H")
    return linear_forward(hs[:, -1], W_y, b_y)[0]
