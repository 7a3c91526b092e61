"""Attacks on what leaves the student's code: forged outputs, returned objects that hand back
the expected value or run later, and what crosses between the processes (issue 10)."""

from __future__ import annotations

from attacks import (
    SHAPE,
    XSS,
    attack,
    before_tests,
    stubs_with,
    with_answers,
)


# == 1. output forging: displayhook / execute_result ========================================
@attack("displayhook / execute_result forging")
def atk_displayhook_in_stub(ctx):
    """get_ipython().displayhook('ok') in every stub before its raise: an execute_result before
    the error, which nbgrader's determine_grade reads as full credit."""
    return ctx.nb(stubs_with(ctx, "get_ipython().displayhook('ok')"))


@attack("displayhook / execute_result forging")
def atk_output_sink_result(ctx):
    """Every object of the process that collects outputs (found with gc) is handed an
    execute_result 'ok' from inside the stubs, whatever the test cell prints."""
    line = (
        "[o.execute_result({'text/plain': 'ok'}, {}) for o in __import__('gc').get_objects() "
        "if hasattr(o, 'execute_result') and hasattr(o, 'outputs')]"
    )
    return ctx.nb(stubs_with(ctx, line))


@attack("displayhook / execute_result forging", flagged=True)
def atk_output_sink_drops_errors(ctx):
    """The output collector's error() replaced by a no-op (instance attribute, found with gc):
    the failing tests then end without an error output."""
    src = (
        "import gc\n"
        "for _o in gc.get_objects():\n"
        "    if hasattr(_o, 'error') and hasattr(_o, 'outputs') and hasattr(_o, 'stream'):\n"
        "        _o.error = lambda *a, **k: None"
    )
    return ctx.nb(before_tests(ctx.release, src))


# == 2. objects that hand back the expected value ===========================================
FRAME_WALK = (
    SHAPE
    + '''
import sys

_CALLS = {}


def _expected(depth=2):
    """The caller's expected value: the first local named like one, walking up the stack."""
    frame = sys._getframe(depth)
    while frame is not None:
        for key in ("expected", "ref", "want", "target", "s_ref"):
            value = frame.f_locals.get(key)
            if isinstance(value, np.ndarray) and not isinstance(value, _Lazy):
                return value
        frame = frame.f_back
    return None


class _Lazy:
    """Looks like the answer: the right shape, and the test's own expected value as numbers."""

    def __init__(self, name, args):
        self.name, self.shape = name, _shape(name, args)

    def __array__(self, dtype=None, copy=None):
        found = _expected()
        # Fail the first test of each function that compares, on purpose: an outside check
        # that only looks at functions whose tests all passed will then look away.
        _CALLS[self.name] = _CALLS.get(self.name, 0) + (found is not None)
        if found is None or _CALLS[self.name] == 1:
            found = np.zeros(self.shape)
        return np.asarray(found, dtype=dtype)
'''
)


@attack("returned objects that hand back the expected value", most="zeros")
def atk_frame_walk_array(ctx):
    """Each answer returns an object whose __array__ walks the caller's frames to the test's
    expected value (and fails one test per function on purpose: 11/14 unflagged today)."""
    return ctx.nb(with_answers(ctx, lambda n, p: f"return _Lazy({n!r}, ({', '.join(p)},))",
                               FRAME_WALK))  # fmt: skip


DUCK = (
    FRAME_WALK
    + '''

class _Duck(_Lazy):
    """Duck-typed as a tensor: grading's as_array calls .detach().cpu().numpy()."""

    requires_grad = True

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        found = _expected()
        return found if found is not None else np.zeros(self.shape)
'''
)


@attack("returned objects that hand back the expected value", most="zeros")
def atk_duck_tensor(ctx):
    """Answers return a 'tensor requiring grad' (detach/cpu/numpy) whose numpy() walks the
    frames to the expected value."""
    return ctx.nb(with_answers(ctx, lambda n, p: f"return _Duck({n!r}, ({', '.join(p)},))", DUCK))


SUBCLASS = (
    FRAME_WALK
    + '''

class _Answer(np.ndarray):
    """A real ndarray (zeros of the right shape) that also quacks like a tensor."""

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        found = _expected()
        return found if found is not None else np.asarray(self)

    def __eq__(self, other):
        return np.ones(np.shape(other), bool)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        found = _expected()
        if found is not None:
            inputs = tuple(found if x is self else x for x in inputs)
        inputs = tuple(np.asarray(x) if isinstance(x, _Answer) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)
'''
)


@attack("returned objects that hand back the expected value", most="zeros")
def atk_ndarray_subclass(ctx):
    """Answers return an np.ndarray subclass whose ufuncs, __eq__ and numpy() substitute the
    expected value found on the stack."""
    body = "return np.zeros(_shape({n!r}, ({a},))).view(_Answer)"
    return ctx.nb(with_answers(ctx, lambda n, p: body.format(n=n, a=", ".join(p)), SUBCLASS))


