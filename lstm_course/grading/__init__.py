"""Comparison and diagnosis helpers for the graded cells of the exercises.

Every graded cell of an exercise calls its student's function through :func:`run`, then checks
the answer with :func:`compare`. A failure raises ``AssertionError`` with a message written for
the student: which quantity, what is wrong with its shape or the largest error and where, and,
when the answer matches a classic mistake recomputed on the same inputs, the mistake by name::

    AssertionError: f_t is wrong: the largest error is 0.2132 at index (1, 3)
    (you returned 0.5118, expected 0.7250; tolerance 1e-06 relative, 1e-08 absolute).
    Likely mistake: the bias is missing: add b_f after the matrix product.

nbgrader gives no credit for a test cell that writes to stderr, so :func:`run` keeps warnings
and stray stderr writes of the student's code away from stderr. Nothing here imports torch:
tensors are accepted wherever arrays are (anything with ``.detach().cpu().numpy()``).
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import warnings
from collections.abc import Callable, Mapping

import numpy as np

from lstm_ref.np_ref._common import _sigmoid

__all__ = [
    "MISTAKES",
    "compare",
    "diagnose",
    "run",
    "run_with_warnings",
    "assert_no_warnings",
    "gate_mistakes",
    "lstm_cell_mistakes",
    "lstm_sequence_mistakes",
    "rnn_sequence_mistakes",
    "rnn_state_gradient_mistakes",
    "gru_cell_mistakes",
    "peephole_cell_mistakes",
    "stacked_gate_order_mistakes",
    "lstm_cell_backward_mistakes",
    "torch_lstm_cell_mistakes",
    "lstm_backward_mistakes",
    "pick",
    "random_arrays",
    "random_params",
]

# The classic mistakes, by name. Each sentence completes "Likely mistake: ...".
MISTAKES: dict[str, str] = {
    "order_xh": (
        "[x_t, h_prev] instead of [h_prev, x_t]: the course concatenates the hidden state first, "
        "so W[:, :H] multiplies h_prev and W[:, H:] multiplies x_t"
    ),
    "tanh_for_sigmoid": "tanh where a sigmoid belongs: a gate is σ(...), between 0 and 1",
    "sigmoid_for_tanh": (
        "a sigmoid where tanh belongs: the candidate (and the RNN's state) is tanh(...), "
        "between -1 and 1"
    ),
    "no_activation": "the activation is missing: the pre-activation was returned as it is",
    "no_bias": "the bias is missing: add b after the matrix product",
    "bias_twice": "the bias is added twice",
    "wrong_sign": "the sign is flipped: you computed σ(-a) = 1 - σ(a) instead of σ(a)",
    "transposed_weight": (
        "a transposed weight: W is (out, in) and acts on a row batch as z @ W.T "
        "(in the backward pass, dz = da @ W and dW = da.T @ z)"
    ),
    "ignores_h": "h_prev is ignored: the gate must see [h_prev, x_t], not x_t alone",
    "ignores_x": "x_t is ignored: the gate must see [h_prev, x_t], not h_prev alone",
    "c_for_tanh_c": "c_t where tanh(c_t) belongs: h_t = o_t * tanh(c_t)",
    "tanh_of_product": "tanh(o_t * c_t) instead of o_t * tanh(c_t): squash c_t first, then gate it",
    "outputs_swapped": "h_t and c_t are returned in the wrong order: return (h_t, c_t)",
    "swap_f_i": "f_t and i_t are swapped: C_t = f_t * C_{t-1} + i_t * C̃_t",
    "no_forget": "the old memory is dropped: C_t = f_t * C_{t-1} + i_t * C̃_t keeps f_t * C_{t-1}",
    "gate_order": (
        "gates in the wrong order: PyTorch stacks the four gates as i, f, g, o "
        "(input, forget, candidate, output) along the first axis"
    ),
    "one_bias": (
        "one of the two biases is missing: PyTorch adds both bias_ih and bias_hh to every gate"
    ),
    "activation_on_head": (
        "an activation on the linear head: y = W_y · h + b_y has none, a prediction can be any "
        "number"
    ),
    "matmul_for_elementwise": "a matrix product where an element-wise product (*) belongs",
    "one_minus_f": "(1 - f_t) where f_t belongs: f_t near 1 keeps the memory, near 0 forgets it",
    "state_not_carried": (
        "the state is not carried: each step must start from the previous step's state, "
        "not from the initial one"
    ),
    "initial_state_ignored": "the initial state is ignored: the first step must start from h0, c0",
    "missing_tanh_derivative": (
        "the derivative of tanh is missing: multiply by 1 - h_t² before going back through W"
    ),
    "derivative_wrong_step": (
        "the tanh derivative is taken at the wrong step: going back from h_t it is 1 - h_t², "
        "the output of that step's tanh, not 1 - h_{t-1}²"
    ),
    "gru_update_swapped": (
        "z_t and 1 - z_t are swapped: PyTorch's GRU keeps the old state where z_t is near 1, "
        "h_t = (1 - z_t) * n_t + z_t * h_{t-1}"
    ),
    "gru_reset_inside": (
        "the reset gate is applied before W_hn: PyTorch computes r_t * (W_hn h_{t-1} + b_hn), "
        "not W_hn (r_t * h_{t-1})"
    ),
    "gru_bias_outside_reset": (
        "b_hn is outside the reset gate: PyTorch computes r_t * (W_hn h_{t-1} + b_hn)"
    ),
    "peephole_o_uses_c_prev": (
        "the output gate peeks at C_{t-1}: it must see the new cell state C_t (f_t and i_t see "
        "C_{t-1})"
    ),
    "peephole_missing": "a peephole term is missing: a gate's p * C is not added",
    "bptt_no_dh_into_dc": (
        "the path through h_t into C_t is missing: dC_t = dc_t + dh_t * o_t * (1 - tanh(C_t)²)"
    ),
    "tanh_derivative_of_c": "the derivative of tanh(C_t) is 1 - tanh(C_t)², not 1 - C_t²",
    "sigmoid_derivative": "the derivative of a sigmoid gate s is s * (1 - s)",
    "dc_prev_missing_f": "dC_{t-1} = dC_t * f_t: the forget gate scales the memory's gradient too",
    "bptt_recurrent_grad_dropped": (
        "the gradient coming back from step t + 1 is dropped: at step t the upstream gradient is "
        "dhs[:, t] + the dh_prev that step t + 1 returned"
    ),
    "bptt_dc_not_carried": (
        "the cell state's gradient is not carried back: dc_prev of step t is the dc_t of step t - 1"
    ),
    "bptt_params_not_summed": (
        "the parameter gradients are overwritten: the same weights act at every step, so their "
        "gradients add up over the steps"
    ),
    "central_difference_halved": (
        "the centred difference divided by eps instead of 2 * eps (the result is twice too big)"
    ),
    "x_not_restored": "x is not restored: put each entry back after evaluating f around it",
    "init_not_uniform": (
        "the initialisation is not PyTorch's: nn.LSTMCell draws every parameter from "
        "U(-1/√H, 1/√H), e.g. nn.init.uniform_(p, -bound, bound) with bound = 1 / math.sqrt(H)"
    ),
    "test_leak": (
        "the test set leaks into training: compute the mean and std of the training part only, "
        "then apply them to both parts"
    ),
    "test_own_stats": (
        "the test part is scaled with its own statistics: use the training part's mean and std "
        "for both parts"
    ),
    "target_in_window": (
        "the target is the last value inside the window; it must be the value right after it, "
        "series[k + window]"
    ),
    "first_step_output": (
        "the prediction uses the first step's hidden state; the forecast comes from the last "
        "step, out[:, -1]"
    ),
    "batch_first_missing": (
        "the batch was read as time: nn.LSTM expects (T, N, D) unless it is built with "
        "batch_first=True"
    ),
    "no_zero_grad": (
        "the gradients accumulate across epochs: call optimizer.zero_grad() before loss.backward()"
    ),
    "loss_sum": "the loss is summed, not averaged: the MSE is the mean of the squared errors",
    "rmse_without_sqrt": "the square root is missing: RMSE = sqrt(mean((y_hat - y)²))",
    "unstable_sigmoid": (
        "an unstable sigmoid: np.exp overflowed. Compute exp only of -|z| (never of a large "
        "positive number) and pick the formula by the sign of z"
    ),
    "forward_difference": (
        "a one-sided difference (f(x + eps) - f(x)) / eps: use the centred difference "
        "(f(x + eps) - f(x - eps)) / (2 * eps), whose error is eps² instead of eps"
    ),
}


def _as_array(value):
    """Arrays, numbers, lists and tensors (detached, on the CPU) as a NumPy array."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _index(idx) -> str:
    return "(" + ", ".join(str(int(i)) for i in idx) + (",)" if len(idx) == 1 else ")")


