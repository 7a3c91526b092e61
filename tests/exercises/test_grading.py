"""lstm_course.grading: the comparisons and diagnoses every graded cell relies on."""

import sys
import warnings

import numpy as np
import pytest

from lstm_course import grading
from lstm_ref import np_ref
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


@pytest.mark.parametrize(
    ("mistake", "named"),
    [
        ("order_xh", grading.MISTAKES["order_xh"]),
        # f_t and i_t swapped in C_t gives the numbers of their weights swapped: one line, both
        ("swap_f_i", "the weights of the forget gate and the input gate swapped, or f_t and i_t"),
        ("c_for_tanh_c", grading.MISTAKES["c_for_tanh_c"]),
    ],
)
def test_lstm_cell_mistakes_are_recognised(mistake, named):
    x, h, c, p = lstm_case()
    h_ref, c_ref, _ = np_ref.lstm_cell_forward(x, h, c, p)
    h_bad, c_bad = planted_cell(x, h, c, p, mistake)
    variants = grading.lstm_cell_mistakes(x, h, c, p)
    message = failure("h_t", h_bad, h_ref, mistakes=grading.pick(variants, 0))
    assert "Likely mistake: " in message and named in message
    assert message.count("Likely mistake") == 1
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
    assert "the weights of the forget gate and the input gate swapped" in message


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

    code = (
        "import sys, lstm_course.grading, lstm_ref.np_ref, lstm_ref.params, lstm_ref.data; "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


# Every planted-mistake helper starts from a correct computation: with no mistake planted, each
# agrees with the reference, so a variant differs from the right answer only by its mistake.


def test_sequence_mistakes_are_recognised():
    T = 4
    x, h0, c0 = grading.random_arrays(14, (N, T, D), (N, H), (N, H))
    p = grading.random_params("lstm", D, H, 14)
    hs_ref = np_ref.lstm_forward(x, p, h0, c0)[0]
    variants = grading.pick(grading.lstm_sequence_mistakes(x, p, h0, c0), 0)
    from_zero = np_ref.lstm_forward(x, p)[0]
    assert grading.diagnose(from_zero, variants) == ["initial_state_ignored"]
    assert grading.diagnose(hs_ref, variants) == []
    rnn = {"W_h": p["W_f"], "b_h": p["b_f"]}
    not_carried = np.stack([np_ref.rnn_cell_forward(x[:, t], h0, rnn)[0] for t in range(T)], axis=1)
    rnn_variants = grading.rnn_sequence_mistakes(x, p["W_f"], p["b_f"], h0)
    assert grading.diagnose(not_carried, rnn_variants) == ["state_not_carried"]


def test_rnn_state_gradient_mistakes_recognise_a_missing_derivative():
    T = 3
    x, h0, dh_T = grading.random_arrays(15, (N, T, D), (N, H), (N, H))
    p = grading.random_params("rnn", D, H, 15, scale=1.0)
    hs = np_ref.rnn_forward(x, p, h0)[0]
    W_hh = p["W_h"][:, :H]
    grads = [dh_T]
    for _ in range(T):
        grads.insert(0, grads[0] @ W_hh)  # no tanh derivative
    variants = grading.rnn_state_gradient_mistakes(hs, h0, p["W_h"], dh_T)
    assert grading.diagnose(np.stack(grads, axis=1), variants) == ["missing_tanh_derivative"]
    # and the right answer (backpropagated through the reference) matches no mistake
    dh0 = np_ref.rnn_backward(np.zeros((N, T, H)), np_ref.rnn_forward(x, p, h0)[2], dh_T)[1]
    assert not any(np.allclose(v[:, 0], dh0) for v in variants.values())


def test_gru_and_peephole_mistakes_are_built_on_the_reference():
    x, h, c = grading.random_arrays(16, (N, D), (N, H), (N, H))
    p = grading.random_params("gru", D, H, 16, scale=1.0)
    right = np_ref.gru_cell_forward(x, h, p)[0]
    variants = grading.gru_cell_mistakes(x, h, p)
    assert grading.diagnose(right, variants) == []
    hx = np.hstack([h, x])
    r = np_ref.sigmoid(hx @ p["W_r"].T + p["b_r"])
    z = np_ref.sigmoid(hx @ p["W_z"].T + p["b_z"])
    n = np.tanh(x @ p["W_xn"].T + p["b_xn"] + r * (h @ p["W_hn"].T + p["b_hn"]))
    grading.compare("h_t written out", (1 - z) * n + z * h, right)
    assert grading.diagnose(z * n + (1 - z) * h, variants) == ["gru_update_swapped"]

    q = grading.random_params("peephole", D, H, 17, scale=1.0)
    h_ref, c_ref, _ = np_ref.peephole_cell_forward(x, h, c, q)
    pv = grading.peephole_cell_mistakes(x, h, c, q)
    assert grading.diagnose(h_ref, grading.pick(pv, 0)) == []
    no_peep = dict(q, p_f=np.zeros(H))
    h_bad, _, _ = np_ref.peephole_cell_forward(x, h, c, no_peep)
    found = grading.diagnose(h_bad, grading.pick(pv, 0))
    assert found == ["peephole_missing:the forget gate's p_f"]


def test_variant_mistakes_of_issue_12_are_named_from_code_written_out():
    """Each of ex08's new mistakes, written out independently of planted_variants, is diagnosed
    as itself and as nothing else; the right answers match no mistake."""
    x, h, c = grading.random_arrays(18, (N, D), (N, H), (N, H))
    p = grading.random_params("gru", D, H, 18, scale=1.0)
    sig, hx = np_ref.sigmoid, np.hstack([h, x])

    def gru(W_r, b_r, W_z, b_z, hn):  # the GRU written out, with what each gate reads
        r, z = sig(hx @ W_r.T + b_r), sig(hx @ W_z.T + b_z)
        return (1 - z) * np.tanh(x @ p["W_xn"].T + p["b_xn"] + r * (hn + p["b_hn"])) + z * h

    gv = grading.gru_cell_mistakes(x, h, p)
    Wr, br, Wz, bz, Whn = p["W_r"], p["b_r"], p["W_z"], p["b_z"], p["W_hn"]
    assert grading.diagnose(gru(Wr, br, Wz, bz, h @ Whn.T), gv) == []
    assert grading.diagnose(gru(Wr, br, Wz, bz, h @ Whn), gv) == ["gru_w_hn_untransposed"]
    assert grading.diagnose(gru(Wz, br, Wz, bz, h @ Whn.T), gv) == ["gru_reset_uses_w_z"]
    assert grading.diagnose(gru(Wz, bz, Wz, bz, h @ Whn.T), gv) == [
        "gru_reset_uses_w_z:and b_z, so r_t = z_t"
    ]
    assert grading.diagnose(gru(Wr, br, Wr, bz, h @ Whn.T), gv) == ["gru_update_uses_w_r"]

    q = grading.random_params("peephole", D, H, 19, scale=1.0)
    pv = grading.pick(grading.peephole_cell_mistakes(x, h, c, q), 0)

    pc = grading.pick(grading.peephole_cell_mistakes(x, h, c, q), 1)

    def peephole(seen_f, seen_i, seen_o):  # the peephole cell, with what each gate peeks at
        f = sig(hx @ q["W_f"].T + q["p_f"] * seen_f + q["b_f"])
        i = sig(hx @ q["W_i"].T + q["p_i"] * seen_i + q["b_i"])
        c_t = f * c + i * np.tanh(hx @ q["W_c"].T + q["b_c"])
        o = sig(hx @ q["W_o"].T + q["p_o"] * (c_t if seen_o is None else seen_o) + q["b_o"])
        return o * np.tanh(c_t), c_t

    right = np_ref.peephole_cell_forward(x, h, c, q)[0]
    grading.compare("peephole h_t written out", peephole(c, c, None)[0], right)
    assert grading.diagnose(peephole(c, c, None)[0], pv) == []
    assert grading.diagnose(peephole(h, h, h)[0], pv) == ["peephole_on_h"]
    assert grading.diagnose(peephole(c, c, h)[0], pv) == ["peephole_on_h:in o_t"]
    # on h in f_t and i_t only: its C_t, checked first, is named as on h everywhere
    assert grading.diagnose(peephole(h, h, None)[1], pc) == ["peephole_on_h"]
    for key in ("peephole_on_h", "gru_w_hn_untransposed", "gru_reset_uses_w_z"):
        assert key in grading.MISTAKES


def test_torch_cell_mistakes_match_nn_lstmcell_and_name_the_order():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(D, H).double()
    x, h, c = (torch.randn(N, k, dtype=torch.float64) for k in (D, H, H))
    h_ref, c_ref = cell(x, (h, c))
    variants = grading.torch_lstm_cell_mistakes(x, h, c, cell.state_dict())
    assert len(variants) == 23 + 5
    assert grading.diagnose(h_ref, grading.pick(variants, 0)) == []
    state = {k: v.clone() for k, v in cell.state_dict().items()}
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):  # read the blocks as f, i, g, o
        i, f, g, o = state[name].chunk(4)
        state[name] = torch.cat([f, i, g, o])
    wrong = torch.nn.LSTMCell(D, H).double()
    wrong.load_state_dict(state)
    found = grading.diagnose(wrong(x, (h, c))[0], grading.pick(variants, 0))
    assert found == ["gate_order:you read the four blocks as f, i, g, o"]


