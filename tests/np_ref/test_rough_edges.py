"""Rough edges an independent check found in np_ref and params: each test failed before its fix."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from np_testing import SEQUENCE, STEP, n_states, param_cell, random_problem

from lstm_ref import np_ref
from lstm_ref.params import init_linear, init_params, to_torch

N, T, D, H = 2, 3, 2, 5  # H + D = 7: a transposed W_f is (7, 5)


def raises(exc, message: str):
    return pytest.raises(exc, match=re.escape(message))


@pytest.mark.parametrize("cell", ["lstm", "lstm_fast", "peephole", "coupled", "rnn", "gru"])
def test_a_transposed_first_weight_is_blamed_with_the_true_shape(cell):
    """H comes from the data and the other parameters, not from the first weight alone."""
    params = init_params(param_cell(cell), D, H)
    first = next(iter(params))
    params[first] = params[first].T.copy()
    forward, _ = SEQUENCE[cell]
    with raises(ValueError, f"{first} has shape (7, 5); expected (H, H + D) = (5, 7)"):
        forward(np.zeros((N, T, D)), params)


def test_the_initial_state_fixes_H_before_the_weights():
    params = init_params("lstm", D, 6)  # every weight says H = 6, the data says H = 5
    with raises(ValueError, "W_f has shape (6, 8); expected (H, H + D) = (5, 7)"):
        np_ref.lstm_forward(np.zeros((N, T, D)), params, h0=np.zeros((N, H)))


@pytest.mark.parametrize("cell", list(SEQUENCE))
def test_a_cache_from_another_forward_is_named(cell):
    other = "gru" if cell != "gru" else "lstm"
    _, x, states, dhs, _ = random_problem(other, N, T, D, H, seed=0)
    forward, _ = SEQUENCE[other]
    wrong_cache = forward(x, init_params(other, D, H), *states)[2]
    _, backward = SEQUENCE[cell]
    with pytest.raises(TypeError, match=rf"{backward.__name__} needs the cache that "
                       rf"{SEQUENCE[cell][0].__name__} returned.*{other}_forward"):  # fmt: skip
        backward(dhs, wrong_cache)


@pytest.mark.parametrize("cell", list(STEP))
def test_a_sequence_cache_given_to_a_cell_backward_is_named(cell):
    params, x, states, dhs, dstates = random_problem(cell, N, T, D, H, seed=1)
    cache = SEQUENCE[cell][0](x, params, *states)[2]
    _, backward = STEP[cell]
    with pytest.raises(TypeError, match=rf"needs the cache that {cell}_cell_forward returned"):
        backward(*dstates, cache)
    with pytest.raises(TypeError, match=r"got a ndarray"):
        backward(*dstates, x)


def test_linear_backward_names_its_cache():
    with pytest.raises(TypeError, match=r"linear_backward needs the cache that linear_forward"):
        np_ref.linear_backward(np.zeros((N, 3)), (np.zeros((N, H)),))


SHAPES = [(1, 3, 2, 4), (3, 1, 2, 4), (2, 3, 4, 5)]  # N = 1 and T = 1 made the fast path alias x


@pytest.mark.parametrize("cell", list(SEQUENCE))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}T{}D{}H{}".format(*s))
def test_editing_the_inputs_after_forward_does_not_change_backward(cell, shape):
    """Caches never alias the caller's arrays: x, params and states may be reused in place."""
    params, x, states, dhs, dstates = random_problem(cell, *shape, seed=2)
    forward, backward = SEQUENCE[cell]
    expected = backward(dhs, forward(x.copy(), dict(params), *[s.copy() for s in states])[2])
    cache = forward(x, params, *states)[2]
    for array in [x, *params.values(), *states]:
        array *= 3.0
    got = backward(dhs, cache)
    for k, (a, b) in enumerate(zip(got[:-1], expected[:-1], strict=True)):
        assert np.array_equal(a, b), f"gradient {k} changed after editing the inputs"
    for key in expected[-1]:
        assert np.array_equal(got[-1][key], expected[-1][key]), f"d{key} changed"


@pytest.mark.parametrize("cell", list(STEP))
def test_editing_a_cells_inputs_after_forward_does_not_change_backward(cell):
    params, x, states, dhs, dstates = random_problem(cell, 1, 1, D, H, seed=3)
    forward, backward = STEP[cell]
    x_t = x[:, 0]
    expected = backward(*dstates, forward(x_t.copy(), *[s.copy() for s in states],
                                          dict(params))[-1])  # fmt: skip
    cache = forward(x_t, *states, params)[-1]
    for array in [x_t, *params.values(), *states]:
        array *= 3.0
    got = backward(*dstates, cache)
    for k, (a, b) in enumerate(zip(got[:-1], expected[:-1], strict=True)):
        assert np.array_equal(a, b), f"gradient {k} changed after editing the inputs"
    assert n_states(cell) == len(states)


def test_predict_names_hs():
    head = init_linear(H, 3)
    with raises(ValueError, "hs has shape (2, 5) (2-D); expected (N, T, H), a 3-D array"):
        np_ref.predict(np.zeros((N, H)), head["W_y"], head["b_y"])
    with raises(ValueError, "W_y has shape (3, 5); expected (K, H) = (3, 4)"):
        np_ref.predict(np.zeros((N, T, 4)), head["W_y"], head["b_y"])


def test_a_ragged_list_gets_a_clear_error():
    ragged = [[[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0]]]
    with raises(ValueError, "x is a ragged nested list (its rows differ in length)"):
        np_ref.lstm_forward(ragged, init_params("lstm", D, H))


def test_a_tensor_that_requires_grad_gets_a_clear_error():
    z = torch.zeros(3, requires_grad=True)
    with raises(TypeError, "z is a torch.Tensor that requires grad; np_ref works on NumPy"):
        np_ref.sigmoid(z)


def test_to_torch_says_which_parameter_is_missing():
    with pytest.raises(ValueError, match=r"missing \['W_r', 'b_r'"):
        to_torch(init_params("lstm", D, H), "gru")
