"""Chapter 6 runs the worked example backwards by hand; every number a reader can follow must be
right.

We execute the chapter's code cells, read what they print, and compare each printed vector with
the same quantity computed here independently: the forward values from the equations, every
gradient by centred finite differences of the loss written as a function of that quantity, and
the gradients of the step's inputs and weights also against ``lstm_ref.np_ref.lstm_cell_backward``.
The numbers quoted in the prose are checked the same way.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import jupytext
import matplotlib
import numpy as np
import pytest

from lstm_ref import np_ref

matplotlib.use("Agg")

CHAPTER = Path(__file__).resolve().parents[2] / "book" / "06_bptt.md"
PRINTED = 5e-5 + 1e-12  # the chapter prints 4 decimals

# The worked example of chapters 3 to 5 (the data, not the chapter's code).
H_PREV = np.array([[0.5, -0.3, 0.8, 0.1]])
X_T = np.array([[1.0, -0.5]])
C_PREV = np.array([[1.0, 2.0, -0.5, 0.7]])
W = {
    "f": np.array([[1, 0.5, 1, 0, 1, 0], [-2, 1, -1.5, 0, -1, 2], [0.5, 0, 1, 1, 0.5, 0],
                   [1, 0, 2, 0, 1, -1]]),
    "i": np.array([[-1, 0, -1, 0, -1, 0], [2, 0, 1, 0, 1, -1], [0, 0, -1, 0, -1, 0],
                   [-1, 0, -1, 0, -2, 0]]),
    "c": np.array([[0.5, 0, 0, 0, 0.5, 0], [0, 1, -1, 0, -1, 0], [1, 0, 0, 0, 0, 1],
                   [0, 0, 0.5, 0, 0.5, 0]]),
    "o": np.array([[1, 0, 0, 0, 1, 0], [0, 0, 1, 0, 1, 0], [-1, 0, -1, 0, -1, 0],
                   [0, 0, 0, 0, 0, 0]]),
}  # fmt: skip
B = {"f": np.array([0.5, -0.5, 0.0, 1.0]), "i": np.array([-1.0, 0.5, -0.5, -1.0]),
     "c": np.zeros(4), "o": np.zeros(4)}  # fmt: skip
PARAMS = {**{f"W_{g}": W[g].astype(float) for g in W}, **{f"b_{g}": B[g] for g in B}}


def sigma(a):
    return 1.0 / (1.0 + np.exp(-a))


def preacts(h_prev=H_PREV, x_t=X_T, weights=None):
    """a_g = W_g · [h_{t-1}, x_t] + b_g for the four layers."""
    weights = weights or W
    z = np.concatenate([h_prev, x_t], axis=1)
    return {g: z @ weights[g].T + B[g] for g in "fico"}


A = preacts()
FWD = {"f_t": sigma(A["f"]), "i_t": sigma(A["i"]), "C~_t": np.tanh(A["c"]), "o_t": sigma(A["o"])}
FWD["C_t"] = FWD["f_t"] * C_PREV + FWD["i_t"] * FWD["C~_t"]
FWD["tanh(C_t)"] = np.tanh(FWD["C_t"])
FWD["h_t"] = FWD["o_t"] * FWD["tanh(C_t)"]


def loss_from(f=None, i=None, g=None, o=None, c=None, c_prev=C_PREV):
    """L = sum of h_t's entries, with any intermediate quantity replaced by the argument."""
    f = FWD["f_t"] if f is None else f
    i = FWD["i_t"] if i is None else i
    g = FWD["C~_t"] if g is None else g
    o = FWD["o_t"] if o is None else o
    c = f * c_prev + i * g if c is None else c
    return float((o * np.tanh(c)).sum())


def numeric_gradient(fn, x, eps=1e-6):
    """Centred finite differences of the scalar fn at x, entry by entry."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        grad[idx] = (fn(plus) - fn(minus)) / (2 * eps)
    return grad


def loss_of_inputs(h_prev=H_PREV, x_t=X_T, c_prev=C_PREV, weights=None):
    a = preacts(h_prev, x_t, weights)
    c = sigma(a["f"]) * c_prev + sigma(a["i"]) * np.tanh(a["c"])
    return float((sigma(a["o"]) * np.tanh(c)).sum())


def gate_only(gate):
    """L as a function of [h_{t-1}, x_t] through one layer only, the others held fixed."""

    def fn(z):
        a = z @ W[gate].T + B[gate]
        parts = {"f": None, "i": None, "g": None, "o": None}
        key = {"f": "f", "i": "i", "c": "g", "o": "o"}[gate]
        parts[key] = np.tanh(a) if gate == "c" else sigma(a)
        return loss_from(**parts)

    return fn


Z = np.concatenate([H_PREV, X_T], axis=1)
EXPECTED = {  # every quantity the chapter prints, computed independently
    **FWD,
    "do_t": numeric_gradient(lambda o: loss_from(o=o), FWD["o_t"]),
    "dC_t": numeric_gradient(lambda c: loss_from(c=c), FWD["C_t"]),
    "df_t": numeric_gradient(lambda f: loss_from(f=f), FWD["f_t"]),
    "di_t": numeric_gradient(lambda i: loss_from(i=i), FWD["i_t"]),
    "dC~_t": numeric_gradient(lambda g: loss_from(g=g), FWD["C~_t"]),
    "dC_{t-1}": numeric_gradient(lambda c0: loss_from(c_prev=c0), C_PREV),
    "da_f": numeric_gradient(lambda a: loss_from(f=sigma(a)), A["f"]),
    "da_i": numeric_gradient(lambda a: loss_from(i=sigma(a)), A["i"]),
    "da_c": numeric_gradient(lambda a: loss_from(g=np.tanh(a)), A["c"]),
    "da_o": numeric_gradient(lambda a: loss_from(o=sigma(a)), A["o"]),
    "from f": numeric_gradient(gate_only("f"), Z),
    "from i": numeric_gradient(gate_only("i"), Z),
    "from c": numeric_gradient(gate_only("c"), Z),
    "from o": numeric_gradient(gate_only("o"), Z),
    "dh_{t-1}": numeric_gradient(lambda h: loss_of_inputs(h_prev=h), H_PREV),
    "dx_t": numeric_gradient(lambda x: loss_of_inputs(x_t=x), X_T),
}
DW_F = numeric_gradient(lambda w: loss_of_inputs(weights={**W, "f": w}), W["f"].astype(float))


@pytest.fixture(scope="module")
def printed() -> str:
    """Run the chapter's code cells and return everything they print."""
    nb = jupytext.read(CHAPTER)
    code = "\n\n".join(c.source for c in nb.cells if c.cell_type == "code")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(CHAPTER), "exec"), {"__name__": "chapter_6"})
    return out.getvalue()


