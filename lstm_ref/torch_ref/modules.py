"""``nn.Module`` versions of the cells, interchangeable with ``torch.nn``'s.

``LSTMCell``, ``LSTM``, ``GRUCell`` and ``GRU`` take the constructor arguments of their torch.nn
namesakes (input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device,
dtype), validate them as torch.nn does, accept and return the same tensors, and name their
parameters the same way (weight_ih, weight_hh, bias_ih, bias_hh; weight_ih_l0, ...,
weight_ih_l0_reverse), so ``load_state_dict`` works in both directions. They are written from the
equations: no torch.nn recurrent module, ``torch.lstm`` or other fused recurrent kernel is called.

Each layer holds the gates stacked in rows, as torch.nn does: W_ih (G·H, D) acting on x_t, W_hh
(G·H, H) acting on h_{t-1}, and two biases (G·H,) that are simply added, in the order of
``specs.GATE_ORDER`` (LSTM and peephole: 4 gates, PyTorch's; GRU: 3; coupled: 3, no input gate).
The peephole modules add ``weight_peephole`` (3H,), stacked as ``specs.PEEPHOLE_ORDER``.
``lstm_ref.params.params_from_module`` and ``load_params`` convert a layer to and from our dicts.

Every module runs its cell's stacked step (``lstm_step``, ``gru_step``, ``peephole_step``,
``coupled_step``). ``impl`` (keyword only) picks how the LSTM runs: "fast" (default:
``lstm_fast.lstm_layer``) or "eager" (the readable loop, differentiated by autograd).
"""

from __future__ import annotations

import math
import numbers
import warnings

import torch
from torch import nn

from lstm_ref._checks import TensorChecker
from lstm_ref.specs import GATE_ORDER, PEEPHOLE_ORDER
from lstm_ref.torch_ref.gru import gru_step
from lstm_ref.torch_ref.lstm_fast import lstm_layer, lstm_step
from lstm_ref.torch_ref.sequence import run_layer
from lstm_ref.torch_ref.variants import coupled_step, peephole_step

__all__ = [
    "LSTMCell", "LSTM", "GRUCell", "GRU",
    "PeepholeLSTMCell", "PeepholeLSTM", "CoupledLSTMCell", "CoupledLSTM",
]  # fmt: skip

# kind -> (stacked step, number of states (1: h; 2: h and c), has peephole weights)
_KINDS = {
    "lstm": (lstm_step, 2, False),
    "gru": (gru_step, 1, False),
    "peephole": (peephole_step, 2, True),
    "coupled": (coupled_step, 2, False),
}
_IMPLS = ("fast", "eager")


def _validate(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size):
    """torch.nn.RNNBase's checks, in its order and with its messages."""
    number = isinstance(dropout, numbers.Number) and not isinstance(dropout, bool)
    if not number or not 0 <= dropout <= 1:
        raise ValueError("dropout should be a number in range [0, 1] representing the "
                         "probability of an element being zeroed")  # fmt: skip
    if dropout > 0 and num_layers == 1:
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                      "non-zero dropout expects num_layers greater than 1, but got "
                      f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)  # fmt: skip
    for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                              ("input_size", input_size, int), ("hidden_size", hidden_size, int)):  # fmt: skip
        if not isinstance(value, kind):
            raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")  # fmt: skip
        if kind is int and value <= 0:
            raise ValueError(f"{name} must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")


def _parameters(module, suffix, G, H, D, bias, peephole, factory):
    """Register weight_ih, weight_hh (and biases, weight_peephole) for one layer/direction."""
    shapes = {"weight_ih": (G * H, D), "weight_hh": (G * H, H)}
    if bias:
        shapes |= {"bias_ih": (G * H,), "bias_hh": (G * H,)}
    if peephole:
        shapes["weight_peephole"] = (len(PEEPHOLE_ORDER) * H,)
    for name, shape in shapes.items():
        module.register_parameter(name + suffix, nn.Parameter(torch.empty(shape, **factory)))
    if not bias and not suffix:  # a cell without biases has them as None, as torch.nn's
        module.register_parameter("bias_ih", None)
        module.register_parameter("bias_hh", None)


def reset_parameters(module) -> None:
    """Every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), as torch.nn initialises them."""
    bound = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for weight in module.parameters():
        nn.init.uniform_(weight, -bound, bound)


# ---------------------------------------------------------------------------------------------
# Cells: one step.


