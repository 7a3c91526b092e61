"""Backward passes with the classic mistakes planted (chapter 6, exercise 6), and what the staged
tests of exercise 6 compare with.

The backward pass of one LSTM step goes through four stages, as chapter 6 derives it:

    (a) through h_t = o_t * tanh(C_t):              do_t, dc_t (the total gradient of C_t)
    (b) through C_t = f_t * C_{t-1} + i_t * C̃_t:    df_t, dc_prev, di_t, dc_tilde
    (c) through the nonlinearities:                  da_f, da_i, da_c, da_o (the pre-activations)
    (d) through a_g = z W_g^T + b_g, z = [h_{t-1}, x_t]:  dh_prev, dx_t, dW_g, db_g

:func:`lstm_cell_backward_mistakes` runs them with one mistake planted at a time and returns
every stage's output, so a stage's test (``pick(variants, "df_t")``) and the whole step's test
(``pick(variants, "dh_prev")``) name the same mistakes. A stage's test gives that stage its own
upstream gradients (keyword ``given``), so a variant planted in an earlier stage does not reach
it. :func:`wrong_stage` lets the whole step's test (and the sequence's) say which of the
student's stages is the cause. :func:`centred_gradients` is the independent reference the stage
tests compare with: centred differences of the forward equations, not a backward pass.

Letters: N batch, T steps, D input size, H hidden size. Every function computes in float64.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable

import numpy as np

from lstm_course.grading.calls import _close, run
from lstm_course.grading.planted import _float64, _params64
from lstm_ref import np_ref

_GATES = {"f": "the forget gate", "i": "the input gate", "c": "the candidate",
          "o": "the output gate"}  # fmt: skip


def _forward(x_t, h_prev, c_prev, p) -> dict[str, np.ndarray]:
    """The reference's forward values of one step, by name (the exercise's cache)."""
    f_t = np_ref.forget_gate(h_prev, x_t, p["W_f"], p["b_f"])
    i_t = np_ref.input_gate(h_prev, x_t, p["W_i"], p["b_i"])
    c_tilde = np_ref.candidate(h_prev, x_t, p["W_c"], p["b_c"])
    o_t = np_ref.output_gate(h_prev, x_t, p["W_o"], p["b_o"])
    c_t = np_ref.cell_update(f_t, c_prev, i_t, c_tilde)
    z = np.concatenate([h_prev, x_t], axis=1)  # [h_{t-1}, x_t]: (N, H + D)
    return {"z": z, "c_prev": c_prev, "f_t": f_t, "i_t": i_t, "c_tilde": c_tilde, "o_t": o_t,
            "c_t": c_t, "tanh_c": np.tanh(c_t)}  # fmt: skip


def _gate_derivative(mistake: str, gate: str, s):
    """σ'(a) from the gate's output s = σ(a), or the mistake planted in this gate."""
    if mistake in (f"sigmoid_derivative:{gate}", "sigmoid_derivative:all"):
        return s  # the (1 - s) forgotten
    if mistake in (f"sigmoid_of_output:{gate}", "sigmoid_of_output:all"):
        return np_ref.sigmoid(s) * (1 - np_ref.sigmoid(s))  # σ applied to σ(a) again
    return s * (1 - s)


def _lstm_cell_backward(dh_t, dc_next, x_t, h_prev, c_prev, p, mistake="", given=None):
    """One step's backward pass with at most one mistake planted; returns every stage's output:
    do_t, dc_t (the total), df_t, dc_prev, di_t, dc_tilde, da_f..da_o, dh_prev, dx_t, dW_*, db_*.
    ``given`` replaces stage outputs by the test's own (a stage's test feeds it its inputs)."""
    fw = _forward(x_t, h_prev, c_prev, p)
    f_t, i_t, c_tilde, o_t, c_t, tanh_c = (fw[k] for k in ("f_t", "i_t", "c_tilde", "o_t",
                                                            "c_t", "tanh_c"))  # fmt: skip
    given = given or {}
    out = {}
    # (a) h_t = o_t * tanh(C_t); C_t reaches the loss along the cell state and through h_t.
    out["do_t"] = dh_t * (c_t if mistake == "do_with_c_t" else tanh_c)
    through_h = {
        "tanh_derivative_of_c": dh_t * o_t * (1 - c_t**2),
        "dc_without_o": dh_t * (1 - tanh_c**2),
        "bptt_no_dh_into_dc": 0.0,
    }.get(mistake, dh_t * o_t * (1 - tanh_c**2))
    out["dc_t"] = through_h + (0.0 if mistake == "bptt_dc_next_dropped" else dc_next)
    out.update({k: given[k] for k in ("do_t", "dc_t") if k in given})
    # (b) C_t = f_t * C_{t-1} + i_t * C̃_t: each factor gets dC_t times the other factor.
    dc = out["dc_t"]
    out["df_t"] = dc * (c_t if mistake == "df_with_c_t" else c_prev)
    out["dc_prev"] = dc if mistake == "dc_prev_missing_f" else dc * f_t
    swapped = mistake == "product_rule_swapped"
    out["di_t"] = dc * (i_t if swapped else c_tilde)
    out["dc_tilde"] = dc * (c_tilde if swapped else i_t)
    out.update({k: given[k] for k in ("df_t", "dc_prev", "di_t", "dc_tilde") if k in given})
    # (c) the nonlinearities, from their cached outputs: σ' = σ(1 - σ), tanh' = 1 - tanh².
    upstream = {"f": out["df_t"], "i": out["di_t"], "o": out["do_t"]}
    for gate, s in (("f", f_t), ("i", i_t), ("o", o_t)):
        out[f"da_{gate}"] = upstream[gate] * _gate_derivative(mistake, gate, s)
    tanh_slope = {
        "candidate_derivative_tanh_c": 1 - tanh_c**2,
        "tanh_of_output": 1 - np.tanh(c_tilde) ** 2,
    }.get(mistake, 1 - c_tilde**2)
    out["da_c"] = out["dc_tilde"] * tanh_slope
    out.update({k: given[k] for k in ("da_f", "da_i", "da_c", "da_o") if k in given})
    # (d) a_g = z @ W_g.T + b_g for every gate; z = [h_{t-1}, x_t] gets the four parts summed.
    z, H = fw["z"], h_prev.shape[1]
    parts = {}
    for gate in "fico":
        da = out[f"da_{gate}"]
        out[f"dW_{gate}"] = z.T @ da if mistake == "transposed_weight" else da.T @ z
        out[f"db_{gate}"] = da.mean(axis=0) if mistake == "db_mean" else da.sum(axis=0)
        parts[gate] = da @ p[f"W_{gate}"]  # (N, H) @ (H, H + D) -> (N, H + D)
    kept = mistake.removeprefix("dz_overwritten:")  # `dz =` in a loop keeps its last gate's
    dz = parts[kept] if kept in parts else sum(parts.values())
    if mistake == "order_xh":
        D = x_t.shape[1]
        out["dx_t"], out["dh_prev"] = dz[:, :D], dz[:, D:]
    else:
        out["dh_prev"], out["dx_t"] = dz[:, :H], dz[:, H:]
    return out


# One mistake per key; a key with a detail ("sigmoid_derivative:in the forget gate") says where.
_PLAIN = ("do_with_c_t", "tanh_derivative_of_c", "dc_without_o", "bptt_no_dh_into_dc",
          "bptt_dc_next_dropped", "df_with_c_t", "dc_prev_missing_f", "product_rule_swapped",
          "candidate_derivative_tanh_c", "tanh_of_output", "transposed_weight", "db_mean",
          "order_xh")  # fmt: skip
_CELL_BACKWARD_MISTAKES = {key: key for key in _PLAIN}
for _kind in ("sigmoid_derivative", "sigmoid_of_output"):
    for _g in "fio":
        _CELL_BACKWARD_MISTAKES[f"{_kind}:in {_GATES[_g]}"] = f"{_kind}:{_g}"
    _CELL_BACKWARD_MISTAKES[f"{_kind}:in every gate"] = f"{_kind}:all"
for _g in "fico":  # `dz =` in a loop over the gates keeps only the last gate's part
    _CELL_BACKWARD_MISTAKES[f"dz_overwritten:only {_GATES[_g]}'s part is kept"] = (
        f"dz_overwritten:{_g}"
    )


def lstm_cell_backward_mistakes(
    dh_t, dc_next, x_t, h_prev, c_prev, params, **given
) -> dict[str, dict]:
    """The LSTM cell's gradients with each classic backward-pass mistake planted:
    {key: {"do_t": ..., "dc_t": ..., "df_t": ..., ..., "da_f": ..., "dx_t": ..., "dh_prev": ...,
    "dc_prev": ..., "dW_f": ..., "db_f": ..., ...}}, every stage's output by its name.

    dh_t, dc_next (N, H): the upstream gradients (dc_next: what came back along the cell state
    from step t + 1, lstm_cell_backward's dc_t); x_t (N, D), h_prev, c_prev (N, H); params keyed W_f, b_f, ... ``given``: a
    stage's inputs chosen by its test (dc_t=... for stage (b), df_t=..., di_t=..., dc_tilde=...,
    do_t=... for (c), da_f=... for (d)). Use :func:`~lstm_course.grading.pick` with a name.
    """
    args = _float64(dh_t, dc_next, x_t, h_prev, c_prev)
    p = _params64(params)
    given = {key: np.asarray(value, dtype=np.float64) for key, value in given.items()}
    return {
        key: _lstm_cell_backward(*args, p, planted, given)
        for key, planted in _CELL_BACKWARD_MISTAKES.items()
    }


def lstm_backward_mistakes(dhs, x, params, h0, c0) -> dict[str, dict]:
    """Backpropagation through time with each loop mistake planted:
    {key: {"dx": (N, T, D), "dh0": ..., "dc0": ..., "dW_f": ..., ...}}. The loss's gradient is
    ``dhs`` (N, T, H) with respect to every hidden state and zero for the final cell state.
    Each step's forward and backward pass is the reference's; the mistakes are in the loop."""
    dhs, x, h0, c0 = _float64(dhs, x, h0, c0)
    p = _params64(params)
    T = x.shape[1]
    caches, h, c = [], h0, c0
    for t in range(T):
        h, c, cache = np_ref.lstm_cell_forward(x[:, t], h, c, p)
        caches.append(cache)

    def back(mistake):
        dh, dc = np.zeros_like(h0), np.zeros_like(c0)
        total = {key: np.zeros_like(value) for key, value in p.items()}
        dx = np.zeros_like(x)
        order = range(T) if mistake == "bptt_forward_in_time" else reversed(range(T))
        for t in order:
            own = dhs[:, t] if mistake != "bptt_last_step_only" or t == T - 1 else 0.0
            upstream = own if mistake == "bptt_recurrent_grad_dropped" else own + dh
            dx[:, t], dh, dc, dparams = np_ref.lstm_cell_backward(upstream, dc, caches[t])
            if mistake == "bptt_dc_not_carried":
                dc = np.zeros_like(dc)
            for key in total:
                grad = dparams[key]
                total[key] = grad if mistake == "bptt_params_not_summed" else total[key] + grad
        return {"dx": dx, "dh0": dh, "dc0": dc, **{"d" + k: v for k, v in total.items()}}

    keys = ("bptt_recurrent_grad_dropped", "bptt_dc_not_carried", "bptt_params_not_summed",
            "bptt_forward_in_time", "bptt_last_step_only")  # fmt: skip
    return {key: back(key) for key in keys}


# ---------------------------------------------------------------------------------------------
# The references of the staged tests, and which stage is to blame.


def centred_gradients(f: Callable, *arrays, eps: float = 1e-6) -> list[np.ndarray]:
    """∂f/∂array for each array, by centred differences (f(.. + eps) - f(.. - eps)) / 2 eps.

    f takes the arrays (in this order) and returns a number; the arrays are copied, never
    changed. With float64 and eps = 1e-6 the error is about 1e-10 for the smooth functions of a
    cell: an independent reference for a hand-derived gradient.
    """
    values = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for value in values:
        grad = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + eps
            plus = float(f(*values))
            value[idx] = old - eps
            minus = float(f(*values))
            value[idx] = old
            grad[idx] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads


def wrong_stage(stages: dict[str, Callable], cache, dh_t, dc_t, x_t, h_prev, c_prev, params):
    """For ``compare(..., cause=wrong_stage(...))``: is one of the student's stages wrong?

    stages: the student's stage functions by name, any of hidden_state_backward(dh_t, dc_t,
    cache), cell_update_backward(dc_t, cache), gates_backward(df_t, di_t, dc_tilde, do_t,
    cache) and affine_backward(da, cache); cache: the exercise's cache of this step. Each stage
    is fed the reference's inputs of this very step. Returns a function that compare calls only
    on a failure: a sentence naming the first wrong stage, or None (a stage that is not written
    yet or raises is passed over: the step's own code is then what is wrong).
    """
    args = _float64(dh_t, dc_t, x_t, h_prev, c_prev)
    ref = _lstm_cell_backward(*args, _params64(params))
    da = {gate: ref[f"da_{gate}"] for gate in "fico"}
    dparams = {key[1:]: value for key, value in ref.items() if key[:3] in ("dW_", "db_")}
    calls = {
        "hidden_state_backward": ((args[0], args[1]), (ref["do_t"], ref["dc_t"]), "do_t, dc_t"),
        "cell_update_backward": (
            (ref["dc_t"],),
            (ref["df_t"], ref["dc_prev"], ref["di_t"], ref["dc_tilde"]),
            "df_t, dc_prev, di_t, dc_tilde",
        ),
        "gates_backward": (
            (ref["df_t"], ref["di_t"], ref["dc_tilde"], ref["do_t"]),
            da,
            "da",
        ),
        "affine_backward": (
            (da,),
            (ref["dh_prev"], ref["dx_t"], dparams),
            "dh_prev, dx_t, dparams",
        ),
    }

    def cause() -> str | None:
        for name, (inputs, expected, outputs) in calls.items():
            if name not in stages:
                continue
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    got = run(stages[name], *inputs, cache)
            except (Exception, AssertionError):  # noqa: BLE001 (its own tests say why)
                continue
            if not _close(got, expected, 1e-6, 1e-8, extra_outputs=False):
                return (
                    f"Your {name} is wrong: fed the right inputs of this very step, it does not "
                    f"return the right {outputs}, and the whole step is built on it. See its own "
                    "tests and fix it first."
                )
        return None

    return cause