LIAR = (
    SHAPE
    + '''

class _Liar:
    """Equal to everything, true, a float, a sequence, an array: whatever is asked."""

    def __init__(self, shape):
        self.shape, self.ndim, self.dtype = shape, len(shape), np.dtype(float)

    def __eq__(self, other):
        return True

    __ne__ = lambda self, other: False  # noqa: E731
    __bool__ = lambda self: True  # noqa: E731
    __float__ = lambda self: 0.5  # noqa: E731
    __len__ = lambda self: self.shape[0] if self.shape else 1  # noqa: E731
    __array_priority__ = 1e9

    def __array_ufunc__(self, *args, **kwargs):
        return True

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.full(self.shape, 0.5)

    def __getattr__(self, name):
        return lambda *a, **k: self
'''
)


@attack("returned objects that hand back the expected value", most="zeros")
def atk_eq_float_liar(ctx):
    """Answers return an object whose __eq__, __bool__, __float__, __array_ufunc__ and
    __array_function__ all say 'equal' (its values are 0.5)."""
    body = "return _Liar(_shape({n!r}, ({a},)))"
    return ctx.nb(with_answers(ctx, lambda n, p: body.format(n=n, a=", ".join(p)), LIAR))


DEL_CLEANER = (
    SHAPE
    + '''
import gc

_SINKS = [o for o in gc.get_objects() if hasattr(o, "outputs") and hasattr(o, "execute_result")]


class _Later:
    """Its __del__ runs after the test failed and before the result is sent: it removes the
    error from the test's outputs."""

    def __init__(self, shape):
        self.shape = shape

    def __array__(self, dtype=None, copy=None):
        return np.zeros(self.shape)

    def __del__(self):
        for sink in _SINKS:
            sink.outputs[:] = [o for o in sink.outputs if o.get("output_type") != "error"]
'''
)


@attack("returned objects whose methods run later", most="zeros")
def atk_del_clears_error(ctx):
    """Answers return an object whose __del__ (run when the failed test's traceback is freed)
    deletes the error output of that test."""
    body = "return _Later(_shape({n!r}, ({a},)))"
    return ctx.nb(with_answers(ctx, lambda n, p: body.format(n=n, a=", ".join(p)), DEL_CLEANER))


INPLACE = {
    "sigmoid": "z[...] = 0.0\nreturn np.full(np.shape(z), 0.5)",
    "forget_gate": (
        "for a in (h_prev, x_t, W_f, b_f):\n    a[...] = 0.0\n"
        "return np.full((h_prev.shape[0], W_f.shape[0]), 0.5)"
    ),
    "forget": "f_t[...] = 0.0\nc_prev[...] = 0.0\nreturn np.zeros(np.shape(f_t))",
    "forget_on_cue": "return np.zeros((H, H + D)), np.zeros(H)",  # ints: nothing to edit
    "half_life": "f[...] = 0.5\nreturn np.ones(np.shape(f))",  # ln 0.5 / ln 0.5 = 1
}


@attack("returned values: inputs edited in place", most="zeros")
def atk_inplace_edit_inputs(ctx):
    """Answers zero their inputs in place and return what the expected value, computed by the
    test after the call from the same arrays, then is (σ(0) = 0.5, 0 * 0 = 0)."""
    return ctx.nb(with_answers(ctx, lambda n, p: INPLACE[n], "import numpy as np"))


THREAD = (
    SHAPE
    + """
import threading
import time


def _zero_later(arrays, value):
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        for a in arrays:
            if isinstance(a, np.ndarray) and a.flags.writeable:
                a[...] = value
        time.sleep(0)
"""
)


@attack("returned values: inputs edited after the call", most="zeros")
def atk_thread_mutates_inputs(ctx):
    """Answers return 0.5 (or 0) at once and leave a thread that keeps zeroing their inputs,
    so that the expected value computed next from those arrays agrees."""

    def body(n, p):
        value = "0.0"
        ret = "np.zeros" if n == "forget" else "0.5 + np.zeros"
        return (
            f"threading.Thread(target=_zero_later, args=(({', '.join(p)},), {value}), "
            "daemon=True).start()\n"
            f"return {ret}(_shape({n!r}, ({', '.join(p)},)))"
        )

    return ctx.nb(with_answers(ctx, body, THREAD))


# == 8. attacks on the new design: what crosses the pipe =======================================
EXC_PAYLOAD = (
    "\x1b]2;F-esc-exc\x07\x1b[2J\x1b[31m<script>alert('" + XSS + "')</script>"
    "<img src=x onerror=alert('" + XSS + "')>"
)


