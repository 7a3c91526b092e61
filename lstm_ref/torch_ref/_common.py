"""Small pieces every PyTorch cell uses: the activations, the concatenation and the input checks.

The checks mirror ``lstm_ref._checks.ShapeChecker`` for tensors: shapes in letters, one floating
dtype, one device. They never copy a tensor and never move one between devices.
"""

from __future__ import annotations

import torch

from lstm_ref._checks import ShapeChecker
from lstm_ref.specs import PARAM_SPECS


def sigmoid(z: torch.Tensor) -> torch.Tensor:
    """Logistic sigmoid σ(z) = 1 / (1 + e^(-z)), element-wise; any shape.

    ``torch.sigmoid`` is already numerically stable (no overflow for large |z|).
    """
    check = TensorChecker()
    z = check("z", z, *[f"d{k}" for k in range(z.dim() if torch.is_tensor(z) else 0)])
    return torch.sigmoid(z)


def concat(h_prev: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
    """[h_{t-1}, x_t]: (N, H) and (N, D) -> (N, H + D), hidden state first."""
    return torch.cat([h_prev, x_t], dim=1)


class TensorChecker(ShapeChecker):
    """ShapeChecker for tensors: shapes in letters, one floating dtype, and one device.

    The first tensor checked sets the dtype and the device. Errors name the argument, the
    expected shape in letters and numbers and what was got, e.g.
    ``W_f has shape (5, 8); expected (H, H + D) = (5, 9)``. Values are not checked for NaN:
    on a GPU that would cost a device-to-host synchronisation per call.
    """

    kind = "tensor"

    def __init__(self, **known: int) -> None:
        super().__init__(**known)
        self.device: torch.device | None = None

    def __call__(self, name: str, value, *letters: str) -> torch.Tensor:
        return super().__call__(name, value, *letters, finite=False)

    @property
    def source(self) -> str:
        return self.dtype_source

    @source.setter
    def source(self, name: str) -> None:
        self.dtype_source = name

    def convert(self, name: str, value) -> torch.Tensor:
        if not torch.is_tensor(value):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
        if not value.is_floating_point():
            raise TypeError(f"{name} has dtype {value.dtype}; expected a floating dtype")
        return value

    def check_same_kind(self, name: str, value: torch.Tensor) -> None:
        if self.device is None:
            self.device = value.device
        elif value.device != self.device:
            raise ValueError(
                f"{name} is on {value.device} but {self.source} is on {self.device}; "
                "put every tensor on one device"
            )
        super().check_same_kind(name, value)

    def state(self, name: str, value, like: str = "H") -> torch.Tensor:
        """A state (N, H) that defaults to zeros (on the checked device and dtype) when None."""
        if value is None:
            shape = (self.dims["N"], self.dims[like])
            return torch.zeros(shape, dtype=self.dtype, device=self.device)
        return self(name, value, "N", like)


def check_step(cell: str, x_t, params, **states):
    """Check one step's inputs: x_t (N, D), each state (N, H), the params of ``cell``."""
    check = TensorChecker()
    x_t = check("x_t", x_t, "N", "D")
    checked = [check(name, value, "N", "H") for name, value in states.items()]
    params = check.params("params", params, PARAM_SPECS[cell])
    return check, x_t, params, checked


def check_sequence(cell: str, x, params, **initial):
    """Check a sequence x (N, T, D), the params of ``cell`` and optional initial states (N, H)."""
    check = TensorChecker()
    x = check("x", x, "N", "T", "D")
    params = check.params("params", params, PARAM_SPECS[cell])
    states = [check.state(name, value) for name, value in initial.items()]
    return check, x, params, states


def grads_via_autograd(fn, inputs: tuple, params: dict, grad_outputs: tuple):
    """The backward pass of any forward function, by autograd, recomputing the forward.

    ``fn(*inputs, params)`` returns a tuple of tensors; ``grad_outputs`` holds the loss's gradient
    for each (None: that output does not reach the loss). Returns the gradients of ``inputs``
    (a tuple, zeros where an input does not matter) and of ``params`` (a dict keyed like params).
    """
    leaves = tuple(t.detach().requires_grad_(True) for t in inputs)
    leaf_params = {key: value.detach().requires_grad_(True) for key, value in params.items()}
    with torch.enable_grad():
        outputs = fn(*leaves, leaf_params)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs, strict=True) if g is not None]
    wrt = (*leaves, *leaf_params.values())
    grads = torch.autograd.grad(
        [o for o, _ in pairs], wrt, [g for _, g in pairs], allow_unused=True
    )
    grads = [torch.zeros_like(w) if g is None else g for w, g in zip(wrt, grads, strict=True)]
    n = len(leaves)
    return tuple(grads[:n]), dict(zip(leaf_params, grads[n:], strict=True))