class _CellBase(nn.Module):
    kind = "lstm"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        G, peephole = len(GATE_ORDER[self.kind]), _KINDS[self.kind][2]
        factory = {"device": device, "dtype": dtype}
        _parameters(self, "", G, hidden_size, input_size, bias, peephole, factory)
        self.reset_parameters()

    reset_parameters = reset_parameters

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def forward(self, input, hx=None):
        step, n_states, peephole = _KINDS[self.kind]
        if torch.is_tensor(input) and input.dim() not in (1, 2):
            raise ValueError(
                f"input has shape {tuple(input.shape)} ({input.dim()}-D); expected (N, D) "
                f"or, unbatched, (D,) with D = input_size = {self.input_size}"
            )
        batched = not torch.is_tensor(input) or input.dim() == 2
        N = input.shape[0] if batched and torch.is_tensor(input) else 1
        check = TensorChecker.like(self.weight_ih, "the parameters", N=N, D=self.input_size,
                                   H=self.hidden_size)  # fmt: skip
        x = check("input", input, *(("N", "D") if batched else ("D",)))
        x = x if batched else x.unsqueeze(0)
        if hx is None:
            states = [x.new_zeros(N, self.hidden_size) for _ in range(n_states)]
        else:
            states = [hx] if n_states == 1 else list(hx)
            if len(states) != n_states:
                raise ValueError(f"hx must be a tuple (h_0, c_0), got {len(states)} tensors")
            names = ["hx"] if n_states == 1 else [f"hx[{k}]" for k in range(n_states)]
            letters = ("N", "H") if batched else ("H",)
            states = [
                check(name, state, *letters) for name, state in zip(names, states, strict=True)
            ]
            states = states if batched else [s.unsqueeze(0) for s in states]
        extra = (self.weight_peephole,) if peephole else ()
        weights = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        _, out = run_layer(step, x.unsqueeze(0), states, *weights, extra, each_step=True)
        out = out if batched else tuple(s.squeeze(0) for s in out)
        return out[0] if n_states == 1 else out


class LSTMCell(_CellBase):
    """One LSTM step, a drop-in for torch.nn.LSTMCell: forward(input (N, D), (h, c)) -> (h', c')."""

    kind = "lstm"


class GRUCell(_CellBase):
    """One GRU step, a drop-in for torch.nn.GRUCell: forward(input (N, D), h) -> h'."""

    kind = "gru"


class PeepholeLSTMCell(_CellBase):
    """One peephole-LSTM step: like LSTMCell plus weight_peephole (3H,), as specs.PEEPHOLE_ORDER."""

    kind = "peephole"


class CoupledLSTMCell(_CellBase):
    """One coupled-gate LSTM step (input gate 1 - f_t); 3 gates, as specs.GATE_ORDER["coupled"]."""

    kind = "coupled"


# ---------------------------------------------------------------------------------------------
# Sequences: layers of cells, optionally in both directions.


