"""What a student's code may reach, and the exercises' rules: the one place that names them.

The student's code runs in the answer process (A), whose sandbox holds a filtered copy of the
course's packages: from ``lstm_ref`` only the modules below (data, parameter layouts, shapes),
plus the functions a release gives (``from lstm_ref.np_ref import sigmoid``) copied alone; from
``lstm_course`` only A's own side of the grader. The reference (``lstm_ref.np_ref``,
``lstm_ref.torch_ref``) and the grading helpers with their mistake generators
(``lstm_course.grading``) are not in that sandbox at all. A NumPy-only exercise runs A without
PyTorch; ex07 forbids ``nn.LSTM``/``nn.LSTMCell`` inside the student's code.

Standard library only: the grader and the tests import it.
"""

from __future__ import annotations

from collections.abc import Iterable

REFERENCE_PACKAGE = "lstm_ref"
NUMPY_REFERENCE = "lstm_ref.np_ref"
TORCH_REFERENCE = "lstm_ref.torch_ref"
REFERENCE_MODULES = (NUMPY_REFERENCE, TORCH_REFERENCE)  # the answers
# lstm_ref modules an answer may use (data, parameter layouts, shapes), by module path ...
ALLOWED_MODULES = ("lstm_ref.data", "lstm_ref.params", "lstm_ref.specs", "lstm_ref._checks")
# ... and by name in ``from lstm_ref import ...``.
ALLOWED_FROM_PACKAGE = ("data", "params", "specs")
# Functions of the reference a release may give the student, and the self-contained function
# of lstm_ref.np_ref._common copied into A's sandbox for each (nothing else of np_ref is there).
GIVEN_FROM_REFERENCE = {"sigmoid": "_sigmoid"}

# What A's sandbox holds of the packages (files, relative to each package).
ANSWER_FILES = {
    "lstm_ref": ("__init__.py", "data.py", "params.py", "specs.py", "_checks.py"),
    "lstm_course": (
        "__init__.py",
        "display.py",  # what a notebook shows for its tests (a setup cell imports it)
        "autograde/__init__.py",
        "autograde/_answer.py",
        "autograde/_capture.py",
        "autograde/_kernel.py",
        "autograde/_rpc.py",
        "autograde/_seccomp.py",
        "autograde/_transport.py",
        "autograde/policy.py",
    ),
}

# An attribute of these names, or a string naming the reference, in an answer is a reason to look.
SUSPICIOUS_ATTRIBUTES = ("np_ref", "torch_ref", "grading")
SUSPICIOUS_TEXT = ("np_ref", "torch_ref", "lstm_ref")

# Imports the answer process reports when the student's code attempts them (they fail: none of
# these is in its sandbox, except the functions a release gives).
WATCHED_IMPORTS = (*REFERENCE_MODULES, "lstm_course.grading", "lstm_course.autograde.")

# "Use NumPy only": A runs without these packages (hidden from its sandbox, and refused).
NUMPY_ONLY = (
    "ex01_rnn",
    "ex02_lstm_cell",
    "ex03_forget_gate",
    "ex04_input_gate",
    "ex05_output_gate",
    "ex06_bptt",
    "ex08_variants",
    "ex12_beyond",
)
TORCH_PACKAGES = ("torch", "functorch", "torchgen")
# "Do not use nn.LSTM or nn.LSTMCell inside your code": names that may not appear in an answer,
# and the functions A reports when a student's function calls them during a test.
FORBIDDEN = {
    "ex07_pytorch": {
        "names": (
            "LSTM",
            "LSTMCell",
            "lstm",
            "lstm_cell",
            "_VF",
            "RNNBase",
            "_VariableFunctions",
            "_C",
        ),  # fmt: skip (torch._C holds the same kernels)
        "calls": (
            "torch.nn.LSTM.forward",
            "torch.nn.LSTMCell.forward",
            "torch.lstm",
            "torch.lstm_cell",
            "torch._VF.lstm",
            "torch._VF.lstm_cell",
        ),
        "rule": "nn.LSTM and nn.LSTMCell may not be used inside your code in this exercise",
    },
    # ex09's first task is clip_grad_norm_ itself (its total norm and its in-place scaling).
    "ex09_training": {
        "names": ("clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"),
        "calls": (
            "torch.nn.utils.clip_grad_norm_",
            "torch.nn.utils.clip_grad_value_",
            "torch.nn.utils.clip_grads_with_norm_",
            "torch.nn.utils.get_total_norm",
        ),
        "rule": "clip the gradients yourself: torch.nn.utils.clip_grad_norm_ and its helpers "
        "may not be used in this exercise",
    },
    # lstm_ref.params is in A's sandbox (init_params, the data layouts), and its stack_gates and
    # to_torch stack the gates: the answer of ex02's stack_params.
    "ex02_lstm_cell": {
        "names": ("stack_gates", "unstack_gates", "to_torch"),
        "calls": (
            "lstm_ref.params.stack_gates",
            "lstm_ref.params.unstack_gates",
            "lstm_ref.params.to_torch",
        ),
        "rule": "stack the gates yourself: lstm_ref.params.stack_gates is the answer of this task",
    },
    # lstm_ref.data is in A's sandbox (the seasonal series), and its make_windows is the answer
    # of ex10's first task. Trapped at run time only: the student's own function has that name.
    "ex10_project": {
        "names": (),
        "calls": ("lstm_ref.data.make_windows",),
        "rule": "cut the windows yourself: lstm_ref.data.make_windows is the answer of task 1",
    },
}

# Code in an answer that reaches for the grader or the test's modules: flagged for review (it
# cannot change a grade: the tests run in V), by module attribute patched or tool used.
PATCHED_MODULES = ("np", "numpy", "torch", "nn", "math", "builtins", "sys", "grading",
                   "lstm_ref", "lstm_course", "np_ref", "torch_ref")  # fmt: skip
FLAGGED_IMPORTS = ("ctypes", "gc", "importlib", "inspect")
INTROSPECTION = ("gc.get_objects", "gc.get_referrers", "sys._getframe", "inspect.currentframe",
                 "inspect.stack", "f_back", "f_globals", "f_locals", "__code__", "os.write",
                 "ctypes", "sys.modules", "__import__", "settrace", "setprofile")  # fmt: skip


def numpy_only(assignment: str) -> bool:
    return assignment in NUMPY_ONLY


def forbidden(assignment: str) -> dict:
    return FORBIDDEN.get(assignment, {})


def is_reference(module: str) -> bool:
    """Whether ``module`` is part of lstm_ref that an answer may not import."""
    return module.startswith(REFERENCE_PACKAGE) and not module.startswith(ALLOWED_MODULES)


def imports_reference(module: str, names: Iterable[str] = ()) -> bool:
    """Whether ``from module import names`` reaches the reference (``from lstm_ref import data``
    does not, ``from lstm_ref import np_ref`` does)."""
    if module == REFERENCE_PACKAGE and names and all(n in ALLOWED_FROM_PACKAGE for n in names):
        return False
    return is_reference(module)
