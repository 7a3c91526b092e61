"""The fast path: its hand-written backward, its fused (compiled) step, and its fallbacks."""

from __future__ import annotations

import shutil
import warnings

import pytest
import torch
from torch_testing import assert_close

import lstm_ref.torch_ref as tr
from lstm_ref.torch_ref import lstm_fast, speed

T, N, D, H = 5, 3, 4, 6


def layer_inputs(dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = [(T, N, D), (N, H), (N, H), (4 * H, D), (4 * H, H), (4 * H,)]
    return [torch.randn(s, generator=g, dtype=dtype).requires_grad_() for s in shapes]


def test_hand_written_backward_passes_gradcheck():
    """Finite differences, independent of both our backward and autograd's."""
    inputs = layer_inputs()
    assert torch.autograd.gradcheck(
        lambda *a: lstm_fast.LSTMLayerFunction.apply(*a, "none"), inputs, eps=1e-6, atol=1e-8
    )


def test_without_bias_and_without_grad_for_x():
    x, h0, c0, w_ih, w_hh, _ = layer_inputs(seed=1)
    x = x.detach()
    inputs = [h0, c0, w_ih, w_hh]
    assert torch.autograd.gradcheck(
        lambda *a: lstm_fast.LSTMLayerFunction.apply(x, *a, None, "none"),
        inputs,
        eps=1e-6,
        atol=1e-8,
    )


def test_fast_path_equals_the_readable_path_and_its_autograd():
    inputs = layer_inputs(seed=2)
    x, h0, c0, w_ih, w_hh, b = inputs
    fast = lstm_fast.lstm_layer(x, h0, c0, w_ih, w_hh, b, fusion="none")
    readable, h, c = lstm_fast.lstm_layer_eager(x, h0, c0, w_ih, w_hh, b)
    for name, a, r in zip(["hs", "h_T", "c_T"], fast, [readable, h, c], strict=True):
        assert_close(name, a, r)
    g = torch.Generator().manual_seed(3)
    weights = [torch.randn(o.shape, generator=g, dtype=o.dtype) for o in fast]
    loss_fast = sum((o * w).sum() for o, w in zip(fast, weights, strict=True))
    loss_readable = sum((o * w).sum() for o, w in zip([readable, h, c], weights, strict=True))
    for k, (a, r) in enumerate(
        zip(
            torch.autograd.grad(loss_fast, inputs),
            torch.autograd.grad(loss_readable, inputs),
            strict=True,
        )
    ):
        assert_close(f"gradient of input {k}", a, r)


def test_no_grad_path_gives_the_same_outputs():
    inputs = layer_inputs(seed=4)
    with_grad = lstm_fast.lstm_layer(*inputs, fusion="none")
    with torch.no_grad():
        without = lstm_fast.lstm_layer(*inputs, fusion="none")
    assert all(not t.requires_grad for t in without)
    for name, a, b in zip(["hs", "h_T", "c_T"], with_grad, without, strict=True):
        assert_close(name, a, b, tol=0)


def test_pointwise_backward_is_the_derivative_of_pointwise_forward():
    g = torch.Generator().manual_seed(5)
    gates = torch.randn(N, 4 * H, generator=g, dtype=torch.float64, requires_grad=True)
    c_prev = torch.randn(N, H, generator=g, dtype=torch.float64, requires_grad=True)
    h, c, acts = lstm_fast.lstm_pointwise(gates, c_prev)
    dh, dc = (
        torch.randn(N, H, generator=g, dtype=torch.float64),
        torch.randn(N, H, generator=g, dtype=torch.float64),
    )
    dgates, dc_prev = lstm_fast.lstm_pointwise_backward(
        dh, dc, acts.detach(), c_prev.detach(), c.detach()
    )
    auto = torch.autograd.grad((h * dh).sum() + (c * dc).sum(), [gates, c_prev])
    assert_close("dgates", dgates, auto[0], tol=1e-14)
    assert_close("dc_prev", dc_prev, auto[1], tol=1e-14)


@pytest.mark.skipif(
    shutil.which("g++") is None and shutil.which("c++") is None,
    reason="torch.compile on the CPU needs a C++ compiler",
)
@pytest.mark.slow  # torch.compile: about 15 s cold
def test_compiled_step_agrees_with_the_eager_step():
    """torch.compile on one small shape (compiling is slow): outputs and gradients agree."""
    inputs = layer_inputs(dtype=torch.float32, seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a silent fallback would pass untested
        compiled = lstm_fast.lstm_layer(*inputs, fusion="compile")
        grads_compiled = torch.autograd.grad(sum(o.sum() for o in compiled), inputs)
    eager = lstm_fast.lstm_layer(*inputs, fusion="none")
    grads_eager = torch.autograd.grad(sum(o.sum() for o in eager), inputs)
    for name, a, b in zip(["hs", "h_T", "c_T"], compiled, eager, strict=True):
        assert_close(name, a, b, tol=1e-5)
    for k, (a, b) in enumerate(zip(grads_compiled, grads_eager, strict=True)):
        assert_close(f"gradient {k}", a, b, tol=1e-4)


def test_a_failed_compile_warns_and_falls_back(monkeypatch):
    def broken(fn, backend):
        def fail(*args):
            raise RuntimeError("no C compiler here")

        return fail

    monkeypatch.setattr(speed, "_compile", broken)
    monkeypatch.setattr(speed, "_compiled", {})
    monkeypatch.setattr(speed, "_failed", set())
    inputs = layer_inputs(seed=7)
    with pytest.warns(RuntimeWarning, match="no C compiler here"):
        out = lstm_fast.lstm_layer(*inputs, fusion="compile")
    expected = lstm_fast.lstm_layer(*inputs, fusion="none")
    assert_close("hs after the fallback", out[0], expected[0], tol=1e-15)
    out[0].sum().backward()  # the backward step falls back too
    assert inputs[3].grad is not None


def test_fusion_settings():
    assert speed.resolve_fusion("auto", torch.device("cpu")) == "none"
    assert speed.resolve_fusion("auto", torch.device("cuda")) == "compile"
    assert speed.resolve_fusion("script", torch.device("cpu")) == "script"
    with pytest.raises(ValueError, match="fusion must be one of"):
        speed.set_fusion("fast please")
    before = speed.get_fusion()
    speed.set_fusion("none")
    assert speed.get_fusion() == "none"
    speed.set_fusion(before)


def test_module_impls_agree_in_float32():
    torch.manual_seed(8)
    fast = tr.LSTM(D, H, num_layers=2)
    eager = tr.LSTM(D, H, num_layers=2, impl="eager")
    eager.load_state_dict(fast.state_dict())
    x = torch.randn(T, N, D)
    out_fast, (h_fast, _) = fast(x)
    out_eager, (h_eager, _) = eager(x)
    assert_close("output", out_fast, out_eager, tol=1e-6)
    assert_close("h_n", h_fast, h_eager, tol=1e-6)


def test_a_failed_cuda_graph_warns_and_runs_directly(monkeypatch):
    def broken(fn, args):
        raise RuntimeError("capture failed")

    monkeypatch.setattr(speed, "_Graphed", broken)
    monkeypatch.setattr(speed, "_graphs", {})
    monkeypatch.setattr(speed, "_CUDA_GRAPHS", True)
    with pytest.warns(RuntimeWarning, match="capture failed"):
        out = speed.graphed("forward", (), lambda a: (a + 1,), (torch.zeros(2),))
    assert torch.equal(out[0], torch.ones(2))
    assert speed._CUDA_GRAPHS is False
