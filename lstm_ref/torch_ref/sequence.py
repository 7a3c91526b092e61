"""Run any cell over a sequence, forward, and backward by autograd. The mirror of
``np_ref.sequence``.

A cell is a function on one time step, ``cell_forward(x_t, *state_prev, params) -> state``, where
``state[0]`` is ``h_t``. The LSTM's state is ``(h_t, c_t)``; the RNN's and the GRU's is ``(h_t,)``.
"""

from __future__ import annotations

import torch

from lstm_ref.torch_ref._common import backward, check_sequence, make_cache


def run_forward(cell_forward, x: torch.Tensor, state0: tuple, params: dict):
    """Unroll ``cell_forward`` over the T steps of ``x`` (N, T, D).

    Returns ``hs`` (N, T, H), every hidden state, and the final state.
    """
    state = state0
    hs = []
    for t in range(x.shape[1]):
        state = cell_forward(x[:, t], *state, params)
        hs.append(state[0])
    return torch.stack(hs, dim=1), tuple(state)  # T tensors (N, H) -> (N, T, H)


def _unrolled(cell_forward):
    """``(x, *state0, params) -> (hs, *state_T)``: the sequence as one function, for autograd."""

    def sequence(x, *state0_and_params):
        *state0, params = state0_and_params
        hs, state_T = run_forward(cell_forward, x, tuple(state0), params)
        return (hs, *state_T)

    return sequence


def sequence_forward(cell: str, cell_forward, x, params, **initial):
    """Check the inputs of ``cell``'s sequence forward, then unroll it.

    ``initial`` names the initial states in order (h0, then c0 for LSTM-like cells); None means
    zeros. Returns hs (N, T, H), the final state (a tuple) and the cache for sequence_backward.
    """
    check, x, params, state0 = check_sequence(cell, x, params, **initial)
    hs, state_T = run_forward(cell_forward, x, tuple(state0), params)
    cache = make_cache(f"{cell}_forward", _unrolled(cell_forward), (x, *state0), params, check)
    return hs, state_T, cache


def sequence_backward(cell: str, dhs, cache, *dstate_T, forward: str = ""):
    """Backpropagation through time by autograd; ``dstate_T``: the final state's gradients.

    Returns dx (N, T, D), the gradients of the initial state (a tuple) and dparams.
    """
    forward = forward or f"{cell}_forward"
    names = ["dh_T", "dc_T"][: len(dstate_T)]
    grads = dict(zip(names, dstate_T, strict=True))
    dx, *dstate0, dparams = backward(cache, forward, forward.replace("forward", "backward"),
                                     dhs=dhs, **grads)  # fmt: skip
    return dx, tuple(dstate0), dparams


# ---------------------------------------------------------------------------------------------
# A stacked step (torch.nn's layout, what the modules run) over a time-major sequence.


def linear(x, w, b):
    """x @ w^T + b, one BLAS call; b may be None."""
    return x @ w.t() if b is None else torch.addmm(b, x, w.t())


def run_layer(step, x, states, w_ih, w_hh, b_ih=None, b_hh=None, extra=(), each_step=False):
    """Unroll ``step(gi, gh, *states, *extra) -> states`` over x (T, N, D), for autograd: the input
    projection of every step at once, or with ``each_step`` one step at a time, exactly as the
    book writes it. Returns the outputs (T, N, H) and the final states."""
    if not each_step:
        T, N, D = x.shape
        x = linear(x.reshape(T * N, D), w_ih, b_ih).view(T, N, w_ih.shape[0])  # (T, N, G·H)
    outputs = []
    for x_t in x:
        gi = linear(x_t, w_ih, b_ih) if each_step else x_t
        states = step(gi, linear(states[0], w_hh, b_hh), *states, *extra)
        outputs.append(states[0])
    return torch.stack(outputs), states