class _RNNBase(nn.Module):
    kind = "lstm"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None, *,
                 impl="fast"):  # fmt: skip
        super().__init__()
        if self.kind == "gru" and proj_size != 0:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        _validate(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        if proj_size:
            raise NotImplementedError("proj_size > 0 (LSTM with projections) is not implemented")
        if impl not in _IMPLS:
            raise ValueError(f"impl must be one of {_IMPLS}, got {impl!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size, self.impl = bidirectional, 0, impl
        G, peephole = len(GATE_ORDER[self.kind]), _KINDS[self.kind][2]
        directions = 2 if bidirectional else 1
        factory = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            D = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                _parameters(self, f"_l{layer}{suffix}", G, hidden_size, D, bias, peephole, factory)
        self.reset_parameters()

    reset_parameters = reset_parameters

    def flatten_parameters(self) -> None:
        """Nothing to do (kept so code written for torch.nn.LSTM runs unchanged)."""

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0,
                    "bidirectional": False}  # fmt: skip
        for name, default in defaults.items():
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text + (f", impl={self.impl!r}" if self.impl != "fast" else "")

    def _check(self, input, hx):
        """The input and states checked against the sizes (errors from lstm_ref._checks)."""
        if torch.is_tensor(input) and input.dim() not in (2, 3):
            order = "(N, T, D)" if self.batch_first else "(T, N, D)"
            raise ValueError(
                f"input has shape {tuple(input.shape)} ({input.dim()}-D); expected {order} "
                f"or, unbatched, (T, D), with D = input_size = {self.input_size}"
            )
        batched = not torch.is_tensor(input) or input.dim() == 3
        letters = (
            (("N", "T", "D") if self.batch_first else ("T", "N", "D")) if batched else ("T", "D")
        )
        sizes = dict(zip(letters, input.shape, strict=True)) if torch.is_tensor(input) else {}
        check = TensorChecker.like(self.weight_ih_l0, "the parameters", N=sizes.get("N", 1),
                                   D=self.input_size, H=self.hidden_size,
                                   num_layers=self.num_layers,
                                   directions=2 if self.bidirectional else 1)  # fmt: skip
        input = check("input", input, *letters)
        n_states = _KINDS[self.kind][1]
        if hx is None:
            return batched, check.dims["N"], None
        states = [hx] if n_states == 1 else list(hx)
        if len(states) != n_states:
            raise ValueError(f"hx must be a tuple (h_0, c_0), got {len(states)} tensors")
        names = ["hx"] if n_states == 1 else ["h_0", "c_0"]
        letters = (
            ("num_layers * directions", "N", "H") if batched else ("num_layers * directions", "H")
        )
        states = [check(name, state, *letters) for name, state in zip(names, states, strict=True)]
        states = states if batched else [s.unsqueeze(1) for s in states]
        return batched, check.dims["N"], states

    def _run_layer(self, x, states, layer, suffix):
        get = lambda name: getattr(self, f"{name}_l{layer}{suffix}", None)  # noqa: E731
        w_ih, w_hh, b_ih, b_hh = get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")
        step, _, peephole = _KINDS[self.kind]
        if self.kind == "lstm" and self.impl == "fast":
            out, h, c = lstm_layer(x, *states, w_ih, w_hh, None if b_ih is None else b_ih + b_hh)
            return out, (h, c)
        extra = (get("weight_peephole"),) if peephole else ()
        each_step = self.kind == "lstm"  # impl="eager": the LSTM exactly as the book writes it
        return run_layer(step, x, states, w_ih, w_hh, b_ih, b_hh, extra, each_step)

    def forward(self, input, hx=None):
        batched, N, states0 = self._check(input, hx)
        x = input if batched else input.unsqueeze(1)  # (T, N, D) or (N, T, D)
        x = x.transpose(0, 1) if self.batch_first and batched else x
        x = x.contiguous()  # time-major (T, N, D)
        n_states = _KINDS[self.kind][1]
        suffixes = ("", "_reverse") if self.bidirectional else ("",)
        finals = [[] for _ in range(n_states)]
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = nn.functional.dropout(x, self.dropout, training=True)
            outputs = []
            for d, suffix in enumerate(suffixes):
                k = layer * len(suffixes) + d
                if states0 is None:
                    states = [x.new_zeros(N, self.hidden_size) for _ in range(n_states)]
                else:
                    states = [s[k] for s in states0]
                x_dir = x.flip(0) if suffix else x  # the reverse direction reads time backwards
                out, final = self._run_layer(x_dir, states, layer, suffix)
                outputs.append(out.flip(0) if suffix else out)
                for j in range(n_states):
                    finals[j].append(final[j])
            x = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=2)  # (T, N, dirs·H)
        output = x.transpose(0, 1) if self.batch_first and batched else x
        finals = [torch.stack(f) for f in finals]  # (num_layers · directions, N, H)
        if not batched:
            output = output.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        return output, (finals[0] if n_states == 1 else tuple(finals))


class LSTM(_RNNBase):
    """A multi-layer LSTM, a drop-in for torch.nn.LSTM (without proj_size).

    forward(input, (h_0, c_0)=None) -> output, (h_n, c_n); input (T, N, D), or (N, T, D) when
    batch_first, or (T, D) unbatched; h_0, c_0, h_n, c_n (num_layers · directions, N, H);
    output (T, N, directions · H). ``impl="fast"`` (default) or ``"eager"`` (readable loop).
    """

    kind = "lstm"


class GRU(_RNNBase):
    """A multi-layer GRU, a drop-in for torch.nn.GRU: forward(input, h_0=None) -> output, h_n."""

    kind = "gru"


class PeepholeLSTM(_RNNBase):
    """A multi-layer peephole LSTM; like LSTM plus weight_peephole_l{k} (3H,) per layer."""

    kind = "peephole"


class CoupledLSTM(_RNNBase):
    """A multi-layer coupled-gate LSTM (input gate 1 - f_t); 3 gates, like CoupledLSTMCell."""

    kind = "coupled"
