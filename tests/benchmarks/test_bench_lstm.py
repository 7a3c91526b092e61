"""The benchmark script and the performance page that shows its results."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jupytext
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "book" / "appendix" / "performance.md"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "bench_lstm", ROOT / "benchmarks" / "bench_lstm.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flop_counts(bench):
    cfg = bench.CONFIGS["M"]
    assert bench.flops(cfg, "forward") == 8 * 100 * 64 * 512 * (512 + 512)
    assert bench.flops(cfg, "forward+backward") == 3 * bench.flops(cfg, "forward")


def test_a_tiny_run_measures_every_implementation_and_writes_a_table(bench, monkeypatch):
    args = bench.parse_args(["--configs", "S", "--repeats", "1", "--warmups", "0", "--no-progress",
                             "--impls", "numpy,eager,fast,nn", "--threads", "1"])  # fmt: skip
    monkeypatch.setattr(bench, "CONFIGS", {"S": {"T": 3, "N": 2, "D": 4, "H": 5}})  # a tiny S
    threads = torch.get_num_threads()
    try:
        report = bench.run_benchmark(args)
    finally:
        torch.set_num_threads(threads)  # run_benchmark sets the thread count for everyone
    rows = report["results"]
    assert {(r["impl"], r["mode"]) for r in rows} == {
        (i, m) for i in ("numpy", "eager", "fast", "nn") for m in bench.MODES
    }
    assert all(r["median_ms"] > 0 and r["gflops"] > 0 for r in rows)
    assert all(r["ratio_to_nn"] == 1.0 for r in rows if r["impl"] == "nn")
    table = bench.format_table(report)
    assert "torch.nn.LSTM" in table and "GFLOP/s" in table
    json.dumps(report)  # serialisable


def test_goals_are_judged_against_the_bounds(bench):
    rows = [
        {"impl": "numpy", "mode": "forward+backward", "config": "M", "ratio_to_nn": 1.2},
        {"impl": "fast", "mode": "forward+backward", "config": "L", "ratio_to_nn": 1.4},
    ]
    goals = {(g["impl"], g["config"]): g["met"] for g in bench.goals(rows, "cpu")}
    assert goals == {("numpy", "M"): True, ("fast", "L"): False}


def run_page_cells(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(PAGE.parent)
    notebook = jupytext.read(PAGE)
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    namespace = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, str(PAGE), "exec"), namespace)
    return shown


def test_performance_page_cells_run(tmp_path, monkeypatch):
    """The page's code runs offline and quickly, and shows a table for each device."""
    shown = run_page_cells(tmp_path, monkeypatch)
    text = "\n".join(getattr(obj, "data", str(obj)) for obj in shown)
    assert "**CPU**" in text and "**CUDA**" in text


def test_committed_results_have_the_benchmark_format():
    path = PAGE.parent / "bench_results.json"
    if not path.exists():
        pytest.skip("no committed results yet")
    stored = json.loads(path.read_text())
    for device, report in stored.items():
        assert report["environment"]["device"] == device
        assert {"config", "impl", "mode", "median_ms", "gflops", "ratio_to_nn"} <= set(
            report["results"][0]
        )