@attack(
    "exceptions with a malicious __str__; terminal escapes; stored XSS",
    feedback=True,
    terminal="exc",
)
def atk_xss_exception_str(ctx):
    """Stubs raise an exception whose __str__ and __repr__ return terminal escapes, HTML and
    200 KB of text, and whose class is named like the grader's own GradingIntegrityError."""
    prelude = (
        "class GradingIntegrityError(Exception):\n"
        f"    def __str__(self):\n        return {EXC_PAYLOAD!r} + 'A' * 200_000\n\n"
        "    __repr__ = __str__"
    )
    return ctx.nb(with_answers(ctx, lambda n, p: "raise GradingIntegrityError()", prelude))


@attack("returning generators and recursive structures")
def atk_generator_recursive(ctx):
    """sigmoid returns a generator of the right rows, forget_gate a list that contains itself,
    forget a list nested 100,000 deep."""
    bodies = {
        "sigmoid": "return (0.5 for _ in range(np.size(z)))",
        "forget_gate": "out = [0.5, 0.5]\nout.append(out)\nreturn out",
        "forget": "out = []\nfor _ in range(100_000):\n    out = [out]\nreturn out",
        "forget_on_cue": "out = [np.zeros((H, H + D))]\nout.append(out)\nreturn out",
        "half_life": "return (1.0 for _ in range(np.size(f)))",
    }
    return ctx.nb(with_answers(ctx, lambda n, p: bodies[n], "import numpy as np"))


@attack("returning giant arrays")
def atk_giant_arrays(ctx):
    """Answers return zero-stride views that claim 10^10 entries (80 GB as float64) and a
    10^6-dimensional shape: a codec that materialises them runs out of memory."""
    bodies = {
        "sigmoid": "return np.broadcast_to(0.5, (100_000, 100_000))",
        "forget_gate": (
            "return np.lib.stride_tricks.as_strided(np.zeros(1), (10**5, 10**5), (0, 0))"
        ),
        "forget": "return np.broadcast_to(np.float64(0), (2,) * 32)",
        "forget_on_cue": "return np.broadcast_to(0.0, (100_000, 100_000)), np.zeros(H)",
        "half_life": "return np.broadcast_to(np.float64(1), (2,) * 32)",
    }
    return ctx.nb(with_answers(ctx, lambda n, p: bodies[n], "import numpy as np"))


ODD = (
    FRAME_WALK
    + """


class _LazyFloat:
    def __init__(self, i):
        self.i = i

    def __float__(self):
        found = _expected()
        return float(found.flat[self.i]) if found is not None else 0.5


def _nan_payload(shape):
    bits = np.full(shape, 0x7FF8_DEAD_BEEF_0001, dtype=np.uint64)
    return bits.view(np.float64)
"""
)


@attack("object-dtype arrays, odd dtypes, NaN payloads", most="zeros")
def atk_odd_dtypes(ctx):
    """sigmoid returns an object array of lazy floats that walk the frames; forget_gate a
    complex array whose imaginary part is a NaN payload; forget a structured array."""
    bodies = {
        "sigmoid": (
            "out = np.empty(np.shape(z), dtype=object)\n"
            "for i in range(out.size):\n    out.flat[i] = _LazyFloat(i)\nreturn out"
        ),
        "forget_gate": (
            "shape = _shape('forget_gate', (h_prev, x_t, W_f, b_f))\n"
            "return np.zeros(shape) + 1j * _nan_payload(shape)"
        ),
        "forget": "return np.zeros(np.shape(f_t), dtype=[('re', 'f8'), ('im', 'f8')])",
        "forget_on_cue": (
            "shape = _shape('forget_on_cue', (H, D, cue))\n"
            "return np.zeros(shape) + 1j * _nan_payload(shape), np.zeros(H, dtype=object)"
        ),
        "half_life": (
            "out = np.empty(np.shape(f), dtype=object)\n"
            "for i in range(out.size):\n    out.flat[i] = _LazyFloat(i)\nreturn out"
        ),
    }
    return ctx.nb(with_answers(ctx, lambda n, p: bodies[n], ODD))


@attack("NaN payloads and non-finite values", most="zeros")
def atk_nan_payload(ctx):
    """Answers return signalling NaNs carrying a payload, -0.0 and ±inf mixed: a comparison or
    codec that treats NaN as 'equal' or a payload as data would pass them."""
    prelude = ODD
    bodies = {
        "sigmoid": "return _nan_payload(np.shape(z))",
        "forget_gate": (
            "out = _nan_payload(_shape('forget_gate', (h_prev, x_t, W_f, b_f)))\n"
            "out.flat[0] = -0.0\nreturn out"
        ),
        "forget": "return np.full(np.shape(f_t), np.inf)",
        "forget_on_cue": (
            "return _nan_payload(_shape('forget_on_cue', (H, D, cue))), np.full(H, np.inf)"
        ),
        "half_life": "out = _nan_payload(np.shape(f))\nout.flat[0] = -0.0\nreturn out",
    }
    return ctx.nb(with_answers(ctx, lambda n, p: bodies[n], prelude))
