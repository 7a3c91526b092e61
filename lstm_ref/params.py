"""Parameters: seeded initialisation, and lossless conversion to and from PyTorch's modules.

PyTorch keeps the input and the hidden weights apart and stacks the gates:
``weight_ih`` (G·H, D), ``weight_hh`` (G·H, H), ``bias_ih`` and ``bias_hh`` (G·H,), gates in the
order i, f, g, o (LSTM) or r, z, n (GRU). Our weights act on [h_{t-1}, x_t], so

    W_f = [weight_hh_f | weight_ih_f]   (H, H + D)        b_f = bias_ih_f + bias_hh_f

The two biases only ever appear as a sum in the LSTM and RNN, so we keep one. Going to PyTorch
puts it in ``bias_ih`` and zeros in ``bias_hh``: ours -> torch -> ours is exact, and torch -> ours
-> torch gives the same function (weights bit-for-bit, each bias pair's sum preserved).
The GRU's new gate is the exception: r_t multiplies ``W_hn h + b_hn`` only, so ``b_xn`` and ``b_hn``
stay apart, exactly as in PyTorch.

Nothing here imports torch unless ``as_tensors=True`` is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from lstm_ref._checks import ShapeChecker
from lstm_ref.specs import GRU_GATES, LSTM_GATES, PARAM_SPECS

TORCH_CELLS = ("rnn", "lstm", "gru")


def init_params(cell: str, D: int, H: int, seed: int = 0, dtype=np.float64) -> dict:
    """Random parameters for ``cell`` ("rnn", "lstm", "gru", "peephole", "coupled").

    Every entry is drawn from U(-1/√H, 1/√H), PyTorch's default for its recurrent modules.
    """
    if cell not in PARAM_SPECS or cell == "linear":
        raise ValueError(
            f"cell must be one of {sorted(set(PARAM_SPECS) - {'linear'})}, got {cell!r}"
        )
    return _uniform(PARAM_SPECS[cell], {"D": D, "H": H}, 1 / np.sqrt(H), seed, dtype)


def init_linear(H: int, K: int, seed: int = 0, dtype=np.float64) -> dict:
    """W_y (K, H) and b_y (K,) from U(-1/√H, 1/√H), as torch.nn.Linear(H, K)."""
    return _uniform(PARAM_SPECS["linear"], {"H": H, "K": K}, 1 / np.sqrt(H), seed, dtype)


def _uniform(spec, dims, bound, seed, dtype) -> dict:
    rng = np.random.default_rng(seed)
    return {
        key: rng.uniform(-bound, bound, size=tuple(eval(k, {}, dims) for k in letters)).astype(
            dtype
        )
        for key, letters in spec.items()
    }


def _gates(cell: str) -> tuple[str, ...]:
    return {"lstm": LSTM_GATES, "gru": GRU_GATES, "rnn": ("h",)}[cell]


def _check_cell(cell: str) -> None:
    if cell not in TORCH_CELLS:
        raise ValueError(
            f"cell must be one of {TORCH_CELLS} (PyTorch has no {cell!r}), got {cell!r}"
        )


def _as_numpy(name: str, value) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def to_torch(params, cell: str = "lstm", as_tensors: bool = False) -> dict:
    """Our parameters as a PyTorch state dict.

    ``params``: one dict -> the names of nn.LSTMCell / nn.GRUCell / nn.RNNCell
    (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``); a list of per-layer dicts -> the names
    of nn.LSTM / nn.GRU / nn.RNN (``weight_ih_l0``, ...). Arrays keep their dtype; with
    ``as_tensors=True`` they become torch tensors (this imports torch).
    """
    _check_cell(cell)
    if isinstance(params, Mapping):
        state = _layer_to_torch(params, cell, "params")
    else:
        state = {}
        for k, layer in enumerate(params):
            for name, value in _layer_to_torch(layer, cell, f"params[{k}]").items():
                state[f"{name}_l{k}"] = value
    if as_tensors:
        import torch

        state = {
            name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in state.items()
        }
    return state


def _layer_to_torch(params: Mapping, cell: str, where: str) -> dict:
    spec = PARAM_SPECS[cell]
    first = next(iter(spec))  # every cell's first weight is (H, H + D): it fixes H and D
    shape = np.shape(params[first]) if isinstance(params, Mapping) and first in params else ()
    if len(shape) != 2 or shape[1] <= shape[0]:
        raise ValueError(f"{where}[{first!r}] has shape {shape}; expected (H, H + D) with D >= 1")
    H = shape[0]
    p = ShapeChecker(H=H, D=shape[1] - H).params(where, params, spec)
    if cell == "gru":
        weight_ih = np.concatenate([p["W_r"][:, H:], p["W_z"][:, H:], p["W_xn"]])
        weight_hh = np.concatenate([p["W_r"][:, :H], p["W_z"][:, :H], p["W_hn"]])
        bias_ih = np.concatenate([p["b_r"], p["b_z"], p["b_xn"]])
        bias_hh = np.concatenate([np.zeros(2 * H, dtype=p["b_hn"].dtype), p["b_hn"]])
    else:
        gates = _gates(cell)
        weight_ih = np.concatenate([p[f"W_{g}"][:, H:] for g in gates])  # (G·H, D)
        weight_hh = np.concatenate([p[f"W_{g}"][:, :H] for g in gates])  # (G·H, H)
        bias_ih = np.concatenate([p[f"b_{g}"] for g in gates])
        bias_hh = np.zeros_like(bias_ih)
    return {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih, "bias_hh": bias_hh}


def from_torch(state_dict: Mapping, cell: str = "lstm"):
    """A PyTorch state dict (tensors or arrays) as our parameters.

    Cell names (``weight_ih``, ...) give one dict; layered names (``weight_ih_l0``, ...) give a list
    with one dict per layer. Modules built with ``bias=False`` give zero biases. Bidirectional
    modules and LSTMs with ``proj_size`` have no counterpart here and are refused.
    """
    _check_cell(cell)
    state = {name: _as_numpy(name, value) for name, value in state_dict.items()}
    unsupported = [n for n in state if "reverse" in n or n.startswith("weight_hr")]
    if unsupported:
        raise ValueError(f"bidirectional or projected modules are not supported: {unsupported}")
    layered = {re.fullmatch(r"(\w+?)_l(\d+)", n) for n in state}
    if None not in layered:
        L = 1 + max(int(m.group(2)) for m in layered)
        return [
            _layer_from_torch(
                {m.group(1): state[m.group(0)] for m in layered if int(m.group(2)) == k}, cell, k
            )
            for k in range(L)
        ]
    return _layer_from_torch(state, cell, None)


def _layer_from_torch(state: dict, cell: str, layer) -> dict:
    suffix = "" if layer is None else f"_l{layer}"
    expected = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
    if not {"weight_ih", "weight_hh"} <= set(state) or set(state) - expected:
        raise ValueError(
            f"state dict{'' if layer is None else f' layer {layer}'} has keys "
            f"{sorted(k + suffix for k in state)}; expected weight_ih{suffix}, weight_hh{suffix}"
            f" and optionally bias_ih{suffix}, bias_hh{suffix}"
        )
    gates = _gates(cell)
    G = len(gates)
    weight_hh = state["weight_hh"]
    if weight_hh.ndim != 2 or weight_hh.shape[0] != G * weight_hh.shape[1]:
        raise ValueError(
            f"weight_hh{suffix} has shape {weight_hh.shape}; expected ({G} * H, H) for a {cell}"
        )
    check = ShapeChecker(G=G, H=weight_hh.shape[1])
    weight_hh = check(f"weight_hh{suffix}", weight_hh, "G * H", "H")
    weight_ih = check(f"weight_ih{suffix}", state["weight_ih"], "G * H", "D")
    zeros = np.zeros(G * check.dims["H"], dtype=weight_ih.dtype)
    bias_ih = check(f"bias_ih{suffix}", state.get("bias_ih", zeros), "G * H")
    bias_hh = check(f"bias_hh{suffix}", state.get("bias_hh", zeros), "G * H")
    W_ih, W_hh = np.split(weight_ih, G), np.split(weight_hh, G)
    b_ih, b_hh = np.split(bias_ih, G), np.split(bias_hh, G)
    params = {}
    for k, gate in enumerate(gates):
        if cell == "gru" and gate == "n":  # r_t multiplies only the hidden part: keep both
            params.update(W_xn=W_ih[k], b_xn=b_ih[k], W_hn=W_hh[k], b_hn=b_hh[k])
        else:
            params[f"W_{gate}"] = np.concatenate([W_hh[k], W_ih[k]], axis=1)  # [hidden | input]
            params[f"b_{gate}"] = b_ih[k] + b_hh[k]
    return {key: np.ascontiguousarray(params[key]) for key in PARAM_SPECS[cell]}