def diagnose(got, mistakes: Mapping[str, object] | None, rtol: float = 1e-5, atol: float = 1e-7):
    """The names of the mistakes whose recomputed value matches ``got``.

    ``mistakes`` maps a key of :data:`MISTAKES` (or any sentence) to the value the quantity
    takes when that mistake is planted on the same inputs. Returns the matching keys, in order.
    """
    if not mistakes:
        return []
    try:
        got = _as_array(got).astype(np.float64)
    except (TypeError, ValueError):
        return []
    found = []
    for key, value in mistakes.items():
        candidate = _as_array(value)
        if candidate.shape == got.shape and np.allclose(got, candidate, rtol=rtol, atol=atol):
            found.append(key)
    return found


def _describe(key: str) -> str:
    """The sentence for a mistake key; "name:detail" keys add the detail in brackets."""
    name, _, detail = key.partition(":")
    if name in MISTAKES:
        return MISTAKES[name] + (f" ({detail})" if detail else "")
    return key


def compare(
    name: str,
    got,
    expected,
    *,
    letters: str | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    mistakes: Mapping[str, object] | None = None,
    hint: str | None = None,
) -> None:
    """Check that ``got`` equals ``expected`` up to rounding; raise AssertionError if not.

    name: the quantity as the student knows it ("f_t"). letters: its shape in letters
    ("(N, H)"), used in shape messages. mistakes: see :func:`diagnose`. hint: a sentence added
    to any failure (for example what an isolating test sets to zero).
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    expected = _as_array(expected)
    problem = _problem(name, got, expected, letters, rtol, atol)
    if problem is None:
        return
    lines = [problem]
    found = diagnose(got, mistakes)
    lines += [f"Likely mistake: {text}." for text in dict.fromkeys(map(_describe, found))]
    if hint:
        lines.append(hint)
    raise AssertionError("\n".join(lines))


def _problem(name, got, expected, letters, rtol, atol) -> str | None:
    """What is wrong with ``got``, in one or two sentences, or None if nothing is."""
    if got is None:
        return f"{name} is None: did the function forget to `return` its result?"
    if isinstance(got, tuple | list) and any(hasattr(item, "shape") for item in got):
        return (
            f"{name} is a {type(got).__name__} of {len(got)} items; expected one array of "
            f"shape {letters + ' = ' if letters else ''}{expected.shape}"
        )
    try:
        array = _as_array(got)
        if array.dtype == object:
            raise TypeError
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        return f"{name} is a {type(got).__name__}; expected a NumPy array"
    shape_text = f"{letters} = {expected.shape}" if letters else f"{expected.shape}"
    if array.shape != expected.shape:
        message = f"{name} has shape {array.shape}; expected {shape_text}."
        if array.shape == expected.shape[::-1] and array.ndim == 2:
            message += (
                " It looks transposed: a weight W (out, in) acts on a row batch z as z @ W.T, "
                "which gives one row per example."
            )
        elif array.size == expected.size:
            message += " The values are there but arranged wrongly: check which axis is which."
        return message
    bad = ~np.isfinite(array)
    if bad.any():
        where = np.argwhere(bad)[0]
        return (
            f"{name} contains {array[tuple(where)]} at index {_index(where)}: something overflowed "
            "or divided by zero"
        )
    if np.allclose(array, expected, rtol=rtol, atol=atol):
        return None
    error = np.abs(array - expected)
    where = np.unravel_index(int(np.argmax(error)), error.shape) if error.ndim else ()
    at = f" at index {_index(where)}" if where else ""
    return (
        f"{name} is wrong: the largest error is {_fmt(error[where])}{at} (you returned "
        f"{_fmt(array[where])}, expected {_fmt(expected[where])}; tolerance {rtol:g} relative, "
        f"{atol:g} absolute)."
    )


# ---------------------------------------------------------------------------------------------
# Calling the student's code: warnings and stderr stay out of the graded cell's stderr.


def _shapes(args) -> str:
    parts = []
    for arg in args:
        shape = getattr(arg, "shape", None)
        parts.append(str(tuple(shape)) if shape is not None else type(arg).__name__)
    return ", ".join(parts)


def run_with_warnings(fn: Callable, *args, **kwargs):
    """Call ``fn(*args, **kwargs)``; return its result and the list of warnings it raised.

    Warnings are recorded instead of shown, and anything the function writes to stderr goes to
    stdout, so the graded cell keeps its points for a harmless warning. NotImplementedError
    (the unsolved stub) passes through unchanged; any other exception becomes an
    AssertionError that names the function and the shapes it was called with.
    """
    __tracebackhide__ = True
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(sys.stdout):
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except NotImplementedError:
            raise
        except Exception as error:
            name = getattr(fn, "__name__", type(fn).__name__)
            lines = [
                f"{name}() raised {type(error).__name__}: {error}",
                f"It was called with arguments of shapes {_shapes(args)}.",
            ]
            if "matmul" in str(error) or "not aligned" in str(error):
                lines.append(f"Likely mistake: {MISTAKES['transposed_weight']}.")
            elif "could not be broadcast" in str(error):
                lines.append(
                    "Check which axis is which: a batch is stacked as rows (N, ...), and a weight "
                    "W (out, in) acts on it as z @ W.T."
                )
            raise AssertionError("\n".join(lines)) from error
    return result, [f"{w.category.__name__}: {w.message}" for w in caught]


def run(fn: Callable, *args, **kwargs):
    """Call ``fn(*args, **kwargs)`` like :func:`run_with_warnings`; return only the result.

    The warnings are printed to stdout as a note, so the student still sees them.
    """
    __tracebackhide__ = True
    result, caught = run_with_warnings(fn, *args, **kwargs)
    for text in dict.fromkeys(caught):
        print(f"Note: your code raised a warning (no points lost for it here): {text}")
    return result


def assert_no_warnings(name: str, caught: list[str], mistake: str | None = None) -> None:
    """Raise AssertionError if ``caught`` (from :func:`run_with_warnings`) is not empty."""
    __tracebackhide__ = True
    if caught:
        lines = [f"{name} raised a warning: {caught[0]}."]
        if mistake:
            lines.append(f"Likely mistake: {_describe(mistake)}.")
        raise AssertionError("\n".join(lines))


# ---------------------------------------------------------------------------------------------
# The classic mistakes, recomputed: each function returns {mistake key: value with it planted}.


def _tanh(a):
    return np.tanh(a)


_ACTIVATIONS = {"sigmoid": _sigmoid, "tanh": _tanh}


def gate_mistakes(h_prev, x_t, W, b, activation: str = "sigmoid") -> dict[str, np.ndarray]:
    """One gate act(W · [h_prev, x_t] + b) with each classic mistake planted, one at a time.

    h_prev (N, H), x_t (N, D), W (H, H + D), b (H,); activation "sigmoid" (a gate) or "tanh"
    (the candidate, the RNN's state).
    """
    h_prev, x_t, W, b = (np.asarray(v, dtype=np.float64) for v in (h_prev, x_t, W, b))
    act = _ACTIVATIONS[activation]
    other = "tanh" if activation == "sigmoid" else "sigmoid"
    H = h_prev.shape[1]
    z = np.concatenate([h_prev, x_t], axis=1)
    a = z @ W.T + b
    out = {
        "order_xh": act(np.concatenate([x_t, h_prev], axis=1) @ W.T + b),
        f"{other}_for_{activation}": _ACTIVATIONS[other](a),
        "no_activation": a,
        "no_bias": act(z @ W.T),
        "bias_twice": act(a + b),
        "ignores_h": act(x_t @ W[:, H:].T + b),
        "ignores_x": act(h_prev @ W[:, :H].T + b),
    }
    if activation == "sigmoid":
        out["wrong_sign"] = act(-a)
    return out


def _lstm_cell(x_t, h_prev, c_prev, p, **mistake):
    """The LSTM cell with at most one mistake planted (keyword flags); returns (h_t, c_t)."""
    first, second = (x_t, h_prev) if mistake.get("order_xh") else (h_prev, x_t)
    z = np.concatenate([first, second], axis=1)
    bias = 0.0 if mistake.get("no_bias") else 1.0
    gate = _ACTIVATIONS["tanh" if mistake.get("tanh_for_sigmoid") else "sigmoid"]
    cand = _ACTIVATIONS["sigmoid" if mistake.get("sigmoid_for_tanh") else "tanh"]
    f_t = gate(z @ p["W_f"].T + bias * p["b_f"])
    i_t = gate(z @ p["W_i"].T + bias * p["b_i"])
    c_tilde = cand(z @ p["W_c"].T + bias * p["b_c"])
    o_t = gate(z @ p["W_o"].T + bias * p["b_o"])
    if mistake.get("swap_f_i"):
        f_t, i_t = i_t, f_t
    if mistake.get("no_forget"):
        c_t = i_t * c_tilde
    elif mistake.get("one_minus_f"):
        c_t = (1 - f_t) * c_prev + i_t * c_tilde
    else:
        c_t = f_t * c_prev + i_t * c_tilde
    if mistake.get("c_for_tanh_c"):
        h_t = o_t * c_t
    elif mistake.get("tanh_of_product"):
        h_t = np.tanh(o_t * c_t)
    else:
        h_t = o_t * np.tanh(c_t)
    return h_t, c_t


# Gate-order mistakes for a parameter dict: gate -> the gate whose weights were used for it.
_GATE_WORDS = {
    "f": "the forget gate",
    "i": "the input gate",
    "c": "the candidate",
    "o": "the output gate",
}
_LSTM_RELABELLINGS = {
    **{
        f"the weights of {_GATE_WORDS[a]} and {_GATE_WORDS[b]} swapped": {a: b, b: a}
        for a, b in itertools.combinations("fico", 2)
    },
    **{
        f"{_GATE_WORDS[a]} computed with the weights of {_GATE_WORDS[b]} (W_{b}, b_{b})": {a: b}
        for a, b in itertools.permutations("fico", 2)
    },
    "the weights of f and i swapped, and of the candidate and o": {
        "f": "i",
        "i": "f",
        "c": "o",
        "o": "c",
    },
}


def lstm_cell_mistakes(x_t, h_prev, c_prev, params) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The LSTM cell with each classic mistake planted: {mistake key: (h_t, c_t)}.

    x_t (N, D), h_prev (N, H), c_prev (N, H), params with W_f, b_f, W_i, b_i, W_c, b_c, W_o, b_o.
    Use :func:`pick` to take the h_t or the c_t of every variant.
    """
    x_t, h_prev, c_prev = (np.asarray(v, dtype=np.float64) for v in (x_t, h_prev, c_prev))
    p = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}
    flags = (
        "order_xh",
        "tanh_for_sigmoid",
        "sigmoid_for_tanh",
        "no_bias",
        "swap_f_i",
        "no_forget",
        "one_minus_f",
        "c_for_tanh_c",
        "tanh_of_product",
    )
    out = {flag: _lstm_cell(x_t, h_prev, c_prev, p, **{flag: True}) for flag in flags}
    out["outputs_swapped"] = _lstm_cell(x_t, h_prev, c_prev, p)[::-1]
    # Gates computed from another gate's weights (stacked or unpacked in the wrong order).
    for detail, relabel in _LSTM_RELABELLINGS.items():
        q = dict(p)
        for gate, source in relabel.items():
            q[f"W_{gate}"], q[f"b_{gate}"] = p[f"W_{source}"], p[f"b_{source}"]
        out[f"gate_order:{detail}"] = _lstm_cell(x_t, h_prev, c_prev, q)
    return out


