"""lstm_ref.grading: the comparisons and diagnoses every graded cell relies on."""

import sys
import warnings

import numpy as np
import pytest

from lstm_ref import grading, np_ref
from lstm_ref.params import init_params

N, D, H = 2, 4, 5


def gate_inputs(seed=0):
    return grading.random_arrays(seed, (N, H), (N, D), (H, H + D), (H,))


def failure(*args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        grading.compare(*args, **kwargs)
    return str(info.value)


def test_compare_accepts_equal_values_and_rounding():
    x = grading.random_arrays(0, (N, H))[0]
    grading.compare("x", x, x)
    grading.compare("x", x * (1 + 1e-9), x)
    grading.compare("x", x.tolist(), x)  # a nested list is an array too


def test_compare_names_quantity_largest_error_and_index():
    expected = np.zeros((N, H))
    got = expected.copy()
    got[1, 3] = 0.25
    got[0, 0] = 0.1
    message = failure("f_t", got, expected, letters="(N, H)")
    assert message.startswith("f_t is wrong: the largest error is 0.25 at index (1, 3)")
    assert "you returned 0.25, expected 0" in message


def test_compare_reports_shape_in_letters_and_spots_a_transpose():
    expected = np.zeros((N, H))
    message = failure("f_t", np.zeros((H, N)), expected, letters="(N, H)")
    assert "f_t has shape (5, 2); expected (N, H) = (2, 5)" in message
    assert "looks transposed" in message


def test_compare_explains_none_tuples_and_non_finite_values():
    expected = np.ones((N, H))
    assert "forget to `return`" in failure("h_t", None, expected)
    assert "tuple of 2 items" in failure("h_t", (expected, expected + 1), expected)
    bad = expected.copy()
    bad[0, 2] = np.nan
    assert "contains nan at index (0, 2)" in failure("h_t", bad, expected)


def test_compare_adds_the_hint_to_a_failure_only():
    expected = np.ones(3)
    grading.compare("b", expected, expected, hint="never shown")
    assert failure("b", expected * 2, expected, hint="Check the bias.").endswith("Check the bias.")


def test_compare_accepts_tensors():
    torch = pytest.importorskip("torch")
    x = grading.random_arrays(0, (N, H))[0]
    grading.compare("h", torch.tensor(x, requires_grad=True) * 1, x)


@pytest.mark.parametrize(
    ("key", "planted"),
    [
        ("order_xh", lambda h, x, W, b: np_ref.sigmoid(np.hstack([x, h]) @ W.T + b)),
        ("tanh_for_sigmoid", lambda h, x, W, b: np.tanh(np.hstack([h, x]) @ W.T + b)),
        ("no_bias", lambda h, x, W, b: np_ref.sigmoid(np.hstack([h, x]) @ W.T)),
        ("bias_twice", lambda h, x, W, b: np_ref.sigmoid(np.hstack([h, x]) @ W.T + 2 * b)),
        ("wrong_sign", lambda h, x, W, b: 1 - np_ref.sigmoid(np.hstack([h, x]) @ W.T + b)),
        ("no_activation", lambda h, x, W, b: np.hstack([h, x]) @ W.T + b),
        ("ignores_h", lambda h, x, W, b: np_ref.sigmoid(x @ W[:, H:].T + b)),
    ],
)
def test_gate_mistakes_are_recognised_by_name(key, planted):
    h, x, W, b = gate_inputs(1)
    message = failure(
        "f_t",
        planted(h, x, W, b),
        np_ref.forget_gate(h, x, W, b),
        mistakes=grading.gate_mistakes(h, x, W, b),
    )
    assert f"Likely mistake: {grading.MISTAKES[key]}." in message
    assert message.count("Likely mistake") == 1  # one mistake, not a list of guesses


def test_gate_mistakes_never_match_the_right_answer():
    h, x, W, b = gate_inputs(2)
    right = np_ref.forget_gate(h, x, W, b)
    assert grading.diagnose(right, grading.gate_mistakes(h, x, W, b)) == []
    right_c = np_ref.candidate(h, x, W, b)
    assert grading.diagnose(right_c, grading.gate_mistakes(h, x, W, b, "tanh")) == []


def test_sigmoid_where_tanh_belongs_is_recognised_for_the_candidate():
    h, x, W, b = gate_inputs(3)
    got = np_ref.sigmoid(np.hstack([h, x]) @ W.T + b)
    found = grading.diagnose(got, grading.gate_mistakes(h, x, W, b, "tanh"))
    assert found == ["sigmoid_for_tanh"]


def lstm_case(seed=4):
    x, h, c = grading.random_arrays(seed, (N, D), (N, H), (N, H))
    return x, h, c, init_params("lstm", D, H, seed=seed)


def planted_cell(x, h, c, p, mistake):
    """An independent, plainly written LSTM step with one mistake planted."""
    z = np.hstack([x, h]) if mistake == "order_xh" else np.hstack([h, x])
    s = np_ref.sigmoid
    f = s(z @ p["W_f"].T + p["b_f"])
    i = s(z @ p["W_i"].T + p["b_i"])
    g = np.tanh(z @ p["W_c"].T + p["b_c"])
    o = s(z @ p["W_o"].T + p["b_o"])
    if mistake == "swap_f_i":
        c_t = i * c + f * g
    elif mistake == "gate_order":  # weights stacked i, f, g, o but read as f, i, g, o
        c_t = i * c + f * g
    else:
        c_t = f * c + i * g
    h_t = o * c_t if mistake == "c_for_tanh_c" else o * np.tanh(c_t)
    return h_t, c_t


@pytest.mark.parametrize("mistake", ["order_xh", "swap_f_i", "c_for_tanh_c"])
def test_lstm_cell_mistakes_are_recognised(mistake):
    x, h, c, p = lstm_case()
    h_ref, c_ref, _ = np_ref.lstm_cell_forward(x, h, c, p)
    h_bad, c_bad = planted_cell(x, h, c, p, mistake)
    variants = grading.lstm_cell_mistakes(x, h, c, p)
    message = failure("h_t", h_bad, h_ref, mistakes=grading.pick(variants, 0))
    assert f"Likely mistake: {grading.MISTAKES[mistake]}" in message
    right = grading.diagnose(h_ref, grading.pick(variants, 0))
    assert right == []


def test_lstm_gate_order_mistake_names_the_swap():
    x, h, c, p = lstm_case(5)
    q = dict(p, W_f=p["W_i"], b_f=p["b_i"], W_i=p["W_f"], b_i=p["b_f"])
    h_bad, _, _ = np_ref.lstm_cell_forward(x, h, c, q)
    h_ref, _, _ = np_ref.lstm_cell_forward(x, h, c, p)
    variants = grading.pick(grading.lstm_cell_mistakes(x, h, c, p), 0)
    message = failure("h_t", h_bad, h_ref, mistakes=variants)
    assert "gates in the wrong order" in message
    assert "the weights of f and i swapped" in message


def test_stacked_gate_order_names_the_order_used():
    W = np.arange(4 * H * 3, dtype=float).reshape(4 * H, 3)
    blocks = np.split(W, 4)
    f_first = np.vstack([blocks[1], blocks[0], blocks[2], blocks[3]])
    found = grading.diagnose(f_first, grading.stacked_gate_order_mistakes(W, H))
    assert found == ["gate_order:you stacked them f, i, g, o"]
    assert len(grading.stacked_gate_order_mistakes(W, H)) == 23


def test_run_keeps_warnings_and_stderr_out_of_stderr(capsys):
    def noisy(z):
        print("debug", file=sys.stderr)
        warnings.warn("careful", UserWarning, stacklevel=1)
        return np.exp(z)

    out = grading.run(noisy, np.array([1000.0]))
    assert np.isinf(out[0])
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "debug" in captured.out
    assert "RuntimeWarning: overflow encountered in exp" in captured.out
    assert "UserWarning: careful" in captured.out


def test_run_with_warnings_records_them_and_assert_no_warnings_names_the_mistake():
    def naive(z):
        return 1 / (1 + np.exp(-z))

    _, caught = grading.run_with_warnings(naive, np.array([-1000.0]))
    assert caught and "overflow" in caught[0]
    with pytest.raises(AssertionError, match="an unstable sigmoid"):
        grading.assert_no_warnings("sigmoid", caught, mistake="unstable_sigmoid")
    grading.assert_no_warnings("sigmoid", [])


def test_run_passes_the_stub_error_through_and_explains_others():
    def stub(x):
        raise NotImplementedError("write the body of this function")

    with pytest.raises(NotImplementedError):
        grading.run(stub, 1)

    def transposed(z, W):
        return z @ W

    z, W = grading.random_arrays(0, (N, H + D), (H, H + D))
    with pytest.raises(AssertionError) as info:
        grading.run(transposed, z, W)
    message = str(info.value)
    assert message.startswith("transposed() raised ValueError: matmul")
    assert "shapes (2, 9), (5, 9)" in message
    assert "a transposed weight" in message


def test_random_arrays_is_reproducible_and_float64():
    a = grading.random_arrays(7, (2, 3), (4,), scale=2.0)
    b = grading.random_arrays(7, (2, 3), (4,), scale=2.0)
    assert [x.shape for x in a] == [(2, 3), (4,)]
    assert all(x.dtype == np.float64 for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_grading_does_not_import_torch():
    import subprocess

    code = "import sys, lstm_ref.grading; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