def test_random_params_follow_the_specs_with_non_zero_biases():
    from lstm_ref.specs import PARAM_SPECS

    for cell in ("rnn", "lstm", "gru", "peephole", "coupled"):
        p = grading.random_params(cell, D, H, 0)
        assert list(p) == list(PARAM_SPECS[cell])
        for key, value in p.items():
            assert value.dtype == np.float64 and np.all(value != 0), key
    assert grading.random_params("lstm", D, H, 0)["W_f"].shape == (H, H + D)


# ---------------------------------------------------------------------------------------------
# Feedback that never lies (issue 10).


def test_run_gives_copies_and_names_an_in_place_edit():
    """A function that edits its input in place is named as such, and the caller's arrays (from
    which a test computes its expected value) stay as they were."""
    h, x, W, b = gate_inputs(20)
    saved = [a.copy() for a in (h, x, W, b)]

    def forget_gate(h_prev, x_t, W_f, b_f):
        z = np.concatenate([h_prev, x_t], axis=1)
        h_prev *= 0  # right answer, but the caller's h_prev is gone
        return np_ref.sigmoid(z @ W_f.T + b_f)

    with pytest.raises(AssertionError) as info:
        grading.run(forget_gate, h, x, W, b)
    message = str(info.value)
    assert message.startswith("Your forget_gate changed its argument h_prev in place: h_prev at")
    for array, before in zip((h, x, W, b), saved, strict=True):
        assert np.array_equal(array, before)
    # an edit inside a dict argument is named with its key; values are never shown
    params = grading.random_params("lstm", D, H, 20)

    def cell(x_t, params):
        params["W_f"][0, 0] = 123.0
        return x_t

    with pytest.raises(
        AssertionError, match=r"changed its argument params in place: params\['W_f'\]"
    ):
        grading.run(cell, x, params)
    assert params["W_f"][0, 0] != 123.0
    assert "123" not in str(pytest.raises(AssertionError, grading.run, cell, x, params).value)


