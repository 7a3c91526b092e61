"""The mistakes of exercises 11 (a character-level language model) and 12 (stacked and
bidirectional LSTMs), recomputed on a test's inputs, and what those tests need besides.

- :func:`char_lm`: the given model of exercise 11, built in the verifier (its forward runs
  there, never in the student's process, so the expected loss cannot be steered by the answer);
- :func:`softmax_temperature_mistakes`, :func:`text_loss_mistakes`: {mistake key: value};
- :func:`check_frequencies`: a sampler judged by what it draws, with a stated bound;
- :func:`stacked_mistakes`, :func:`bidirectional_mistakes`: {mistake key: (hs, h_n, c_n)};
- :func:`torch_lstm`: torch.nn.LSTM (layers, directions) on our parameters, the independent
  reference of exercise 12.

torch is imported inside the functions that need it, never by ``import lstm_course.grading``.
"""

from __future__ import annotations

import math

import numpy as np

from lstm_course.grading.checks import _likely, _problem, as_array, compare
from lstm_ref import np_ref

# ---------------------------------------------------------------------------------------------
# Exercise 11: softmax with a temperature, sampling, the loss of a model on a text.


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_temperature_mistakes(logits, temperature: float) -> dict[str, np.ndarray]:
    """softmax(logits / temperature) with each mistake planted; logits (V,), temperature > 0."""
    z = np.asarray(logits, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(z / temperature)  # no shift: overflows for large z / τ
        naive = e / e.sum()
    out = {"temperature_ignored": _softmax(z), "temperature_multiplied": _softmax(z * temperature)}
    if not np.isfinite(naive).all():
        out["softmax_no_shift"] = naive
    return out


def check_probabilities(name: str, got, expected, mistakes: dict | None = None) -> None:
    """compare() for probabilities, where an overflowed softmax (inf or nan) is named too.

    ``got`` may be the AssertionError that calling the student's function raised: it fails with
    that message, and names a mistake whose value is non-finite (a division by τ = 0).
    """
    __tracebackhide__ = True
    try:
        array = as_array(got).astype(np.float64)
    except (TypeError, ValueError):
        array = None
    overflowed = [key for key, value in (mistakes or {}).items() if not np.isfinite(value).all()]
    if isinstance(got, Exception):
        raise AssertionError("\n".join([str(got), *_likely(overflowed)]))
    if array is not None and array.shape == np.shape(expected) and not np.isfinite(array).all():
        lines = [_problem(name, got, as_array(expected), None, 1e-6, 1e-8)]
        raise AssertionError("\n".join(lines + _likely(overflowed)))
    compare(name, got, expected, mistakes=mistakes)


def frequency_bound(p: np.ndarray, n: int) -> np.ndarray:
    """How far the frequencies of n draws from p may stray from p: 5 standard deviations of a
    binomial mean, sqrt(p (1 - p) / n), plus 2 / n for the normal approximation near p = 0.
    A correct sampler strays further with probability below 1e-6 per character."""
    return 5 * np.sqrt(p * (1 - p) / n) + 2 / n


def _fits(freq: np.ndarray, p: np.ndarray, n: int) -> bool:
    return bool(np.all(np.abs(freq - p) <= frequency_bound(p, n)))


def check_frequencies(name: str, draws, p, mistakes: dict | None = None) -> None:
    """Check that ``draws`` (n indices) are distributed as ``p`` (V,) within
    :func:`frequency_bound`; name the mistake whose distribution they fit instead."""
    __tracebackhide__ = True
    p = np.asarray(p, dtype=np.float64)
    draws = np.asarray(draws)
    n, V = len(draws), len(p)
    if draws.dtype.kind not in "iu" or draws.min() < 0 or draws.max() >= V:
        raise AssertionError(f"{name}: expected indices in range({V}), got {draws[:5]} ...")
    freq = np.bincount(draws, minlength=V) / n
    if _fits(freq, p, n):
        return
    gap = np.abs(freq - p) - frequency_bound(p, n)
    k = int(np.argmax(gap))
    found = [key for key, q in (mistakes or {}).items() if _fits(freq, np.asarray(q), n)]
    lines = [
        f"{name}: over {n} draws, character {k} came {freq[k]:.4f} of the time; expected "
        f"{p[k]:.4f} ± {frequency_bound(p, n)[k]:.4f} (5 standard deviations).",
        f"Your frequencies: {np.round(freq, 3).tolist()}; expected: {np.round(p, 3).tolist()}.",
    ]
    raise AssertionError("\n".join(lines + _likely(found)))


def char_lm(V: int, H: int = 16, emb: int = 8, seed: int = 0, uniform: bool = False):
    """Exercise 11's model in float64: embedding (V -> emb), one LSTM layer, a linear head.

    Its weights are drawn from N(0, 0.5²) (the head's from N(0, 1), so its predictions are
    far from uniform) with a generator of its own; ``uniform``: a zero head, every logit 0.
    forward(ids (N, T) integers) -> (logits (N, T, V), (h, c)), as in chapter 11.
    """
    import torch

    class CharLM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(V, emb)
            self.lstm = torch.nn.LSTM(emb, H, batch_first=True)
            self.head = torch.nn.Linear(H, V)
            g = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                for name, p in self.named_parameters():
                    scale = 1.0 if name.startswith("head") else 0.5
                    p.copy_(scale * torch.randn(p.shape, generator=g))
                    if uniform and name.startswith("head"):
                        p.zero_()
            self.double()

        def forward(self, ids, state=None):
            hs, state = self.lstm(self.embed(torch.as_tensor(ids)), state)
            return self.head(hs), state

    return CharLM()


def _logits(model, ids: np.ndarray) -> np.ndarray:
    """The model's logits (T, V) reading ids (T,) in one pass from a zero state."""
    import torch

    with torch.no_grad():
        return model(torch.as_tensor(ids)[None])[0][0].numpy()


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def text_loss_mistakes(model, ids) -> dict[str, tuple[float, float]]:
    """The loss (nats, bits) of ``model`` on the text ``ids`` (n,) with each mistake planted."""
    import torch

    ids = np.asarray(ids)
    n = len(ids)
    logp = _log_softmax(_logits(model, ids))  # (n, V): step t has read ids[: t + 1]
    picked = logp[np.arange(n - 1), ids[1:]]  # log p(x_{t+1} | x_1..x_t)
    nats = -picked.mean()

    def pair(value):
        return (value, value / math.log(2))

    with torch.no_grad():  # each character read from a zero state: the state not carried
        alone = np.stack([model(torch.as_tensor(ids[t : t + 1])[None])[0][0, 0].numpy()
                          for t in range(n - 1)])  # fmt: skip
    probs = np.exp(logp)
    out = {
        "lm_targets_not_shifted": pair(-logp[np.arange(n - 1), ids[:-1]].mean()),
        "lm_targets_not_shifted:the model read the whole text, logits[1:] against ids[1:]": pair(
            -logp[np.arange(1, n), ids[1:]].mean()
        ),
        "lm_first_char": pair(-logp[np.arange(n), np.roll(ids, -1)].mean()),
        "lm_first_char:the first character counted with probability 1 / V": pair(
            (-picked.sum() + math.log(len(probs[0]))) / n
        ),
        "lm_log2_for_ln": (nats / math.log(2), nats / math.log(2) ** 2),
        "lm_bits_conversion": (nats, nats * math.log(2)),
        "lm_bits_conversion:bits = nats": (nats, nats),
        "lm_sum": pair(-picked.sum()),
        "lm_divided_by_n": pair(-picked.sum() / n),
        "lm_softmax_twice": pair(-_log_softmax(probs)[np.arange(n - 1), ids[1:]].mean()),
        "state_not_carried": pair(-_log_softmax(alone)[np.arange(n - 1), ids[1:]].mean()),
    }
    return out


# ---------------------------------------------------------------------------------------------
# Exercise 12: stacked and bidirectional LSTMs.


def _run(x, p, h0=None, c0=None):
    hs, (h_T, c_T), _ = np_ref.lstm_forward(x, p, h0=h0, c0=c0)
    return hs, h_T, c_T


def stacked_mistakes(x, layers) -> dict[str, tuple[np.ndarray, ...]]:
    """A stack of LSTM layers with each mistake planted: {key: (hs, h_n, c_n)}, hs (N, T, H) of
    the top layer, h_n and c_n (L, N, H). A mistake that cannot run on these shapes (layer 2
    fed x when D != H) is left out."""
    x = np.asarray(x, dtype=np.float64)
    D, H = x.shape[2], np.asarray(layers[0]["b_f"]).shape[0]

    def stack(inputs="hs", params=None, pass_state=False, top=-1):
        below, state, finals = x, (None, None), []
        for p in layers:
            hs, h_T, c_T = _run(x if inputs == "x" else below, params or p, *state)
            finals.append((hs, h_T, c_T))
            below = hs
            state = (h_T, c_T) if pass_state else (None, None)
        return (finals[top][0], np.stack([f[1] for f in finals]), np.stack([f[2] for f in finals]))

    out = {"stacked_state_passed": stack(pass_state=True)}
    if len(layers) > 1:
        out["stacked_first_layer_only"] = stack(top=0)
        if D == H:
            out["stacked_reads_x"] = stack(inputs="x")
            out["stacked_shared_weights"] = stack(params=layers[0])
    return out


def bidirectional_mistakes(x, params_fwd, params_bwd) -> dict[str, tuple[np.ndarray, ...]]:
    """A bidirectional LSTM with each mistake planted: {key: (hs (N, T, 2H), h_n, c_n)}."""
    x = np.asarray(x, dtype=np.float64)
    f_hs, f_h, f_c = _run(x, params_fwd)
    b_hs, b_h, b_c = _run(x[:, ::-1], params_bwd)  # (N, T, H), in reversed time
    s_hs, s_h, s_c = _run(x[:, ::-1], params_fwd)  # the forward weights read it backwards
    n_hs, n_h, n_c = _run(x, params_bwd)  # the backward weights read it forwards

    def out(fwd, bwd, h, c, order=1):
        return (np.concatenate([fwd, bwd][::order], axis=2), np.stack(h), np.stack(c))

    return {
        "bidir_not_flipped_back": out(f_hs, b_hs, (f_h, b_h), (f_c, b_c)),
        "bidir_concat_order": out(f_hs, b_hs[:, ::-1], (f_h, b_h), (f_c, b_c), order=-1),
        "bidir_not_reversed": out(f_hs, n_hs, (f_h, n_h), (f_c, n_c)),
        "bidir_shared_weights": out(f_hs, s_hs[:, ::-1], (f_h, s_h), (f_c, s_c)),
        "bidir_backward_final": out(
            f_hs, b_hs[:, ::-1], (f_h, b_hs[:, 0]), (f_c, _run(x[:, -1:], params_bwd)[2])
        ),
    }


def torch_lstm(x, layers, bidirectional: bool = False):
    """torch.nn.LSTM (float64, batch_first) with our parameters: (output, (h_n, c_n)) as arrays.

    ``layers``: one dict per layer, or with ``bidirectional`` one (forward, backward) pair of
    dicts per layer. Biases go to bias_ih (bias_hh = 0), as lstm_ref.params.load_params does.
    """
    import torch

    from lstm_ref.params import load_params

    pairs = [pair if bidirectional else (pair,) for pair in layers]
    D, H = np.shape(x)[2], np.shape(pairs[0][0]["b_f"])[0]
    module = torch.nn.LSTM(D, H, num_layers=len(pairs), batch_first=True,
                           bidirectional=bidirectional, dtype=torch.float64)  # fmt: skip
    for k, pair in enumerate(pairs):
        for reverse, p in enumerate(pair):
            load_params(module, p, layer=k, reverse=bool(reverse))
    with torch.no_grad():
        out, (h_n, c_n) = module(torch.as_tensor(np.asarray(x, dtype=np.float64)))
    return out.numpy(), (h_n.numpy(), c_n.numpy())
