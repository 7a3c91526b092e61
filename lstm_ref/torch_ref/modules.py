"""``nn.Module`` versions of the cells, interchangeable with ``torch.nn``'s.

``LSTMCell``, ``LSTM``, ``GRUCell`` and ``GRU`` take the constructor arguments of their torch.nn
namesakes (input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device,
dtype), accept and return the same tensors, and name their parameters the same way (weight_ih,
weight_hh, bias_ih, bias_hh; weight_ih_l0, ..., weight_ih_l0_reverse), so ``load_state_dict``
works in both directions. They are written from the equations: no torch.nn recurrent module,
``torch.lstm`` or other fused recurrent kernel is called.

Parameter layout, as in PyTorch: each layer holds the gates stacked in rows, W_ih (G·H, D) acting on
x_t, W_hh (G·H, H) acting on h_{t-1}, and two biases (G·H,) that are simply added. G and the order:

    LSTM      4  i, f, g, o       (g is our candidate C̃_t)
    GRU       3  r, z, n          (n_t = tanh(W_in x + b_in + r * (W_hn h + b_hn)))
    Peephole  4  i, f, g, o       plus weight_peephole (3H,): p_i, p_f, p_o, in that order
    Coupled   3  f, g, o          (the input gate is 1 - f_t)

``params_from_module`` and ``load_params`` convert one layer to and from np_ref's dicts (W_f ...,
each (H, H + D) acting on [h_{t-1}, x_t], and one bias: b = bias_ih + bias_hh).

``impl`` (keyword only) picks the implementation of the LSTM: "fast" (default: input projection of
all steps in one product, one product per step, hand-written backward, see ``fused``) or "eager"
(the readable loop below, differentiated by autograd). The other cells always run the readable loop
with the input projection of all steps in one product.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lstm_ref.torch_ref import fused

__all__ = [
    "LSTMCell",
    "LSTM",
    "GRUCell",
    "GRU",
    "PeepholeLSTMCell",
    "PeepholeLSTM",
    "CoupledLSTMCell",
    "CoupledLSTM",
    "params_from_module",
    "load_params",
]

# ---------------------------------------------------------------------------------------------
# One step of each cell, in PyTorch's stacked layout. gi = W_ih x_t + b_ih, gh = W_hh h + b_hh.


def lstm_step(gi, gh, h_prev, c_prev):
    """LSTM step from gi, gh (N, 4H) stacked i, f, g, o; returns h_t, c_t (N, H)."""
    a_i, a_f, a_g, a_o = (gi + gh).chunk(4, dim=1)
    i_t = torch.sigmoid(a_i)  # input gate
    f_t = torch.sigmoid(a_f)  # forget gate
    c_tilde = torch.tanh(a_g)  # candidate
    c_t = f_t * c_prev + i_t * c_tilde  # cell update
    o_t = torch.sigmoid(a_o)  # output gate
    h_t = o_t * torch.tanh(c_t)  # hidden state
    return h_t, c_t


def gru_step(gi, gh, h_prev):
    """GRU step from gi, gh (N, 3H) stacked r, z, n; returns h_t (N, H)."""
    gi_r, gi_z, gi_n = gi.chunk(3, dim=1)
    gh_r, gh_z, gh_n = gh.chunk(3, dim=1)
    r_t = torch.sigmoid(gi_r + gh_r)  # reset gate
    z_t = torch.sigmoid(gi_z + gh_z)  # update gate
    n_t = torch.tanh(gi_n + r_t * gh_n)  # new gate: r_t scales only the hidden part
    h_t = (1 - z_t) * n_t + z_t * h_prev  # interpolation
    return (h_t,)


def peephole_step(gi, gh, h_prev, c_prev, w_peep):
    """Peephole step from gi, gh (N, 4H) stacked i, f, g, o and w_peep (3H,) = p_i, p_f, p_o."""
    a_i, a_f, a_g, a_o = (gi + gh).chunk(4, dim=1)
    p_i, p_f, p_o = w_peep.chunk(3)
    i_t = torch.sigmoid(a_i + p_i * c_prev)  # input gate peeks at C_{t-1}
    f_t = torch.sigmoid(a_f + p_f * c_prev)  # forget gate peeks at C_{t-1}
    c_tilde = torch.tanh(a_g)  # candidate
    c_t = f_t * c_prev + i_t * c_tilde  # cell update
    o_t = torch.sigmoid(a_o + p_o * c_t)  # output gate peeks at C_t
    h_t = o_t * torch.tanh(c_t)  # hidden state
    return h_t, c_t


def coupled_step(gi, gh, h_prev, c_prev):
    """Coupled-gate step from gi, gh (N, 3H) stacked f, g, o; returns h_t, c_t (N, H)."""
    a_f, a_g, a_o = (gi + gh).chunk(3, dim=1)
    f_t = torch.sigmoid(a_f)  # forget gate
    c_tilde = torch.tanh(a_g)  # candidate
    c_t = f_t * c_prev + (1 - f_t) * c_tilde  # input gate = 1 - f_t
    o_t = torch.sigmoid(a_o)  # output gate
    h_t = o_t * torch.tanh(c_t)  # hidden state
    return h_t, c_t


# kind -> (gates G, step function, state size (1: h; 2: h and c), peephole weights?)
_KINDS = {
    "lstm": (4, lstm_step, 2, False),
    "gru": (3, gru_step, 1, False),
    "peephole": (4, peephole_step, 2, True),
    "coupled": (3, coupled_step, 2, False),
}
_IMPLS = ("fast", "eager")


def _linear(x, w, b):
    return x @ w.t() if b is None else torch.addmm(b, x, w.t())


def _check_input(module, name: str, value, letters: tuple[str, ...], sizes: tuple[int, ...]):
    """Shape, dtype and device checks with errors that name the argument."""
    if not torch.is_tensor(value):
        raise TypeError(
            f"{name} must be a torch.Tensor, got {type(value).__name__}"
            + (" (packed sequences are not supported)" if "Packed" in type(value).__name__ else "")
        )
    if tuple(value.shape) != sizes:
        letters_text = "(" + ", ".join(letters) + ("," if len(letters) == 1 else "") + ")"
        raise ValueError(
            f"{name} has shape {tuple(value.shape)}; expected {letters_text} = {sizes}"
        )
    weight = next(module.parameters())
    if value.device != weight.device:
        raise ValueError(
            f"{name} is on {value.device} but the parameters are on {weight.device}; "
            f"move one of them (e.g. module.to({str(value.device)!r}))"
        )
    if value.dtype != weight.dtype:
        raise TypeError(
            f"{name} is {value.dtype} but the parameters are {weight.dtype}; "
            f"convert one of them (e.g. {name}.to({weight.dtype}))"
        )


# ---------------------------------------------------------------------------------------------
# Cells: one step.


class _CellBase(nn.Module):
    kind = "lstm"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        G, _, _, peephole = _KINDS[self.kind]
        factory = {"device": device, "dtype": dtype}
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = nn.Parameter(torch.empty(G * hidden_size, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(G * hidden_size, hidden_size, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(G * hidden_size, **factory))
            self.bias_hh = nn.Parameter(torch.empty(G * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        if peephole:
            self.weight_peephole = nn.Parameter(torch.empty(3 * hidden_size, **factory))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), as torch.nn initialises them."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def forward(self, input, hx=None):
        _, step, n_states, peephole = _KINDS[self.kind]
        if torch.is_tensor(input) and input.dim() not in (1, 2):
            raise ValueError(
                f"input has shape {tuple(input.shape)} ({input.dim()}-D); expected (N, D) "
                f"or, unbatched, (D,) with D = input_size = {self.input_size}"
            )
        batched = not torch.is_tensor(input) or input.dim() == 2
        N = input.shape[0] if batched and torch.is_tensor(input) else 1
        if batched:
            _check_input(self, "input", input, ("N", "D"), (N, self.input_size))
        else:
            _check_input(self, "input", input, ("D",), (self.input_size,))
        x = input if batched else input.unsqueeze(0)
        H = self.hidden_size
        if hx is None:
            states = [x.new_zeros(N, H) for _ in range(n_states)]
        else:
            states = [hx] if n_states == 1 else list(hx)
            if len(states) != n_states:
                raise ValueError(f"hx must be a tuple (h_0, c_0), got {len(states)} tensors")
            for k, state in enumerate(states):
                name = "hx" if n_states == 1 else f"hx[{k}]"
                letters, shape = (("N", "H"), (N, H)) if batched else (("H",), (H,))
                _check_input(self, name, state, letters, shape)
            states = states if batched else [s.unsqueeze(0) for s in states]
        gi = _linear(x, self.weight_ih, self.bias_ih)
        gh = _linear(states[0], self.weight_hh, self.bias_hh)
        extra = (self.weight_peephole,) if peephole else ()
        out = step(gi, gh, *states, *extra)
        out = out if batched else tuple(s.squeeze(0) for s in out)
        return out[0] if n_states == 1 else out


class LSTMCell(_CellBase):
    """One LSTM step, a drop-in for torch.nn.LSTMCell: forward(input (N, D), (h, c)) -> (h', c')."""

    kind = "lstm"


class GRUCell(_CellBase):
    """One GRU step, a drop-in for torch.nn.GRUCell: forward(input (N, D), h) -> h'."""

    kind = "gru"


