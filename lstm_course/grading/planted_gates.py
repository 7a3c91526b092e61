"""Hand-set gates and the half-life of a memory (exercises 3 and 4): checks by behaviour, and the
mistakes they name.

``forget_on_cue`` (ex03) and ``store_on_cue`` (ex04) return weights, not values: many answers are
right, so they are graded by what the reference's cell (``lstm_ref.np_ref``) does with them on
sequences the test draws with ``grading.random_arrays`` (salted in hidden tests). A failure says
what the memory did, at which step, and, where exactly one catalogued fault explains it (the fault
undone, the answer passes; or one probe of the gates is off), names it. ``half_life_mistakes``
recomputes the classic wrong formulas for :func:`~lstm_course.grading.compare`.

A hand-set cell never calls the student's forget_gate: a wrong gate costs its own task only.
"""

from __future__ import annotations

import numpy as np

from lstm_course.grading.checks import _likely, as_array
from lstm_ref import np_ref

KEEP, ERASE = 0.95, 0.05  # forget_on_cue: f_t >= KEEP before the cue, <= ERASE at the cue
STORE_TOL = 0.05  # store_on_cue: the memory within this of the value last written
VALUE = 0.5  # store_on_cue writes values in (-VALUE, VALUE), where tanh(v) is close to v
STORE_KEYS = ("W_f", "b_f", "W_i", "b_i", "W_c", "b_c")


def half_life_mistakes(f) -> dict[str, np.ndarray]:
    """The half-life ln 0.5 / ln f with each classic mistake planted; f in (0, 1), any shape."""
    f = np.asarray(f, dtype=np.float64)
    k = np.log(0.5) / np.log(f)
    return {
        "half_life_sign": np.log(2.0) / np.log(f),
        "half_life_time_constant": 1 / (1 - f),
        "one_minus_f": np.log(0.5) / np.log(1 - f),
        "half_life_rounded": np.ceil(k),
        "half_life_log_bases": np.log10(0.5) / np.log(f),
        "half_life_log_bases:log10 below, ln above": np.log(0.5) / np.log10(f),
        "half_life_inverted": np.log(f) / np.log(0.5),
    }


def _fail(problem: str, found: list[str]) -> None:
    __tracebackhide__ = True
    raise AssertionError("\n".join([problem, *_likely(found)]))


def _array(name: str, value, shape: tuple, letters: str, where: str) -> np.ndarray:
    """One returned weight as a float64 array of ``shape``, or an AssertionError naming it."""
    __tracebackhide__ = True
    try:
        array = as_array(value).astype(np.float64)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{where}: {name} is a {type(value).__name__}; expected a NumPy array of shape "
            f"{letters} = {shape}"
        ) from None
    if array.shape != shape:
        hint = (
            " It looks transposed: W is (out, in) = (H, H + D)."
            if array.shape[::-1] == shape
            else ""
        )
        raise AssertionError(
            f"{where}: {name} has shape {array.shape}; expected {letters} = {shape}.{hint}"
        )
    if not np.all(np.isfinite(array)):
        raise AssertionError(f"{where}: {name} holds a NaN or an infinity; use finite numbers")
    return array


# ---------------------------------------------------------------------------------------------
# ex03: forget_on_cue(H, D, cue) -> (W_f, b_f)


def _cue_sequences(draws, cue: int, cued: bool):
    """h (N, T, H) and x (N, T, D) in (-1, 1), feature ``cue`` of x set to 0 except at one step
    of each sequence (cue_at, (N,)); cue_at = T means no cue (every sequence when not cued)."""
    h_draw, x_draw, u = (np.asarray(a, dtype=np.float64) for a in draws)
    N, T, _ = x_draw.shape
    h, x = np.tanh(h_draw), np.tanh(x_draw)
    x[..., cue] = 0.0
    cue_at = (np.floor(np.abs(u) * 1000).astype(int) % T) if cued else np.full(N, T)
    for n, t in enumerate(cue_at):
        if t < T:
            x[n, t, cue] = 1.0
    return h, x, cue_at