def lstm_sequence_mistakes(x, params, h0, c0) -> dict[str, tuple[np.ndarray, ...]]:
    """The LSTM over a sequence with each state-passing mistake planted: {key: (hs, h_T, c_T)}.

    x (N, T, D); h0, c0 (N, H). Per-step mistakes (the cell itself) are diagnosed by
    :func:`lstm_cell_mistakes`; these are the mistakes of the loop.
    """
    x, h0, c0 = (np.asarray(v, dtype=np.float64) for v in (x, h0, c0))
    p = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}

    def unroll(carry_h: bool, carry_c: bool, zeros: bool = False):
        h, c = (np.zeros_like(h0), np.zeros_like(c0)) if zeros else (h0, c0)
        hs = []
        for t in range(x.shape[1]):
            h_t, c_t = _lstm_cell(x[:, t], h, c, p)
            h, c = (h_t if carry_h else h), (c_t if carry_c else c)
            hs.append(h_t)
        return np.stack(hs, axis=1), h_t, c_t

    return {
        "state_not_carried": unroll(False, False),
        "state_not_carried:c_t is not passed on, every step starts from c0": unroll(True, False),
        "state_not_carried:h_t is not passed on, every step starts from h0": unroll(False, True),
        "initial_state_ignored": unroll(True, True, zeros=True),
    }


