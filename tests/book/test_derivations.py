"""The functions a chapter derives line by line must equal lstm_ref's.

Each chapter keeps its derivation in code cells tagged ``derivation``. We read the chapter with
jupytext, run only those cells, and compare the functions they define with lstm_ref.np_ref on
random inputs whose sizes all differ (N, T, D, H = 2, 3, 4, 5), for several seeds.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import numpy as np
import pytest

from lstm_ref import np_ref
from lstm_ref.params import init_params

BOOK = Path(__file__).resolve().parents[2] / "book"
N, T, D, H = 2, 3, 4, 5
SEEDS = [0, 1, 2]


def derivation(chapter: str) -> dict:
    """Run the chapter's cells tagged `derivation`; return the namespace they define."""
    nb = jupytext.read(BOOK / f"{chapter}.md")
    cells = [
        c.source
        for c in nb.cells
        if c.cell_type == "code" and "derivation" in c.metadata.get("tags", [])
    ]
    assert cells, f"{chapter}.md has no code cell tagged 'derivation'"
    namespace: dict = {}
    exec(compile("\n\n".join(cells), f"book/{chapter}.md (derivation cells)", "exec"), namespace)
    return namespace


def assert_same(name: str, ours, ref, atol=1e-13):
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, (
        f"{name}: chapter gives shape {ours.shape}, lstm_ref {ref.shape}"
    )
    err = np.abs(ours - ref)
    where = np.unravel_index(err.argmax(), err.shape)
    assert err.max() <= atol, (
        f"{name}: largest difference {err.max():.2e} at {where}: "
        f"chapter {ours[where]!r}, lstm_ref {ref[where]!r}"
    )


def step_inputs(seed):
    rng = np.random.default_rng(seed)
    h_prev, c_prev = rng.standard_normal((2, N, H))
    x_t = rng.standard_normal((N, D))
    W = rng.standard_normal((H, H + D))
    b = rng.standard_normal(H)
    return rng, h_prev, c_prev, x_t, W, b


@pytest.mark.parametrize("seed", SEEDS)
def test_ch3_sigmoid_equals_lstm_ref(seed):
    """Check that chapter 3's stable sigmoid equals np_ref.sigmoid, including huge |z|."""
    ns = derivation("03_forget_gate")
    z = np.random.default_rng(seed).standard_normal((N, H)) * 30
    z[0, :2] = [-1000.0, 1000.0]
    with np.errstate(over="raise", invalid="raise"):  # no overflow allowed (underflow to 0 is fine)
        assert_same("sigmoid", ns["sigmoid"](z), np_ref.sigmoid(z), atol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_ch3_forget_gate_equals_lstm_ref(seed):
    """Check that chapter 3's forget_gate equals np_ref.forget_gate."""
    ns = derivation("03_forget_gate")
    _, h_prev, _, x_t, W, b = step_inputs(seed)
    assert_same("f_t", ns["forget_gate"](h_prev, x_t, W, b), np_ref.forget_gate(h_prev, x_t, W, b))


@pytest.mark.parametrize("seed", SEEDS)
def test_ch4_input_gate_candidate_and_update_equal_lstm_ref(seed):
    """Check chapter 4's input_gate, candidate and cell_update against np_ref's."""
    ns = derivation("04_input_gate")
    rng, h_prev, c_prev, x_t, W, b = step_inputs(seed)
    i_t = ns["input_gate"](h_prev, x_t, W, b)
    assert_same("i_t", i_t, np_ref.input_gate(h_prev, x_t, W, b))
    c_tilde = ns["candidate"](h_prev, x_t, W, b)
    assert_same("c_tilde", c_tilde, np_ref.candidate(h_prev, x_t, W, b))
    f_t = rng.uniform(size=(N, H))
    assert_same(
        "c_t",
        ns["cell_update"](f_t, c_prev, i_t, c_tilde),
        np_ref.cell_update(f_t, c_prev, i_t, c_tilde),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_ch5_output_gate_and_hidden_state_equal_lstm_ref(seed):
    """Check chapter 5's output_gate and hidden_state against np_ref's."""
    ns = derivation("05_output_gate")
    _, h_prev, c_prev, x_t, W, b = step_inputs(seed)
    o_t = ns["output_gate"](h_prev, x_t, W, b)
    assert_same("o_t", o_t, np_ref.output_gate(h_prev, x_t, W, b))
    assert_same("h_t", ns["hidden_state"](o_t, c_prev), np_ref.hidden_state(o_t, c_prev))


@pytest.mark.parametrize("seed", SEEDS)
def test_ch5_lstm_step_and_sequence_equal_lstm_ref(seed):
    """Check chapter 5's lstm_step and lstm_sequence against lstm_cell_forward and lstm_forward."""
    ns = derivation("05_output_gate")
    rng, h_prev, c_prev, x_t, _, _ = step_inputs(seed)
    params = init_params("lstm", D, H, seed=seed)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
    h_t, c_t = ns["lstm_step"](x_t, h_prev, c_prev, params)
    h_ref, c_ref, _ = np_ref.lstm_cell_forward(x_t, h_prev, c_prev, params)
    assert_same("h_t", h_t, h_ref)
    assert_same("c_t", c_t, c_ref)
    x = rng.standard_normal((N, T, D))
    hs_ref, _, _ = np_ref.lstm_forward(x, params)
    assert_same("hs", ns["lstm_sequence"](x, params), hs_ref)