class PeepholeLSTMCell(_CellBase):
    """One peephole-LSTM step: like LSTMCell plus weight_peephole (3H,) = p_i, p_f, p_o."""

    kind = "peephole"


class CoupledLSTMCell(_CellBase):
    """One coupled-gate LSTM step (input gate 1 - f_t); weights stacked f, g, o, (3H, ...)."""

    kind = "coupled"


# ---------------------------------------------------------------------------------------------
# Sequences: layers of cells, optionally in both directions.


def _eager_layer(kind, x, states, w_ih, w_hh, b_ih, b_hh, extra):
    """The readable loop over a time-major x (T, N, D): every step's input projection at once,
    then one step at a time. Returns the outputs (T, N, H) and the final states."""
    _, step, _, _ = _KINDS[kind]
    T, N, D = x.shape
    gi_all = _linear(x.reshape(T * N, D), w_ih, b_ih).view(T, N, -1)  # (T, N, G·H)
    outputs = []
    for t in range(T):
        gh = _linear(states[0], w_hh, b_hh)  # (N, G·H)
        states = step(gi_all[t], gh, *states, *extra)
        outputs.append(states[0])
    return torch.stack(outputs), states


def _readable_lstm_layer(x, states, w_ih, w_hh, b_ih, b_hh):
    """The LSTM exactly as the book writes it: each step computes its own input projection."""
    h, c = states
    outputs = []
    for x_t in x:  # x (T, N, D): one step (N, D) at a time
        h, c = lstm_step(_linear(x_t, w_ih, b_ih), _linear(h, w_hh, b_hh), h, c)
        outputs.append(h)
    return torch.stack(outputs), (h, c)