def rnn_sequence_mistakes(x, W_h, b_h, h0) -> dict[str, np.ndarray]:
    """The RNN over a sequence with the state-passing mistakes planted: {key: hs (N, T, H)}."""
    x, W_h, b_h, h0 = (np.asarray(v, dtype=np.float64) for v in (x, W_h, b_h, h0))

    def unroll(carry: bool, zeros: bool = False):
        h = np.zeros_like(h0) if zeros else h0
        hs = []
        for t in range(x.shape[1]):
            h_t = np.tanh(np.concatenate([h, x[:, t]], axis=1) @ W_h.T + b_h)
            h = h_t if carry else h
            hs.append(h_t)
        return np.stack(hs, axis=1)

    return {"state_not_carried": unroll(False), "initial_state_ignored": unroll(True, True)}


def rnn_state_gradient_mistakes(hs, h0, W_h, dh_T) -> dict[str, np.ndarray]:
    """∂L/∂h_k for k = 0..T (an (N, T + 1, H) array) when L depends on h_T alone, with the
    classic backpropagation mistakes planted. hs (N, T, H) holds h_1..h_T; W_h (H, H + D)."""
    hs, h0, W_h, dh_T = (np.asarray(v, dtype=np.float64) for v in (hs, h0, W_h, dh_T))
    N, T, H = hs.shape
    states = np.concatenate([h0[:, None], hs], axis=1)  # h_0..h_T
    W_hh = W_h[:, :H]

    def back(derivative_at: int | None, W):
        grads = np.zeros((N, T + 1, H))
        grads[:, T] = dh_T
        for k in range(T, 0, -1):
            da = (
                grads[:, k]
                if derivative_at is None
                else grads[:, k] * (1 - states[:, k + derivative_at] ** 2)
            )
            grads[:, k - 1] = da @ W
        return grads

    return {
        "missing_tanh_derivative": back(None, W_hh),
        "derivative_wrong_step": back(-1, W_hh),
        "transposed_weight": back(0, W_hh.T),
        "order_xh": back(0, W_h[:, -H:]),  # the last H columns: W_h[:, D:], not W_h[:, :H]
    }


