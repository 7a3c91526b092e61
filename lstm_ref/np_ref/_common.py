"""Small pieces every NumPy cell uses: the activations, the affine map, the checks and caches.

Caches never alias the caller's arrays: the checks copy what a cache keeps, so editing ``x``,
``params`` or a state in place after a forward call leaves its backward unchanged.
"""

from __future__ import annotations

import numpy as np

from lstm_ref import _checks
from lstm_ref._checks import Cache, ShapeChecker, open_cache
from lstm_ref.specs import PARAM_SPECS


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(-z)) without overflow: exp only ever sees -|z| <= 0."""
    e = np.exp(-np.abs(z))  # in (0, 1]
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid(z) -> np.ndarray:
    """Numerically stable logistic sigmoid, element-wise; any shape.

    Mathematically σ(z) lies strictly between 0 and 1. In floating point it rounds to exactly
    1.0 once z > 36.7 (float64) or z > 16.6 (float32), and underflows towards 0 for very negative z.
    """
    check = ShapeChecker()
    z = check("z", z, *[f"d{k}" for k in range(np.ndim(z))])
    return _sigmoid(z)


def concat(h_prev: np.ndarray, x_t: np.ndarray) -> np.ndarray:
    """[h_{t-1}, x_t]: (N, H) and (N, D) -> (N, H + D), hidden state first."""
    return np.concatenate([h_prev, x_t], axis=1)


def check_sequence(cell: str, x, params, copy: bool = True, **initial):
    """Check x (N, T, D), params of ``cell``, initial states (None: zeros); copies if ``copy``."""
    check = ShapeChecker(copy=copy)
    return (check, *_checks.check_sequence(check, PARAM_SPECS[cell], x, params, **initial))


def step_forward(cell: str, step, x_t, params, **states):
    """Check (copies of) one step's inputs, run ``step(x_t, *states, params)``, name its cache."""
    check = ShapeChecker(copy=True)
    x_t, params, states = _checks.check_step(check, PARAM_SPECS[cell], x_t, params, **states)
    *new_states, cache = step(x_t, *states, params)
    return (*new_states, Cache(f"{cell}_cell_forward", (check, cache)))


def step_backward(cell: str, step_backward, cache, **grads):
    """Check the cache and one step's upstream gradients, then run ``step_backward``."""
    check, cache = open_cache(cache, f"{cell}_cell_forward", f"{cell}_cell_backward")
    return step_backward(*check.for_backward().upstream(True, **grads), cache)


def affine_backward(da: dict, hx: np.ndarray, p: dict):
    """Backward of the gate pre-activations a_g = hx @ W_g.T + b_g, for every gate g in ``da``.

    da maps a gate's letter to dL/da_g (N, H); hx = [h_{t-1}, x_t] (N, H + D).
    Returns dh_prev (N, H), dx_t (N, D) and the gradients of each W_g and b_g.
    """
    dparams = {}
    dhx = np.zeros_like(hx)
    for gate, da_gate in da.items():
        dparams[f"W_{gate}"] = da_gate.T @ hx  # (H, N) @ (N, H + D) -> (H, H + D)
        dparams[f"b_{gate}"] = da_gate.sum(axis=0)
        dhx += da_gate @ p[f"W_{gate}"]  # (N, H) @ (H, H + D) -> (N, H + D)
    H = next(iter(da.values())).shape[1]
    return dhx[:, :H], dhx[:, H:], dparams
