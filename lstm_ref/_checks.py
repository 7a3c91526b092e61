"""One checker for arrays and tensors: shapes in letters, one dtype (and device), finite values.

Errors are written for the caller, for example
``ValueError: W_f has shape (5, 8); expected (H, H + D) = (5, 9)``.
Nothing here imports torch at import time: ``TensorChecker`` imports it when first used.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Mapping

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def is_tensor(value) -> bool:
    """Whether ``value`` is a torch.Tensor, without importing torch."""
    return any(c.__module__ == "torch" and c.__name__ == "Tensor" for c in type(value).__mro__)


def as_float_array(name: str, value, copy: bool = False) -> np.ndarray:
    """``value`` as a float32 or float64 array (integers and lists become float64); a copy the
    caller cannot reach if ``copy``. A plain CPU tensor is accepted; one that needs autograd or
    lives on a GPU is refused with the way out."""
    if is_tensor(value) and (value.requires_grad or value.device.type != "cpu"):
        why = "requires grad" if value.requires_grad else f"is on {value.device}"
        raise TypeError(
            f"{name} is a torch.Tensor that {why}; np_ref works on NumPy arrays: pass "
            f"{name}.detach().cpu().numpy(), or use lstm_ref.torch_ref to keep autograd"
        )
    try:
        array = np.array(value, copy=True) if copy else np.asarray(value)
    except ValueError as error:  # NumPy refuses nested lists whose rows differ in length
        if "inhomogeneous" not in str(error):
            raise
        raise ValueError(
            f"{name} is a ragged nested list (its rows differ in length); expected an array"
        ) from None
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    elif array.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} has dtype {array.dtype}; expected float32 or float64")
    return array


def format_letters(letters: tuple[str, ...]) -> str:
    """() -> '()', ('H',) -> '(H,)', ('N', 'H + D') -> '(N, H + D)'."""
    return f"({letters[0]},)" if len(letters) == 1 else "(" + ", ".join(letters) + ")"


def _shape_of(value) -> tuple[int, ...] | None:
    try:
        return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)
    except ValueError:  # ragged: the checker will say so when it reaches this value
        return None


class ShapeChecker:
    """Checks arrays against shapes written in letters, learning each letter's size on first use.

    >>> check = ShapeChecker()
    >>> x_t = check("x_t", np.zeros((2, 4)), "N", "D")      # binds N = 2, D = 4
    >>> h_prev = check("h_prev", np.zeros((2, 5)), "N", "H")  # binds H = 5
    >>> W_f = check("W_f", np.zeros((5, 8)), "H", "H + D")
    Traceback (most recent call last):
    ValueError: W_f has shape (5, 8); expected (H, H + D) = (5, 9)

    All arrays must share one floating dtype (float32 stays float32) and hold finite values.
    With ``copy=True`` every checked array is a copy, so what is kept (a cache) never aliases
    the caller's arrays.
    """

    kind = "array"  # what the error messages call the checked values

    def __init__(self, copy: bool = False, **known: int) -> None:
        self.dims: dict[str, int] = dict(known)
        self.copy = copy
        self.dtype = None
        self.device = None
        self.source = ""  # the name of the value that fixed the dtype (and device)

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
        try:
            expected = tuple(self.size(letter) for letter in letters)
        except NameError:  # a letter nothing fixed: D when no weight is wider than H, say
            raise ValueError(f"{name} has shape {shape}; expected {expected_text}") from None
        if shape != expected:
            raise ValueError(f"{name} has shape {shape}; expected {expected_text} = {expected}")

    def size(self, expression: str) -> int:
        """The size of a letter expression such as 'H + D' or '4 * H' from the bound letters."""
        return int(eval(expression, {"__builtins__": {}}, self.dims))  # our own strings only

    def check_keys(self, name: str, params, spec: Mapping) -> None:
        """``params`` is a dict with exactly the keys of ``spec``: else say what is missing."""
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

    def learn(self, params: Mapping, spec: Mapping[str, tuple[str, ...]]) -> None:
        """Bind the letters the data left open from the parameters' shapes, by majority.

        One wrong parameter is outvoted by the others, so the error names it with the true
        expected shape instead of blaming the rest. 'H + D' gives D once H is known.
        """
        # biases vote first, so that a tie between a weight and its bias goes to the bias
        by_rank = sorted(spec.items(), key=lambda item: len(item[1]))
        for compound in (False, True):
            votes: dict[str, list[int]] = {}
            for key, letters in by_rank:
                shape = _shape_of(params.get(key))
                if shape is None or len(shape) != len(letters):
                    continue
                for letter, size in zip(letters, shape, strict=True):
                    if not compound and letter.isidentifier() and letter not in self.dims:
                        votes.setdefault(letter, []).append(size)
                    elif compound and " + " in letter:
                        known, unknown = letter.split(" + ")
                        if known in self.dims and unknown not in self.dims:
                            votes.setdefault(unknown, []).append(size - self.dims[known])
            for letter, sizes in votes.items():
                size = Counter(sizes).most_common(1)[0][0]
                if size >= 1:
                    self.dims[letter] = size

    def params(self, name: str, params, spec: Mapping[str, tuple[str, ...]]) -> dict:
        """Check a parameter dict against ``spec`` (key -> letters); return the checked values."""
        self.check_keys(name, params, spec)
        self.learn(params, spec)
        return {key: self(key, params[key], *letters) for key, letters in spec.items()}

    def state(self, name: str, value, like: str = "H"):
        """A state (N, H) that defaults to zeros (of the checked dtype) when ``value`` is None."""
        if value is None:
            return self.zeros((self.dims["N"], self.dims[like]))
        return self(name, value, "N", like)

    def upstream(self, zeros: bool, **grads) -> list:
        """Upstream gradients of a backward pass: ``dhs`` (N, T, H), any other (N, H) or, for
        ``dy``, (N, K). None stays None, or becomes zeros if ``zeros``."""
        out = []
        for name, value in grads.items():
            letters = {"dhs": ("N", "T", "H"), "dy": ("N", "K")}.get(name, ("N", "H"))
            if value is not None:
                out.append(self(name, value, *letters))
            else:
                out.append(self.zeros(tuple(self.dims[k] for k in letters)) if zeros else None)
        return out

    def for_backward(self) -> ShapeChecker:
        """A checker with this one's sizes, dtype and device, for a backward pass's inputs."""
        check = copy.copy(self)
        check.dims, check.copy, check.source = dict(self.dims), False, "the forward pass"
        return check

    def convert(self, name: str, value) -> np.ndarray:
        return as_float_array(name, value, copy=self.copy)

    def zeros(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape, dtype=self.dtype)

    def check_same_kind(self, name: str, array) -> None:
        """Every value shares the first one's dtype (float32 stays float32)."""
        if self.dtype is None:
            self.dtype, self.source = array.dtype, name
        elif array.dtype != self.dtype:
            raise TypeError(
                f"{name} is {array.dtype} but {self.source} {self.verb} {self.dtype}; "
                f"use one floating dtype for every {self.kind}"
            )

    @property
    def verb(self) -> str:
        return "are" if self.source == "the parameters" else "is"


