"""The behaviour checks of ex03's forget_on_cue and ex04's store_on_cue, and the half-life's
planted mistakes (lstm_course.grading.planted_gates): a right answer passes, each fault fails
with its own name, and the checks' own references agree with independent computations."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_course.grading import (
    MISTAKES,
    check_forget_on_cue,
    check_store_on_cue,
    half_life_mistakes,
    random_arrays,
)

H, D, CUE = 3, 4, 2


def cue_answer(bias=5.0, weight=-10.0, column=None, others=0.0):
    W = np.full((H, H + D), others)
    W[:, H + CUE if column is None else column] = weight
    return W, np.full(H, bias)


def cue_draws(seed=0):
    return random_arrays(seed, (8, 12, H), (8, 12, D), (8,))


def message(check, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return str(info.value)


def test_a_right_forget_on_cue_passes_with_and_without_the_cue():
    for seed in range(3):
        check_forget_on_cue(cue_answer(), H, D, CUE, cue_draws(seed))
        check_forget_on_cue(cue_answer(), H, D, CUE, cue_draws(seed), cued=False)


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        (cue_answer(column=CUE), "order_xh"),  # the cue's weight in h_prev's columns
        (cue_answer(bias=-5.0, weight=10.0), "cue_inverted"),
        (cue_answer(bias=0.0), "cue_bias_small"),
        (cue_answer(bias=4.0, weight=-4.0), "cue_weight_weak"),
        (cue_answer(others=-3.0), "cue_listens_to_others"),
    ],
)
def test_each_forget_on_cue_fault_is_named(answer, key):
    text = message(check_forget_on_cue, answer, H, D, CUE, cue_draws())
    assert f"Likely mistake: {MISTAKES[key]}." in text, text
    assert text.count("Likely mistake") == 1


def test_forget_on_cue_shapes_and_types_are_named():
    W, b = cue_answer()
    assert "W_f has shape (7, 3); expected (H, H + D) = (3, 7)" in message(
        check_forget_on_cue, (W.T, b), H, D, CUE, cue_draws()
    )
    assert "expected two arrays: return W_f, b_f" in message(
        check_forget_on_cue, W, H, D, CUE, cue_draws()
    )


def test_the_cue_falls_inside_the_sequence_and_the_memory_follows_the_gate():
    """The check's verdict agrees with a memory run by hand with the forget gate's formula."""
    W, b = cue_answer()
    draws = cue_draws(1)
    h, x = np.tanh(draws[0]), np.tanh(draws[1])
    x[..., CUE] = 0.0
    cue_at = np.floor(np.abs(draws[2]) * 1000).astype(int) % 12
    x[np.arange(8), cue_at, CUE] = 1.0
    memory = np.ones((8, H))
    for t in range(12):
        a = np.concatenate([h[:, t], x[:, t]], axis=1) @ W.T + b
        memory = memory / (1 + np.exp(-a))
    survived = memory.max(axis=1)
    assert np.all(survived <= 0.05)  # every sequence met its cue and lost its memory
    check_forget_on_cue((W, b), H, D, CUE, draws)


def store_answer(**change):
    p = {"W_f": [[0.0, 0.0, -20.0]], "b_f": [10.0], "W_i": [[0.0, 0.0, 20.0]],
         "b_i": [-10.0], "W_c": [[0.0, 1.1, 0.0]], "b_c": [0.0]}  # fmt: skip
    p.update(change)
    return {k: np.array(v, dtype=float) for k, v in p.items()}


def store_draws(seed=0, T=15):
    return random_arrays(seed, (8, T, 1), (8, T), (8, T), (8,))


def test_a_right_store_on_cue_passes():
    for seed in range(3):
        check_store_on_cue(store_answer(), store_draws(seed))
        check_store_on_cue(store_answer(), store_draws(seed), writes="first")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"W_f": [[0.0, 0.0, 0.0]]}, "store_keeps_old"),
        ({"b_i": [10.0]}, "store_writes_always"),
        ({"b_f": [2.0], "W_f": [[0.0, 0.0, -6.0]]}, "store_leaks"),
        ({"W_c": [[0.0, 10.0, 0.0]]}, "store_candidate"),
        (
            {"W_f": [[0.0, 0.0, 20.0]], "b_f": [-10.0], "W_i": [[0.0, 0.0, -20.0]], "b_i": [10.0]},
            "swap_f_i",
        ),  # fmt: skip
        (
            {"W_f": [[0.0, -20.0, 0.0]], "W_i": [[0.0, 20.0, 0.0]], "W_c": [[1.1, 0.0, 0.0]]},
            "order_xh",
        ),  # fmt: skip
        ({"W_c": [[2.0, 1.1, 0.0]]}, "store_listens_to_h"),
    ],
)
def test_each_store_on_cue_fault_is_named(change, key):
    text = message(check_store_on_cue, store_answer(**change), store_draws())
    assert f"Likely mistake: {MISTAKES[key]}." in text, text


def test_store_on_cue_names_missing_keys():
    answer = store_answer()
    del answer["b_c"]
    assert "expected a dict with the keys W_f, b_f, W_i, b_i, W_c, b_c" in message(
        check_store_on_cue, answer, store_draws()
    )


def test_half_life_mistakes_differ_from_the_half_life_and_from_each_other():
    f = np.array([0.3, 0.9, 0.99, 0.999])
    k = np.log(0.5) / np.log(f)
    assert np.allclose(f**k, 0.5)  # the closed form, checked without a logarithm
    values = half_life_mistakes(f)
    for key, value in values.items():
        assert key.partition(":")[0] in MISTAKES
        assert not np.allclose(value, k), key
    names = list(values)
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            assert not np.allclose(values[names[a]], values[names[b]]), (names[a], names[b])