def gru_cell_mistakes(x_t, h_prev, params) -> dict[str, np.ndarray]:
    """One GRU step (PyTorch's equations) with each classic mistake planted: {key: h_t}."""
    x_t, h_prev = (np.asarray(v, dtype=np.float64) for v in (x_t, h_prev))
    p = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}

    def cell(mistake=""):
        first, second = (x_t, h_prev) if mistake == "order_xh" else (h_prev, x_t)
        hx = np.concatenate([first, second], axis=1)
        gate = np.tanh if mistake == "tanh_for_sigmoid" else _sigmoid
        r_t = gate(hx @ p["W_r"].T + p["b_r"])
        z_t = gate(hx @ p["W_z"].T + p["b_z"])
        if mistake == "gru_reset_inside":
            hn = (r_t * h_prev) @ p["W_hn"].T + p["b_hn"]
            r_part = hn
        elif mistake == "gru_bias_outside_reset":
            r_part = r_t * (h_prev @ p["W_hn"].T) + p["b_hn"]
        else:
            r_part = r_t * (h_prev @ p["W_hn"].T + p["b_hn"])
        act = _sigmoid if mistake == "sigmoid_for_tanh" else np.tanh
        n_t = act(x_t @ p["W_xn"].T + p["b_xn"] + r_part)
        if mistake == "gru_update_swapped":
            return z_t * n_t + (1 - z_t) * h_prev
        return (1 - z_t) * n_t + z_t * h_prev

    keys = ("order_xh", "tanh_for_sigmoid", "sigmoid_for_tanh", "gru_reset_inside",
            "gru_bias_outside_reset", "gru_update_swapped")  # fmt: skip
    return {key: cell(key) for key in keys}


