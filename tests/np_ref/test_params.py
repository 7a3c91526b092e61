"""Initialisation and the conversions to and from PyTorch's modules, property-based."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from np_testing import assert_close

from lstm_ref import np_ref
from lstm_ref.params import from_torch, init_linear, init_params, to_torch
from lstm_ref.specs import PARAM_SPECS

MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
CELL_MODULES = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}
sizes = st.integers(min_value=1, max_value=6)
dtypes = st.sampled_from([np.float32, np.float64])


@settings(max_examples=40, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    D=sizes,
    H=sizes,
    layers=st.integers(1, 3),
    dtype=dtypes,
    seed=st.integers(0, 2**16),
)
def test_ours_to_torch_and_back_is_exact(cell, D, H, layers, dtype, seed):
    stack = [
        init_params(cell, D if k == 0 else H, H, seed=seed + k, dtype=dtype) for k in range(layers)
    ]
    back = from_torch(to_torch(stack, cell, as_tensors=True), cell)
    assert len(back) == layers
    for ours, theirs in zip(stack, back, strict=True):
        assert ours.keys() == theirs.keys()
        for key in ours:
            assert theirs[key].dtype == dtype and np.array_equal(ours[key], theirs[key]), key


@settings(max_examples=30, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    D=sizes,
    H=sizes,
    layers=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_torch_to_ours_and_back_keeps_weights_exactly_and_the_function(cell, D, H, layers, seed):
    torch.manual_seed(seed)
    module = MODULES[cell](D, H, num_layers=layers, batch_first=True).double()
    state = {k: v.clone() for k, v in module.state_dict().items()}
    back = to_torch(from_torch(state, cell), cell, as_tensors=True)
    assert back.keys() == state.keys()
    for key in state:
        if key.startswith("weight"):
            assert torch.equal(back[key], state[key]), key
    for k in range(layers):  # biases: every pair's sum is preserved (and the GRU's n gate exactly)
        total = state[f"bias_ih_l{k}"] + state[f"bias_hh_l{k}"]
        assert_close(f"bias sum l{k}", back[f"bias_ih_l{k}"] + back[f"bias_hh_l{k}"], total, 1e-15)
    x = torch.randn(2, 3, D, dtype=torch.float64)
    expected = module(x)[0]
    module.load_state_dict(back)
    assert_close("output after the round trip", module(x)[0].detach(), expected.detach(), 1e-14)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_from_torch_slices_the_gates_in_pytorch_order(cell):
    D, H = 3, 4
    module = CELL_MODULES[cell](D, H).double()
    p = from_torch(module.state_dict(), cell)
    w_ih, w_hh = module.weight_ih.detach().numpy(), module.weight_hh.detach().numpy()
    b_ih, b_hh = module.bias_ih.detach().numpy(), module.bias_hh.detach().numpy()
    gates = {"rnn": "h", "lstm": "ifco", "gru": "rz"}[cell]
    for k, gate in enumerate(gates):
        rows = slice(k * H, (k + 1) * H)
        assert np.array_equal(p[f"W_{gate}"], np.hstack([w_hh[rows], w_ih[rows]])), gate
        assert np.array_equal(p[f"b_{gate}"], b_ih[rows] + b_hh[rows]), gate
    if cell == "gru":
        assert np.array_equal(p["W_xn"], w_ih[2 * H :]) and np.array_equal(p["b_hn"], b_hh[2 * H :])


def test_multi_layer_lstm_runs_layer_by_layer_like_torch():
    torch.manual_seed(0)
    module = torch.nn.LSTM(3, 4, num_layers=3, batch_first=True).double()
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    layers = from_torch(module.state_dict(), "lstm")
    out = x
    for params in layers:
        out = np_ref.lstm_forward(out, params)[0]
    assert_close("top layer's hs", out, module(torch.tensor(x))[0].detach().numpy(), 1e-12)


def test_bias_free_module_gives_zero_biases():
    module = torch.nn.LSTMCell(3, 4, bias=False)
    params = from_torch(module.state_dict(), "lstm")
    assert all(not params[f"b_{g}"].any() for g in "ifco")


def test_bidirectional_modules_are_refused():
    with pytest.raises(ValueError, match="bidirectional"):
        from_torch(torch.nn.LSTM(3, 4, bidirectional=True).state_dict(), "lstm")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "peephole", "coupled"])
def test_init_is_seeded_shaped_and_bounded_like_pytorch(cell):
    D, H = 3, 7
    a, b = init_params(cell, D, H, seed=1), init_params(cell, D, H, seed=1)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a[next(iter(a))], init_params(cell, D, H, seed=2)[next(iter(a))])
    for key, letters in PARAM_SPECS[cell].items():
        assert a[key].shape == tuple(eval(s, {}, {"D": D, "H": H}) for s in letters)
        assert np.abs(a[key]).max() <= 1 / np.sqrt(H)
    assert init_params(cell, D, H, dtype=np.float32)[key].dtype == np.float32


def test_init_linear():
    head = init_linear(5, 2, seed=3)
    assert head["W_y"].shape == (2, 5) and head["b_y"].shape == (2,)
