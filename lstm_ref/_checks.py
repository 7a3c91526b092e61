"""Input checks shared by every public function: shapes in letters, one dtype, finite values.

Errors are written for the caller, for example
``ValueError: W_f has shape (5, 8); expected (H, H + D) = (5, 9)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_array(name: str, value) -> np.ndarray:
    """Return ``value`` as a float32 or float64 array; integers and lists become float64."""
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    elif array.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} has dtype {array.dtype}; expected float32 or float64")
    return array


def format_letters(letters: tuple[str, ...]) -> str:
    """() -> '()', ('H',) -> '(H,)', ('N', 'H + D') -> '(N, H + D)'."""
    return f"({letters[0]},)" if len(letters) == 1 else "(" + ", ".join(letters) + ")"


class ShapeChecker:
    """Checks arrays against shapes written in letters, learning each letter's size on first use.

    >>> check = ShapeChecker()
    >>> x_t = check("x_t", np.zeros((2, 4)), "N", "D")      # binds N = 2, D = 4
    >>> h_prev = check("h_prev", np.zeros((2, 5)), "N", "H")  # binds H = 5
    >>> W_f = check("W_f", np.zeros((5, 8)), "H", "H + D")
    Traceback (most recent call last):
    ValueError: W_f has shape (5, 8); expected (H, H + D) = (5, 9)

    All arrays must share one floating dtype (float32 stays float32) and hold finite values.
    """

    kind = "array"  # what the error messages call the checked values

    def __init__(self, **known: int) -> None:
        self.dims: dict[str, int] = dict(known)
        self.dtype = None
        self.dtype_source = ""

    def __call__(self, name: str, value, *letters: str, finite: bool = True):
        array = self.convert(name, value)
        self.check_shape(name, tuple(array.shape), letters)
        self.check_same_kind(name, array)
        if finite:
            check_finite(name, array)
        return array

    def check_shape(self, name: str, shape: tuple[int, ...], letters: tuple[str, ...]) -> None:
        """Bind the letters seen for the first time, then compare ``shape`` with ``letters``."""
        expected_text = format_letters(letters)
        if len(shape) != len(letters):
            raise ValueError(
                f"{name} has shape {shape} ({len(shape)}-D); expected {expected_text}, "
                f"a {len(letters)}-D {self.kind}"
            )
        for letter, size in zip(letters, shape, strict=True):
            if letter.isidentifier() and letter not in self.dims:
                if size < 1:
                    raise ValueError(f"{name} has shape {shape}; {letter} must be at least 1")
                self.dims[letter] = size
        expected = tuple(self.size(letter) for letter in letters)
        if shape != expected:
            raise ValueError(f"{name} has shape {shape}; expected {expected_text} = {expected}")

    def size(self, expression: str) -> int:
        """The size of a letter expression such as 'H + D' or '4 * H' from the bound letters."""
        return int(eval(expression, {"__builtins__": {}}, self.dims))  # our own strings only

    def params(self, name: str, params: Mapping, spec: Mapping[str, tuple[str, ...]]) -> dict:
        """Check a parameter dict against ``spec`` (key -> letters); return the checked values."""
        if not isinstance(params, Mapping):
            raise TypeError(f"{name} must be a dict of {self.kind}s, got {type(params).__name__}")
        missing = [key for key in spec if key not in params]
        extra = [key for key in params if key not in spec]
        if missing or extra:
            raise ValueError(
                f"{name} has keys {sorted(params)}; expected {list(spec)}"
                + (f" (missing {missing})" if missing else "")
                + (f" (unexpected {extra})" if extra else "")
            )
        return {key: self(key, params[key], *letters) for key, letters in spec.items()}

    def convert(self, name: str, value) -> np.ndarray:
        return as_float_array(name, value)

    def check_same_kind(self, name: str, array) -> None:
        """Every value shares the first one's dtype (float32 stays float32)."""
        if self.dtype is None:
            self.dtype, self.dtype_source = array.dtype, name
        elif array.dtype != self.dtype:
            raise TypeError(
                f"{name} is {array.dtype} but {self.dtype_source} is {self.dtype}; "
                f"use one floating dtype for every {self.kind}"
            )


def check_finite(name: str, array: np.ndarray) -> None:
    """Raise ValueError naming the first NaN or infinity in ``array``."""
    if not np.isfinite(array).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        value = array[where] if where else array
        raise ValueError(f"{name} contains a non-finite value ({value}) at index {where}")


def optional_state(check: ShapeChecker, name: str, value, like: str = "H") -> np.ndarray:
    """A state array (N, H) that defaults to zeros when ``value`` is None."""
    if value is None:
        return np.zeros((check.dims["N"], check.dims[like]), dtype=check.dtype)
    return check(name, value, "N", like)
