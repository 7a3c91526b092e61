"""benchmarks/bench_lstm.py (`make bench`) and the performance page that shows its results."""

from __future__ import annotations

import importlib.util
import json
import re
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


def tiny_run(bench, monkeypatch) -> dict:
    """One run of every CPU implementation on a tiny S, one thread, no warm-up."""
    args = bench.parse_args(["--configs", "S", "--repeats", "1", "--warmups", "0", "--no-progress",
                             "--impls", "numpy,eager,fast,nn", "--threads", "1"])  # fmt: skip
    monkeypatch.setattr(bench, "CONFIGS", {"S": {"T": 3, "N": 2, "D": 4, "H": 5}})  # a tiny S
    threads = torch.get_num_threads()
    try:
        return bench.run_benchmark(args)
    finally:
        torch.set_num_threads(threads)  # run_benchmark sets the thread count for everyone


def test_a_tiny_run_measures_every_implementation_and_writes_a_table(bench, monkeypatch):
    report = tiny_run(bench, monkeypatch)
    rows = report["results"]
    assert {(r["impl"], r["mode"]) for r in rows} == {
        (i, m) for i in ("numpy", "eager", "fast", "nn") for m in bench.MODES
    }
    assert all(r["median_ms"] > 0 and r["gflops"] > 0 for r in rows)
    assert all(r["ratio_to_nn"] == 1.0 for r in rows if r["impl"] == "nn")
    table = bench.format_table(report)
    assert "torch.nn.LSTM" in table and "GFLOP/s" in table
    assert report["environment"]["blas"] in table and "kernels" in table, table
    json.dumps(report)  # serialisable


def test_a_run_records_which_blas_kernels_ran(bench, monkeypatch):
    """NumPy's OpenBLAS as threadpoolctl reports it, PyTorch's MKL, and the override variables."""
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.delenv("OPENBLAS_L2_SIZE", raising=False)
    env = bench.blas_libraries()
    (openblas,) = [lib for lib in env["numpy_blas"] if lib["internal_api"] == "openblas"]
    assert openblas["version"] and openblas["architecture"], openblas
    assert re.fullmatch(r"MKL [\d.]+, oneDNN v[\d.]+, CPU capability \w+", env["torch_blas"]), env[
        "torch_blas"
    ]
    assert env["openblas_env"] == {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": None}
    line = bench.describe_blas(env)
    assert f"OpenBLAS {openblas['version']}, {openblas['architecture']} kernels" in line, line
    assert "forced by OPENBLAS_CORETYPE=Haswell" in line, line


def test_goals_are_judged_against_the_bounds(bench):
    """NumPy forward + backward within 1.1 of torch.nn.LSTM on M and L, 1.5 on S; forward 1.3."""
    rows = [
        {"impl": "numpy", "mode": "forward+backward", "config": "S", "ratio_to_nn": 1.45},
        {"impl": "numpy", "mode": "forward+backward", "config": "M", "ratio_to_nn": 1.09},
        {"impl": "numpy", "mode": "forward+backward", "config": "L", "ratio_to_nn": 1.12},
        {"impl": "numpy", "mode": "forward", "config": "L", "ratio_to_nn": 1.31},
        {"impl": "fast", "mode": "forward+backward", "config": "L", "ratio_to_nn": 1.4},
    ]
    goals = {(g["impl"], g["mode"], g["config"]): g["met"] for g in bench.goals(rows, "cpu")}
    assert goals == {
        ("numpy", "forward+backward", "S"): True,
        ("numpy", "forward+backward", "M"): True,
        ("numpy", "forward+backward", "L"): False,
        ("numpy", "forward", "L"): False,
        ("fast", "forward+backward", "L"): False,
    }


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


def test_performance_page_shows_the_blas_kernels_and_the_goals(bench, tmp_path, monkeypatch):
    """Fed a run's results, the page names the BLAS kernels and judges each goal in its table."""
    report = tiny_run(bench, monkeypatch)
    report["goals"] = [
        {
            "impl": "numpy",
            "mode": "forward",
            "config": "S",
            "bound": 1.3,
            "ratio": 9.0,
            "met": False,
        }
    ]
    (tmp_path / "bench_results.json").write_text(json.dumps({"cpu": report}))
    monkeypatch.setattr(Path, "cwd", lambda: tmp_path)  # the page looks for results from here
    shown = run_page_cells(tmp_path, monkeypatch)
    text = "\n".join(getattr(obj, "data", str(obj)) for obj in shown)
    assert report["environment"]["blas"] in text
    assert "<th>goal</th>" in text and "≤ 1.3: missed" in text, text


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


def test_committed_results_record_the_blas_and_the_current_goals(bench):
    """The figures the performance page shows name the BLAS kernels that ran and were judged
    against today's goals (a stale results file with old goals fails here)."""
    stored = json.loads((PAGE.parent / "bench_results.json").read_text())
    for device, report in stored.items():
        assert report["environment"]["blas"], device
        for g in report["goals"]:
            assert bench.GOALS[(device, g["impl"], g["mode"], g["config"])] == g["bound"], g
