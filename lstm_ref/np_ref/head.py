"""The linear layer after the last step: a hidden state is not a prediction until it is mapped.

    y = W_y · h_T + b_y        h (N, H), W_y (K, H), b_y (K,) -> y (N, K)

An LSTM's h_T lives in (-1, 1)^H; a price, a temperature or a sales figure does not. One linear
layer, applied once after the sequence, turns the summary h_T into the K numbers we want.
"""

from __future__ import annotations

import numpy as np

from lstm_ref._checks import Cache, ShapeChecker, open_cache
from lstm_ref.specs import PARAM_SPECS


def linear_forward(h, W_y, b_y):
    """y = h @ W_y.T + b_y. h (N, H), W_y (K, H), b_y (K,) -> y (N, K), cache."""
    check = ShapeChecker(copy=True)
    h = check("h", h, "N", "H")
    p = check.params("the head", {"W_y": W_y, "b_y": b_y}, PARAM_SPECS["linear"])
    y = h @ p["W_y"].T + p["b_y"]  # (N, H) @ (H, K) -> (N, K)
    return y, Cache("linear_forward", (check, h, p["W_y"]))


def linear_backward(dy, cache):
    """dy (N, K) -> dh (N, H), dW_y (K, H), db_y (K,)."""
    check, h, W_y = open_cache(cache, "linear_forward", "linear_backward")
    (dy,) = check.for_backward().upstream(True, dy=dy)
    return dy @ W_y, dy.T @ h, dy.sum(axis=0)


def predict(hs, W_y, b_y) -> np.ndarray:
    """The prediction after the last step: the head applied to h_T = hs[:, -1]. hs (N, T, H)."""
    hs = ShapeChecker()("hs", hs, "N", "T", "H")
    return linear_forward(hs[:, -1], W_y, b_y)[0]
