"""Forward values and every gradient against torch.nn in float64 (max abs error 1e-10).

torch.nn has the RNN, the LSTM and the GRU; for the peephole and coupled-gate LSTMs the reference
is the equations written in torch here, differentiated by autograd.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from np_testing import SEQUENCE, STEP, assert_close, param_cell, random_problem, shapes

from lstm_ref.params import from_torch, to_torch

ATOL = 1e-10
MODULES = {
    "rnn": torch.nn.RNN,
    "lstm": torch.nn.LSTM,
    "lstm_fast": torch.nn.LSTM,
    "gru": torch.nn.GRU,
}
CELLS = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}


def torch_module(cls, D: int, H: int, seed: int, **kwargs):
    """A float64 torch module with random weights and distinct, non-zero values in both biases."""
    torch.manual_seed(seed)
    module = cls(D, H, **kwargs).double()
    with torch.no_grad():
        for name, value in module.named_parameters():
            value.mul_(3)
            if "bias" in name:
                value.add_(torch.randn_like(value))
    return module


def compare_grads(cell: str, module, dparams: dict, suffix: str = "") -> None:
    """Our gradients, mapped to PyTorch's layout, against autograd's. A gradient with respect to
    one of our summed biases is the gradient with respect to each of PyTorch's two biases."""
    ours = to_torch(dparams, param_cell(cell))
    params = dict(module.named_parameters())
    for name in ("weight_ih", "weight_hh", "bias_ih"):
        assert_close(f"d{name}", ours[name], params[name + suffix].grad.numpy(), ATOL)
    bias_hh = ours["bias_ih"].copy()
    if cell == "gru":  # the n gate keeps its own hidden bias
        H = bias_hh.shape[0] // 3
        bias_hh[2 * H :] = ours["bias_hh"][2 * H :]
    assert_close("dbias_hh", bias_hh, params["bias_hh" + suffix].grad.numpy(), ATOL)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "lstm_fast", "gru"])
@pytest.mark.parametrize("shape", shapes(20, seed=1), ids=lambda s: "N{}T{}D{}H{}".format(*s))
def test_sequence_matches_torch_nn(cell, shape):
    N, T, D, H = shape
    seed = hash(shape) % 1000
    module = torch_module(MODULES[cell], D, H, seed, batch_first=True)
    params = from_torch(module.state_dict(), param_cell(cell))[0]
    _, x, states, dhs, dstates = random_problem(cell, N, T, D, H, seed)

    forward, backward = SEQUENCE[cell]
    hs, final, cache = forward(x, params, *states)
    final = final if isinstance(final, tuple) else (final,)
    dx, *dinitial, dparams = backward(dhs, cache, *dstates)

    x_t = torch.tensor(x, requires_grad=True)
    init_t = [torch.tensor(s[None], requires_grad=True) for s in states]  # (layers, N, H)
    out, final_t = module(x_t, tuple(init_t) if len(init_t) == 2 else init_t[0])
    final_t = final_t if isinstance(final_t, tuple) else (final_t,)
    loss = (out * torch.tensor(dhs)).sum()
    loss = loss + sum((s[0] * torch.tensor(d)).sum() for s, d in zip(final_t, dstates, strict=True))
    loss.backward()

    assert_close("hs", hs, out.detach().numpy(), ATOL)
    for k, (ours, theirs) in enumerate(zip(final, final_t, strict=True)):
        assert_close(f"final state {k}", ours, theirs[0].detach().numpy(), ATOL)
    assert_close("dx", dx, x_t.grad.numpy(), ATOL)
    for k, (ours, theirs) in enumerate(zip(dinitial, init_t, strict=True)):
        assert_close(f"d initial state {k}", ours, theirs.grad[0].numpy(), ATOL)
    compare_grads(cell, module, dparams, suffix="_l0")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("shape", shapes(20, seed=2), ids=lambda s: "N{}T{}D{}H{}".format(*s))