class _RNNBase(nn.Module):
    kind = "lstm"

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
        *,
        impl="fast",
    ):
        super().__init__()
        if proj_size:
            raise NotImplementedError("proj_size > 0 (LSTM with projections) is not implemented")
        if not (isinstance(num_layers, int) and num_layers >= 1):
            raise ValueError(f"num_layers must be an integer >= 1, got {num_layers!r}")
        if not 0 <= float(dropout) <= 1:
            raise ValueError(f"dropout must be a probability in [0, 1], got {dropout}")
        if impl not in _IMPLS:
            raise ValueError(f"impl must be one of {_IMPLS}, got {impl!r}")
        G, _, _, peephole = _KINDS[self.kind]
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size, self.impl = bidirectional, 0, impl
        directions = 2 if bidirectional else 1
        factory = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                names = {
                    "weight_ih": (G * hidden_size, layer_input),
                    "weight_hh": (G * hidden_size, hidden_size),
                }
                if bias:
                    names |= {"bias_ih": (G * hidden_size,), "bias_hh": (G * hidden_size,)}
                if peephole:
                    names["weight_peephole"] = (3 * hidden_size,)
                for name, shape in names.items():
                    param = nn.Parameter(torch.empty(shape, **factory))
                    self.register_parameter(f"{name}_l{layer}{suffix}", param)
        self.reset_parameters()

    reset_parameters = _CellBase.reset_parameters

    def flatten_parameters(self) -> None:
        """Nothing to do (kept so code written for torch.nn.LSTM runs unchanged)."""

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        for name, default in (
            ("num_layers", 1),
            ("bias", True),
            ("batch_first", False),
            ("dropout", 0.0),
            ("bidirectional", False),
        ):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text + (f", impl={self.impl!r}" if self.impl != "fast" else "")

    def _layer_params(self, layer: int, suffix: str):
        get = lambda name: getattr(self, f"{name}_l{layer}{suffix}", None)  # noqa: E731
        extra = (get("weight_peephole"),) if _KINDS[self.kind][3] else ()
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), extra

    def _check(self, input, hx):
        if not torch.is_tensor(input):
            _check_input(self, "input", input, (), ())  # raises the TypeError
        if input.dim() not in (2, 3):
            order = "(N, T, D)" if self.batch_first else "(T, N, D)"
            raise ValueError(
                f"input has shape {tuple(input.shape)} ({input.dim()}-D); expected {order} "
                f"or, unbatched, (T, D), with D = input_size = {self.input_size}"
            )
        batched = input.dim() == 3
        if batched:
            letters = ("N", "T", "D") if self.batch_first else ("T", "N", "D")
            T, N = (input.shape[1], input.shape[0]) if self.batch_first else input.shape[:2]
            sizes = (N, T, self.input_size) if self.batch_first else (T, N, self.input_size)
        else:
            letters, N, T = ("T", "D"), 1, input.shape[0]
            sizes = (T, self.input_size)
        _check_input(self, "input", input, letters, sizes)
        n_states = _KINDS[self.kind][2]
        LD = self.num_layers * (2 if self.bidirectional else 1)
        if hx is None:
            return batched, N, None
        states = [hx] if n_states == 1 else list(hx)
        if len(states) != n_states:
            raise ValueError(f"hx must be a tuple (h_0, c_0), got {len(states)} tensors")
        for k, state in enumerate(states):
            name = "hx" if n_states == 1 else ("h_0", "c_0")[k]
            if batched:
                _check_input(self, name, state, ("num_layers * directions", "N", "H"),
                             (LD, N, self.hidden_size))  # fmt: skip
            else:
                _check_input(self, name, state, ("num_layers * directions", "H"),
                             (LD, self.hidden_size))  # fmt: skip
        states = states if batched else [s.unsqueeze(1) for s in states]
        return batched, N, states

    def _run_layer(self, x, states, layer, suffix):
        w_ih, w_hh, b_ih, b_hh, extra = self._layer_params(layer, suffix)
        if self.kind == "lstm" and self.impl == "fast":
            bias = None if b_ih is None else b_ih + b_hh
            out, h, c = fused.lstm_layer(x, *states, w_ih, w_hh, bias)
            return out, (h, c)
        if self.kind == "lstm":
            return _readable_lstm_layer(x, states, w_ih, w_hh, b_ih, b_hh)
        return _eager_layer(self.kind, x, states, w_ih, w_hh, b_ih, b_hh, extra)

    def forward(self, input, hx=None):
        batched, N, states0 = self._check(input, hx)
        x = input if batched else input.unsqueeze(1)  # (T, N, D) or (N, T, D)
        x = x.transpose(0, 1) if self.batch_first and batched else x
        x = x.contiguous()  # time-major (T, N, D)
        n_states = _KINDS[self.kind][2]
        H = self.hidden_size
        suffixes = ("", "_reverse") if self.bidirectional else ("",)
        finals = [[] for _ in range(n_states)]
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = nn.functional.dropout(x, self.dropout, training=True)
            outputs = []
            for d, suffix in enumerate(suffixes):
                k = layer * len(suffixes) + d
                if states0 is None:
                    states = [x.new_zeros(N, H) for _ in range(n_states)]
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
    """A multi-layer peephole LSTM; like LSTM plus weight_peephole_l{k} (3H,) = p_i, p_f, p_o."""

    kind = "peephole"


