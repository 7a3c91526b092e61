"""Parameters: seeded initialisation, and every conversion between layouts.

Three layouts of the same numbers, for NumPy arrays and torch tensors alike:

- ours, a dict per cell (``lstm_ref.specs.PARAM_SPECS``): ``W_f`` (H, H + D) acting on
  [h_{t-1}, x_t], one bias ``b_f`` (H,), and so on;
- stacked (``stack_gates``): the gates' weights in rows, W (G·H, H + D) and b (G·H,), in the order
  of ``specs.GATE_ORDER`` (PyTorch's), what the fast paths use;
- torch.nn's (``to_torch``, ``from_torch``, ``params_from_module``, ``load_params``): the input
  and hidden weights apart and two biases, ``weight_ih`` (G·H, D), ``weight_hh`` (G·H, H),
  ``bias_ih`` and ``bias_hh`` (G·H,); torch_ref's peephole modules add ``weight_peephole`` (3H,).

    W_f = [weight_hh_f | weight_ih_f]   (H, H + D)        b_f = bias_ih_f + bias_hh_f

The two biases only ever appear as a sum in the LSTM and RNN, so we keep one; going to PyTorch
puts it in ``bias_ih`` and zeros in ``bias_hh`` (ours -> torch -> ours is exact; torch -> ours ->
torch keeps weights bit-for-bit and each bias pair's sum). The GRU's new gate keeps ``b_xn`` and
``b_hn`` apart, as PyTorch does: r_t multiplies ``W_hn h + b_hn`` only. Nothing here imports torch
unless tensors are given or ``as_tensors=True`` is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from lstm_ref._checks import ShapeChecker, TensorChecker, is_tensor
from lstm_ref.specs import GATE_ORDER, PARAM_SPECS, PEEPHOLE_ORDER, TORCH_CELLS

CELLS = tuple(GATE_ORDER)


def init_params(cell: str, D: int, H: int, seed: int = 0, dtype=np.float64) -> dict:
    """Random parameters for ``cell`` ("rnn", "lstm", "gru", "peephole", "coupled").

    Every entry is drawn from U(-1/√H, 1/√H), PyTorch's default for its recurrent modules.
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    return _uniform(PARAM_SPECS[cell], {"D": D, "H": H}, 1 / np.sqrt(H), seed, dtype)


def init_linear(H: int, K: int, seed: int = 0, dtype=np.float64) -> dict:
    """W_y (K, H) and b_y (K,) from U(-1/√H, 1/√H), as torch.nn.Linear(H, K)."""
    return _uniform(PARAM_SPECS["linear"], {"H": H, "K": K}, 1 / np.sqrt(H), seed, dtype)


def _uniform(spec, dims, bound, seed, dtype) -> dict:
    rng = np.random.default_rng(seed)
    sizes = {key: tuple(eval(k, {}, dims) for k in letters) for key, letters in spec.items()}
    return {key: rng.uniform(-bound, bound, size=size).astype(dtype) for key, size in sizes.items()}


# ---------------------------------------------------------------------------------------------
# The few array operations the conversions need, for NumPy arrays and torch tensors alike.


def _cat(parts: list, axis: int = 0):
    if is_tensor(parts[0]):
        import torch

        return torch.cat(parts, dim=axis)
    return np.concatenate(parts, axis=axis)


def _fresh(value):
    """A copy that owns its memory (a slice of a weight must not alias the weight)."""
    return value.clone() if is_tensor(value) else np.array(value, copy=True)


def _zeros(like, size: int):
    return like.new_zeros(size) if is_tensor(like) else np.zeros(size, dtype=like.dtype)


# ---------------------------------------------------------------------------------------------
# Stacked: one weight and one bias for all gates.


def stack_gates(params: Mapping, cell: str = "lstm"):
    """W (G·H, H + D) and b (G·H,): the gates' weights and biases stacked in rows, in the order
    ``specs.GATE_ORDER[cell]`` (PyTorch's for the LSTM). Arrays or tensors (then
    differentiable). The GRU has no stacked (G·H, H + D) form: its new gate keeps two weights."""
    if cell == "gru" or cell not in GATE_ORDER:
        raise ValueError(f"cell must be one of {[c for c in CELLS if c != 'gru']}, got {cell!r}")
    gates = GATE_ORDER[cell]
    return _cat([params[f"W_{g}"] for g in gates]), _cat([params[f"b_{g}"] for g in gates])