def _cue_problem(W_f, b_f, h, x, cue_at) -> str | None:
    """What the gate does wrong on these sequences (the first step it fails at), or None."""
    T = x.shape[1]
    for t in range(T):
        f_t = np_ref.forget_gate(h[:, t], x[:, t], W_f, b_f)  # (N, H)
        kept = (f_t < KEEP) & (t < cue_at)[:, None]  # before the cue: must keep
        if kept.any():
            n, k = np.argwhere(kept)[0]
            return (
                f"Before the cue your gate keeps too little of the memory: f_t = "
                f"{f_t[n, k]:.4g} at step {t} of sequence {n} (unit {k}), so the memory is "
                f"multiplied by {f_t[n, k]:.4g} there; it must keep at least {KEEP} at every "
                "step until the cue arrives."
            )
        erased = (f_t > ERASE) & (t == cue_at)[:, None]  # at the cue: must erase
        if erased.any():
            n, k = np.argwhere(erased)[0]
            return (
                f"At the cue your gate does not erase the memory: f_t = {f_t[n, k]:.4g} at step "
                f"{t} of sequence {n} (unit {k}), where the cue is 1; it must be at most "
                f"{ERASE}, so that at most {ERASE:.0%} of the memory survives the cue."
            )
    return None


def _cue_diagnosis(W_f, b_f, H, D, cue, h, x, cue_at) -> list[str]:
    """The one fault that explains a failing (W_f, b_f), as a list of mistake keys."""

    def passes(W, b):
        return _cue_problem(W, b, h, x, cue_at) is None

    x_first = np.concatenate([W_f[:, D:], W_f[:, :D]], axis=1)  # a layout [x_t, h_prev] undone
    swapped = W_f.copy()
    if cue < H:
        swapped[:, [cue, H + cue]] = swapped[:, [H + cue, cue]]
    if passes(x_first, b_f) or (cue < H and passes(swapped, b_f)):
        return ["order_xh"]
    if passes(-W_f, -b_f):
        return ["cue_inverted"]
    off = np_ref.sigmoid(b_f)  # no cue, h_prev = 0, x_t = 0: the bias alone
    on = np_ref.sigmoid(b_f + W_f[:, H + cue])  # the cue alone
    if off.min() < KEEP and on.max() <= ERASE:
        return ["cue_bias_small"]
    if off.min() >= KEEP and on.max() > ERASE:
        return ["cue_weight_weak"]
    if off.min() >= KEEP and on.max() <= ERASE:
        return ["cue_listens_to_others"]
    return []


def check_forget_on_cue(answer, H: int, D: int, cue: int, draws, cued: bool = True) -> None:
    """Check the (W_f, b_f) that forget_on_cue(H, D, cue) returned, by what it does.

    draws: ``grading.random_arrays(seed, (N, T, H), (N, T, D), (N,))``: the hidden states and
    inputs (squashed into (-1, 1)) and where each sequence's cue falls (cued), or no cue at all.
    At every step the reference's forget gate must keep (f_t >= 0.95) until the cue, and erase
    (f_t <= 0.05) at it. Raises AssertionError saying what the memory did, and the likely mistake.
    """
    __tracebackhide__ = True
    where = f"forget_on_cue({H}, {D}, {cue})"
    if not isinstance(answer, tuple | list) or len(answer) != 2:
        raise AssertionError(
            f"{where} returned a {type(answer).__name__}; expected two arrays: return W_f, b_f"
        )
    W_f = _array("W_f", answer[0], (H, H + D), "(H, H + D)", where)
    b_f = _array("b_f", answer[1], (H,), "(H,)", where)
    h, x, cue_at = _cue_sequences(draws, cue, cued)
    problem = _cue_problem(W_f, b_f, h, x, cue_at)
    if problem is not None:
        _fail(problem, _cue_diagnosis(W_f, b_f, H, D, cue, h, x, cue_at))


# ---------------------------------------------------------------------------------------------
# ex04: store_on_cue() -> {"W_f", "b_f", "W_i", "b_i", "W_c", "b_c"}, one unit, x_t = [value, flag]


def _store_sequences(draws, writes: str):
    """h (N, T, 1), x (N, T, 2) = [value, flag], c0 (N, 1) from the draws; ``writes`` "first"
    (one write at step 0, then holding) or "random" (about one step in three writes)."""
    h_draw, v_draw, w_draw, c_draw = (np.asarray(a, dtype=np.float64) for a in draws)
    N, T = v_draw.shape
    flags = (w_draw > 0.45).astype(float)  # P(z > 0.45) is about 1/3
    if writes == "first":
        flags[:] = 0.0
        flags[:, 0] = 1.0
    x = np.stack([VALUE * np.tanh(v_draw), flags], axis=-1)
    return np.tanh(h_draw), x, VALUE * np.tanh(c_draw).reshape(N, 1)


def _store_run(p, h, x, c0) -> np.ndarray:
    """The memory after every step of the reference cell with the parameters p: (N, T)."""
    c, out = c0, []
    for t in range(x.shape[1]):
        f_t = np_ref.forget_gate(h[:, t], x[:, t], p["W_f"], p["b_f"])
        i_t = np_ref.input_gate(h[:, t], x[:, t], p["W_i"], p["b_i"])
        c_tilde = np_ref.candidate(h[:, t], x[:, t], p["W_c"], p["b_c"])
        c = np_ref.cell_update(f_t, c, i_t, c_tilde)
        out.append(c[:, 0])
    return np.stack(out, axis=1)


