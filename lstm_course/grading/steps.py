"""The steps of a sequence on the reference's states, for :func:`~lstm_course.grading.wrong_step`.

A sequence-level test whose answer is wrong asks first whether the student's own step function
is right on the steps of that very sequence: each step's inputs are the reference's (the states
the previous step should have produced), each step's expected output is the reference's. Each
function returns a list of (args, expected) in the order the student's loop takes them.

Letters: N batch, T steps, D input size, H hidden size.
"""

from __future__ import annotations

import numpy as np

from lstm_ref import np_ref


def rnn_steps(x, W_h, b_h, h0=None) -> list[tuple[tuple, np.ndarray]]:
    """``rnn_step(h_prev, x_t, W_h, b_h)`` at each step t: (args, h_t). h0 None means zeros."""
    x, W_h, b_h = (np.asarray(v, dtype=np.float64) for v in (x, W_h, b_h))
    h = np.zeros((x.shape[0], b_h.shape[0])) if h0 is None else np.asarray(h0, dtype=np.float64)
    steps = []
    for t in range(x.shape[1]):
        h_t, _ = np_ref.rnn_cell_forward(x[:, t], h, {"W_h": W_h, "b_h": b_h})
        steps.append(((h, x[:, t], W_h, b_h), h_t))
        h = h_t
    return steps


def lstm_steps(x, params, h0=None, c0=None) -> list[tuple[tuple, tuple]]:
    """``lstm_cell_forward(x_t, h_prev, c_prev, params)`` at each step: (args, (h_t, c_t))."""
    x = np.asarray(x, dtype=np.float64)
    p = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}
    zeros = np.zeros((x.shape[0], p["b_f"].shape[0]))
    h = zeros if h0 is None else np.asarray(h0, dtype=np.float64)
    c = zeros if c0 is None else np.asarray(c0, dtype=np.float64)
    steps = []
    for t in range(x.shape[1]):
        h_t, c_t, _ = np_ref.lstm_cell_forward(x[:, t], h, c, p)
        steps.append(((x[:, t], h, c, p), (h_t, c_t)))
        h, c = h_t, c_t
    return steps


def lstm_backward_steps(dhs, x, params, h0, c0) -> list[tuple[tuple, tuple]]:
    """``lstm_cell_backward(dh_t, dc_t, cache)`` at each step, from t = T - 1 down to 0, when the
    loss's gradient is ``dhs`` (N, T, H) on the hidden states: ((dh_t, dc_t), (dx_t, dh_prev,
    dc_prev, dparams)). The cache is the test's to add: the student's backward pass reads the
    cache of the exercise's own forward pass."""
    dhs, x, h0, c0 = (np.asarray(v, dtype=np.float64) for v in (dhs, x, h0, c0))
    p = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}
    caches, h, c = [], h0, c0
    for t in range(x.shape[1]):
        h, c, cache = np_ref.lstm_cell_forward(x[:, t], h, c, p)
        caches.append(cache)
    steps, dh, dc = [], np.zeros_like(h0), np.zeros_like(c0)
    for t in reversed(range(x.shape[1])):
        upstream = dhs[:, t] + dh
        dx_t, dh_prev, dc_prev, dparams = np_ref.lstm_cell_backward(upstream, dc, caches[t])
        steps.append(((upstream, dc), (dx_t, dh_prev, dc_prev, dparams)))
        dh, dc = dh_prev, dc_prev
    return steps
