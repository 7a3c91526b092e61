"""The package as a whole: importing it needs no torch, and the synthetic data is what it claims."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from lstm_ref import data


def test_import_lstm_ref_and_np_ref_leaves_torch_unimported():
    code = (
        "import sys, lstm_ref, lstm_ref.np_ref, lstm_ref.params, lstm_ref.data;"
        "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_numpy_reference_works_where_torch_cannot_be_imported():
    code = (
        "import sys; sys.modules['torch'] = None\n"  # makes `import torch` raise ImportError
        "import numpy as np\n"
        "from lstm_ref import np_ref\n"
        "from lstm_ref.params import init_params, to_torch\n"
        "p = init_params('lstm', 3, 4)\n"
        "np_ref.lstm_backward(np.ones((2, 5, 4)), np_ref.lstm_forward(np.ones((2, 5, 3)), p)[2])\n"
        "to_torch(p)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_adding_task_target_is_the_sum_of_the_two_marked_numbers():
    x, y = data.adding_task(50, 20, seed=1)
    assert x.shape == (50, 20, 2) and y.shape == (50,)
    assert np.all(x[:, :, 1].sum(axis=1) == 2)
    assert np.all(x[:, :10, 1].sum(axis=1) == 1)  # one mark in each half
    np.testing.assert_allclose(y, (x[:, :, 0] * x[:, :, 1]).sum(axis=1))


def test_copy_task_shows_the_symbol_first_and_asks_for_it_last():
    x, y = data.copy_task(10, lag=7, n_symbols=4, seed=2)
    assert x.shape == (10, 8, 5)
    assert np.array_equal(x[:, 0, :4].argmax(axis=1), y)
    assert np.all(x[:, 1:7] == 0) and np.all(x[:, 7, 4] == 1)


def test_seasonal_sales_peak_in_june_and_bottom_in_december():
    sales = data.seasonal_sales(12 * 20, trend=0.0, noise=0.0)
    by_month = sales.reshape(20, 12).mean(axis=0)
    assert by_month.argmax() == 5 and by_month.argmin() == 11
    assert np.allclose(sales[:12], sales[12:24])  # repeats every 12 periods


def test_sine_waves_have_the_period_asked_for():
    waves = data.sine_waves(3, 200, period=20, seed=0)
    assert waves.shape == (3, 200)
    np.testing.assert_allclose(waves[:, 20:], waves[:, :-20], atol=1e-12)


def test_make_windows_pairs_each_window_with_the_next_value():
    X, y = data.make_windows(np.arange(10.0), 4)
    assert X.shape == (6, 4, 1) and y.shape == (6, 1)
    assert np.array_equal(X[2, :, 0], [2, 3, 4, 5]) and y[2, 0] == 6
    with pytest.raises(ValueError, match=r"window is 10; expected 1 <= window < L = 10"):
        data.make_windows(np.arange(10.0), 10)
