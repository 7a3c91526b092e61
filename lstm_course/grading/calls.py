"""Calling the student's code: on copies of the inputs, with warnings and stderr kept aside.

:func:`run` is how every graded cell calls a student's function. What it guarantees:

- the function gets copies of the arrays it is given (arrays, and dicts, lists and tuples holding
  them), so an answer that edits its inputs in place cannot change the arrays the test computes
  its expected value from, and the edit itself is named ("your forget_gate changed its argument
  h_prev in place"), never hidden behind false numbers;
- nbgrader gives no credit for a test cell that writes to stderr, so warnings and stray stderr
  writes go to stdout as a note;
- an error is explained: which function, called with which shapes, and "a transposed weight" only
  when the function really runs with one weight transposed.

:func:`wrong_step` is what a sequence-level test uses to say that the student's own cell, not the
loop around it, is wrong. Nothing here imports torch; tensors and other objects are passed as
they are (a module being trained, a tensor whose gradient the test reads).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import sys
import warnings
from collections.abc import Callable

import numpy as np

from lstm_course.grading.checks import as_array
from lstm_course.grading.mistakes import MISTAKES, describe

_CONTAINERS = (dict, list, tuple)


def _holds_array(value) -> bool:
    if isinstance(value, np.ndarray):
        return True
    if type(value) in _CONTAINERS:
        items = value.values() if type(value) is dict else value
        return any(_holds_array(item) for item in items)
    return False


def _copy(value):
    """Arrays copied; plain dicts, lists and tuples holding arrays rebuilt; the rest as it is."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value) in _CONTAINERS and _holds_array(value):
        if type(value) is dict:
            return {key: _copy(item) for key, item in value.items()}
        return type(value)(_copy(item) for item in value)
    return value


def _index(idx) -> str:
    return "(" + ", ".join(str(int(i)) for i in idx) + (",)" if len(idx) == 1 else ")")


def _edit(original, after, label: str) -> str | None:
    """Where ``after`` (the copy the function was given) no longer equals ``original``, or None.

    Only positions and shapes are named, never values: a hidden test's inputs stay hidden.
    """
    if isinstance(original, np.ndarray):
        if not isinstance(after, np.ndarray):
            return f"{label} (it is now a {type(after).__name__})"
        if after.shape != original.shape or after.dtype != original.dtype:
            return f"{label} (its shape or dtype changed)"
        same = after == original
        if np.issubdtype(original.dtype, np.inexact):
            same |= np.isnan(after) & np.isnan(original)
        if np.all(same):
            return None
        where = np.argwhere(~same)
        more = f" and {len(where) - 1} other entries" if len(where) > 1 else ""
        at = f" at index {_index(where[0])}" if original.ndim else ""
        return f"{label}{at}{more}"
    if type(original) is dict:
        if not isinstance(after, dict) or set(after) != set(original):
            added = sorted(map(repr, set(after) - set(original))) if isinstance(after, dict) else []
            removed = (
                sorted(map(repr, set(original) - set(after))) if isinstance(after, dict) else []
            )
            change = "; ".join(
                part
                for part in (
                    f"keys added: {', '.join(added)}" if added else "",
                    f"keys removed: {', '.join(removed)}" if removed else "",
                )
                if part
            )
            return f"{label} ({change or 'its keys changed'})"
        pairs = [(original[key], after[key], f"{label}[{key!r}]") for key in original]
    elif type(original) in (list, tuple):
        if len(after) != len(original):
            return f"{label} (its length went from {len(original)} to {len(after)})"
        pairs = [
            (a, b, f"{label}[{k}]") for k, (a, b) in enumerate(zip(original, after, strict=True))
        ]
    else:
        return None
    for item, item_after, item_label in pairs:
        if _holds_array(item):
            found = _edit(item, item_after, item_label)
        else:
            found = None if item_after is item else f"{item_label} (replaced)"
        if found:
            return found
    return None


def _argument_names(fn, args, kwargs) -> list[str]:
    """The names of ``args`` then ``kwargs`` in ``fn``'s signature, or "argument k"."""
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
        by_position = list(bound.arguments)[: len(args)]
        if len(by_position) == len(args):
            return by_position + list(kwargs)
    except (TypeError, ValueError):
        pass
    return [f"argument {k + 1}" for k in range(len(args))] + list(kwargs)


