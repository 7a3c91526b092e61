"""The modules as drop-ins for torch.nn: what nn.LSTM accepts and refuses, ours does too.

Each test failed before its fix (empty batches, every autograd mode, in-place edits of the output,
constructor validation, warnings) and compares with torch.nn's own behaviour.
"""

from __future__ import annotations

import re

import pytest
import torch
import torch.autograd.forward_ad as fwAD
from torch_testing import assert_close, distinct_biases

import lstm_ref.torch_ref as tr

T, N, D, H = 5, 3, 4, 6
PAIRS = [(tr.LSTM, torch.nn.LSTM), (tr.GRU, torch.nn.GRU)]


def twins(ours_cls, ref_cls, **kwargs):
    torch.manual_seed(0)
    ref = ref_cls(D, H, dtype=torch.float64, **kwargs)
    distinct_biases(ref, torch.Generator().manual_seed(0))
    ours = ours_cls(D, H, dtype=torch.float64, **kwargs)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def x_input(requires_grad=True):
    g = torch.Generator().manual_seed(1)
    return torch.randn(T, N, D, generator=g, dtype=torch.float64, requires_grad=requires_grad)


@pytest.mark.parametrize(("ours_cls", "ref_cls"), PAIRS)
def test_an_empty_batch_gives_empty_outputs_like_torch_nn(ours_cls, ref_cls, capfd):
    ours, ref = twins(ours_cls, ref_cls, num_layers=2)
    for dtype in (torch.float64, torch.float32):
        ours, ref = ours.to(dtype), ref.to(dtype)
        x = torch.randn(T, 0, D, dtype=dtype, requires_grad=True)
        mine, theirs = ours(x), ref(x)
        assert mine[0].shape == theirs[0].shape == (T, 0, H)
        mine[0].sum().backward()
        assert x.grad.shape == x.shape
    cell = tr.LSTMCell(D, H)
    assert cell(torch.randn(0, D))[0].shape == torch.nn.LSTMCell(D, H)(torch.randn(0, D))[0].shape
    assert capfd.readouterr().err == "", "a library printed an error for a zero size"


@pytest.mark.parametrize(("ours_cls", "ref_cls"), PAIRS)
def test_double_backward_matches_torch_nn(ours_cls, ref_cls):
    results = []
    for module in twins(ours_cls, ref_cls):
        x = x_input()
        out = module(x)[0]
        (gx,) = torch.autograd.grad((out**2).sum(), x, create_graph=True)
        results.append(torch.autograd.grad((gx**2).sum(), [x, *module.parameters()]))
    for k, (a, b) in enumerate(zip(*results, strict=True)):
        assert_close(f"second-order gradient {k}", a, b)


@pytest.mark.parametrize(("ours_cls", "ref_cls"), PAIRS)
def test_torch_func_grad_matches_torch_nn(ours_cls, ref_cls):
    results = []
    for module in twins(ours_cls, ref_cls):
        params = dict(module.named_parameters())

        def loss(p, x, module=module):
            return (torch.func.functional_call(module, p, (x,))[0] ** 2).sum()

        results.append(torch.func.grad(loss)(params, x_input(False)))
    for name in results[1]:
        assert_close(f"d {name}", results[0][name], results[1][name])


@pytest.mark.parametrize(("ours_cls", "ref_cls"), PAIRS)
def test_forward_mode_ad_matches_torch_nn(ours_cls, ref_cls):
    tangent = torch.randn(T, N, D, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    results = []
    for module in twins(ours_cls, ref_cls):
        with fwAD.dual_level():
            out = module(fwAD.make_dual(x_input(False), tangent))[0]
            primal, jvp = fwAD.unpack_dual(out)
            assert jvp is not None, "forward-mode AD lost the tangent"
            results.append((primal.clone(), jvp.clone()))
    assert_close("output", results[0][0], results[1][0])
    assert_close("jvp", results[0][1], results[1][1])


@pytest.mark.parametrize(("ours_cls", "ref_cls"), PAIRS)
def test_editing_the_output_in_place_before_backward(ours_cls, ref_cls):
    results = []
    for module in twins(ours_cls, ref_cls):
        x = x_input()
        out, _ = module(x)
        out.mul_(2)
        out.sum().backward()
        results.append([x.grad, *(p.grad for p in module.parameters())])
    for k, (a, b) in enumerate(zip(*results, strict=True)):
        assert_close(f"gradient {k}", a, b)


BAD_ARGUMENTS = [
    {"hidden_size": 0},
    {"input_size": 0},
    {"hidden_size": 2.5},
    {"bias": 0},
    {"batch_first": "yes"},
    {"dropout": 1.5},
    {"dropout": True},
    {"num_layers": 0},
    {"proj_size": -1},
]


@pytest.mark.parametrize(("ours_cls", "ref_cls"), PAIRS)
@pytest.mark.parametrize(
    "bad", BAD_ARGUMENTS, ids=lambda b: "-".join(f"{k}={v}" for k, v in b.items())
)
def test_constructor_refuses_what_torch_nn_refuses(ours_cls, ref_cls, bad):
    kwargs = {"input_size": D, "hidden_size": H, **bad}
    with pytest.raises(Exception) as theirs:
        ref_cls(**kwargs)
    with pytest.raises(type(theirs.value), match=re.escape(str(theirs.value))):
        ours_cls(**kwargs)


def test_dropout_with_one_layer_warns_like_torch_nn():
    with pytest.warns(UserWarning) as theirs:
        torch.nn.LSTM(D, H, dropout=0.5)
    with pytest.warns(UserWarning, match=re.escape(str(theirs[0].message))):
        tr.LSTM(D, H, dropout=0.5)


def test_gru_with_proj_size_is_refused_like_torch_nn():
    with pytest.raises(
        ValueError, match="proj_size argument is only supported for LSTM, not RNN or GRU"
    ):
        tr.GRU(D, H, proj_size=2)
    with pytest.raises(NotImplementedError, match="proj_size"):
        tr.LSTM(D, H, proj_size=2)
