"""Helpers shared by the NumPy reference's tests: random problems, comparisons, finite differences."""

from __future__ import annotations

import itertools

import numpy as np

from lstm_ref import np_ref
from lstm_ref.params import init_params
from lstm_ref.specs import CELL_STATE_CELLS

# Each cell's sequence functions: forward(x, params, *initial) and backward(dhs, cache, *dstate_T).
SEQUENCE = {
    "rnn": (np_ref.rnn_forward, np_ref.rnn_backward),
    "lstm": (np_ref.lstm_forward, np_ref.lstm_backward),
    "lstm_fast": (np_ref.lstm_forward_fast, np_ref.lstm_backward_fast),
    "gru": (np_ref.gru_forward, np_ref.gru_backward),
    "peephole": (np_ref.peephole_forward, np_ref.peephole_backward),
    "coupled": (np_ref.coupled_forward, np_ref.coupled_backward),
}
STEP = {
    "rnn": (np_ref.rnn_cell_forward, np_ref.rnn_cell_backward),
    "lstm": (np_ref.lstm_cell_forward, np_ref.lstm_cell_backward),
    "gru": (np_ref.gru_cell_forward, np_ref.gru_cell_backward),
    "peephole": (np_ref.peephole_cell_forward, np_ref.peephole_cell_backward),
    "coupled": (np_ref.coupled_cell_forward, np_ref.coupled_cell_backward),
}


def param_cell(name: str) -> str:
    return "lstm" if name == "lstm_fast" else name


def n_states(name: str) -> int:
    return 2 if param_cell(name) in CELL_STATE_CELLS else 1


def shapes(count: int, seed: int) -> list[tuple[int, int, int, int]]:
    """``count`` shapes (N, T, D, H) whose four sizes all differ, including N = 1 and T = 1."""
    candidates = [s for s in itertools.permutations(range(1, 8), 4)]
    rng = np.random.default_rng(seed)
    picked = [candidates[i] for i in rng.choice(len(candidates), size=count - 2, replace=False)]
    return [(1, 3, 4, 5), (2, 1, 5, 3), *picked]


def random_problem(cell: str, N: int, T: int, D: int, H: int, seed: int):
    """Params with large, distinct biases; x (N, T, D); initial states; upstream gradients."""
    rng = np.random.default_rng(seed)
    params = init_params(param_cell(cell), D, H, seed=seed)
    params = {
        k: v * 2 + (rng.normal(size=v.shape) if k.startswith(("b", "p")) else 0)
        for k, v in params.items()
    }
    x = rng.normal(size=(N, T, D))
    states = [rng.normal(size=(N, H)) for _ in range(n_states(cell))]
    dhs = rng.normal(size=(N, T, H))
    dstates = [rng.normal(size=(N, H)) for _ in range(n_states(cell))]
    return params, x, states, dhs, dstates


def loss(cell: str, params, x, states, dhs, dstates) -> float:
    """The scalar whose gradients the backward passes compute: a fixed random projection of every
    hidden state and of the final state."""
    forward, _ = SEQUENCE[cell]
    hs, final, _ = forward(x, params, *states)
    final = final if isinstance(final, tuple) else (final,)
    return float((hs * dhs).sum() + sum((s * d).sum() for s, d in zip(final, dstates, strict=True)))


def numerical_gradient(f, array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Centred finite differences of the scalar f() with respect to ``array``, changed in place
    and restored exactly after each probe."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        old = array[index]
        array[index] = old + eps
        plus = f()
        array[index] = old - eps
        minus = f()
        array[index] = old
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    """||got - want|| / (||got|| + ||want||), 0 when both are 0."""
    scale = np.linalg.norm(got) + np.linalg.norm(want)
    return 0.0 if scale == 0 else float(np.linalg.norm(got - want) / scale)


def assert_close(name: str, got, want, atol: float) -> None:
    """Fail with the quantity's name, the largest absolute error, where it is, and both values."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{name}: shape {got.shape}, expected {want.shape}"
    if got.size == 0:
        return
    err = np.abs(got - want)
    where = np.unravel_index(np.argmax(err), err.shape)
    assert err[where] <= atol, (
        f"{name}: largest error {err[where]:.3g} > {atol:g} at index {tuple(map(int, where))} "
        f"(ours {got[where]!r}, reference {want[where]!r})"
    )