class TensorChecker(ShapeChecker):
    """ShapeChecker for tensors: shapes in letters, one floating dtype, and one device.

    The first tensor checked sets the dtype and the device (or ``like`` does). Tensors are never
    copied, moved or checked for NaN (on a GPU that would cost a synchronisation per call).
    """

    kind = "tensor"

    def __call__(self, name: str, value, *letters: str):
        return super().__call__(name, value, *letters, finite=False)

    @classmethod
    def like(cls, tensor, source: str, **known: int) -> TensorChecker:
        """A checker whose dtype and device are ``tensor``'s, called ``source`` in errors."""
        check = cls(**known)
        check.dtype, check.device, check.source = tensor.dtype, tensor.device, source
        return check

    def convert(self, name: str, value):
        if not is_tensor(value):
            packed = "Packed" in type(value).__name__
            raise TypeError(
                f"{name} must be a torch.Tensor, got {type(value).__name__}"
                + (" (packed sequences are not supported)" if packed else "")
            )
        if not value.is_floating_point():
            raise TypeError(f"{name} has dtype {value.dtype}; expected a floating dtype")
        return value

    def zeros(self, shape: tuple[int, ...]):
        import torch

        return torch.zeros(shape, dtype=self.dtype, device=self.device)

    def check_same_kind(self, name: str, value) -> None:
        if self.device is None:
            self.device = value.device
        elif value.device != self.device:
            raise ValueError(
                f"{name} is on {value.device} but {self.source} {self.verb} on {self.device}; "
                "put every tensor on one device"
            )
        super().check_same_kind(name, value)


def check_step(check: ShapeChecker, spec: Mapping, x_t, params, **states):
    """One step's inputs: x_t (N, D), each state (N, H), then the params against ``spec``."""
    x_t = check("x_t", x_t, "N", "D")
    states = [check(name, value, "N", "H") for name, value in states.items()]
    return x_t, check.params("params", params, spec), states


def check_sequence(check: ShapeChecker, spec: Mapping, x, params, **initial):
    """A sequence x (N, T, D), the params against ``spec`` and the initial states (N, H).

    The sizes come from the data first: x gives N, T, D; h0, when given, gives H; otherwise the
    parameters do, by majority, so one wrong parameter is the one named. A state that is None
    becomes zeros.
    """
    x = check("x", x, "N", "T", "D")
    (first, h0), *rest = initial.items()
    h0 = None if h0 is None else check(first, h0, "N", "H")
    params = check.params("params", params, spec)
    states = [check.state(first, None) if h0 is None else h0]
    return x, params, states + [check.state(name, value) for name, value in rest]


def check_finite(name: str, array: np.ndarray) -> None:
    """Raise ValueError naming the first NaN or infinity in ``array``."""
    if not np.isfinite(array).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        value = array[where] if where else array
        raise ValueError(f"{name} contains a non-finite value ({value}) at index {where}")


class Cache(tuple):
    """What a forward function returns for its backward: the values, and the forward's name."""

    def __new__(cls, forward: str, values):
        cache = super().__new__(cls, values)
        cache.forward = forward
        return cache


def open_cache(cache, forward: str, backward: str) -> Cache:
    """``cache`` if ``forward`` made it; otherwise a TypeError that says where it must come from."""
    if isinstance(cache, Cache) and cache.forward == forward:
        return cache
    got = (
        f"the cache of {cache.forward}" if isinstance(cache, Cache) else f"a {type(cache).__name__}"
    )
    raise TypeError(
        f"{backward} needs the cache that {forward} returned (its last value); got {got}"
    )