def test_run_passes_objects_that_hold_no_array_as_they_are():
    class Model:
        steps = 0

    model, seen = Model(), []

    def train(m, losses):
        m.steps += 1
        losses.append(1.0)
        seen.append(m)

    losses = []
    grading.run(train, model, losses)
    assert seen[0] is model and model.steps == 1 and losses == [1.0]  # trained in place, as asked


def test_run_keeping_edits_returns_what_the_function_left():
    (x,) = grading.random_arrays(21, (2, 3))
    saved = x.copy()

    def nudge(v):
        v[0, 1] += 1.0
        return "done"

    result, (after,) = grading.run_keeping_edits(nudge, x)
    assert result == "done"
    assert np.array_equal(x, saved)
    assert after[0, 1] == saved[0, 1] + 1.0


def test_a_transposed_weight_is_named_only_when_transposing_it_makes_the_code_run():
    h, x, W, b = gate_inputs(22)

    def transposed(h_prev, x_t, W_f, b_f):
        return np_ref.sigmoid(np.concatenate([h_prev, x_t], axis=1) @ W_f + b_f)

    def forgot_x(h_prev, x_t, W_f, b_f):  # a matrix-product error that is no transposition
        return np_ref.sigmoid(h_prev @ W_f.T + b_f)

    with pytest.raises(AssertionError) as info:
        grading.run(transposed, h, x, W, b)
    assert "Likely mistake: a transposed weight" in str(info.value)
    assert "with W_f transposed your code runs" in str(info.value)
    with pytest.raises(AssertionError) as info:
        grading.run(forgot_x, h, x, W, b)
    assert "raised ValueError: matmul" in str(info.value)
    assert "transposed" not in str(info.value)


