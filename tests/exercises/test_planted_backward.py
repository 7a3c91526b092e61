"""lstm_course.grading.planted_backward: exercise 6's staged backward pass, its planted mistakes,
its finite-difference reference and the stage it blames, each checked against lstm_ref.np_ref
and centred differences of the forward equations."""

import numpy as np
import pytest

from lstm_course import grading
from lstm_course.grading.planted_backward import _forward, _lstm_cell_backward
from lstm_ref import np_ref

N, D, H = 2, 4, 5


def failure(*args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        grading.compare(*args, **kwargs)
    return str(info.value)


def step_inputs(seed):
    x, h, c, dh, dc = grading.random_arrays(seed, (N, D), (N, H), (N, H), (N, H), (N, H))
    return dh, dc, x, h, c, grading.random_params("lstm", D, H, seed, scale=1.0)


def test_centred_gradients_of_a_closed_form():
    x, w = grading.random_arrays(1, (3, 2), (3, 2))
    x0 = x.copy()
    (grad,) = grading.centred_gradients(lambda v: np.sum(w * np.sin(v)), x)
    np.testing.assert_allclose(grad, w * np.cos(x0), rtol=1e-8, atol=1e-9)
    assert np.array_equal(x, x0)  # the caller's array is never moved


def test_every_stage_of_the_baseline_matches_the_reference_and_finite_differences():
    dh, dc_next, x, h, c, p = step_inputs(11)
    got = _lstm_cell_backward(dh, dc_next, x, h, c, p)
    # the whole step: lstm_ref.np_ref
    dx, dh_prev, dc_prev, dparams = np_ref.lstm_cell_backward(
        dh, dc_next, np_ref.lstm_cell_forward(x, h, c, p)[2]
    )
    for name, expected in [("dx_t", dx), ("dh_prev", dh_prev), ("dc_prev", dc_prev)]:
        grading.compare(name, got[name], expected)
    for key, expected in dparams.items():
        grading.compare("d" + key, got["d" + key], expected)
    # each stage: centred differences of its forward equation, on the stage's own inputs
    fw = _forward(x, h, c, p)
    do_t, dc_t = grading.centred_gradients(
        lambda o, ct: np.sum(dh * o * np.tanh(ct)) + np.sum(dc_next * ct), fw["o_t"], fw["c_t"]
    )
    grading.compare("do_t", got["do_t"], do_t, rtol=1e-6, atol=1e-8)
    grading.compare("dc_t", got["dc_t"], dc_t, rtol=1e-6, atol=1e-8)
    stage_b = grading.centred_gradients(
        lambda f, cp, i, g: np.sum(got["dc_t"] * (f * cp + i * g)),
        fw["f_t"], fw["c_prev"], fw["i_t"], fw["c_tilde"],
    )  # fmt: skip
    for name, expected in zip(("df_t", "dc_prev", "di_t", "dc_tilde"), stage_b, strict=True):
        grading.compare(name, got[name], expected, rtol=1e-6, atol=1e-8)
    a = {g: fw["z"] @ p[f"W_{g}"].T + p[f"b_{g}"] for g in "fico"}
    up = {"f": got["df_t"], "i": got["di_t"], "c": got["dc_tilde"], "o": got["do_t"]}
    for g in "fico":
        act = np.tanh if g == "c" else np_ref.sigmoid
        (da,) = grading.centred_gradients(lambda v, g=g, act=act: np.sum(up[g] * act(v)), a[g])
        grading.compare(f"da_{g}", got[f"da_{g}"], da, rtol=1e-6, atol=1e-8)


def test_each_planted_mistake_changes_something_and_is_named_in_its_stage():
    dh, dc_next, x, h, c, p = step_inputs(12)
    right = _lstm_cell_backward(dh, dc_next, x, h, c, p)
    variants = grading.lstm_cell_backward_mistakes(dh, dc_next, x, h, c, p)
    for key, planted in variants.items():
        changed = [
            n
            for n in right
            if planted[n].shape != right[n].shape or not np.allclose(planted[n], right[n])
        ]
        assert changed, f"{key} changes nothing"
        first = changed[0]  # the stage where the mistake is made: named there, and only it
        found = grading.diagnose(planted[first], grading.pick(variants, first))
        assert key in found, (key, first, found)


def test_a_stage_fed_its_own_inputs_is_not_changed_by_an_earlier_stages_mistake():
    dh, dc_next, x, h, c, p = step_inputs(13)
    (dc_t,) = grading.random_arrays(14, (N, H))
    variants = grading.lstm_cell_backward_mistakes(dh, dc_next, x, h, c, p, dc_t=dc_t)
    fw = _forward(x, h, c, p)
    df_t = grading.pick(variants, "df_t")
    np.testing.assert_allclose(df_t["do_with_c_t"], dc_t * fw["c_prev"])
    np.testing.assert_allclose(df_t["df_with_c_t"], dc_t * fw["c_t"])


def test_lstm_backward_mistakes_differ_from_the_reference_only_by_their_mistake():
    T = 3
    x, h0, c0, dhs = grading.random_arrays(13, (N, T, D), (N, H), (N, H), (N, T, H))
    p = grading.random_params("lstm", D, H, 13)
    dx, dh0, dc0, dparams = np_ref.lstm_backward(dhs, np_ref.lstm_forward(x, p, h0, c0)[2])
    variants = grading.lstm_backward_mistakes(dhs, x, p, h0, c0)
    assert set(variants) == {
        "bptt_recurrent_grad_dropped", "bptt_dc_not_carried", "bptt_params_not_summed",
        "bptt_forward_in_time", "bptt_last_step_only",
    }  # fmt: skip
    summed_once = variants["bptt_params_not_summed"]  # only the parameters are wrong
    grading.compare("dx", summed_once["dx"], dx)
    grading.compare("dh0", summed_once["dh0"], dh0)
    assert not np.allclose(summed_once["dW_f"], dparams["W_f"])
    assert grading.diagnose(dx, grading.pick(variants, "dx")) == ["bptt_params_not_summed"]
    # the loss at the last step only is the reference on dhs with every other step zeroed
    last = np.zeros_like(dhs)
    last[:, -1] = dhs[:, -1]
    ref_last = np_ref.lstm_backward(last, np_ref.lstm_forward(x, p, h0, c0)[2])
    grading.compare("dx", variants["bptt_last_step_only"]["dx"], ref_last[0])
    for key, planted in variants.items():
        assert grading.diagnose(planted["dW_o"], grading.pick(variants, "dW_o")) == [key]


def test_wrong_stage_names_the_first_wrong_stage_and_passes_over_unwritten_ones():
    dh, dc_next, x, h, c, p = step_inputs(15)
    cache = {"p": p}  # the stages below read nothing from it
    ref = _lstm_cell_backward(dh, dc_next, x, h, c, p)

    def unwritten(*args):
        raise NotImplementedError

    def right_a(dh_t, dc_t, cache):
        return ref["do_t"], ref["dc_t"]

    def wrong_b(dc_t, cache):
        return ref["df_t"] * 2, ref["dc_prev"], ref["di_t"], ref["dc_tilde"]

    stages = {"hidden_state_backward": right_a, "gates_backward": unwritten}
    assert grading.wrong_stage(stages, cache, dh, dc_next, x, h, c, p)() is None
    stages["cell_update_backward"] = wrong_b
    blamed = grading.wrong_stage(stages, cache, dh, dc_next, x, h, c, p)()
    assert blamed.startswith("Your cell_update_backward is wrong")
    message = failure("dh_prev", ref["dh_prev"] + 1, ref["dh_prev"],
                      cause=grading.wrong_stage(stages, cache, dh, dc_next, x, h, c, p))  # fmt: skip
    assert "Your cell_update_backward is wrong" in message and "Likely mistake" not in message
