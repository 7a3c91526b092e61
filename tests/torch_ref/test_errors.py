"""Bad input gets a clear error naming the argument, the expected shape and what was got."""

from __future__ import annotations

import pytest
import torch

import lstm_ref.torch_ref as tr
from lstm_ref.params import init_params


def lstm_params(D=4, H=5):
    return {k: torch.from_numpy(v) for k, v in init_params("lstm", D, H).items()}


@pytest.mark.parametrize("cls", [tr.LSTM, tr.GRU, tr.PeepholeLSTM, tr.CoupledLSTM])
def test_wrong_input_size(cls):
    module = cls(4, 5)
    with pytest.raises(
        ValueError, match=r"input has shape \(6, 3, 7\); expected \(T, N, D\) = \(6, 3, 4\)"
    ):
        module(torch.randn(6, 3, 7))


def test_wrong_input_size_batch_first():
    with pytest.raises(ValueError, match=r"expected \(N, T, D\) = \(6, 3, 4\)"):
        tr.LSTM(4, 5, batch_first=True)(torch.randn(6, 3, 2))


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4, 4)])
def test_wrong_number_of_dims(shape):
    with pytest.raises(
        ValueError, match=r"input has shape .*-D\); expected \(T, N, D\) or, unbatched, \(T, D\)"
    ):
        tr.LSTM(4, 5)(torch.randn(shape))
    with pytest.raises(ValueError, match=r"expected \(N, D\) or, unbatched, \(D,\)"):
        tr.LSTMCell(4, 5)(torch.randn(2, 3, 4))


def test_wrong_state_shape():
    module = tr.LSTM(4, 5, num_layers=2)
    h0 = torch.zeros(1, 3, 5)
    with pytest.raises(
        ValueError,
        match=r"h_0 has shape \(1, 3, 5\); expected \(num_layers \* directions, N, H\) = \(2, 3, 5\)",
    ):
        module(torch.randn(6, 3, 4), (h0, torch.zeros(2, 3, 5)))
    with pytest.raises(ValueError, match=r"hx must be a tuple \(h_0, c_0\)"):
        module(torch.randn(6, 3, 4), (torch.zeros(2, 3, 5),))
    with pytest.raises(
        ValueError, match=r"hx\[1\] has shape \(3, 4\); expected \(N, H\) = \(3, 5\)"
    ):
        tr.LSTMCell(4, 5)(torch.randn(3, 4), (torch.zeros(3, 5), torch.zeros(3, 4)))


def test_mismatched_devices():
    """Parameters on the meta device, input on the CPU: the error names both devices."""
    module = tr.LSTM(4, 5, device="meta")
    with pytest.raises(ValueError, match=r"input is on cpu but the parameters are on meta"):
        module(torch.randn(6, 3, 4))
    cell = tr.GRUCell(4, 5)
    with pytest.raises(ValueError, match=r"hx is on meta but the parameters are on cpu"):
        cell(torch.randn(3, 4), torch.zeros(3, 5, device="meta"))
    params = lstm_params()
    params["W_o"] = params["W_o"].to("meta")
    with pytest.raises(ValueError, match=r"W_o is on meta but x is on cpu"):
        tr.lstm_forward(torch.randn(2, 3, 4, dtype=torch.float64), params)


def test_mismatched_dtypes():
    with pytest.raises(
        TypeError, match=r"input is torch.float64 but the parameters are torch.float32"
    ):
        tr.LSTM(4, 5)(torch.randn(6, 3, 4, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"W_f is torch.float64 but x is torch.float32"):
        tr.lstm_forward(torch.randn(2, 3, 4), lstm_params())


def test_functional_shape_errors_name_letters_and_numbers():
    params = lstm_params()
    params["W_f"] = params["W_f"][:, :8]
    with pytest.raises(
        ValueError, match=r"W_f has shape \(5, 8\); expected \(H, H \+ D\) = \(5, 9\)"
    ):
        tr.lstm_forward(torch.randn(2, 3, 4, dtype=torch.float64), params)
    with pytest.raises(ValueError, match=r"x has shape \(2, 4\) \(2-D\); expected \(N, T, D\)"):
        tr.lstm_forward(torch.randn(2, 4, dtype=torch.float64), lstm_params())
    with pytest.raises(ValueError, match=r"missing \['b_o'\]"):
        tr.lstm_forward(
            torch.randn(2, 3, 4, dtype=torch.float64),
            {k: v for k, v in lstm_params().items() if k != "b_o"},
        )
    with pytest.raises(
        ValueError, match=r"c_prev has shape \(2, 6\); expected \(N, H\) = \(2, 5\)"
    ):
        x = torch.randn(2, 4, dtype=torch.float64)
        tr.lstm_cell_forward(
            x,
            torch.zeros(2, 5, dtype=torch.float64),
            torch.zeros(2, 6, dtype=torch.float64),
            lstm_params(),
        )
    with pytest.raises(TypeError, match=r"x_t must be a torch.Tensor, got ndarray"):
        tr.lstm_cell_forward(torch.zeros(2, 4).numpy(), None, None, lstm_params())


def test_backward_checks_upstream_shapes():
    _, _, cache = tr.lstm_forward(torch.randn(2, 3, 4, dtype=torch.float64), lstm_params())
    with pytest.raises(
        ValueError, match=r"dhs has shape \(2, 3, 4\); expected \(N, T, H\) = \(2, 3, 5\)"
    ):
        tr.lstm_backward(torch.zeros(2, 3, 4, dtype=torch.float64), cache)


def test_unsupported_options_are_refused_clearly():
    with pytest.raises(NotImplementedError, match="proj_size"):
        tr.LSTM(4, 5, proj_size=2)
    with pytest.raises(ValueError, match="impl must be one of"):
        tr.LSTM(4, 5, impl="cudnn")
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        tr.LSTM(4, 5, num_layers=0)
    packed = torch.nn.utils.rnn.pack_sequence([torch.randn(3, 4), torch.randn(2, 4)])
    with pytest.raises(TypeError, match="packed sequences are not supported"):
        tr.LSTM(4, 5)(packed)


def test_a_transposed_first_weight_is_blamed_with_the_true_shape():
    params = lstm_params(D=2, H=5)
    params["W_f"] = params["W_f"].T.contiguous()
    for forward in (tr.lstm_forward, tr.lstm_forward_fast):
        with pytest.raises(
            ValueError, match=r"W_f has shape \(7, 5\); expected \(H, H \+ D\) = \(5, 7\)"
        ):
            forward(torch.zeros(2, 3, 2, dtype=torch.float64), params)


def test_a_cache_from_another_forward_is_named():
    x = torch.zeros(2, 3, 4, dtype=torch.float64)
    rnn = {k: torch.from_numpy(v) for k, v in init_params("rnn", 4, 5).items()}
    dhs = torch.zeros(2, 3, 5, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"lstm_backward needs the cache that lstm_forward "
                       r"returned.*rnn_forward"):  # fmt: skip
        tr.lstm_backward(dhs, tr.rnn_forward(x, rnn)[2])
    with pytest.raises(TypeError, match=r"lstm_cell_backward needs the cache that "
                       r"lstm_cell_forward returned.*got a Tensor"):  # fmt: skip
        tr.lstm_cell_backward(dhs[:, 0], dhs[:, 0], x)


def test_an_empty_sequence_is_refused_clearly():
    """torch.nn.LSTM refuses T = 0 too ("Expected sequence length to be larger than 0")."""
    with pytest.raises(ValueError, match=r"input has shape \(0, 3, 4\); T must be at least 1"):
        tr.LSTM(4, 5)(torch.zeros(0, 3, 4))
