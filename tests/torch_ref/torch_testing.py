"""Shared helpers for the torch_ref tests: seeded shapes, torch.nn twins, and comparisons."""

from __future__ import annotations

import numpy as np
import torch

TOL64 = 1e-10  # float64 on the CPU: the bound for outputs, states and gradients


def max_diff(mine, theirs) -> float:
    return float((mine.detach() - theirs.detach()).abs().max()) if mine.numel() else 0.0


def assert_close(name: str, mine, theirs, tol: float = TOL64) -> None:
    """Fail with the quantity's name, the largest error and where it is."""
    assert mine.shape == theirs.shape, f"{name}: shape {tuple(mine.shape)} vs {tuple(theirs.shape)}"
    diff = (mine.detach().double() - theirs.detach().double()).abs()
    if diff.numel() and float(diff.max()) > tol:
        where = tuple(int(i) for i in np.unravel_index(int(diff.argmax()), diff.shape))
        raise AssertionError(
            f"{name}: largest |mine - theirs| = {float(diff.max()):.3e} > {tol:.0e} at {where} "
            f"(mine {float(mine.detach().reshape(-1)[diff.argmax()]):.6g}, "
            f"theirs {float(theirs.detach().reshape(-1)[diff.argmax()]):.6g})"
        )


def distinct_sizes(rng: np.random.Generator, k: int = 4, low: int = 1, high: int = 9):
    """k different sizes, so a swapped axis fails instead of passing by luck."""
    return [int(v) for v in rng.choice(np.arange(low, high + 1), size=k, replace=False)]


@torch.no_grad()
def distinct_biases(module: torch.nn.Module, generator: torch.Generator) -> None:
    """Give every bias non-zero values different from its twin's (bias_ih vs bias_hh)."""
    for name, param in module.named_parameters():
        if "bias" in name:
            param.copy_(torch.rand(param.shape, generator=generator, dtype=param.dtype) - 0.5)
            param.add_(torch.sign(param) * 0.1)  # away from zero


def loss_of(outputs, generator: torch.Generator):
    """A loss that reaches every output with a different random weight."""
    total = 0
    for out in outputs:
        weight = torch.randn(out.shape, generator=generator, dtype=out.dtype).to(out.device)
        total = total + (out * weight).sum()
    return total


def flatten_outputs(result):
    """(output, h_n) or (output, (h_n, c_n)) -> a flat list of tensors."""
    output, state = result
    return [output, *(state if isinstance(state, tuple) else (state,))]
