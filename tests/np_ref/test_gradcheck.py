"""Every hand-written backward pass against centred finite differences, in float64.

The loss is a fixed random projection of every hidden state and of the final state, so every
path a gradient can take (through h_t, through C_t, to earlier steps) is exercised. The check is
per array: ||analytic - numerical|| / (||analytic|| + ||numerical||) <= 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest
from np_testing import SEQUENCE, STEP, loss, numerical_gradient, random_problem, relative_error

from lstm_ref.np_ref import linear_backward, linear_forward

TOLERANCE = 1e-6
SHAPES = [(2, 3, 4, 5), (1, 4, 3, 2), (3, 1, 2, 4)]


def assert_gradient(name: str, analytic, numerical) -> None:
    err = relative_error(analytic, numerical)
    assert err <= TOLERANCE, (
        f"{name}: relative error {err:.2e} > {TOLERANCE:g} against finite differences"
    )


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}T{}D{}H{}".format(*s))
@pytest.mark.parametrize("cell", list(SEQUENCE))
def test_sequence_backward_matches_finite_differences(cell, shape):
    params, x, states, dhs, dstates = random_problem(cell, *shape, seed=sum(shape))
    forward, backward = SEQUENCE[cell]
    _, _, cache = forward(x, params, *states)
    dx, *dinitial, dparams = backward(dhs, cache, *dstates)

    def f():
        return loss(cell, params, x, states, dhs, dstates)

    assert_gradient("dx", dx, numerical_gradient(f, x))
    for k, state in enumerate(states):
        assert_gradient(f"d initial state {k}", dinitial[k], numerical_gradient(f, state))
    for key, value in params.items():
        assert_gradient(f"d{key}", dparams[key], numerical_gradient(f, value))


@pytest.mark.parametrize("cell", list(STEP))
def test_step_backward_matches_finite_differences(cell):
    params, x, states, dhs, dstates = random_problem(cell, 2, 1, 4, 3, seed=7)
    x_t = x[:, 0]
    upstream = [dhs[:, 0], *dstates[1:]]
    forward, backward = STEP[cell]
    *_, cache = forward(x_t, *states, params)
    dx_t, *dprev, dparams = backward(*upstream, cache)

    def f():
        *new_states, _ = forward(x_t, *states, params)
        return float(sum((s * u).sum() for s, u in zip(new_states, upstream, strict=True)))

    assert_gradient("dx_t", dx_t, numerical_gradient(f, x_t))
    for k, state in enumerate(states):
        assert_gradient(f"d previous state {k}", dprev[k], numerical_gradient(f, state))
    for key, value in params.items():
        assert_gradient(f"d{key}", dparams[key], numerical_gradient(f, value))


def test_linear_backward_matches_finite_differences():
    rng = np.random.default_rng(3)
    h, W_y, b_y = rng.normal(size=(4, 5)), rng.normal(size=(2, 5)), rng.normal(size=2)
    dy = rng.normal(size=(4, 2))
    _, cache = linear_forward(h, W_y, b_y)
    dh, dW_y, db_y = linear_backward(dy, cache)

    def f():
        return float((linear_forward(h, W_y, b_y)[0] * dy).sum())

    for name, analytic, array in [("dh", dh, h), ("dW_y", dW_y, W_y), ("db_y", db_y, b_y)]:
        assert_gradient(name, analytic, numerical_gradient(f, array))
