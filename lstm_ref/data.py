"""Synthetic data made by code, so nothing is ever downloaded.

- ``sine_waves``: the sine waves of PyTorch's time-sequence-prediction example.
- ``seasonal_sales``: monthly ice-cream sales that repeat every 12 periods, lowest in December and
  highest in June, on a slow trend with noise.
- ``adding_task`` and ``copy_task``: the classic long-range dependency tests of recurrent nets.
- ``make_windows``: cut a series into (window -> next value) training pairs.
"""

from __future__ import annotations

import numpy as np


def sine_waves(n_series: int, length: int, period: float = 20.0, seed: int = 0) -> np.ndarray:
    """``n_series`` sine waves of ``length`` samples, each with a random phase: (n_series, length).

    Sample k of series j is sin((k + s_j) / (period / 2π)) with s_j uniform over a few periods.
    """
    rng = np.random.default_rng(seed)
    shift = rng.integers(-4 * int(period), 4 * int(period), size=(n_series, 1))
    k = np.arange(length)[None, :]
    return np.sin(2 * np.pi * (k + shift) / period)


def seasonal_sales(
    n_periods: int, season: int = 12, trend: float = 0.02, noise: float = 0.1, seed: int = 0
) -> np.ndarray:
    """Monthly sales (n_periods,): a season of ``season`` periods that peaks in June (month 5,
    counting January as 0) and is lowest in December, on a linear trend, with Gaussian noise."""
    rng = np.random.default_rng(seed)
    month = np.arange(n_periods) % season
    seasonal = np.cos(2 * np.pi * (month - 5) / season)  # 1 in June, -1 in December (month 11)
    return 2.0 + seasonal + trend * np.arange(n_periods) + noise * rng.standard_normal(n_periods)


def adding_task(n: int, T: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter and Schmidhuber, 1997).

    x (n, T, 2): channel 0 holds random numbers in [0, 1), channel 1 marks two positions, one in
    the first half and one in the second half. y (n,): the sum of the two marked numbers. A model
    must carry the first marked number for up to T steps; always answering 1 gives MSE ≈ 1/6.
    """
    rng = np.random.default_rng(seed)
    x = np.zeros((n, T, 2))
    x[:, :, 0] = rng.random((n, T))
    half = max(T // 2, 1)
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, T, size=n) if T > 1 else first
    rows = np.arange(n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    y = x[rows, first, 0] + (x[rows, second, 0] if T > 1 else 0.0)
    return x, y


def copy_task(n: int, lag: int, n_symbols: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Remember a symbol for ``lag`` steps: x (n, lag + 1, n_symbols + 1), y (n,).

    Step 0 shows a one-hot symbol; the next ``lag - 1`` steps are blank; the last step raises the
    extra "recall" channel. The target y is the symbol's index. Chance accuracy is 1 / n_symbols.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_symbols, size=n)
    x = np.zeros((n, lag + 1, n_symbols + 1))
    x[np.arange(n), 0, y] = 1.0
    x[:, lag, n_symbols] = 1.0
    return x, y


def make_windows(series, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Training pairs from a series (L,): X (N, window, 1) and the value after each window y (N, 1),
    with N = L - window."""
    series = np.asarray(series, dtype=np.float64)
    if series.ndim != 1:
        raise ValueError(f"series has shape {series.shape}; expected (L,), a 1-D array")
    if not 1 <= window < len(series):
        raise ValueError(f"window is {window}; expected 1 <= window < L = {len(series)}")
    N = len(series) - window
    X = np.lib.stride_tricks.sliding_window_view(series, window)[:N]
    return X[:, :, None].copy(), series[window:, None].copy()