class CoupledLSTM(_RNNBase):
    """A multi-layer coupled-gate LSTM (input gate 1 - f_t); weights stacked f, g, o."""

    kind = "coupled"


# ---------------------------------------------------------------------------------------------
# Conversion of one layer to and from np_ref's parameter dicts.

_GATE_NAMES = {"lstm": "ifco", "peephole": "ifco", "coupled": "fco", "gru": "rzn"}


def _kind_of(module) -> str:
    if isinstance(module, _CellBase | _RNNBase):
        return module.kind
    for classes, kind in (((nn.LSTM, nn.LSTMCell), "lstm"), ((nn.GRU, nn.GRUCell), "gru")):
        if isinstance(module, classes):
            return kind
    raise TypeError(f"module must be one of this package's cells or an nn.LSTM/GRU, got {module}")


def _names(module, layer: int, reverse: bool):
    if isinstance(module, _CellBase | nn.LSTMCell | nn.GRUCell):
        if layer != 0 or reverse:
            raise ValueError("a cell has one layer and one direction: use layer=0, reverse=False")
        return lambda name: name
    return lambda name: f"{name}_l{layer}{'_reverse' if reverse else ''}"


def params_from_module(module, layer: int = 0, reverse: bool = False) -> dict:
    """One layer's parameters as np_ref's dict (W_f, b_f, ...; W acting on [h_{t-1}, x_t]).

    Works for this package's modules and for torch.nn's LSTM/LSTMCell/GRU/GRUCell. The tensors
    are new (detached); a module without biases gives zero biases.
    """
    kind, name = _kind_of(module), _names(module, layer, reverse)
    w_ih = getattr(module, name("weight_ih")).detach()
    w_hh = getattr(module, name("weight_hh")).detach()
    b_ih, b_hh = getattr(module, name("bias_ih"), None), getattr(module, name("bias_hh"), None)
    b_ih = torch.zeros_like(w_ih[:, 0]) if b_ih is None else b_ih.detach()
    b_hh = torch.zeros_like(w_ih[:, 0]) if b_hh is None else b_hh.detach()
    gates = _GATE_NAMES[kind]
    G = len(gates)
    chunks = zip(gates, w_ih.chunk(G), w_hh.chunk(G), b_ih.chunk(G), b_hh.chunk(G), strict=True)
    params = {}
    for gate, wi, wh, bi, bh in chunks:
        if kind == "gru" and gate == "n":  # the new gate keeps its two halves apart
            params |= {
                "W_xn": wi.clone(),
                "b_xn": bi.clone(),
                "W_hn": wh.clone(),
                "b_hn": bh.clone(),
            }
        else:
            params |= {f"W_{gate}": torch.cat([wh, wi], dim=1), f"b_{gate}": bi + bh}
    if kind == "peephole":
        p_i, p_f, p_o = getattr(module, name("weight_peephole")).detach().chunk(3)
        params |= {"p_i": p_i.clone(), "p_f": p_f.clone(), "p_o": p_o.clone()}
    return params


