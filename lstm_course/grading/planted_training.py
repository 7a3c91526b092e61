"""Exercise 9's classic mistakes, recomputed: gradient clipping, truncated BPTT, free running.

The tests of ``ex09_training`` call the student's functions on the test's own modules and
compare what they return (the norm before clipping; the loss and the gradient norm of every
chunk) with a reference loop written here, and with the same loop with one mistake planted, so
that ``compare`` can name it. The reference is PyTorch's own: ``torch.nn.utils.clip_grad_norm_``
and ``.detach()``, on copies of the test's modules (the student's loop trains the originals).

A loop that does not detach its state fails in PyTorch itself: the second chunk's backward
pass reaches the first chunk's graph, which was freed (or whose weights the optimizer changed
in place). :func:`run_training` turns that error into the mistake's name, and says which half
of the state was left attached. :func:`free_run_reference` is the chapter's free-running
forecast (the prediction fed back as the next input). torch is imported inside the functions: ``grading`` itself
does not import it.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from lstm_course.grading.calls import run
from lstm_course.grading.mistakes import MISTAKES

# The errors PyTorch raises when a backward pass reaches a graph it already went through.
_SECOND_BACKWARD = ("backward through the graph a second time", "modified by an inplace operation")
_NO_GRAD = "does not require grad"


def clip_norm_mistakes(grads, max_norm: float) -> dict[str, float]:
    """What clip_grad_norm returns with each mistake, for gradients ``grads`` (tensors)."""
    norms = [float(g.double().norm()) for g in grads]
    total = math.sqrt(sum(n * n for n in norms))
    return {
        "clip_norm_after": min(total, max_norm),
        "grad_norm_sum": sum(norms),
        "grad_norm_squared": total**2,
        "grad_norm_largest": max(norms),
    }


def _clip(params, max_norm, mistake):
    """The clipping step of the reference loop, with one mistake or none; returns the norm."""
    import torch

    grads = [p.grad for p in params if p.grad is not None]
    norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))
    if max_norm is None or mistake == "clip_not_applied":
        return norm
    if mistake == "clip_per_parameter":
        for g in grads:
            g.mul_(min(1.0, max_norm / max(float(g.norm()), 1e-12)))
    elif (norm < max_norm) if mistake == "clip_when_below" else (norm > max_norm):
        for g in grads:
            g.mul_(max_norm / norm)
    return norm


def tbptt_reference(lstm, head, x, y, k: int, lr: float, max_norm=None, mistake=None):
    """Truncated BPTT with plain SGD on copies of ``lstm`` and ``head``, as exercise 9 asks.

    x (N, T, D) and y (N, T, 1) tensors; chunks of k steps (the last one may be shorter). Returns
    (losses, norms), one of each per chunk, as arrays: the MSE of ``head`` on the chunk's outputs
    and the gradient norm before clipping. ``mistake``: a key of the loop's mistakes
    (``no_zero_grad_chunks``, ``tbptt_state_not_carried``, ``output_detached``,
    ``clip_before_backward``, ``clip_per_parameter``, ``clip_when_below``, ``clip_not_applied``)
    or None.
    """
    import torch

    lstm, head = copy.deepcopy(lstm), copy.deepcopy(head)
    params = [*lstm.parameters(), *head.parameters()]
    optimizer = torch.optim.SGD(params, lr=lr)
    state, losses, norms = None, [], []
    for start in range(0, x.shape[1], k):
        if mistake == "tbptt_state_not_carried":
            state = None
        elif state is not None:
            state = tuple(s.detach() for s in state)  # cut the graph, keep the values
        if mistake != "no_zero_grad_chunks":
            optimizer.zero_grad()
        out, state = lstm(x[:, start : start + k], state)
        if mistake == "output_detached":
            out = out.detach()  # only the head learns
        loss = torch.nn.functional.mse_loss(head(out), y[:, start : start + k])
        if mistake == "clip_before_backward":  # no gradients yet: clipping does nothing
            norms.append(0.0)
            loss.backward()
        else:
            loss.backward()
            norms.append(_clip(params, max_norm, mistake))
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses), np.array(norms)


LOOP_MISTAKES = (
    "no_zero_grad_chunks",
    "tbptt_state_not_carried",
    "output_detached",
    "clip_before_backward",
)
CLIP_MISTAKES = (
    "clip_per_parameter",
    "clip_when_below",
    "clip_not_applied",
    "clip_before_backward",
)


def tbptt_mistakes(lstm, head, x, y, k, lr, max_norm=None, keys=LOOP_MISTAKES):
    """{mistake: (losses, norms)} of the reference loop with each mistake of ``keys`` planted."""
    return {key: tbptt_reference(lstm, head, x, y, k, lr, max_norm, key) for key in keys}


def detach_mistake(detach_state) -> str | None:
    """Which part of a state the student's ``detach_state`` leaves in the graph: a mistake key,
    or None when it detaches both (or cannot be called: its own test says why)."""
    import torch

    h = torch.ones(1, 2, requires_grad=True) * 2.0  # (N, H), each with a graph behind it
    c = torch.ones(1, 2, requires_grad=True) * 3.0
    try:
        out = run(detach_state, (h, c))
        h_attached, c_attached = (bool(getattr(s, "requires_grad", False)) for s in out)
    except Exception:  # noqa: BLE001 (any failure: its own test names it)
        return None
    if h_attached and c_attached:
        return "state_not_detached"
    if c_attached:
        return "detach_only_h"
    if h_attached:
        return "detach_only_c"
    return None


def run_training(fn, *args, detach_state=None, **kwargs):
    """Call the student's training loop ``fn`` like ``grading.run``; when it fails because a
    backward pass reached an earlier chunk (or found no graph at all), say which mistake that is.
    ``detach_state``: the student's function, checked to say which half of the state stayed."""
    __tracebackhide__ = True
    try:
        return run(fn, *args, **kwargs)
    except AssertionError as error:
        text = str(error)
        if any(phrase in text for phrase in _SECOND_BACKWARD):
            key = (detach_mistake(detach_state) if detach_state is not None else None) or (
                "state_not_detached"
            )
        elif _NO_GRAD in text:
            key = "output_detached"
        else:
            raise
        raise AssertionError(
            f"{text}\nThe backward pass of a chunk went back into an earlier chunk's graph"
            + (" (or found no graph at all)." if key == "output_detached" else ".")
            + f"\nLikely mistake: {MISTAKES[key]}."
        ) from error


