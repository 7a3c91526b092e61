"""Small pieces every PyTorch cell uses (the mirror of ``np_ref._common``): the activations, the
checks, and caches that keep detached copies (editing an input in place after a forward call
leaves its backward unchanged, as in np_ref) for a backward by autograd.
"""

from __future__ import annotations

import torch

from lstm_ref import _checks
from lstm_ref._checks import Cache, TensorChecker, open_cache
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


def check_sequence(cell: str, x, params, **initial):
    """Check x (N, T, D), the params of ``cell``, initial states (N, H) (None: zeros)."""
    check = TensorChecker()
    return (check, *_checks.check_sequence(check, PARAM_SPECS[cell], x, params, **initial))


def make_cache(forward: str, fn, inputs: tuple, params: dict, check: TensorChecker) -> Cache:
    """What a backward needs: ``fn(*inputs, params)`` (a tuple of outputs) and detached copies of
    its inputs, to differentiate it again."""
    inputs = tuple(t.detach().clone() for t in inputs)
    params = {key: value.detach().clone() for key, value in params.items()}
    return Cache(forward, (fn, inputs, params, check))


def step_forward(cell: str, step, x_t, params, **states):
    """Check one step's inputs, run ``step(x_t, *states, params)``, and cache it."""
    check = TensorChecker()
    x_t, params, states = _checks.check_step(check, PARAM_SPECS[cell], x_t, params, **states)
    new_states = step(x_t, *states, params)
    return (*new_states, make_cache(f"{cell}_cell_forward", step, (x_t, *states), params, check))


def backward(cache, forward: str, backward: str, **grads):
    """Check the cache and the upstream gradients (None: that output does not reach the loss),
    then differentiate the cached forward by autograd. Returns the inputs' gradients, dparams."""
    fn, inputs, params, check = open_cache(cache, forward, backward)
    upstream = check.for_backward().upstream(False, **grads)
    if all(g is None for g in upstream):  # nothing reaches the loss: every gradient is zero
        zeros = [torch.zeros_like(t) for t in inputs]
        return (*zeros, {key: torch.zeros_like(value) for key, value in params.items()})
    dinputs, dparams = grads_via_autograd(fn, inputs, params, tuple(upstream))
    return (*dinputs, dparams)


def step_backward(cell: str, cache, **grads):
    """The gradients of one step: (dx_t, *dstate_prev, dparams)."""
    return backward(cache, f"{cell}_cell_forward", f"{cell}_cell_backward", **grads)


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