@torch.no_grad()
def load_params(module, params: dict, layer: int = 0, reverse: bool = False) -> None:
    """Copy np_ref-style params into one layer of ``module`` (bias_ih = b, bias_hh = 0)."""
    kind, name = _kind_of(module), _names(module, layer, reverse)
    gates = _GATE_NAMES[kind]
    w_ih, w_hh = getattr(module, name("weight_ih")), getattr(module, name("weight_hh"))
    H = w_hh.shape[1]
    wi, wh, bi = [], [], []
    for gate in gates:
        if kind == "gru" and gate == "n":
            wi.append(params["W_xn"])
            wh.append(params["W_hn"])
            bi.append(params["b_xn"])
        else:
            W = torch.as_tensor(params[f"W_{gate}"])
            wh.append(W[:, :H])
            wi.append(W[:, H:])
            bi.append(params[f"b_{gate}"])
    w_ih.copy_(torch.cat([torch.as_tensor(w) for w in wi]))
    w_hh.copy_(torch.cat([torch.as_tensor(w) for w in wh]))
    b_ih, b_hh = getattr(module, name("bias_ih"), None), getattr(module, name("bias_hh"), None)
    if b_ih is not None:
        b_ih.copy_(torch.cat([torch.as_tensor(b) for b in bi]))
        b_hh.zero_()
        if kind == "gru":  # b_hn sits inside r_t * (W_hn h + b_hn): it must stay in bias_hh
            b_hh[2 * H :].copy_(torch.as_tensor(params["b_hn"]))
    if kind == "peephole":
        peep = [torch.as_tensor(params[k]) for k in ("p_i", "p_f", "p_o")]
        getattr(module, name("weight_peephole")).copy_(torch.cat(peep))