def test_step_matches_torch_cell(cell, shape):
    N, _, D, H = shape
    seed = hash(shape) % 997
    module = torch_module(CELLS[cell], D, H, seed)
    params = from_torch(module.state_dict(), cell)
    _, x, states, dhs, dstates = random_problem(cell, N, 1, D, H, seed)
    x_t = x[:, 0]

    forward, backward = STEP[cell]
    *new_states, cache = forward(x_t, *states, params)
    upstream = [dhs[:, 0], *dstates[1:]]
    dx, *dprev, dparams = backward(*upstream, cache)

    xt_t = torch.tensor(x_t, requires_grad=True)
    states_t = [torch.tensor(s, requires_grad=True) for s in states]
    out = module(xt_t, tuple(states_t) if len(states_t) == 2 else states_t[0])
    out = out if isinstance(out, tuple) else (out,)
    sum((o * torch.tensor(u)).sum() for o, u in zip(out, upstream, strict=True)).backward()

    for k, (ours, theirs) in enumerate(zip(new_states, out, strict=True)):
        assert_close(f"state {k}", ours, theirs.detach().numpy(), ATOL)
    assert_close("dx_t", dx, xt_t.grad.numpy(), ATOL)
    for k, (ours, theirs) in enumerate(zip(dprev, states_t, strict=True)):
        assert_close(f"d previous state {k}", ours, theirs.grad.numpy(), ATOL)
    compare_grads(cell, module, dparams)


def torch_variant(cell: str, x, params, h, c):
    """The peephole and coupled-gate equations in torch, for autograd to differentiate."""
    hs = []
    for t in range(x.shape[1]):
        hx = torch.cat([h, x[:, t]], dim=1)
        a = {g: hx @ params[f"W_{g}"].T + params[f"b_{g}"] for g in "fco"}
        if cell == "peephole":
            f = torch.sigmoid(a["f"] + params["p_f"] * c)
            i = torch.sigmoid(hx @ params["W_i"].T + params["b_i"] + params["p_i"] * c)
        else:
            f = torch.sigmoid(a["f"])
            i = 1 - f
        c = f * c + i * torch.tanh(a["c"])
        o = torch.sigmoid(a["o"] + (params["p_o"] * c if cell == "peephole" else 0))
        h = o * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs, dim=1), h, c


@pytest.mark.parametrize("cell", ["peephole", "coupled"])
@pytest.mark.parametrize("shape", shapes(20, seed=3), ids=lambda s: "N{}T{}D{}H{}".format(*s))
def test_variant_matches_torch_autograd(cell, shape):
    N, T, D, H = shape
    params, x, states, dhs, dstates = random_problem(cell, N, T, D, H, hash(shape) % 991)
    forward, backward = SEQUENCE[cell]
    hs, final, cache = forward(x, params, *states)
    dx, dh0, dc0, dparams = backward(dhs, cache, *dstates)

    leaves = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    x_t, h0, c0 = (torch.tensor(a, requires_grad=True) for a in (x, *states))
    hs_t, h_T, c_T = torch_variant(cell, x_t, leaves, h0, c0)
    loss = (hs_t * torch.tensor(dhs)).sum() + (h_T * torch.tensor(dstates[0])).sum()
    (loss + (c_T * torch.tensor(dstates[1])).sum()).backward()

    assert_close("hs", hs, hs_t.detach().numpy(), ATOL)
    assert_close("c_T", final[1], c_T.detach().numpy(), ATOL)
    for name, ours, theirs in [("dx", dx, x_t), ("dh0", dh0, h0), ("dc0", dc0, c0)]:
        assert_close(name, ours, theirs.grad.numpy(), ATOL)
    for key, leaf in leaves.items():
        assert_close(f"d{key}", dparams[key], leaf.grad.numpy(), ATOL)


def test_linear_head_matches_torch_linear():
    rng = np.random.default_rng(0)
    from lstm_ref.np_ref import linear_backward, linear_forward

    layer = torch.nn.Linear(5, 3).double()
    h = rng.normal(size=(2, 5))
    dy = rng.normal(size=(2, 3))
    W_y, b_y = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    y, cache = linear_forward(h, W_y, b_y)
    dh, dW_y, db_y = linear_backward(dy, cache)
    h_t = torch.tensor(h, requires_grad=True)
    y_t = layer(h_t)
    (y_t * torch.tensor(dy)).sum().backward()
    assert_close("y", y, y_t.detach().numpy(), ATOL)
    assert_close("dh", dh, h_t.grad.numpy(), ATOL)
    assert_close("dW_y", dW_y, layer.weight.grad.numpy(), ATOL)
    assert_close("db_y", db_y, layer.bias.grad.numpy(), ATOL)
