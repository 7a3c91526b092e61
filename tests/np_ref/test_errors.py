"""Bad input gets a clear error that names the argument, the expected shape in letters and in
numbers, and what was received."""

from __future__ import annotations

import re

import numpy as np
import pytest

from lstm_ref import np_ref
from lstm_ref.params import from_torch, init_linear, init_params, to_torch

N, T, D, H = 2, 3, 4, 5


@pytest.fixture
def params():
    return init_params("lstm", D, H)


def raises(exc, message: str):
    return pytest.raises(exc, match=re.escape(message))


def test_weight_with_wrong_shape_is_named_with_letters_and_numbers():
    with raises(ValueError, "W_f has shape (5, 8); expected (H, H + D) = (5, 9)"):
        np_ref.forget_gate(np.zeros((N, H)), np.zeros((N, D)), np.zeros((5, 8)), np.zeros(5))


def test_bias_with_wrong_shape():
    with raises(ValueError, "b_o has shape (4,); expected (H,) = (5,)"):
        np_ref.output_gate(np.zeros((N, H)), np.zeros((N, D)), np.zeros((5, 9)), np.zeros(4))


def test_batch_sizes_that_disagree():
    with raises(ValueError, "x_t has shape (3, 4); expected (N, D) = (2, 4)"):
        np_ref.input_gate(np.zeros((N, H)), np.zeros((3, D)), np.zeros((5, 9)), np.zeros(5))


def test_sequence_with_wrong_number_of_dimensions(params):
    with raises(ValueError, "x has shape (2, 4) (2-D); expected (N, T, D), a 3-D array"):
        np_ref.lstm_forward(np.zeros((N, D)), params)


def test_sequence_input_size_that_disagrees_with_the_weights(params):
    with raises(ValueError, "W_f has shape (5, 9); expected (H, H + D) = (5, 8)"):
        np_ref.lstm_forward(np.zeros((N, T, 3)), params)


def test_initial_state_with_wrong_shape(params):
    with raises(ValueError, "c0 has shape (2, 4); expected (N, H) = (2, 5)"):
        np_ref.lstm_forward_fast(np.zeros((N, T, D)), params, c0=np.zeros((N, 4)))


def test_missing_and_unexpected_params_are_listed(params):
    params = dict(params)
    del params["W_o"]
    params["W_r"] = np.zeros((H, H + D))
    with pytest.raises(ValueError, match=r"missing \['W_o'\].*unexpected \['W_r'\]"):
        np_ref.lstm_forward(np.zeros((N, T, D)), params)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_rejected_with_its_index(params, bad):
    x = np.zeros((N, T, D))
    x[1, 2, 3] = bad
    with raises(ValueError, f"x contains a non-finite value ({bad}) at index (1, 2, 3)"):
        np_ref.lstm_forward(x, params)


def test_non_finite_parameter_is_rejected(params):
    params = dict(params, b_c=np.full(H, np.nan))
    with raises(ValueError, "b_c contains a non-finite value (nan) at index (0,)"):
        np_ref.lstm_cell_forward(np.zeros((N, D)), np.zeros((N, H)), np.zeros((N, H)), params)


def test_non_finite_upstream_gradient_is_rejected(params):
    _, _, cache = np_ref.lstm_forward(np.zeros((N, T, D)), params)
    dhs = np.zeros((N, T, H))
    dhs[0, 0, 0] = np.nan
    with raises(ValueError, "dhs contains a non-finite value (nan) at index (0, 0, 0)"):
        np_ref.lstm_backward(dhs, cache)


def test_upstream_gradient_with_wrong_shape(params):
    _, _, cache = np_ref.gru_forward(np.zeros((N, T, D)), init_params("gru", D, H))
    with raises(ValueError, "dhs has shape (2, 3, 4); expected (N, T, H) = (2, 3, 5)"):
        np_ref.gru_backward(np.zeros((N, T, 4)), cache)


def test_mixed_float_dtypes_are_refused(params):
    x = np.zeros((N, T, D), dtype=np.float32)
    with raises(TypeError, "W_f is float64 but x is float32; use one floating dtype"):
        np_ref.lstm_forward(x, params)


def test_complex_and_string_arrays_are_refused():
    with raises(TypeError, "z has dtype complex128; expected float32 or float64"):
        np_ref.sigmoid(np.zeros(3, dtype=complex))


def test_integer_lists_are_accepted_as_float64():
    assert np_ref.sigmoid([0, 0]).dtype == np.float64


def test_empty_sequence_is_refused(params):
    with raises(ValueError, "x has shape (2, 0, 4); T must be at least 1"):
        np_ref.lstm_forward(np.zeros((N, 0, D)), params)


def test_linear_head_shapes():
    head = init_linear(H, 3)
    with raises(ValueError, "W_y has shape (3, 5); expected (K, H) = (3, 4)"):
        np_ref.linear_forward(np.zeros((N, 4)), head["W_y"], head["b_y"])


def test_unknown_cell_names():
    with raises(ValueError, "cell must be one of"):
        init_params("transformer", D, H)
    with raises(ValueError, "PyTorch has no 'peephole'"):
        to_torch(init_params("peephole", D, H), "peephole")


def test_torch_state_dict_with_wrong_gate_count():
    state = {"weight_ih": np.zeros((3 * H, D)), "weight_hh": np.zeros((3 * H, H))}
    with raises(ValueError, "weight_hh has shape (15, 5); expected (4 * H, H) for a lstm"):
        from_torch(state, "lstm")


def test_torch_state_dict_with_unknown_keys():
    with raises(ValueError, "expected weight_ih, weight_hh"):
        from_torch({"weight": np.zeros((4, 4))}, "rnn")