def _store_targets(x, c0) -> np.ndarray:
    """What the memory must hold after each step: the last value written, c0 before any."""
    target, out = c0[:, 0].copy(), []
    for t in range(x.shape[1]):
        target = np.where(x[:, t, 1] == 1.0, x[:, t, 0], target)
        out.append(target)
    return np.stack(out, axis=1)


def _store_problem(p, h, x, c0) -> str | None:
    got, want = _store_run(p, h, x, c0), _store_targets(x, c0)
    error = np.abs(got - want)
    if not np.all(np.isfinite(got)):
        return "The memory overflowed (a NaN or an infinity): use moderate weights"
    if error.max() < STORE_TOL:
        return None
    n, t = np.unravel_index(int(np.argmax(error >= STORE_TOL)), error.shape)
    flag = x[n, t, 1] == 1.0
    written = np.flatnonzero(x[n, : t + 1, 1] == 1.0)
    told = (
        f"the flag is 1 there, so it must hold that step's value {want[n, t]:.4g}"
        if flag
        else (
            f"it must still hold {want[n, t]:.4g}, the value written at step {written[-1]}"
            if written.size
            else f"nothing was written yet, so it must still hold its initial {want[n, t]:.4g}"
        )
    )
    return (
        f"After step {t} of sequence {n} the memory holds {got[n, t]:.4g}; {told} "
        f"(error {error[n, t]:.3g}, tolerance {STORE_TOL})."
    )


def _store_diagnosis(p, h, x, c0) -> list[str]:
    """The one fault that explains failing parameters, as a list of mistake keys."""

    def passes(q):
        return _store_problem(q, h, x, c0) is None

    swapped = {**p, "W_f": p["W_i"], "b_f": p["b_i"], "W_i": p["W_f"], "b_i": p["b_f"]}
    x_first = {k: (v[:, [2, 0, 1]] if k.startswith("W") else v) for k, v in p.items()}
    if passes(swapped):
        return ["swap_f_i"]
    if passes(x_first):
        return ["order_xh"]
    sig = np_ref.sigmoid
    found = []
    if sig(p["b_f"][0]) < 0.99:
        found.append("store_leaks")
    if sig(p["b_f"][0] + p["W_f"][0, 2]) > ERASE:
        found.append("store_keeps_old")
    if sig(p["b_i"][0]) > 0.01:
        found.append("store_writes_always")
    if sig(p["b_i"][0] + p["W_i"][0, 2]) < KEEP:
        found.append("store_write_weak")
    v = np.linspace(-VALUE, VALUE, 11)
    written = np.tanh(p["W_c"][0, 1] * v + p["W_c"][0, 2] + p["b_c"][0])
    if np.abs(written - v).max() > 0.04:
        found.append("store_candidate")
    if not found:
        zero_h = {k: (v.copy() if k.startswith("W") else v) for k, v in p.items()}
        for k in ("W_f", "W_i", "W_c"):
            zero_h[k][:, 0] = 0.0
        if passes(zero_h):
            found.append("store_listens_to_h")
    return found


def check_store_on_cue(answer, draws, writes: str = "random") -> None:
    """Check the parameters that store_on_cue() returned, by running the reference cell.

    draws: ``grading.random_arrays(seed, (N, T, 1), (N, T), (N, T), (N,))``: h_prev (squashed
    into (-1, 1)), the values (in (-0.5, 0.5)), the write flags (0/1; ``writes="first"``: one
    write at step 0, then holding) and the initial memory. After every step the memory must hold
    the value last written (its initial value before any) within 0.05.
    """
    __tracebackhide__ = True
    where = "store_on_cue()"
    if not isinstance(answer, dict) or set(answer) != set(STORE_KEYS):
        keys = sorted(answer) if isinstance(answer, dict) else type(answer).__name__
        raise AssertionError(
            f"{where} returned {keys}; expected a dict with the keys {', '.join(STORE_KEYS)}"
        )
    p = {
        k: _array(k, answer[k], (1, 3) if k[0] == "W" else (1,),
                  "(H, H + D)" if k[0] == "W" else "(H,)", where)
        for k in STORE_KEYS
    }  # fmt: skip
    h, x, c0 = _store_sequences(draws, writes)
    problem = _store_problem(p, h, x, c0)
    if problem is not None:
        _fail(problem, _store_diagnosis(p, h, x, c0))
