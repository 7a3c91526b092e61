"""The gate functions the book teaches, against closed forms and against the full cell."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from np_testing import assert_close, random_problem

from lstm_ref import np_ref


def test_sigmoid_matches_closed_form_where_it_cannot_overflow():
    z = np.linspace(-30, 30, 601)
    assert_close("sigmoid", np_ref.sigmoid(z), 1 / (1 + np.exp(-z)), 1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_of_huge_inputs_warns_nothing_and_saturates(dtype):
    z = np.array([-1000, -100, 0, 100, 1000], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow RuntimeWarning would fail here
        s = np_ref.sigmoid(z)
    assert s.dtype == dtype
    assert np.array_equal(
        s, np.array([0, np.exp(-100) / (1 + np.exp(-100)), 0.5, 1, 1], dtype=dtype)
    )


def test_sigmoid_is_symmetric_and_strictly_inside_0_1_for_moderate_inputs():
    z = np.linspace(-20, 20, 81)
    s = np_ref.sigmoid(z)
    assert np.all((s > 0) & (s < 1))
    assert_close("σ(z) + σ(-z)", s + np_ref.sigmoid(-z), np.ones_like(z), 1e-15)


def test_gates_match_their_equations_written_out():
    rng = np.random.default_rng(0)
    N, D, H = 2, 4, 5
    h_prev, x_t = rng.normal(size=(N, H)), rng.normal(size=(N, D))
    W, b = rng.normal(size=(H, H + D)), rng.normal(size=H)
    # W · [h, x] = W_h · h + W_x · x: the concatenated form is the same as two separate weights.
    a = h_prev @ W[:, :H].T + x_t @ W[:, H:].T + b
    sig = 1 / (1 + np.exp(-a))
    assert_close("forget_gate", np_ref.forget_gate(h_prev, x_t, W, b), sig, 1e-14)
    assert_close("input_gate", np_ref.input_gate(h_prev, x_t, W, b), sig, 1e-14)
    assert_close("output_gate", np_ref.output_gate(h_prev, x_t, W, b), sig, 1e-14)
    assert_close("candidate", np_ref.candidate(h_prev, x_t, W, b), np.tanh(a), 1e-14)


def test_worked_forget_example_drops_the_entry_whose_filter_is_near_zero():
    c_prev = np.array([[1.0, 2.0, 3.0]])
    f_t = np.array([[0.99, 0.01, 0.98]])
    c_t = np_ref.cell_update(f_t, c_prev, np.zeros_like(f_t), np.zeros_like(f_t))
    assert_close("C_t", c_t, [[0.99, 0.02, 2.94]], 1e-15)


def test_cell_forward_is_the_composition_of_the_gate_functions():
    params, x, (h_prev, c_prev), _, _ = random_problem("lstm", 3, 1, 4, 5, seed=4)
    x_t = x[:, 0]
    p = params
    f_t = np_ref.forget_gate(h_prev, x_t, p["W_f"], p["b_f"])
    i_t = np_ref.input_gate(h_prev, x_t, p["W_i"], p["b_i"])
    c_tilde = np_ref.candidate(h_prev, x_t, p["W_c"], p["b_c"])
    c_t = np_ref.cell_update(f_t, c_prev, i_t, c_tilde)
    h_t = np_ref.hidden_state(np_ref.output_gate(h_prev, x_t, p["W_o"], p["b_o"]), c_t)
    h_cell, c_cell, _ = np_ref.lstm_cell_forward(x_t, h_prev, c_prev, params)
    assert_close("h_t", h_cell, h_t, 0)
    assert_close("c_t", c_cell, c_t, 0)


@pytest.mark.parametrize("shape", [(2, 7, 3, 4), (1, 1, 5, 2), (4, 12, 6, 8)])
def test_fast_path_agrees_with_readable_path(shape):
    params, x, states, dhs, dstates = random_problem("lstm", *shape, seed=11)
    out_r = np_ref.lstm_forward(x, params, *states)
    out_f = np_ref.lstm_forward_fast(x, params, *states)
    assert_close("hs", out_f[0], out_r[0], 1e-13)
    assert_close("h_T", out_f[1][0], out_r[1][0], 1e-13)
    assert_close("c_T", out_f[1][1], out_r[1][1], 1e-13)
    grads_r = np_ref.lstm_backward(dhs, out_r[2], *dstates)
    grads_f = np_ref.lstm_backward_fast(dhs, out_f[2], *dstates)
    for name, a, b in zip(["dx", "dh0", "dc0"], grads_f[:3], grads_r[:3], strict=True):
        assert_close(name, a, b, 1e-12)
    for key in params:
        assert_close(f"d{key}", grads_f[3][key], grads_r[3][key], 1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "lstm_fast", "gru", "peephole", "coupled"])
def test_float32_stays_float32_and_close_to_float64(cell):
    from np_testing import SEQUENCE

    params, x, states, dhs, dstates = random_problem(cell, 2, 5, 3, 4, seed=5)
    forward, backward = SEQUENCE[cell]
    as32 = lambda a: a.astype(np.float32)  # noqa: E731
    hs64, _, cache64 = forward(x, params, *states)
    hs32, final32, cache32 = forward(
        as32(x), {k: as32(v) for k, v in params.items()}, *map(as32, states)
    )
    grads32 = backward(as32(dhs), cache32, *map(as32, dstates))
    grads64 = backward(dhs, cache64, *dstates)
    final32 = final32 if isinstance(final32, tuple) else (final32,)
    assert hs32.dtype == np.float32 and all(s.dtype == np.float32 for s in final32)
    assert all(g.dtype == np.float32 for g in grads32[:-1])
    assert all(g.dtype == np.float32 for g in grads32[-1].values())
    assert_close("hs (float32 vs float64)", hs32, hs64, 1e-5)
    assert_close("dx (float32 vs float64)", grads32[0], grads64[0], 1e-4)


def test_initial_states_default_to_zeros():
    params, x, _, _, _ = random_problem("lstm", 2, 3, 4, 5, seed=6)
    zeros = np.zeros((2, 5))
    assert_close(
        "hs", np_ref.lstm_forward(x, params)[0], np_ref.lstm_forward(x, params, zeros, zeros)[0], 0
    )


def test_predict_applies_the_head_to_the_last_hidden_state():
    rng = np.random.default_rng(1)
    hs, W_y, b_y = rng.normal(size=(2, 3, 5)), rng.normal(size=(1, 5)), rng.normal(size=1)
    assert_close("y", np_ref.predict(hs, W_y, b_y), hs[:, -1] @ W_y.T + b_y, 1e-15)
