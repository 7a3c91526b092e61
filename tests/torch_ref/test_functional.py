"""The functions that mirror np_ref: against torch.nn, against np_ref, and against each other."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_testing import assert_close, distinct_biases

import lstm_ref.np_ref as npr
import lstm_ref.torch_ref as tr
from lstm_ref.params import init_linear, init_params

N, T, D, H, K = 2, 3, 4, 5, 6  # all different, so a swapped axis fails


def randn(*shape, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal(shape))


def torch_twin(ref_cls, seed=0, **kwargs):
    torch.manual_seed(seed)
    ref = ref_cls(D, H, dtype=torch.float64, **kwargs)
    distinct_biases(ref, torch.Generator().manual_seed(seed))
    return ref


def test_gates_one_by_one_match_torch_lstm_cell():
    ref = torch_twin(torch.nn.LSTMCell)
    p = tr.params_from_module(ref)
    x_t, h_prev, c_prev = randn(N, D, seed=1), randn(N, H, seed=2), randn(N, H, seed=3)
    f_t = tr.forget_gate(h_prev, x_t, p["W_f"], p["b_f"])
    i_t = tr.input_gate(h_prev, x_t, p["W_i"], p["b_i"])
    c_tilde = tr.candidate(h_prev, x_t, p["W_c"], p["b_c"])
    o_t = tr.output_gate(h_prev, x_t, p["W_o"], p["b_o"])
    c_t = tr.cell_update(f_t, c_prev, i_t, c_tilde)
    h_t = tr.hidden_state(o_t, c_t)
    h_ref, c_ref = ref(x_t, (h_prev, c_prev))
    assert_close("c_t", c_t, c_ref)
    assert_close("h_t", h_t, h_ref)
    # each gate against PyTorch's own rows (order i, f, g, o)
    pre = x_t @ ref.weight_ih.T + ref.bias_ih + h_prev @ ref.weight_hh.T + ref.bias_hh
    a_i, a_f, a_g, a_o = pre.chunk(4, dim=1)
    assert_close("f_t", f_t, torch.sigmoid(a_f))
    assert_close("i_t", i_t, torch.sigmoid(a_i))
    assert_close("c_tilde", c_tilde, torch.tanh(a_g))
    assert_close("o_t", o_t, torch.sigmoid(a_o))


def test_sigmoid_is_stable_and_correct():
    z = torch.tensor([-1000.0, -30.0, 0.0, 2.0, 1000.0], dtype=torch.float64)
    s = tr.sigmoid(z)
    assert torch.isfinite(s).all()
    assert_close("sigmoid", s, 1 / (1 + torch.exp(-z.clamp(-700, 700))), tol=1e-15)


@pytest.mark.parametrize("forward", [tr.lstm_forward, tr.lstm_forward_fast])
@pytest.mark.parametrize("with_state", [False, True])
def test_lstm_forward_and_backward_match_torch_nn(forward, with_state):
    ref = torch_twin(torch.nn.LSTM, batch_first=True)
    p = tr.params_from_module(ref)
    x = randn(N, T, D, seed=4).requires_grad_()
    h0 = randn(N, H, seed=5).requires_grad_() if with_state else None
    c0 = randn(N, H, seed=6).requires_grad_() if with_state else None
    hs, (h_T, c_T), cache = forward(x, p, h0, c0)
    hx = (h0[None], c0[None]) if with_state else None
    out_ref, (h_ref, c_ref) = ref(x, hx)
    assert_close("hs", hs, out_ref)
    assert_close("h_T", h_T, h_ref[0])
    assert_close("c_T", c_T, c_ref[0])
    dhs, dh_T, dc_T = randn(N, T, H, seed=7), randn(N, H, seed=8), randn(N, H, seed=9)
    backward = tr.lstm_backward if forward is tr.lstm_forward else tr.lstm_backward_fast
    dx, dh0, dc0, dparams = backward(dhs, cache, dh_T, dc_T)
    loss = (out_ref * dhs).sum() + (h_ref[0] * dh_T).sum() + (c_ref[0] * dc_T).sum()
    leaves = [x, *(hx if with_state else [])]
    grads = torch.autograd.grad(loss, [*leaves, *ref.parameters()])
    assert_close("dx", dx, grads[0])
    if with_state:
        assert_close("dh0", dh0, grads[1][0])
        assert_close("dc0", dc0, grads[2][0])
    # the params' gradients, mapped to torch.nn's layout: dW_ih = dW[:, H:], db_ih = db_hh = db
    ref_grads = dict(zip([n for n, _ in ref.named_parameters()], grads[len(leaves) :], strict=True))
    W, b = tr.stack_gates(dparams)
    assert_close("dweight_ih", W[:, H:], ref_grads["weight_ih_l0"])
    assert_close("dweight_hh", W[:, :H], ref_grads["weight_hh_l0"])
    assert_close("dbias_ih", b, ref_grads["bias_ih_l0"])
    assert_close("dbias_hh", b, ref_grads["bias_hh_l0"])


def test_lstm_cell_forward_and_backward_match_torch_nn():
    ref = torch_twin(torch.nn.LSTMCell)
    p = tr.params_from_module(ref)
    x_t = randn(N, D, seed=10).requires_grad_()
    h_prev, c_prev = randn(N, H, seed=11).requires_grad_(), randn(N, H, seed=12).requires_grad_()
    h_t, c_t, cache = tr.lstm_cell_forward(x_t, h_prev, c_prev, p)
    h_ref, c_ref = ref(x_t, (h_prev, c_prev))
    assert_close("h_t", h_t, h_ref)
    assert_close("c_t", c_t, c_ref)
    dh_t, dc_t = randn(N, H, seed=13), randn(N, H, seed=14)
    dx_t, dh_prev, dc_prev, _ = tr.lstm_cell_backward(dh_t, dc_t, cache)
    loss = (h_ref * dh_t).sum() + (c_ref * dc_t).sum()
    gx, gh, gc = torch.autograd.grad(loss, [x_t, h_prev, c_prev])
    assert_close("dx_t", dx_t, gx)
    assert_close("dh_prev", dh_prev, gh)
    assert_close("dc_prev", dc_prev, gc)


def test_rnn_forward_matches_torch_nn():
    ref = torch_twin(torch.nn.RNN, batch_first=True)
    p = {
        "W_h": torch.cat([ref.weight_hh_l0, ref.weight_ih_l0], dim=1).detach(),
        "b_h": (ref.bias_ih_l0 + ref.bias_hh_l0).detach(),
    }
    x, h0 = randn(N, T, D, seed=15), randn(N, H, seed=16)
    hs, h_T, _ = tr.rnn_forward(x, p, h0)
    out_ref, h_ref = ref(x, h0[None])
    assert_close("hs", hs, out_ref)
    assert_close("h_T", h_T, h_ref[0])


def test_gru_forward_matches_torch_nn():
    ref = torch_twin(torch.nn.GRU, batch_first=True)
    p = tr.params_from_module(ref)
    x, h0 = randn(N, T, D, seed=17), randn(N, H, seed=18)
    hs, h_T, _ = tr.gru_forward(x, p, h0)
    out_ref, h_ref = ref(x, h0[None])
    assert_close("hs", hs, out_ref)
    assert_close("h_T", h_T, h_ref[0])


def test_peephole_with_zero_peepholes_is_the_lstm():
    p = {k: torch.from_numpy(v) for k, v in init_params("peephole", D, H, seed=1).items()}
    for key in ("p_f", "p_i", "p_o"):
        p[key] = torch.zeros(H, dtype=torch.float64)
    x = randn(N, T, D, seed=19)
    hs, (h_T, c_T), _ = tr.peephole_forward(x, p)
    lstm_p = {k: v for k, v in p.items() if not k.startswith("p_")}
    hs_lstm, (h_lstm, c_lstm), _ = tr.lstm_forward(x, lstm_p)
    assert_close("hs", hs, hs_lstm)
    assert_close("c_T", c_T, c_lstm)


def test_coupled_is_the_lstm_with_input_gate_one_minus_forget():
    """1 - σ(a) = σ(-a): an LSTM with W_i = -W_f, b_i = -b_f is the coupled cell."""
    p = {k: torch.from_numpy(v) for k, v in init_params("coupled", D, H, seed=2).items()}
    x, h0, c0 = randn(N, T, D, seed=20), randn(N, H, seed=21), randn(N, H, seed=22)
    hs, (h_T, c_T), _ = tr.coupled_forward(x, p, h0, c0)
    lstm_p = {**p, "W_i": -p["W_f"], "b_i": -p["b_f"]}
    hs_lstm, (h_lstm, c_lstm), _ = tr.lstm_forward(x, lstm_p, h0, c0)
    assert_close("hs", hs, hs_lstm, tol=1e-14)
    assert_close("c_T", c_T, c_lstm, tol=1e-14)


def test_linear_forward_and_backward_match_torch_nn():
    torch.manual_seed(3)
    ref = torch.nn.Linear(H, K, dtype=torch.float64)
    h = randn(N, H, seed=23).requires_grad_()
    y, cache = tr.linear_forward(h, ref.weight.detach(), ref.bias.detach())
    y_ref = ref(h)
    assert_close("y", y, y_ref)
    dy = randn(N, K, seed=24)
    dh, dW_y, db_y = tr.linear_backward(dy, cache)
    gh, gW, gb = torch.autograd.grad((y_ref * dy).sum(), [h, ref.weight, ref.bias])
    assert_close("dh", dh, gh)
    assert_close("dW_y", dW_y, gW)
    assert_close("db_y", db_y, gb)
    hs = randn(N, T, H, seed=25)
    assert_close("predict", tr.predict(hs, ref.weight, ref.bias), ref(hs[:, -1]))


def test_functions_are_differentiable_by_autograd():
    """The forward functions keep the autograd graph to the caller's tensors."""
    p = {k: torch.from_numpy(v).requires_grad_() for k, v in init_params("lstm", D, H).items()}
    hs, _, _ = tr.lstm_forward(randn(N, T, D, seed=26), p)
    hs.sum().backward()
    assert all(v.grad is not None and v.grad.abs().sum() > 0 for v in p.values())


