"""The prose states what the experiments found; these tests keep the prose and the numbers together.

After the site is built, the executed outputs sit in the build's jupyter-cache
(_build/.jupyter_cache). We read the printed results of the chapters' experiments from there and
check the statements the text makes about them,
so that a change to an experiment that changes its outcome fails here instead of leaving the
chapter saying something its own output contradicts.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import numpy as np
import pytest
from jupyter_cache import get_cache

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]


def printed(built_site, chapter: str) -> str:
    """Everything the executed chapter printed (from the build's cache), as one string."""
    nb = jupytext.read(ROOT / "book" / f"{chapter}.md")
    # Raises KeyError if the cache holds no execution of this exact code: the build must run first.
    _, nb = get_cache(ROOT / "_build" / ".jupyter_cache").merge_match_into_notebook(nb)
    chunks = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                text = out["text"]
                chunks.append(text if isinstance(text, str) else "".join(text))
    return "".join(chunks)


def test_ch1_copy_task_outcome_matches_the_text(built_site):
    """Check chapter 1's stated findings: every model learns lag 10; only the chrono LSTM learns
    lag 100; no model beats chance clearly at lag 1000."""
    out = printed(built_site, "01_rnn_vs_lstm")
    acc = {
        (kind.strip(), int(lag)): float(value) / 100
        for lag, kind, value in re.findall(
            r"lag\s+(\d+)\s+(RNN|LSTM, forget bias 1|LSTM, chrono)\s+test accuracy\s+([\d.]+)%", out
        )
    }
    kinds = ("RNN", "LSTM, forget bias 1", "LSTM, chrono")
    assert len({k for k in acc}) == 9, f"expected 9 results (3 models x 3 lags), got {acc}"
    for kind in kinds:
        assert acc[kind, 10] > 0.9, f"{kind} at lag 10: {acc[kind, 10]:.0%}, the text says learned"
        assert acc[kind, 1000] < 0.4, f"{kind} at lag 1000: {acc[kind, 1000]:.0%}, text says chance"
    assert acc["LSTM, chrono", 100] > 0.9, "the text says the chrono LSTM learns lag 100"
    for kind in ("RNN", "LSTM, forget bias 1"):
        assert acc[kind, 100] < 0.4, f"{kind} at lag 100: {acc[kind, 100]:.0%}, text says chance"


def test_ch1_gradient_ordering_matches_the_text(built_site):
    """Check chapter 1's gradient measurements: at 100 steps back the chrono LSTM keeps a usable
    gradient while the RNN's and the default LSTM's have vanished."""
    out = printed(built_site, "01_rnn_vs_lstm")
    at100 = {
        kind.strip(): float(v)
        for kind, v in re.findall(
            r"^(RNN|LSTM, [a-z 1]+?)\s+at T-t = 10: \S+\s+100: (\S+)", out, re.M
        )
    }
    assert set(at100) == {"RNN", "LSTM, default", "LSTM, forget bias 1", "LSTM, chrono"}, at100
    assert at100["LSTM, chrono"] > 1e-2
    assert at100["RNN"] < 1e-10 and at100["LSTM, default"] < 1e-10
    assert (
        at100["RNN"] < at100["LSTM, default"] < at100["LSTM, forget bias 1"] < at100["LSTM, chrono"]
    )


def vector(out: str, label: str) -> np.ndarray:
    """The numbers printed after `label` on one line, as an array."""
    match = re.search(re.escape(label) + r"\s*\[([-\d.e\s]+)\]", out)
    assert match, f"nothing printed after {label!r}"
    return np.array(match.group(1).split(), dtype=float)


def test_ch1_pulse_trace_fades_while_the_state_does_not(built_site):
    """Check chapter 1's pulse: the difference between the runs with and without the pulse shrinks
    at every step, from 0.63 to about 0.03, while the quiet run's state stays near 0.5."""
    out = printed(built_site, "01_rnn_vs_lstm")
    trace = vector(out, "|difference|:")
    quiet = vector(out, "|h_t|, no pulse:")
    assert len(trace) == 8 and np.all(np.diff(trace) < 0), f"the trace does not shrink: {trace}"
    assert abs(trace[0] - 0.63) < 0.005 and trace[-1] < 0.05, f"trace {trace}"
    assert list(np.round(trace[1:3], 2)) == [0.45, 0.26], f"the text quotes 0.45, 0.26: {trace}"
    assert np.all((quiet > 0.4) & (quiet < 0.7)), f"the quiet run should hover near 0.5: {quiet}"


def test_ch6_gradient_across_time_matches_the_text(built_site):
    """Check chapter 6's findings: the RNN's gradient loses about 28 orders of magnitude in 99
    steps; the LSTM with f near 0.5 also vanishes, more slowly; the cell-state gradient shrinks per
    step by a little more than the mean forget gate; with f near 0.98 over a tenth remains."""
    out = printed(built_site, "06_bptt")
    rnn = np.array(
        re.search(r"RNN: \|\|dL/dh_\{T-k\}\|\| at k = 0, 10, 50, 99: (.*)", out).group(1).split(),
        dtype=float,
    )
    assert 27 <= np.log10(rnn[0] / rnn[3]) < 29.5, f"RNN gradient sizes {rnn}"
    runs = {}
    for b, mean_f, rate, c_sizes, h_sizes in re.findall(
        r"forget bias (\d): mean f_t ([\d.]+), \|\|dL/dC\|\| shrinks by ([\d.]+) per step\n"
        r"\s+\|\|dL/dC_\{T-k\}\|\| at k = 0, 10, 50, 99: (.*)\n"
        r"\s+\|\|dL/dh_\{T-k\}\|\| at k = 0, 10, 50, 99: (.*)",
        out,
    ):
        c = np.array(c_sizes.split(), dtype=float)
        h = np.array(h_sizes.split(), dtype=float)
        runs[int(b)] = (float(mean_f), float(rate), c, h)
    assert sorted(runs) == [0, 1, 2, 4], f"forget biases printed: {sorted(runs)}"
    quoted = {0: (0.50, 0.59), 1: (0.73, 0.83), 2: (0.88, 0.95), 4: (0.98, 0.98)}
    for b, (mean_f, rate, _, _) in runs.items():
        assert mean_f <= rate <= mean_f + 0.1, f"bias {b}: per-step {rate} vs mean f {mean_f}"
        assert (round(mean_f, 2), round(rate, 2)) == quoted[b], f"bias {b}: {mean_f}, {rate}"
    c0, h0 = runs[0][2], runs[0][3]
    assert c0[3] < 1e-20 and h0[3] < 1e-20, "the text says f near 0.5 vanishes below 1e-20"
    assert h0[3] > rnn[3], "the text says the default LSTM vanishes more slowly than the RNN"
    c4 = runs[4][2]
    assert 5e-3 < c4[3] < 5e-2 and c4[3] > c4[0] / 10, f"bias 4: ||dL/dC|| {c4}"
    entering = [runs[b][2][0] for b in (0, 1, 2, 4)]
    assert entering[3] == min(entering), f"the text says bias 4 enters smallest: {entering}"


def test_ch3_sigmoid_rounding_thresholds(built_site):
    """Check the float64 and float32 thresholds quoted in chapter 3 and the misconceptions page."""
    out = printed(built_site, "03_forget_gate")
    assert "float64: sigmoid(z) == 1.0 from z = 36.74" in out
    assert "float32: sigmoid(z) == 1.0 from z = 16.64" in out


def test_ch8_gated_cells_perform_alike(built_site):
    """Check chapter 8's statement that the gated cells end up close together (within 25%)."""
    out = printed(built_site, "08_variants")
    mse = {
        n: float(v) for n, v in re.findall(r"^(\w+)\s+params\s+\d+\s+test MSE ([\d.]+)", out, re.M)
    }
    gated = [mse[n] for n in ("LSTM", "peephole", "coupled", "GRU")]
    assert max(gated) < 1.25 * min(gated), f"test MSEs {mse}"


def test_ch10_forecasts_match_the_text(built_site):
    """Check chapter 10: the free-running sine forecast stays accurate over 140 steps and the LSTM
    beats the 'same month last year' forecast of sales."""
    out = printed(built_site, "10_project")
    free = float(re.search(r"first 140 steps: (\S+)", out).group(1))
    assert free < 0.01, f"free-running MSE over 140 steps is {free}"
    lstm, naive = map(
        float, re.search(r"LSTM: ([\d.]+)\s+same month last year: ([\d.]+)", out).groups()
    )
    assert lstm < naive, f"LSTM {lstm} vs naive {naive}"
    mean_f = float(
        re.search(r"mean forget gate over these units and steps: ([\d.]+)", out).group(1)
    )
    assert 0.2 < mean_f < 0.8, f"the text says the forget gates sit mid-range; mean is {mean_f}"
