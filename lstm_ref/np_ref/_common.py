"""Small pieces every NumPy cell uses: the activations, the affine map, the checks and caches.

Caches never alias the caller's arrays: the checks copy what a cache keeps, so editing ``x``,
``params`` or a state in place after a forward call leaves its backward unchanged.
"""

from __future__ import annotations

import numpy as np

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


def check_step(cell: str, x_t, params, **states):
    """Check one time step's inputs (copies): x_t (N, D), each state (N, H), params of ``cell``.

    Returns the checker (with N, D, H bound), x_t, the params, and the states in order.
    """
    check = ShapeChecker(copy=True)
    x_t = check("x_t", x_t, "N", "D")
    checked = [check(name, value, "N", "H") for name, value in states.items()]
    params = check.params("params", params, PARAM_SPECS[cell])
    return check, x_t, params, checked


def check_sequence(cell: str, x, params, copy: bool = True, **initial):
    """Check a sequence x (N, T, D), the params of ``cell`` and optional initial states (N, H).

    The sizes come from the data first: x gives N, T, D; h0, when given, gives H; otherwise the
    parameters do, by majority, so one wrong parameter is the one named. Initial states that are
    None become zeros. Returns the checker, x, params and the states (copies if ``copy``).
    """
    check = ShapeChecker(copy=copy)
    x = check("x", x, "N", "T", "D")
    (first, h0), *rest = initial.items()
    h0 = None if h0 is None else check(first, h0, "N", "H")
    params = check.params("params", params, PARAM_SPECS[cell])
    states = [check.state(first, None) if h0 is None else h0]
    states += [check.state(name, value) for name, value in rest]
    return check, x, params, states


def step_forward(cell: str, step, x_t, params, **states):
    """Check one step's inputs, run ``step(x_t, *states, params)``, name its cache."""
    _, x_t, params, states = check_step(cell, x_t, params, **states)
    *new_states, cache = step(x_t, *states, params)
    return (*new_states, Cache(f"{cell}_cell_forward", (states[0], cache)))


def step_backward(cell: str, step_backward, cache, **grads):
    """Check the cache and one step's upstream gradients, then run ``step_backward``."""
    state, cache = open_cache(cache, f"{cell}_cell_forward", f"{cell}_cell_backward")
    check = ShapeChecker(N=state.shape[0], H=state.shape[1])
    check.dtype, check.source = state.dtype, "the forward pass"
    return step_backward(*check.upstream(True, **grads), cache)


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
