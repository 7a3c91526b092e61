"""Our nn.Modules against torch.nn's, in float64 on the CPU: outputs, final states, gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch_testing import (
    assert_close,
    distinct_biases,
    distinct_sizes,
    flatten_outputs,
    loss_of,
)

import lstm_ref.torch_ref as tr

GRID = list(itertools.product([1, 2, 3], [False, True], [False, True]))  # layers, batch_first, h0


def make_twins(ours_cls, ref_cls, seed, D, H, **kwargs):
    """torch.nn's module with distinct non-zero biases, and ours loaded from its state dict."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    impl = kwargs.pop("impl", None)
    ref = ref_cls(D, H, dtype=torch.float64, **kwargs)
    distinct_biases(ref, generator)
    ours = ours_cls(D, H, dtype=torch.float64, **kwargs, **({"impl": impl} if impl else {}))
    ours.load_state_dict(ref.state_dict())
    return ours, ref, generator


def compare_sequence(ours_cls, ref_cls, seed, num_layers, batch_first, with_state, **kwargs):
    rng = np.random.default_rng(seed)
    N, T, D, H = distinct_sizes(rng)
    ours, ref, generator = make_twins(
        ours_cls, ref_cls, seed, D, H, num_layers=num_layers, batch_first=batch_first, **kwargs
    )
    L = num_layers * (2 if kwargs.get("bidirectional") else 1)
    shape = (N, T, D) if batch_first else (T, N, D)
    x = torch.randn(shape, generator=generator, dtype=torch.float64, requires_grad=True)
    inputs = [x]
    hx = None
    if with_state:
        states = [
            torch.randn(L, N, H, generator=generator, dtype=torch.float64, requires_grad=True)
            for _ in range(2 if ref_cls is torch.nn.LSTM else 1)
        ]
        inputs += states
        hx = tuple(states) if ref_cls is torch.nn.LSTM else states[0]
    mine, theirs = flatten_outputs(ours(x, hx)), flatten_outputs(ref(x, hx))
    names = ["output", "h_n", "c_n"][: len(mine)]
    for name, a, b in zip(names, mine, theirs, strict=True):
        assert_close(name, a, b)
    seed_loss = torch.Generator().manual_seed(seed + 1)
    grads_mine = torch.autograd.grad(loss_of(mine, seed_loss), [*inputs, *ours.parameters()])
    seed_loss = torch.Generator().manual_seed(seed + 1)
    grads_ref = torch.autograd.grad(loss_of(theirs, seed_loss), [*inputs, *ref.parameters()])
    input_names = ["d input", "d h_0", "d c_0"][: len(inputs)]
    param_names = [f"d {n}" for n, _ in ours.named_parameters()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    for name, a, b in zip(input_names + param_names, grads_mine, grads_ref, strict=True):
        assert_close(name, a, b)


@pytest.mark.parametrize(("num_layers", "batch_first", "with_state"), GRID)
def test_lstm_fast_matches_torch_nn(num_layers, batch_first, with_state):
    seed = 100 * num_layers + 10 * batch_first + with_state
    compare_sequence(tr.LSTM, torch.nn.LSTM, seed, num_layers, batch_first, with_state)


@pytest.mark.parametrize(("num_layers", "batch_first", "with_state"), GRID[::2])
def test_lstm_eager_matches_torch_nn(num_layers, batch_first, with_state):
    seed = 200 + 100 * num_layers + 10 * batch_first + with_state
    compare_sequence(
        tr.LSTM, torch.nn.LSTM, seed, num_layers, batch_first, with_state, impl="eager"
    )


@pytest.mark.parametrize(("num_layers", "batch_first", "with_state"), GRID[1::2])
def test_gru_matches_torch_nn(num_layers, batch_first, with_state):
    seed = 300 + 100 * num_layers + 10 * batch_first + with_state
    compare_sequence(tr.GRU, torch.nn.GRU, seed, num_layers, batch_first, with_state)


@pytest.mark.parametrize("impl", ["fast", "eager"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_bidirectional_lstm_matches_torch_nn(impl, batch_first):
    seed = 7 + batch_first
    compare_sequence(
        tr.LSTM, torch.nn.LSTM, seed, 2, batch_first, True, bidirectional=True, impl=impl
    )


def test_bidirectional_gru_matches_torch_nn():
    compare_sequence(tr.GRU, torch.nn.GRU, 11, 2, True, True, bidirectional=True)


@pytest.mark.parametrize(
    ("ours_cls", "ref_cls"), [(tr.LSTM, torch.nn.LSTM), (tr.GRU, torch.nn.GRU)]
)
def test_without_bias_matches_torch_nn(ours_cls, ref_cls):
    compare_sequence(ours_cls, ref_cls, 12, 2, False, True, bias=False)


@pytest.mark.parametrize(
    ("ours_cls", "ref_cls"), [(tr.LSTM, torch.nn.LSTM), (tr.GRU, torch.nn.GRU)]
)
def test_unbatched_input_matches_torch_nn(ours_cls, ref_cls):
    ours, ref, generator = make_twins(ours_cls, ref_cls, 13, 4, 5, num_layers=2)
    x = torch.randn(6, 4, generator=generator, dtype=torch.float64)  # (T, D), no batch axis
    for name, a, b in zip(
        ["output", "h_n", "c_n"], flatten_outputs(ours(x)), flatten_outputs(ref(x)), strict=False
    ):
        assert_close(name, a, b)


@pytest.mark.parametrize(
    ("ours_cls", "ref_cls"), [(tr.LSTMCell, torch.nn.LSTMCell), (tr.GRUCell, torch.nn.GRUCell)]
)
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch_nn(ours_cls, ref_cls, batched):
    ours, ref, generator = make_twins(ours_cls, ref_cls, 14, 4, 5)
    shape = (3, 4) if batched else (4,)
    state_shape = (3, 5) if batched else (5,)
    x = torch.randn(shape, generator=generator, dtype=torch.float64, requires_grad=True)
    n_states = 2 if ref_cls is torch.nn.LSTMCell else 1
    states = [
        torch.randn(state_shape, generator=generator, dtype=torch.float64, requires_grad=True)
        for _ in range(n_states)
    ]
    hx = tuple(states) if n_states == 2 else states[0]
    mine, theirs = ours(x, hx), ref(x, hx)
    mine = list(mine) if n_states == 2 else [mine]
    theirs = list(theirs) if n_states == 2 else [theirs]
    for name, a, b in zip(["h'", "c'"], mine, theirs, strict=False):
        assert_close(name, a, b)
    g1 = torch.autograd.grad(
        loss_of(mine, torch.Generator().manual_seed(1)), [x, *states, *ours.parameters()]
    )
    g2 = torch.autograd.grad(
        loss_of(theirs, torch.Generator().manual_seed(1)), [x, *states, *ref.parameters()]
    )
    for k, (a, b) in enumerate(zip(g1, g2, strict=True)):
        assert_close(f"gradient {k}", a, b)
    # without a state: zeros, as torch.nn
    without = ours(x)
    expected = ref(x)
    assert_close(
        "h' (no state)",
        without[0] if n_states == 2 else without,
        expected[0] if n_states == 2 else expected,
    )


@pytest.mark.parametrize(
    ("ours_cls", "ref_cls", "kwargs"),
    [
        (tr.LSTM, torch.nn.LSTM, {"num_layers": 2, "bidirectional": True}),
        (tr.GRU, torch.nn.GRU, {"num_layers": 3, "bias": False}),
        (tr.LSTMCell, torch.nn.LSTMCell, {}),
        (tr.GRUCell, torch.nn.GRUCell, {}),
    ],
)
def test_state_dict_round_trip_both_ways(ours_cls, ref_cls, kwargs):
    torch.manual_seed(15)
    ref, ours = ref_cls(4, 5, **kwargs), ours_cls(4, 5, **kwargs)
    assert list(ours.state_dict()) == list(ref.state_dict()), "parameter names and order"
    for name, value in ours.state_dict().items():
        assert value.shape == ref.state_dict()[name].shape, name
    ours.load_state_dict(ref.state_dict())  # torch.nn -> ours (strict)
    for name, value in ours.state_dict().items():
        assert torch.equal(value, ref.state_dict()[name]), name
    fresh = ours_cls(4, 5, **kwargs)
    ref.load_state_dict(fresh.state_dict())  # ours -> torch.nn (strict)
    for name, value in ref.state_dict().items():
        assert torch.equal(value, fresh.state_dict()[name]), name
    x = torch.randn(6, 3, 4) if ref_cls in (torch.nn.LSTM, torch.nn.GRU) else torch.randn(3, 4)
    a, b = ref(x), fresh(x)
    a, b = (a[0], b[0]) if isinstance(a, tuple) else (a, b)
    assert_close("output after loading ours into torch.nn", b, a, tol=1e-5)


def test_initialisation_matches_torch_nn_range():
    module = tr.LSTM(3, 16, num_layers=2)
    bound = 1 / 16**0.5
    for name, param in module.named_parameters():
        assert param.abs().max() <= bound, name
        assert param.std() > bound / 3, f"{name} looks uninitialised"
    assert module.weight_ih_l0.dtype == torch.float32


def test_dropout_only_acts_in_training():
    torch.manual_seed(16)
    ref = torch.nn.LSTM(4, 5, num_layers=2, dropout=0.5)
    ours = tr.LSTM(4, 5, num_layers=2, dropout=0.5)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(6, 3, 4)
    ours.eval()
    ref.eval()
    assert_close("eval output", ours(x)[0], ref(x)[0], tol=1e-6)
    ours.train()
    assert (ours(x)[0] - ref(x)[0]).abs().max() > 1e-3, "dropout between layers had no effect"


@pytest.mark.parametrize("cls", [tr.PeepholeLSTM, tr.CoupledLSTM])
@pytest.mark.parametrize("batch_first", [False, True])
def test_variant_modules_match_functional(cls, batch_first):
    """Each layer of a variant module equals the functional reference run on that layer."""
    torch.manual_seed(17)
    kind = "peephole" if cls is tr.PeepholeLSTM else "coupled"
    forward = tr.peephole_forward if kind == "peephole" else tr.coupled_forward
    module = cls(4, 5, num_layers=2, batch_first=batch_first, dtype=torch.float64)
    distinct_biases(module, torch.Generator().manual_seed(17))
    x = torch.randn(3, 6, 4, dtype=torch.float64)  # (N, T, D)
    h0, c0 = torch.randn(2, 2, 3, 5, dtype=torch.float64)
    output, (h_n, c_n) = module(x if batch_first else x.transpose(0, 1), (h0, c0))
    output = output if batch_first else output.transpose(0, 1)
    layer_in = x
    for layer in range(2):
        params = tr.params_from_module(module, layer=layer)
        hs, (h_T, c_T), _ = forward(layer_in, params, h0[layer], c0[layer])
        assert_close(f"layer {layer} h_T", h_n[layer], h_T)
        assert_close(f"layer {layer} c_T", c_n[layer], c_T)
        layer_in = hs
    assert_close("output", output, layer_in)


@pytest.mark.parametrize("cls", [tr.PeepholeLSTMCell, tr.CoupledLSTMCell])
def test_variant_cells_match_functional(cls):
    torch.manual_seed(18)
    cell = cls(4, 5, dtype=torch.float64)
    distinct_biases(cell, torch.Generator().manual_seed(18))
    x, h, c = torch.randn(3, 4, dtype=torch.float64), *torch.randn(2, 3, 5, dtype=torch.float64)
    step = tr.peephole_cell_forward if cls is tr.PeepholeLSTMCell else tr.coupled_cell_forward
    h_t, c_t, _ = step(x, h, c, tr.params_from_module(cell))
    mine_h, mine_c = cell(x, (h, c))
    assert_close("h_t", mine_h, h_t)
    assert_close("c_t", mine_c, c_t)


@pytest.mark.parametrize("cls", [tr.LSTM, tr.GRU, tr.PeepholeLSTM, tr.CoupledLSTM])
def test_load_params_round_trip(cls):
    module = cls(4, 5, num_layers=2, dtype=torch.float64)
    params = tr.params_from_module(module, layer=1)
    other = cls(4, 5, num_layers=2, dtype=torch.float64)
    tr.load_params(other, params, layer=1)
    for key, value in tr.params_from_module(other, layer=1).items():
        assert_close(key, value, params[key], tol=1e-15)