def peephole_cell_mistakes(x_t, h_prev, c_prev, params) -> dict[str, tuple[np.ndarray, ...]]:
    """One peephole LSTM step with each classic mistake planted: {key: (h_t, c_t)}."""
    x_t, h_prev, c_prev = (np.asarray(v, dtype=np.float64) for v in (x_t, h_prev, c_prev))
    p = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}

    def cell(mistake=""):
        first, second = (x_t, h_prev) if mistake == "order_xh" else (h_prev, x_t)
        hx = np.concatenate([first, second], axis=1)
        peep = {g: (0.0 if mistake == f"peephole_missing:{g}" else p[f"p_{g}"]) for g in "fio"}
        f_t = _sigmoid(hx @ p["W_f"].T + peep["f"] * c_prev + p["b_f"])
        i_t = _sigmoid(hx @ p["W_i"].T + peep["i"] * c_prev + p["b_i"])
        c_tilde = np.tanh(hx @ p["W_c"].T + p["b_c"])
        c_t = f_t * c_prev + i_t * c_tilde
        seen = c_prev if mistake == "peephole_o_uses_c_prev" else c_t
        o_t = _sigmoid(hx @ p["W_o"].T + peep["o"] * seen + p["b_o"])
        h_t = o_t * c_t if mistake == "c_for_tanh_c" else o_t * np.tanh(c_t)
        return h_t, c_t

    keys = ("order_xh", "peephole_o_uses_c_prev", "c_for_tanh_c") + tuple(
        f"peephole_missing:{g}" for g in ("the forget gate's p_f", "the input gate's p_i",
                                         "the output gate's p_o")
    )  # fmt: skip
    out = {}
    for key in keys:
        if key.startswith("peephole_missing:"):
            gate = key.split("p_")[-1]
            out[key] = cell(f"peephole_missing:{gate}")
        else:
            out[key] = cell(key)
    return out