def unstack_gates(W, b, cell: str = "lstm") -> dict:
    """The inverse of stack_gates: a dict keyed W_f, b_f, ... of views into W and b."""
    gates = GATE_ORDER[cell]
    H = W.shape[0] // len(gates)
    params = {}
    for k, gate in enumerate(gates):
        params[f"W_{gate}"], params[f"b_{gate}"] = W[k * H : (k + 1) * H], b[k * H : (k + 1) * H]
    return params


# ---------------------------------------------------------------------------------------------
# torch.nn's layout, one layer at a time.


def _to_layout(p: Mapping, H: int, cell: str) -> dict:
    """Our dict (checked) -> weight_ih, weight_hh, bias_ih, bias_hh (and weight_peephole)."""
    gates = GATE_ORDER[cell]
    W = {g: p[f"W_{g}"] for g in gates if f"W_{g}" in p}
    weight_ih = _cat([W[g][:, H:] if g in W else p["W_xn"] for g in gates])  # (G·H, D)
    weight_hh = _cat([W[g][:, :H] if g in W else p["W_hn"] for g in gates])  # (G·H, H)
    bias_ih = _cat([p[f"b_{g}"] if g in W else p["b_xn"] for g in gates])
    zeros = _zeros(bias_ih, H)
    bias_hh = _cat([zeros if g in W else p["b_hn"] for g in gates])  # only the GRU's n keeps one
    state = {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih, "bias_hh": bias_hh}
    if cell == "peephole":
        state["weight_peephole"] = _cat([p[key] for key in PEEPHOLE_ORDER])
    return state


def _from_layout(weight_ih, weight_hh, bias_ih, bias_hh, cell: str, weight_peephole=None) -> dict:
    """torch.nn's layout -> our dict; a missing bias (``bias=False``) counts as zeros."""
    gates = GATE_ORDER[cell]
    H = weight_hh.shape[1]
    bias_ih = _zeros(weight_ih, len(gates) * H) if bias_ih is None else bias_ih
    bias_hh = _zeros(weight_ih, len(gates) * H) if bias_hh is None else bias_hh
    params = {}
    for k, gate in enumerate(gates):
        rows = slice(k * H, (k + 1) * H)
        if cell == "gru" and gate == "n":  # r_t multiplies only the hidden part: keep both
            params["W_xn"], params["b_xn"] = _fresh(weight_ih[rows]), _fresh(bias_ih[rows])
            params["W_hn"], params["b_hn"] = _fresh(weight_hh[rows]), _fresh(bias_hh[rows])
        else:
            params[f"W_{gate}"] = _cat([weight_hh[rows], weight_ih[rows]], axis=1)  # [h | x]
            params[f"b_{gate}"] = bias_ih[rows] + bias_hh[rows]
    for k, key in enumerate(PEEPHOLE_ORDER if cell == "peephole" else ()):
        params[key] = _fresh(weight_peephole[k * H : (k + 1) * H])
    return {key: params[key] for key in PARAM_SPECS[cell]}


def _check_torch_cell(cell: str) -> None:
    if cell not in TORCH_CELLS:
        raise ValueError(
            f"cell must be one of {TORCH_CELLS} (PyTorch has no {cell!r}), got {cell!r}"
        )


def _checked(where: str, params, cell: str) -> tuple[dict, int]:
    """One layer's params checked against the cell's table (H and D learned by majority)."""
    values = params.values() if isinstance(params, Mapping) else ()
    check = TensorChecker() if any(is_tensor(v) for v in values) else ShapeChecker()
    return check.params(where, params, PARAM_SPECS[cell]), check.dims["H"]


