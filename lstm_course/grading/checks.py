"""What a graded cell checks an answer with: :func:`compare`, :func:`diagnose`, and test inputs.

Every graded cell of an exercise calls its student's function through ``run`` (``calls``), then
checks the answer with :func:`compare`. A failure raises ``AssertionError`` with a message
written for the student: which quantity, what is wrong with its shape or the largest error and
where, and, when the answer matches exactly one classic mistake recomputed on the same inputs
(``planted``), the mistake by name (``mistakes``)::

    AssertionError: f_t is wrong: the largest error is 0.2132 at index (1, 3)
    (you returned 0.5118, expected 0.7250; tolerance 1e-06 relative, 1e-08 absolute).
    Likely mistake: the bias is missing: add b_f after the matrix product.

When several mistakes give the same numbers on a test's inputs, none is named as the likely one.
Nothing here imports torch:
tensors are accepted wherever arrays are (anything with ``.detach().cpu().numpy()``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from lstm_course.grading.mistakes import describe


def as_array(value):
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
        got = as_array(got).astype(np.float64)
    except (TypeError, ValueError):
        return []
    found = []
    for key, value in mistakes.items():
        candidate = as_array(value)
        if candidate.shape == got.shape and np.allclose(got, candidate, rtol=rtol, atol=atol):
            found.append(key)
    return found


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
    cause: Callable[[], str | None] | None = None,
) -> None:
    """Check that ``got`` equals ``expected`` up to rounding; raise AssertionError if not.

    name: the quantity as the student knows it ("f_t"). letters: its shape in letters
    ("(N, H)"), used in shape messages. mistakes: see :func:`diagnose`. hint: a sentence added
    to any failure (for example what an isolating test sets to zero). cause: called only on a
    failure, a sentence naming a wrong part the quantity is built from (see
    :func:`~lstm_course.grading.wrong_step`), shown instead of the mistakes, which assume every
    part but one right.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    expected = as_array(expected)
    problem = _problem(name, got, expected, letters, rtol, atol)
    if problem is None:
        return
    lines = [problem]
    blamed = cause() if cause is not None else None
    if blamed:
        lines.append(blamed)
    else:
        lines += _likely(diagnose(got, mistakes))
    if hint:
        lines.append(hint)
    raise AssertionError("\n".join(lines))


def _likely(found: list[str]) -> list[str]:
    """The "Likely mistake" line: only when exactly one catalogued mistake matches. When several
    give the same numbers on these inputs, none is named as the one: they are listed as such."""
    sentences = list(dict.fromkeys(map(describe, found)))
    if len(sentences) == 1:
        return [f"Likely mistake: {sentences[0]}."]
    if len(sentences) > 1:
        listed = "; ".join(f"({k}) {text}" for k, text in enumerate(sentences, 1))
        return [
            f"Your answer matches {len(sentences)} classic mistakes, which give the same numbers "
            f"on these inputs; it is one of: {listed}."
        ]
    return []


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
        array = as_array(got)
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
# Test inputs, and one quantity out of the variants that return tuples.


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
