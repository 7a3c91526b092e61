"""What a graded cell calls: compare an answer, call the student's function, make test inputs.

Every graded cell of an exercise calls its student's function through :func:`run`, then checks
the answer with :func:`compare`. A failure raises ``AssertionError`` with a message written for
the student: which quantity, what is wrong with its shape or the largest error and where, and,
when the answer matches a classic mistake recomputed on the same inputs (``planted``), the
mistake by name (``mistakes``)::

    AssertionError: f_t is wrong: the largest error is 0.2132 at index (1, 3)
    (you returned 0.5118, expected 0.7250; tolerance 1e-06 relative, 1e-08 absolute).
    Likely mistake: the bias is missing: add b_f after the matrix product.

nbgrader gives no credit for a test cell that writes to stderr, so :func:`run` keeps warnings
and stray stderr writes of the student's code away from stderr. Nothing here imports torch:
tensors are accepted wherever arrays are (anything with ``.detach().cpu().numpy()``).
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Callable, Mapping

import numpy as np

from lstm_course.grading.mistakes import MISTAKES, describe


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
) -> None:
    """Check that ``got`` equals ``expected`` up to rounding; raise AssertionError if not.

    name: the quantity as the student knows it ("f_t"). letters: its shape in letters
    ("(N, H)"), used in shape messages. mistakes: see :func:`diagnose`. hint: a sentence added
    to any failure (for example what an isolating test sets to zero).
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    expected = as_array(expected)
    problem = _problem(name, got, expected, letters, rtol, atol)
    if problem is None:
        return
    lines = [problem]
    found = diagnose(got, mistakes)
    lines += [f"Likely mistake: {text}." for text in dict.fromkeys(map(describe, found))]
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
            lines.append(f"Likely mistake: {describe(mistake)}.")
        raise AssertionError("\n".join(lines))


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