def _name(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _shapes(args) -> str:
    parts = []
    for arg in args:
        shape = getattr(arg, "shape", None)
        parts.append(str(tuple(shape)) if shape is not None else type(arg).__name__)
    return ", ".join(parts)


def _call(fn: Callable, args: tuple, kwargs: dict):
    """Call ``fn`` on copies; return (result, warnings, copied args, copied kwargs)."""
    __tracebackhide__ = True
    args_copy, kwargs_copy = _copy(tuple(args)), {k: _copy(v) for k, v in kwargs.items()}
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(sys.stdout):
        warnings.simplefilter("always")
        try:
            result = fn(*args_copy, **kwargs_copy)
        except NotImplementedError:
            raise
        except Exception as error:
            raise AssertionError(_explain(fn, args, kwargs, error)) from error
    return result, [f"{w.category.__name__}: {w.message}" for w in caught], args_copy, kwargs_copy


def _explain(fn, args, kwargs, error: Exception) -> str:
    """The message for an exception the student's function raised."""
    lines = [
        f"{_name(fn)}() raised {type(error).__name__}: {error}",
        f"It was called with arguments of shapes {_shapes(args)}.",
    ]
    text = str(error)
    if "matmul" in text or "not aligned" in text:
        fixes = _transposition_fixes(fn, args, kwargs)
        if len(fixes) == 1:  # it runs with exactly one weight transposed: that is the mistake
            lines.append(
                f"Likely mistake: {MISTAKES['transposed_weight']} (with {fixes[0]} transposed "
                "your code runs)."
            )
    elif "could not be broadcast" in text:
        lines.append(
            "Check which axis is which: a batch is stacked as rows (N, ...), and a weight "
            "W (out, in) acts on it as z @ W.T."
        )
    return "\n".join(lines)


def _transposition_fixes(fn, args, kwargs) -> list[str]:
    """The 2-D, non-square arrays among the arguments (or the values of a dict argument) with
    which, transposed, ``fn`` runs without an error: the candidates for a transposed weight."""
    names = _argument_names(fn, args, kwargs)
    values = list(args) + list(kwargs.values())
    candidates = []  # (label, position, dict key or None)
    for k, value in enumerate(values):
        if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[0] != value.shape[1]:
            candidates.append((names[k], k, None))
        elif type(value) is dict:
            for key, item in value.items():
                if isinstance(item, np.ndarray) and item.ndim == 2 and len(set(item.shape)) == 2:
                    candidates.append((f"{names[k]}[{key!r}]", k, key))
    fixes = []
    for label, k, key in candidates:
        trial = [_copy(v) for v in values]
        if key is None:
            trial[k] = trial[k].T.copy()
        else:
            trial[k][key] = trial[k][key].T.copy()
        trial_args, trial_kwargs = (
            trial[: len(args)],
            dict(zip(kwargs, trial[len(args) :], strict=True)),
        )
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                with contextlib.redirect_stderr(io.StringIO()):
                    fn(*trial_args, **trial_kwargs)
        except Exception:  # noqa: BLE001 (any failure means: not this one)
            continue
        fixes.append(label)
    return fixes


def _raise_if_edited(fn, args, kwargs, args_after, kwargs_after) -> None:
    __tracebackhide__ = True
    names = _argument_names(fn, args, kwargs)
    after = list(args_after) + list(kwargs_after.values())
    for name, original, changed in zip(
        names, list(args) + list(kwargs.values()), after, strict=True
    ):
        where = _edit(original, changed, name) if _holds_array(original) else None
        if where:
            raise AssertionError(
                f"Your {_name(fn)} changed its argument {name} in place: {where}. A function "
                "must leave the arrays it is given as it found them (the caller still needs "
                "them): work on a copy (a = a.copy()) or build new arrays (a = a * 2, not "
                "a *= 2), and put back anything you change on the way."
            )


def run_with_warnings(fn: Callable, *args, **kwargs):
    """Call ``fn(*args, **kwargs)`` on copies of its inputs; return its result and the list of
    warnings it raised.

    Warnings are recorded instead of shown, and anything the function writes to stderr goes to
    stdout, so the graded cell keeps its points for a harmless warning. NotImplementedError
    (the unsolved stub) passes through unchanged; any other exception becomes an
    AssertionError that names the function and the shapes it was called with. A function that
    changed one of its inputs in place fails with an AssertionError that names that input.
    """
    __tracebackhide__ = True
    result, caught, args_after, kwargs_after = _call(fn, args, kwargs)
    _raise_if_edited(fn, args, kwargs, args_after, kwargs_after)
    return result, caught


def run(fn: Callable, *args, **kwargs):
    """Call ``fn(*args, **kwargs)`` like :func:`run_with_warnings`; return only the result.

    The warnings are printed to stdout as a note, so the student still sees them.
    """
    __tracebackhide__ = True
    result, caught = run_with_warnings(fn, *args, **kwargs)
    for text in dict.fromkeys(caught):
        print(f"Note: your code raised a warning (no points lost for it here): {text}")
    return result


def run_keeping_edits(fn: Callable, *args, **kwargs):
    """Call ``fn`` like :func:`run`, but allow it to change its inputs: return the result and
    the positional arguments as the function left them (copies: the caller's stay as they are).

    For the functions whose contract is an in-place edit (a finite-difference loop that moves x
    and must put it back), so the test can check what the function left behind.
    """
    __tracebackhide__ = True
    result, caught, args_after, _ = _call(fn, args, kwargs)
    for text in dict.fromkeys(caught):
        print(f"Note: your code raised a warning (no points lost for it here): {text}")
    return result, list(args_after)


def assert_no_warnings(name: str, caught: list[str], mistake: str | None = None) -> None:
    """Raise AssertionError if ``caught`` (from :func:`run_with_warnings`) is not empty."""
    __tracebackhide__ = True
    if caught:
        lines = [f"{name} raised a warning: {caught[0]}."]
        if mistake:
            lines.append(f"Likely mistake: {describe(mistake)}.")
        raise AssertionError("\n".join(lines))


def assert_float(name: str, value) -> None:
    """Raise AssertionError unless ``value`` is a Python float (an int or a bool is not, nor a
    0-d array, a NumPy float32 or a tensor: a float is what can be printed, stored and compared
    without dragging an array or an autograd graph along)."""
    __tracebackhide__ = True
    if isinstance(value, float):  # np.float64 is a subclass of float: it is one
        return
    kind = type(value).__name__
    if hasattr(value, "detach") and hasattr(value, "requires_grad"):
        kind = "tensor" + (" that requires grad" if value.requires_grad else "")
    elif isinstance(value, np.ndarray):
        kind = f"NumPy array of shape {value.shape}"
    raise AssertionError(
        f"{name} is a {kind}; expected a Python float: return float(value) (or value.item())."
    )


# ---------------------------------------------------------------------------------------------
# The student's cell, checked on the steps of a sequence (for sequence-level tests).


def _close(got, expected, rtol, atol, extra_outputs: bool = True) -> bool:
    """Whether ``got`` holds ``expected`` (an array, a tuple or a dict of them) within the
    tolerances; with ``extra_outputs``, a tuple may return more than expected (a cache)."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(
            key in got and _close(got[key], value, rtol, atol, extra_outputs)
            for key, value in expected.items()
        )
    if isinstance(expected, tuple | list):
        n = len(expected)
        return (
            isinstance(got, tuple | list)
            and (len(got) >= n if extra_outputs else len(got) == n)
            and all(
                _close(g, e, rtol, atol, extra_outputs)
                for g, e in zip(got[:n], expected, strict=True)
            )
        )
    try:
        array = as_array(got).astype(np.float64)
    except (TypeError, ValueError):
        return False
    expected = as_array(expected)
    return array.shape == expected.shape and np.allclose(array, expected, rtol=rtol, atol=atol)


def wrong_step(name: str, fn: Callable, steps, rtol: float = 1e-6, atol: float = 1e-8):
    """For ``compare(..., cause=wrong_step(...))``: is the student's own step function wrong?

    name: the function as the student knows it ("lstm_cell_forward"); fn: the student's function;
    steps: a list of (args, expected), each step of the sequence on the reference's inputs (see
    ``planted.lstm_steps``) and what the reference's step returns (an array, a tuple, a dict;
    extra outputs of the student's are ignored). Returns a function that compare calls only when
    the sequence is wrong: a sentence saying that ``name`` is wrong and on which step, or None
    when it is right on every step (then the loop is to blame).
    """

    def cause() -> str | None:
        for t, (args, expected) in enumerate(steps):
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    got = run(fn, *args)
            except NotImplementedError:
                return f"Your {name} is not written yet: write it first (see its own tests)."
            except AssertionError as error:
                first = str(error).split("\n")[0]
                return (
                    f"Your {name} fails at step {t + 1} of this sequence ({first}): see its tests."
                )
            if not _close(got, expected, rtol, atol):
                return (
                    f"Your {name} is wrong: fed the reference's inputs at step {t + 1} of the "
                    f"{len(steps)} of this sequence (in the order a loop takes them), it does not "
                    "return what it should. See its own tests and fix it first; a loop built on "
                    "it cannot be right until it is."
                )
        return None

    return cause
