"""What a student's code may not reach: the one place that names the reference's modules.

The answers of every exercise are in ``lstm_ref``'s reference implementations. An answer that
calls them instead of implementing is flagged (the grader reads the answers, ``verify``, and the
runner traps every reference function in the outside check, ``_recompute``); the modules a graded
test relies on are snapshotted before each test and put back (``_guard``).

The runner imports this module inside the sandbox before any student code: standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable

REFERENCE_PACKAGE = "lstm_ref"
NUMPY_REFERENCE = "lstm_ref.np_ref"
TORCH_REFERENCE = "lstm_ref.torch_ref"
# The reference implementations: the answers.
REFERENCE_MODULES = (NUMPY_REFERENCE, TORCH_REFERENCE)
# lstm_ref modules an answer may use (data, parameter layouts, shapes), by module path ...
ALLOWED_MODULES = ("lstm_ref.data", "lstm_ref.params", "lstm_ref.specs", "lstm_ref._checks")
# ... and by name in ``from lstm_ref import ...``.
ALLOWED_FROM_PACKAGE = ("data", "params", "specs")
# An attribute of these names, or a string naming the reference, in an answer is a reason to look.
SUSPICIOUS_ATTRIBUTES = ("np_ref", "torch_ref", "grading")
SUSPICIOUS_TEXT = ("np_ref", "torch_ref", "lstm_ref")

# Modules a graded test relies on: the runner snapshots them and puts them back before each test.
PROTECTED_ROOTS = ("numpy", "lstm_ref", "lstm_course", "math", "builtins")
# The grader itself: never imported in advance for a notebook that names it.
GRADER_PACKAGE = "lstm_course.autograde"


def is_reference(module: str) -> bool:
    """Whether ``module`` is part of lstm_ref that an answer may not import."""
    return module.startswith(REFERENCE_PACKAGE) and not module.startswith(ALLOWED_MODULES)


def imports_reference(module: str, names: Iterable[str] = ()) -> bool:
    """Whether ``from module import names`` reaches the reference (``from lstm_ref import data``
    does not, ``from lstm_ref import np_ref`` does)."""
    if module == REFERENCE_PACKAGE and names and all(n in ALLOWED_FROM_PACKAGE for n in names):
        return False
    return is_reference(module)


def is_reference_code(module: str) -> bool:
    """Whether a function defined in ``module`` is a reference implementation (trapped)."""
    return module.startswith(REFERENCE_MODULES)


def needs_torch(module: str) -> bool:
    """Whether importing ``module`` imports PyTorch (then the runner guards torch too)."""
    return module == "torch" or module.startswith(("torch.", TORCH_REFERENCE))