def _lstm_cell_backward(dh_t, dc_t, x_t, h_prev, c_prev, p, mistake=""):
    """The LSTM cell's backward pass with at most one mistake planted; returns a dict with dx_t,
    dh_prev, dc_prev and dW_*, db_* for every gate."""
    H = h_prev.shape[1]
    z = np.concatenate([h_prev, x_t], axis=1)
    f_t = _sigmoid(z @ p["W_f"].T + p["b_f"])
    i_t = _sigmoid(z @ p["W_i"].T + p["b_i"])
    c_tilde = np.tanh(z @ p["W_c"].T + p["b_c"])
    c_t = f_t * c_prev + i_t * c_tilde
    o_t = _sigmoid(z @ p["W_o"].T + p["b_o"])
    tanh_c = np.tanh(c_t)
    do_t = dh_t * tanh_c
    if mistake == "bptt_no_dh_into_dc":
        dc = dc_t
    elif mistake == "tanh_derivative_of_c":
        dc = dc_t + dh_t * o_t * (1 - c_t**2)
    else:
        dc = dc_t + dh_t * o_t * (1 - tanh_c**2)
    gates = {"f": (dc * c_prev, f_t), "i": (dc * c_tilde, i_t), "o": (do_t, o_t)}
    da = {}
    for gate, (d_out, s) in gates.items():
        planted = mistake in (f"sigmoid_derivative:{gate}", "sigmoid_derivative:all")
        da[gate] = d_out * s if planted else d_out * s * (1 - s)
    da["c"] = dc * i_t * (1 - c_tilde**2)
    out = {"dc_prev": dc if mistake == "dc_prev_missing_f" else dc * f_t}
    dz = np.zeros_like(z)
    for gate in "fico":
        dW = z.T @ da[gate] if mistake == "transposed_weight" else da[gate].T @ z
        out[f"dW_{gate}"], out[f"db_{gate}"] = dW, da[gate].sum(axis=0)
        dz += da[gate] @ p[f"W_{gate}"]
    if mistake == "order_xh":
        D = x_t.shape[1]
        out["dx_t"], out["dh_prev"] = dz[:, :D], dz[:, D:]
    else:
        out["dh_prev"], out["dx_t"] = dz[:, :H], dz[:, H:]
    return out


_GATE_NAMES = {"f": "the forget gate", "i": "the input gate", "o": "the output gate"}


def lstm_cell_backward_mistakes(dh_t, dc_t, x_t, h_prev, c_prev, params) -> dict[str, dict]:
    """The LSTM cell's gradients with each classic backward-pass mistake planted:
    {key: {"dx_t": ..., "dh_prev": ..., "dc_prev": ..., "dW_f": ..., "db_f": ..., ...}}.
    Use :func:`pick` with a quantity's name, e.g. ``pick(variants, "dh_prev")``."""
    args = [np.asarray(v, dtype=np.float64) for v in (dh_t, dc_t, x_t, h_prev, c_prev)]
    p = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}
    keys = ["bptt_no_dh_into_dc", "tanh_derivative_of_c", "dc_prev_missing_f",
            "transposed_weight", "order_xh"]  # fmt: skip
    out = {key: _lstm_cell_backward(*args, p, key) for key in keys}
    for gate, name in _GATE_NAMES.items():
        out[f"sigmoid_derivative:in {name}"] = _lstm_cell_backward(
            *args, p, f"sigmoid_derivative:{gate}"
        )
    out["sigmoid_derivative:in every gate"] = _lstm_cell_backward(
        *args, p, "sigmoid_derivative:all"
    )
    return out


def lstm_backward_mistakes(dhs, x, params, h0, c0) -> dict[str, dict]:
    """Backpropagation through time with each loop mistake planted:
    {key: {"dx": (N, T, D), "dh0": ..., "dc0": ..., "dW_f": ..., ...}}. The loss's gradient is
    ``dhs`` (N, T, H) with respect to every hidden state and zero for the final cell state."""
    dhs, x, h0, c0 = (np.asarray(v, dtype=np.float64) for v in (dhs, x, h0, c0))
    p = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}
    N, T, _ = x.shape
    states = [(h0, c0)]
    for t in range(T):
        h, c = _lstm_cell(x[:, t], *states[-1], p)
        states.append((h, c))

    def back(mistake):
        dh, dc = np.zeros_like(h0), np.zeros_like(c0)
        total = {key: np.zeros_like(value) for key, value in p.items()}
        dx = np.zeros_like(x)
        for t in reversed(range(T)):
            recurrent = mistake != "bptt_recurrent_grad_dropped"
            upstream = dhs[:, t] + dh if recurrent else dhs[:, t]
            g = _lstm_cell_backward(upstream, dc, x[:, t], *states[t], p)
            dx[:, t], dh, dc = g["dx_t"], g["dh_prev"], g["dc_prev"]
            if mistake == "bptt_dc_not_carried":
                dc = np.zeros_like(dc)
            for key in total:
                grad = g["d" + key]
                total[key] = grad if mistake == "bptt_params_not_summed" else total[key] + grad
        return {"dx": dx, "dh0": dh, "dc0": dc, **{"d" + k: v for k, v in total.items()}}

    keys = ("bptt_recurrent_grad_dropped", "bptt_dc_not_carried", "bptt_params_not_summed")
    return {key: back(key) for key in keys}


