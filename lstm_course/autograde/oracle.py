"""The outside check's two ends in the grader: the calls to make, and the verdict on the results.

The tests of a notebook run in the same process as the student's code, so a student can always
find a way to make them pass (the runner's guards only make the common ways fail). The outside
check does not depend on that process: ``verify.recompute`` starts a second, fresh sandbox that
runs only the notebook's non-test cells and calls each answer function that has a namesake in
``lstm_ref.np_ref`` (same parameter names) on the inputs ``plan`` generated (``_recompute``),
which sends back the raw arrays (``.npy``, no pickles: ``_transport``). ``judge`` computes
``lstm_ref.np_ref`` on the same inputs in the grader's own process, where no student code ever
ran, and compares. Forging agreement requires computing the right answer. In the fresh sandbox
every reference function is wrapped, so a function that calls the reference
(``policy.REFERENCE_MODULES``) instead of implementing is caught however it got hold of it.
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass, field

import numpy as np

from lstm_course.autograde._transport import decode_array

N, T, D, H, K = 3, 4, 5, 6, 2  # all different, so a swapped axis shows
CELLS = ("lstm", "rnn", "gru", "peephole", "coupled")
RTOL, ATOL = 1e-6, 1e-8


def _shapes(name: str):
    """Shape and kind of an argument from its name (the course's notation), or None."""
    if name in ("h_prev", "c_prev", "c_t", "h0", "c0", "h"):
        return (N, H), "normal"
    if name in ("f_t", "i_t", "o_t"):
        return (N, H), "unit"
    if name == "c_tilde":
        return (N, H), "signed"
    if name == "z":
        return (N, H), "wide"
    if name == "x_t":
        return (N, D), "normal"
    if name == "x":
        return (N, T, D), "normal"
    if name.startswith("W_") and name not in ("W_y", "W_xn", "W_hn"):
        return (H, H + D), "weight"
    if name.startswith("b_") and name != "b_y":
        return (H,), "weight"
    if name == "W_y":
        return (K, H), "weight"
    if name == "b_y":
        return (K,), "weight"
    return None


def _value(rng: np.random.Generator, shape, kind: str) -> np.ndarray:
    a = rng.standard_normal(shape)
    if kind == "unit":
        return 1 / (1 + np.exp(-a))
    if kind == "signed":
        return np.tanh(a)
    if kind == "wide":
        return 4.0 * a
    if kind == "weight":
        return 0.5 * a
    return a


@dataclass
class Call:
    id: str
    name: str
    args: dict  # name -> ndarray or dict of ndarrays


def plan(functions: dict[str, list[str]] | list[str], seed_text: str) -> list[Call]:
    """The calls to make: one per answer function with a namesake in lstm_ref.np_ref.

    functions: the answer functions with their parameter names (as the release's stubs declare
    them); a function whose parameters differ from the reference's is not checked.
    """
    if not isinstance(functions, dict):
        functions = {name: None for name in functions}
    from lstm_ref import np_ref

    seed = int.from_bytes(hashlib.sha256(seed_text.encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    calls = []
    for name, stub_params in functions.items():
        ref = getattr(np_ref, name, None)
        if not callable(ref) or name.startswith("_"):
            continue
        if stub_params is not None and stub_params != list(inspect.signature(ref).parameters):
            continue
        args = {}
        ok = True
        for pname in inspect.signature(ref).parameters:
            spec = _shapes(pname)
            if pname == "params":
                cell = name.split("_")[0]
                if cell not in CELLS:
                    ok = False
                    break
                from lstm_ref.params import init_params

                params = init_params(cell, D, H, seed=int(rng.integers(1 << 30)))
                # non-zero, different biases everywhere (a zero bias hides a missing bias)
                args[pname] = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
            elif spec is None:
                ok = False
                break
            else:
                args[pname] = _value(rng, *spec)
        if ok:
            calls.append(Call(f"{name}", name, args))
    return calls


@dataclass
class Verdict:
    name: str
    wrong: str | None = None  # the function returned values that differ from the reference
    failed: str | None = None  # it could not be checked (raised, timed out, did not return)
    reference_calls: list[str] = field(default_factory=list)


def _tree_arrays(ref, got, path: str, out: list) -> None:
    """Pairs (where, reference array, student value) at every array of the reference's result."""
    if isinstance(ref, np.ndarray):
        out.append((path, ref, got))
    elif isinstance(ref, tuple | list):
        items = got.get("items") if isinstance(got, dict) and got.get("t") == "seq" else None
        for i, r in enumerate(ref):
            g = items[i] if items is not None and i < len(items) else None
            _tree_arrays(r, g, f"{path}[{i}]", out)


def judge(call: Call, report: dict | None) -> Verdict:
    """Compare what the sandbox sent back with lstm_ref computed here."""
    from lstm_ref import np_ref

    verdict = Verdict(call.name)
    if report is None:
        verdict.failed = "the check did not run to this function"
        return verdict
    verdict.reference_calls = sorted(set(report.get("reference_calls") or []))[:10]
    if report.get("error"):
        verdict.failed = str(report["error"])[:300]
        return verdict
    expected = getattr(np_ref, call.name)(**{k: v for k, v in call.args.items()})
    if isinstance(expected, tuple) and call.name.endswith("_forward"):
        expected = expected[:-1]  # (..., cache): a cache is the implementation's own business
        got = report.get("result")
        if len(expected) == 1 and not (isinstance(got, dict) and got.get("t") == "seq"):
            expected = expected[0]  # the exercise returns only the output, without a cache
    pairs: list = []
    _tree_arrays(expected, report.get("result"), "", pairs)
    for where, ref, got in pairs:
        label = f"{call.name}(...){where}"
        if not isinstance(got, dict) or got.get("t") != "array":
            verdict.failed = f"{label} is not an array of numbers"
            return verdict
        try:
            value = decode_array(got["npy"]).astype(float)
        except (ValueError, TypeError):
            verdict.failed = f"{label} could not be read as numbers"
            return verdict
        if value.shape != ref.shape:
            verdict.wrong = f"{label} has shape {value.shape}, expected {ref.shape}"
            return verdict
        if not np.allclose(value, ref, rtol=RTOL, atol=ATOL, equal_nan=False):
            err = float(np.max(np.abs(value - ref))) if np.all(np.isfinite(value)) else float("nan")
            verdict.wrong = (
                f"{label} differs from lstm_ref.np_ref.{call.name} (max error {err:.3g})"
            )
            return verdict
    return verdict