def test_likely_mistake_only_when_exactly_one_matches():
    expected = np.zeros(3)
    got = np.ones(3)
    one = failure("y", got, expected, mistakes={"no_bias": got, "bias_twice": 2 * got})
    assert one.count("Likely mistake: the bias is missing") == 1
    assert "added twice" not in one
    two = failure("y", got, expected, mistakes={"no_bias": got, "bias_twice": got.copy()})
    assert "Likely mistake" not in two
    assert "matches 2 classic mistakes" in two and "one of: (1) the bias is missing" in two
    assert "(2) the bias is added twice" in two
    # keys that describe the same mistake are one mistake
    same = failure("y", got, expected, mistakes={"no_bias": got, grading.MISTAKES["no_bias"]: got})
    assert same.count("Likely mistake: the bias is missing") == 1


def test_wrong_step_blames_the_cell_and_not_the_loop():
    T = 3
    x, h0, c0 = grading.random_arrays(23, (N, T, D), (N, H), (N, H))
    p = grading.random_params("lstm", D, H, 23)
    hs_ref = np_ref.lstm_forward(x, p, h0, c0)[0]

    def good_cell(x_t, h_prev, c_prev, params):
        h_t, c_t, _ = np_ref.lstm_cell_forward(x_t, h_prev, c_prev, params)
        return h_t, c_t

    def bad_cell(x_t, h_prev, c_prev, params):
        h_t, c_t = good_cell(x_t, h_prev, c_prev, params)
        return h_t * 1.01, c_t

    def loop(cell, carry=True):
        h, c, hs = h0, c0, []
        for t in range(T):
            h_t, c_t = cell(x[:, t], h, c, p)
            h, c = (h_t, c_t) if carry else (h, c)
            hs.append(h_t)
        return np.stack(hs, axis=1)

    steps = grading.lstm_steps(x, p, h0, c0)
    mistakes = grading.pick(grading.lstm_sequence_mistakes(x, p, h0, c0), 0)
    blame_bad = grading.wrong_step("lstm_cell_forward", bad_cell, steps)
    message = failure("hs", loop(bad_cell), hs_ref, mistakes=mistakes, cause=blame_bad)
    assert (
        "Your lstm_cell_forward is wrong: fed the reference's inputs at step 1 of the 3" in message
    )
    assert "Likely mistake" not in message
    blame_good = grading.wrong_step("lstm_cell_forward", good_cell, steps)
    message = failure(
        "hs", loop(good_cell, carry=False), hs_ref, mistakes=mistakes, cause=blame_good
    )
    assert "Likely mistake: the state is not carried" in message
    assert "lstm_cell_forward" not in message
    grading.compare("hs", loop(good_cell), hs_ref, cause=blame_bad)  # right: the cause is not asked


def test_steps_follow_the_reference_sequence():
    T = 4
    x, h0, c0, dhs = grading.random_arrays(24, (N, T, D), (N, H), (N, H), (N, T, H))
    p = grading.random_params("lstm", D, H, 24)
    hs, (h_T, c_T), cache = np_ref.lstm_forward(x, p, h0, c0)
    steps = grading.lstm_steps(x, p, h0, c0)
    grading.compare("hs from the steps", np.stack([e[0] for _, e in steps], axis=1), hs)
    grading.compare("c_T from the steps", steps[-1][1][1], c_T)
    rnn = {"W_h": p["W_f"], "b_h": p["b_f"]}
    rnn_steps = grading.rnn_steps(x, rnn["W_h"], rnn["b_h"])
    grading.compare("rnn hs", np.stack([e for _, e in rnn_steps], 1), np_ref.rnn_forward(x, rnn)[0])
    dx, dh0, dc0, dparams = np_ref.lstm_backward(dhs, cache)
    back = grading.lstm_backward_steps(dhs, x, p, h0, c0)
    grading.compare("dx from the steps", np.stack([e[0] for _, e in back[::-1]], axis=1), dx)
    grading.compare("dh0 from the steps", back[-1][1][1], dh0)
    grading.compare("dW_f summed", sum(e[3]["W_f"] for _, e in back), dparams["W_f"])