def printed_vectors(text: str) -> dict[str, np.ndarray]:
    """Lines 'name   [a b c d]' -> {name: array}."""
    rows = re.findall(r"^(\S+(?: \w)?)\s+\[([-\d.\s]+)\]$", text, re.M)
    return {name: np.array(values.split(), dtype=float) for name, values in rows}


def test_the_chapter_prints_every_quantity(printed):
    """Check that each forward value and gradient of the worked example is printed once."""
    vectors = printed_vectors(printed)
    missing = set(EXPECTED) - set(vectors)
    assert not missing, f"not printed: {sorted(missing)}; printed: {sorted(vectors)}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_printed_number_matches_an_independent_computation(printed, name):
    """Check one printed vector against the equations (forward) or finite differences (backward)."""
    ours = printed_vectors(printed)[name]
    theirs = EXPECTED[name][0]
    err = np.abs(ours - theirs)
    assert err.max() <= PRINTED, (
        f"{name}: printed {ours}, independent {np.round(theirs, 6)}, "
        f"largest error {err.max():.1e} at entry {err.argmax()}"
    )


def test_printed_dW_f_matches_finite_differences(printed):
    """Check the printed 4 x 6 matrix dW_f against finite differences of the loss."""
    block = re.search(r"dW_f =\n(.*?\]\])", printed, re.S).group(1)
    ours = np.array(re.findall(r"-?\d+\.\d+|-?\d+\.", block), dtype=float).reshape(4, 6)
    err = np.abs(ours - DW_F)
    where = np.unravel_index(err.argmax(), err.shape)
    assert err.max() <= PRINTED, f"dW_f{where}: printed {ours[where]}, numeric {DW_F[where]:.6f}"


def test_lstm_ref_agrees_with_finite_differences():
    """Check that np_ref.lstm_cell_backward gives the gradients the chapter compares it with."""
    _, _, cache = np_ref.lstm_cell_forward(X_T, H_PREV, C_PREV, PARAMS)
    dx, dh_prev, dc_prev, dparams = np_ref.lstm_cell_backward(
        np.ones((1, 4)), np.zeros((1, 4)), cache
    )
    pairs = {
        "dh_{t-1}": (dh_prev, EXPECTED["dh_{t-1}"]),
        "dC_{t-1}": (dc_prev, EXPECTED["dC_{t-1}"]),
        "dx_t": (dx, EXPECTED["dx_t"]),
        "dW_f": (dparams["W_f"], DW_F),
    }
    for gate in "fico":
        pairs[f"db_{gate}"] = (dparams[f"b_{gate}"], EXPECTED[f"da_{gate}"][0])
    for name, (ref, numeric) in pairs.items():
        err = np.abs(ref - numeric).max()
        assert err < 1e-8, f"{name}: lstm_ref vs finite differences differ by {err:.1e}"


# Numbers the prose quotes for a pencil: (as written, the quantity, the unit 0-based).
PROSE = [
    ("0.8581", "o_t", 1),
    ("-0.7333", "do_t", 1),
    ("0.3967", "dC_t", 1),
    ("0.7934", "df_t", 1),
    ("0.0067", "f_t", 1),
    ("0.0053", "da_f", 1),
    ("-0.3850", "di_t", 1),
    ("0.3880", "dC~_t", 1),
    ("0.9781", "i_t", 1),
    ("-0.9705", "C~_t", 1),
    ("0.0027", "dC_{t-1}", 1),
    ("0.9340", "f_t", 0),
    ("0.3665", "dC_t", 0),
    ("0.3423", "dC_{t-1}", 0),
    ("0.1387", "dh_{t-1}", 0),
    ("0.1436", "from o", 0),
    ("-0.0275", "from i", 0),
    ("0.0116", "from f", 0),
    ("0.0109", "from c", 0),
    ("0.8176", "o_t", 0),
]


@pytest.mark.parametrize(("written", "name", "unit"), PROSE)
def test_number_quoted_in_the_prose_is_right(written, name, unit):
    """Check a number the text quotes: it appears in the chapter and rounds from the true value."""
    assert written.lstrip("-") in CHAPTER.read_text(encoding="utf-8"), f"{written} not in the text"
    true = EXPECTED[name][0][unit]
    assert abs(float(written) - true) <= PRINTED, f"{name}[{unit}] is {true:.6f}, text {written}"