def _torch_cell(x, h, c, W_ih, W_hh, b_ih, b_hh, order="ifgo", mistake=""):
    a = x @ W_ih.T + h @ W_hh.T
    a = a + (0 if mistake == "one_bias:bias_ih is missing" else b_ih)
    a = a + (0 if mistake == "one_bias:bias_hh is missing" else b_hh)
    blocks = dict(zip(order, np.split(a, 4, axis=1), strict=True))
    gate = np.tanh if mistake == "tanh_for_sigmoid" else _sigmoid
    cand = _sigmoid if mistake == "sigmoid_for_tanh" else np.tanh
    i, f, g, o = gate(blocks["i"]), gate(blocks["f"]), cand(blocks["g"]), gate(blocks["o"])
    c_t = f * c + i * g
    h_t = o * c_t if mistake == "c_for_tanh_c" else o * np.tanh(c_t)
    return h_t, c_t


def torch_lstm_cell_mistakes(x, h, c, state_dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """nn.LSTMCell's step with each classic mistake planted: {key: (h_t, c_t)}.

    x (N, D), h and c (N, H) and the cell's state_dict (weight_ih (4H, D), weight_hh (4H, H),
    bias_ih, bias_hh (4H,)); tensors or arrays. Covers the 23 wrong orders of reading the four
    stacked gates, a missing bias, and the activation mistakes.
    """
    x, h, c = (_as_array(v).astype(np.float64) for v in (x, h, c))
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    W_ih, W_hh, b_ih, b_hh = (_as_array(state_dict[k]).astype(np.float64) for k in names)
    args = (x, h, c, W_ih, W_hh, b_ih, b_hh)
    out = {}
    for order in itertools.permutations("ifgo"):
        if order != tuple("ifgo"):
            key = f"gate_order:you read the four blocks as {', '.join(order)}"
            out[key] = _torch_cell(*args, order="".join(order))
    for mistake in ("one_bias:bias_ih is missing", "one_bias:bias_hh is missing",
                    "tanh_for_sigmoid", "sigmoid_for_tanh", "c_for_tanh_c"):  # fmt: skip
        out[mistake] = _torch_cell(*args, mistake=mistake)
    return out


def stacked_gate_order_mistakes(stacked, H: int, gates: str = "ifgo") -> dict[str, np.ndarray]:
    """Every other order of the four H-row blocks of ``stacked`` (4H, ...) or (4H,).

    Returned as {"gate_order:you stacked them f, i, g, o": ..., ...}, so a stacked weight or
    bias built in the wrong order is recognised and the order used is named.
    """
    stacked = _as_array(stacked)
    blocks = {g: stacked[k * H : (k + 1) * H] for k, g in enumerate(gates)}
    out = {}
    for order in itertools.permutations(gates):
        if "".join(order) != gates:
            key = f"gate_order:you stacked them {', '.join(order)}"
            out[key] = np.concatenate([blocks[g] for g in order], axis=0)
    return out


def random_arrays(seed: int, *shapes: tuple[int, ...], scale: float = 1.0) -> list[np.ndarray]:
    """Standard-normal float64 arrays of the given shapes (times ``scale``) from one seed."""
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(shape) for shape in shapes]


def random_params(cell: str, D: int, H: int, seed: int, scale: float = 0.5, K: int = 1) -> dict:
    """Random float64 parameters for ``cell`` (a key of lstm_ref.specs.PARAM_SPECS), every bias
    non-zero, so that a missing or doubled bias shows."""
    from lstm_ref.specs import PARAM_SPECS

    dims = {"D": D, "H": H, "K": K}
    spec = PARAM_SPECS[cell]
    shapes = [
        tuple(eval(letter, {"__builtins__": {}}, dims) for letter in spec[key]) for key in spec
    ]
    return dict(zip(spec, random_arrays(seed, *shapes, scale=scale), strict=True))


def pick(variants: Mapping[str, tuple], index: int) -> dict[str, np.ndarray]:
    """{key: value[index]} for variants that return tuples, such as (h_t, c_t)."""
    return {key: value[index] for key, value in variants.items()}