def test_assert_float_accepts_floats_only():
    grading.assert_float("rmse", 0.5)
    grading.assert_float("rmse", np.float64(0.5))  # a subclass of float
    for value, kind in [(np.array(0.5), "NumPy array of shape ()"), (np.float32(0.5), "float32"),
                        (1, "int"), (None, "NoneType")]:  # fmt: skip
        with pytest.raises(AssertionError, match=f"rmse is a {kind}"):
            grading.assert_float("rmse", value)
    torch = pytest.importorskip("torch")
    with pytest.raises(AssertionError, match="rmse is a tensor that requires grad"):
        grading.assert_float("rmse", torch.tensor(0.5, requires_grad=True) * 2)


def test_feedback_hides_a_hidden_tests_code_and_traceback():
    import nbformat

    from lstm_course.grading.feedback import HideHiddenTests

    meta = {"grade": True, "grade_id": "gate_random", "points": 2, "solution": False,
            "locked": True, "schema_version": 3}  # fmt: skip
    source = (
        '"""Check that gate matches the reference."""\n### BEGIN HIDDEN TESTS\n'
        "for seed in [12345]:\n    check(seed)\n### END HIDDEN TESTS\n# Hidden tests run here."
    )
    hidden = nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})
    hidden.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="h_prev = [[0.123456]]"),
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="f_t is wrong",
            traceback=["Traceback", "----> 3 for seed in [12345]:", "AssertionError: f_t is wrong"],
        ),
    ]
    visible = nbformat.v4.new_code_cell(
        "check(7)", metadata={"nbgrader": dict(meta, grade_id="gate_example")}
    )
    visible.outputs = [
        nbformat.v4.new_output("error", ename="E", evalue="v", traceback=["check(7)"])
    ]
    nb = nbformat.v4.new_notebook(cells=[hidden, visible])
    nb, _ = HideHiddenTests().preprocess(nb, {})
    text = nbformat.writes(nb)
    assert "12345" not in text and "HIDDEN TESTS" not in text and "0.123456" not in text
    assert "Check that gate matches the reference" in text and "# Hidden tests run here." in text
    assert [o["output_type"] for o in nb.cells[0].outputs] == ["error"]
    assert nb.cells[0].outputs[0]["traceback"] == ["AssertionError: f_t is wrong"]
    assert nb.cells[1].source == "check(7)" and nb.cells[1].outputs[0]["traceback"] == ["check(7)"]


def test_feedback_hides_what_a_later_cell_prints_after_a_hidden_test():
    """A student's cell after a hidden test may print inputs its answers kept: in feedback its
    outputs become a note; a cell before any hidden test keeps its outputs."""
    import nbformat

    from lstm_course.grading.feedback import AFTER_HIDDEN, HideHiddenTests

    meta = {"grade": True, "grade_id": "gate_random", "points": 2, "solution": False,
            "locked": True, "schema_version": 3}  # fmt: skip
    source = "### BEGIN HIDDEN TESTS\ncheck(12345)\n### END HIDDEN TESTS\n"
    hidden = nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})

    def student(text):
        cell = nbformat.v4.new_code_cell("print(SEEN)")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        return cell

    before, after = student("try-it output 0.5"), student("SEEN h_prev = [[0.123456]]")
    nb = nbformat.v4.new_notebook(cells=[before, hidden, after])
    nb, _ = HideHiddenTests().preprocess(nb, {})
    assert nb.cells[0].outputs[0]["text"] == "try-it output 0.5"
    assert "0.123456" not in nbformat.writes(nb)
    assert nb.cells[2].outputs[0]["text"] == AFTER_HIDDEN
