"""Run any cell over a sequence, forward and backward through time.

A cell is a pair of functions on one time step:
``cell_forward(x_t, *state_prev, params) -> (*state, cache)`` and
``cell_backward(*dstate, cache) -> (dx_t, *dstate_prev, dparams)``, where ``state[0]`` is ``h_t``.
The LSTM's state is ``(h_t, c_t)``; the RNN's and the GRU's is ``(h_t,)``.
"""

from __future__ import annotations

import numpy as np

from lstm_ref._checks import Cache, open_cache
from lstm_ref.np_ref._common import check_sequence


def run_forward(cell_forward, x: np.ndarray, state0: tuple, params: dict):
    """Unroll ``cell_forward`` over the T steps of ``x`` (N, T, D).

    Returns ``hs`` (N, T, H), every hidden state; the final state; the per-step caches.
    """
    N, T, _ = x.shape
    state = state0
    hs = np.empty((N, T, state0[0].shape[1]), dtype=x.dtype)
    caches = []
    for t in range(T):
        *state, cache = cell_forward(x[:, t], *state, params)
        hs[:, t] = state[0]
        caches.append(cache)
    return hs, tuple(state), caches


def run_backward(cell_backward, dhs: np.ndarray, dstate_T: tuple, caches: list, params: dict):
    """Backpropagation through time: walk the steps backwards, carrying the state gradients.

    ``dhs`` (N, T, H) is the gradient of the loss with respect to every hidden state, and
    ``dstate_T`` with respect to the final state. Returns dx (N, T, D), the gradients of the
    initial state, and dparams (keyed like params).
    """
    dstate = tuple(dstate_T)
    dparams = {key: np.zeros_like(value) for key, value in params.items()}
    dx = None
    for t in reversed(range(len(caches))):
        # h_t feeds both the output at step t and the next step: the two gradients add up.
        dstate = (dstate[0] + dhs[:, t], *dstate[1:])
        dx_t, *dstate, dparams_t = cell_backward(*dstate, caches[t])
        if dx is None:
            dx = np.empty((dx_t.shape[0], len(caches), dx_t.shape[1]), dtype=dx_t.dtype)
        dx[:, t] = dx_t
        for key in dparams:
            dparams[key] += dparams_t[key]
    return dx, tuple(dstate), dparams


def sequence_forward(cell: str, cell_forward, x, params, **initial):
    """Check the inputs of ``cell``'s sequence forward, then unroll it.

    ``initial`` names the initial states in order (h0, then c0 for LSTM-like cells); None means
    zeros. Returns hs (N, T, H), the final state (a tuple) and the cache for sequence_backward.
    """
    check, x, params, state0 = check_sequence(cell, x, params, **initial)
    hs, state_T, caches = run_forward(cell_forward, x, tuple(state0), params)
    return hs, state_T, Cache(f"{cell}_forward", (check, caches, params))


def sequence_backward(cell: str, cell_backward, dhs, cache, *dstate_T):
    """Check the upstream gradients (None means zeros), then backpropagate through time.

    ``dstate_T`` are the gradients of the final state, in the order of the state.
    Returns dx (N, T, D), the gradients of the initial state (a tuple) and dparams.
    """
    check, caches, params = open_cache(cache, f"{cell}_forward", f"{cell}_backward")
    names = ["dh_T", "dc_T"][: len(dstate_T)]
    grads = dict(zip(names, dstate_T, strict=True))
    dhs, *dstate_T = check.for_backward().upstream(True, dhs=dhs, **grads)
    return run_backward(cell_backward, dhs, tuple(dstate_T), caches, params)