def to_torch(params, cell: str = "lstm", as_tensors: bool = False) -> dict:
    """Our parameters as a PyTorch state dict.

    ``params``: one dict -> the names of nn.LSTMCell / nn.GRUCell / nn.RNNCell
    (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``); a list of per-layer dicts -> the names
    of nn.LSTM / nn.GRU / nn.RNN (``weight_ih_l0``, ...). Arrays keep their dtype, tensors stay
    tensors; with ``as_tensors=True`` arrays become torch tensors (this imports torch).
    """
    _check_torch_cell(cell)
    if isinstance(params, Mapping):
        state = _to_layout(*_checked("params", params, cell), cell)
    else:
        state = {}
        for k, layer in enumerate(params):
            for name, value in _to_layout(*_checked(f"params[{k}]", layer, cell), cell).items():
                state[f"{name}_l{k}"] = value
    if as_tensors:
        import torch

        state = {n: v if is_tensor(v) else torch.from_numpy(np.ascontiguousarray(v))
                 for n, v in state.items()}  # fmt: skip
    return state


def from_torch(state_dict: Mapping, cell: str = "lstm"):
    """A PyTorch state dict (tensors or arrays) as our NumPy parameters.

    Cell names (``weight_ih``, ...) give one dict; layered names (``weight_ih_l0``, ...) give a list
    with one dict per layer. Modules built with ``bias=False`` give zero biases. Bidirectional
    modules and LSTMs with ``proj_size`` have no counterpart here and are refused.
    """
    _check_torch_cell(cell)
    state = {
        name: np.asarray(value.detach().cpu().numpy() if is_tensor(value) else value)
        for name, value in state_dict.items()
    }
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
    G = len(GATE_ORDER[cell])
    weight_hh = state["weight_hh"]
    if weight_hh.ndim != 2 or weight_hh.shape[0] != G * weight_hh.shape[1]:
        raise ValueError(
            f"weight_hh{suffix} has shape {weight_hh.shape}; expected ({G} * H, H) for a {cell}"
        )
    check = ShapeChecker(G=G, H=weight_hh.shape[1])
    weights = [check(f"weight_{n}{suffix}", state[f"weight_{n}"], "G * H", "D" if n == "ih" else "H")
               for n in ("ih", "hh")]  # fmt: skip
    biases = [check(f"bias_{n}{suffix}", state[f"bias_{n}"], "G * H") if f"bias_{n}" in state
              else None for n in ("ih", "hh")]  # fmt: skip
    params = _from_layout(*weights, *biases, cell)
    return {key: np.ascontiguousarray(value) for key, value in params.items()}


# ---------------------------------------------------------------------------------------------
# One layer of a module (torch_ref's or torch.nn's), read or written in our layout.


def _module_kind(module) -> str:
    kind = getattr(module, "kind", None)  # torch_ref's modules say which cell they run
    if kind in GATE_ORDER:
        return kind
    name = type(module).__name__.lower().removesuffix("cell")
    if type(module).__module__.startswith("torch.nn") and name in TORCH_CELLS:
        return name
    raise TypeError(
        f"module must be a torch_ref or torch.nn RNN, LSTM or GRU (or cell), got {module}"
    )


def _module_names(module, layer: int, reverse: bool):
    if hasattr(module, "weight_ih"):  # a cell
        if layer != 0 or reverse:
            raise ValueError("a cell has one layer and one direction: use layer=0, reverse=False")
        return lambda name: name
    return lambda name: f"{name}_l{layer}{'_reverse' if reverse else ''}"


def params_from_module(module, layer: int = 0, reverse: bool = False) -> dict:
    """One layer's parameters as our dict of new (detached) tensors; zero biases if it has none.

    Works for torch_ref's modules (the variants included) and torch.nn's RNN, LSTM and GRU.
    """
    kind, name = _module_kind(module), _module_names(module, layer, reverse)
    keys = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_peephole")
    tensors = [getattr(module, name(key), None) for key in keys]
    return _from_layout(*[None if t is None else t.detach() for t in tensors[:4]], kind,
                        None if tensors[4] is None else tensors[4].detach())  # fmt: skip


def load_params(module, params: Mapping, layer: int = 0, reverse: bool = False) -> None:
    """Copy our params (arrays or tensors) into one layer of ``module`` (bias_ih = b, bias_hh = 0,
    but for the GRU's b_hn)."""
    import torch

    kind, name = _module_kind(module), _module_names(module, layer, reverse)
    p, H = _checked("params", params, kind)
    with torch.no_grad():
        for key, value in _to_layout(p, H, kind).items():
            target = getattr(module, name(key), None)
            if target is not None:  # a module without biases has None
                target.copy_(torch.as_tensor(value))