FREE_RUN_MISTAKES = (
    "free_run_true_input",
    "free_run_state_reset",
    "warmup_state_dropped",
    "free_run_off_by_one",
)


def free_run_reference(lstm, head, warmup, steps: int, mistake=None) -> np.ndarray:
    """The chapter's free-running forecast: ``lstm`` and ``head`` read the warm-up (N, W, 1)
    with true inputs, then feed each prediction back as the next input. Returns the ``steps``
    predictions of x_{W+1}, ..., x_{W+steps} as an (N, steps, 1) array. ``mistake``: a key of
    :data:`FREE_RUN_MISTAKES` or None."""
    import torch

    with torch.no_grad():
        out, state = lstm(warmup)  # teacher forcing over the warm-up
        if mistake == "warmup_state_dropped":
            state = None
        nxt, preds = head(out[:, -1:]), []  # (N, 1, 1): the prediction of x_{W+1}
        for _ in range(steps + (mistake == "free_run_off_by_one")):
            preds.append(nxt)
            inp = warmup[:, -1:] if mistake == "free_run_true_input" else nxt
            out, state = lstm(inp, None if mistake == "free_run_state_reset" else state)
            nxt = head(out)
        if mistake == "free_run_off_by_one":
            preds = preds[1:]
        return torch.cat(preds, dim=1).numpy()


def free_run_mistakes(lstm, head, warmup, steps: int) -> dict[str, np.ndarray]:
    """{mistake: the forecast with that mistake} for every key of :data:`FREE_RUN_MISTAKES`."""
    return {key: free_run_reference(lstm, head, warmup, steps, key) for key in FREE_RUN_MISTAKES}