def test_backward_without_upstream_gradients_is_zero():
    p = {k: torch.from_numpy(v) for k, v in init_params("lstm", D, H).items()}
    _, _, cache = tr.lstm_cell_forward(randn(N, D), randn(N, H), randn(N, H), p)
    dx_t, dh_prev, dc_prev, dparams = tr.lstm_cell_backward(None, None, cache)
    assert dx_t.shape == (N, D) and dh_prev.abs().max() == 0 and dc_prev.abs().max() == 0
    assert all(v.abs().max() == 0 for v in dparams.values())


# ---------------------------------------------------------------------------------------------
# Agreement with the NumPy reference: same names, same arguments, same numbers.

CELLS = {
    "lstm": ("lstm_cell", "lstm", 2),
    "rnn": ("rnn_cell", "rnn", 1),
    "gru": ("gru_cell", "gru", 1),
    "peephole": ("peephole_cell", "peephole", 2),
    "coupled": ("coupled_cell", "coupled", 2),
}


def as_numpy(value):
    if isinstance(value, dict):
        return {k: as_numpy(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(as_numpy(v) for v in value)
    return value.detach().numpy() if torch.is_tensor(value) else value


def assert_tree_close(name, mine, theirs, tol=1e-12):
    if isinstance(theirs, dict):
        assert sorted(mine) == sorted(theirs), f"{name}: keys {sorted(mine)} vs {sorted(theirs)}"
        for key in theirs:
            assert_tree_close(f"{name}[{key}]", mine[key], theirs[key], tol)
    elif isinstance(theirs, tuple | list):
        assert len(mine) == len(theirs), f"{name}: {len(mine)} values vs {len(theirs)}"
        for k, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            assert_tree_close(f"{name}[{k}]", a, b, tol)
    else:
        assert_close(name, torch.as_tensor(mine), torch.as_tensor(np.asarray(theirs)), tol)


@pytest.mark.parametrize("cell", list(CELLS))
def test_sequence_functions_agree_with_np_ref(cell):
    _, prefix, n_states = CELLS[cell]
    params_np = init_params(cell, D, H, seed=4)
    params = {k: torch.from_numpy(v) for k, v in params_np.items()}
    x = randn(N, T, D, seed=27)
    states = [randn(N, H, seed=28 + k) for k in range(n_states)]
    fwd, bwd = f"{prefix}_forward", f"{prefix}_backward"
    out_np = getattr(npr, fwd)(x.numpy(), params_np, *[s.numpy() for s in states])
    out = getattr(tr, fwd)(x, params, *states)
    assert_tree_close(fwd, as_numpy(out[:2]), out_np[:2])
    upstream = [randn(N, T, H, seed=31)] + [randn(N, H, seed=32 + k) for k in range(n_states)]
    grads_np = getattr(npr, bwd)(upstream[0].numpy(), out_np[2], *[u.numpy() for u in upstream[1:]])
    grads = getattr(tr, bwd)(upstream[0], out[2], *upstream[1:])
    assert_tree_close(bwd, as_numpy(grads), grads_np)


@pytest.mark.parametrize("cell", list(CELLS))
def test_cell_functions_agree_with_np_ref(cell):
    prefix, _, n_states = CELLS[cell]
    params_np = init_params(cell, D, H, seed=5)
    params = {k: torch.from_numpy(v) for k, v in params_np.items()}
    x_t = randn(N, D, seed=35)
    states = [randn(N, H, seed=36 + k) for k in range(n_states)]
    fwd, bwd = f"{prefix}_forward", f"{prefix}_backward"
    out_np = getattr(npr, fwd)(x_t.numpy(), *[s.numpy() for s in states], params_np)
    out = getattr(tr, fwd)(x_t, *states, params)
    assert_tree_close(fwd, as_numpy(out[:n_states]), out_np[:n_states])
    upstream = [randn(N, H, seed=40 + k) for k in range(n_states)]
    grads_np = getattr(npr, bwd)(*[u.numpy() for u in upstream], out_np[-1])
    grads = getattr(tr, bwd)(*upstream, out[-1])
    assert_tree_close(bwd, as_numpy(grads), grads_np)


def test_fast_functions_agree_with_np_ref_fast():
    params_np = init_params("lstm", D, H, seed=6)
    params = {k: torch.from_numpy(v) for k, v in params_np.items()}
    x = randn(N, T, D, seed=45)
    out_np = npr.lstm_forward_fast(x.numpy(), params_np)
    out = tr.lstm_forward_fast(x, params)
    assert_tree_close("lstm_forward_fast", as_numpy(out[:2]), out_np[:2])
    dhs = randn(N, T, H, seed=46)
    assert_tree_close(
        "lstm_backward_fast",
        as_numpy(tr.lstm_backward_fast(dhs, out[2])),
        npr.lstm_backward_fast(dhs.numpy(), out_np[2]),
    )


def test_gates_and_head_agree_with_np_ref():
    p_np = init_params("lstm", D, H, seed=7)
    p = {k: torch.from_numpy(v) for k, v in p_np.items()}
    h_prev, x_t, c_prev = randn(N, H, seed=47), randn(N, D, seed=48), randn(N, H, seed=49)
    for name, W, b in (
        ("forget_gate", "W_f", "b_f"),
        ("input_gate", "W_i", "b_i"),
        ("candidate", "W_c", "b_c"),
        ("output_gate", "W_o", "b_o"),
    ):
        mine = getattr(tr, name)(h_prev, x_t, p[W], p[b])
        theirs = getattr(npr, name)(h_prev.numpy(), x_t.numpy(), p_np[W], p_np[b])
        assert_tree_close(name, mine, theirs)
    f, i, c = (torch.rand(N, H, dtype=torch.float64) for _ in range(3))
    assert_tree_close(
        "cell_update",
        tr.cell_update(f, c_prev, i, c),
        npr.cell_update(f.numpy(), c_prev.numpy(), i.numpy(), c.numpy()),
    )
    assert_tree_close(
        "hidden_state", tr.hidden_state(f, c_prev), npr.hidden_state(f.numpy(), c_prev.numpy())
    )
    head = init_linear(H, K, seed=8)
    y, _ = tr.linear_forward(h_prev, *(torch.from_numpy(head[k]) for k in ("W_y", "b_y")))
    assert_tree_close(
        "linear_forward", y, npr.linear_forward(h_prev.numpy(), head["W_y"], head["b_y"])[0]
    )


# ---------------------------------------------------------------------------------------------
# Layout conversions (lstm_ref.params) for tensors, against torch.nn's own modules.

TORCH_MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
FORWARD = {"rnn": tr.rnn_forward, "lstm": tr.lstm_forward, "gru": tr.gru_forward}


@pytest.mark.parametrize("cell", list(TORCH_MODULES))
def test_params_from_module_runs_each_layer_like_torch_nn(cell):
    ref = torch_twin(TORCH_MODULES[cell], num_layers=2, batch_first=True)
    x = randn(N, T, D, seed=50)
    layer_in = x
    for layer in range(2):
        layer_in = FORWARD[cell](layer_in, tr.params_from_module(ref, layer=layer))[0]
    assert_close("top layer's hs", layer_in, ref(x)[0])


@pytest.mark.parametrize("cell", list(TORCH_MODULES))
def test_params_loaded_into_torch_nn_give_our_outputs(cell):
    """Tensors through load_params and through to_torch: torch.nn then computes what we do."""
    from lstm_ref.params import to_torch

    p = {k: torch.from_numpy(v) * 2 for k, v in init_params(cell, D, H, seed=9).items()}
    x = randn(N, T, D, seed=51)
    hs = FORWARD[cell](x, p)[0]
    by_load = TORCH_MODULES[cell](D, H, batch_first=True, dtype=torch.float64)
    tr.load_params(by_load, p)
    assert_close("hs via load_params", by_load(x)[0], hs)
    by_state = TORCH_MODULES[cell](D, H, batch_first=True, dtype=torch.float64)
    by_state.load_state_dict(to_torch([p], cell))
    assert_close("hs via to_torch", by_state(x)[0], hs)


def test_stacked_gates_are_torch_nns_rows():
    """stack_gates on tensors gives nn.LSTMCell's stacked weight: [weight_hh | weight_ih], and one
    bias per gate, the sum of its two."""
    ref = torch_twin(torch.nn.LSTMCell)
    W, b = tr.stack_gates(tr.params_from_module(ref))
    assert torch.equal(W, torch.cat([ref.weight_hh, ref.weight_ih], dim=1).detach())
    assert_close("b", b, ref.bias_ih + ref.bias_hh, tol=0)
    back = tr.unstack_gates(W, b)
    assert all(torch.equal(back[k], v) for k, v in tr.params_from_module(ref).items())


@pytest.mark.parametrize("cls", [tr.PeepholeLSTMCell, tr.CoupledLSTMCell])
def test_variant_cells_load_and_read_back_their_params(cls):
    kind = "peephole" if cls is tr.PeepholeLSTMCell else "coupled"
    p = {k: torch.from_numpy(v) for k, v in init_params(kind, D, H, seed=10).items()}
    cell = cls(D, H, dtype=torch.float64)
    tr.load_params(cell, p)
    x_t, h, c = randn(N, D, seed=52), randn(N, H, seed=53), randn(N, H, seed=54)
    forward = tr.peephole_cell_forward if kind == "peephole" else tr.coupled_cell_forward
    h_t, c_t, _ = forward(x_t, h, c, p)
    mine_h, mine_c = cell(x_t, (h, c))
    assert_close("h_t", mine_h, h_t)
    assert_close("c_t", mine_c, c_t)


@pytest.mark.parametrize("forward", ["lstm_forward", "lstm_forward_fast", "gru_forward"])
def test_editing_the_inputs_after_forward_does_not_change_backward(forward):
    """As in np_ref, caches keep their own copies of the inputs and the params."""
    cell = "gru" if forward.startswith("gru") else "lstm"
    p = {k: torch.from_numpy(v) for k, v in init_params(cell, D, H, seed=11).items()}
    x, dhs = randn(1, T, D, seed=55), randn(1, T, H, seed=56)
    backward = getattr(tr, forward.replace("forward", "backward"))
    expected = backward(dhs, getattr(tr, forward)(x.clone(), dict(p))[2])
    cache = getattr(tr, forward)(x, p)[2]
    for tensor in [x, *p.values()]:
        tensor.mul_(3)
    assert_tree_close("gradients", as_numpy(backward(dhs, cache)), as_numpy(expected), tol=0)
