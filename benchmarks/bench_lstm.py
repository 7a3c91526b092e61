"""`make bench`: the LSTM references side by side with torch.nn.LSTM, forward and forward + backward.

Measures, in one run and on the same thread count, the NumPy reference's fast path
(lstm_ref.np_ref.lstm_forward_fast / lstm_backward_fast), our PyTorch LSTM (lstm_ref.torch_ref.LSTM)
on its readable eager loop, on its fast path, and on its fast path with the step compiled by
torch.compile, and torch.nn.LSTM (oneDNN on the CPU, cuDNN on a GPU), in float32, on

    S  T = 150, N = 16,  D = H = 256    latency-bound: small matrix products, many steps
    M  T = 100, N = 64,  D = H = 512    PyTorch's fastrnns default
    L  T = 50,  N = 128, D = H = 1024   matrix-bound

Each time is the median of --repeats runs after warm-ups; GFLOP/s count a forward pass as
8·T·N·H·(D + H) flops (4 gates, each an (N, D + H) @ (D + H, H) product of 2·N·H·(D + H) flops,
per step) and forward + backward as three times that (the backward pass has two such products). Each time is also given as a ratio to
torch.nn.LSTM's. On a GPU every timing is bracketed by torch.cuda.synchronize(), and our matrix
products use TF32 exactly when cuDNN does (torch.backends.cudnn.allow_tf32).

    make bench                                        # CPU, S M L, ~5-10 minutes
    make bench BENCH_ARGS="--quick"                   # fewer repeats, a smoke test
    make bench BENCH_ARGS="--device cuda"             # on a GPU
    make bench BENCH_ARGS="--configs M,L --repeats 9 --threads 2 --write-book"

`make bench` runs this script with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset: set (as on the
course machines), they hold NumPy's OpenBLAS to older, slower kernels than a reader's machine runs.
The results record which BLAS libraries ran, with which kernels (threadpoolctl), and those
variables' values. The table is printed and written as JSON to benchmarks/results/ (not committed);
--write-book also stores it, under its device, in book/appendix/bench_results.json, which the
book's performance page shows.
"""

from __future__ import annotations

import argparse
import os
import sys

# The thread count must reach the BLAS libraries before numpy or torch is imported.
_THREADS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def _default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--configs", default="S,M,L", help="comma-separated, from S, M, L")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs (default 5)")
    parser.add_argument("--warmups", type=int, default=None, help="untimed runs (default 2)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for every side")
    parser.add_argument(
        "--impls",
        default="numpy,eager,fast,compiled,graphs,nn",
        help="comma-separated, from numpy, eager, fast, compiled, graphs (CUDA only), nn",
    )
    parser.add_argument("--quick", action="store_true", help="2 repeats, 1 warm-up: a smoke test")
    parser.add_argument("--no-tf32", action="store_true", help="GPU: full float32 everywhere")
    parser.add_argument("--json", default=None, help="where to write the JSON")
    parser.add_argument(
        "--write-book", action="store_true", help="store in book/appendix/bench_results.json"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--note", default="", help="a remark stored with the results")
    args = parser.parse_args(argv)
    args.threads = args.threads or _default_threads()
    args.repeats = args.repeats or (2 if args.quick else 5)
    args.warmups = args.warmups if args.warmups is not None else (1 if args.quick else 2)
    return args


if __name__ == "__main__":
    _ARGS = parse_args()
    for _name in _THREADS_ENV:
        os.environ[_name] = str(_ARGS.threads)

import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402

import lstm_ref.np_ref as npr  # noqa: E402
import lstm_ref.torch_ref as tr  # noqa: E402
from lstm_ref.torch_ref import speed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# Set on the course machines, they pick OpenBLAS's kernels and cache size by hand (`make bench`
# unsets them); recorded with each run, so that a run made under them says so.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
CONFIGS = {
    "S": {"T": 150, "N": 16, "D": 256, "H": 256},
    "M": {"T": 100, "N": 64, "D": 512, "H": 512},
    "L": {"T": 50, "N": 128, "D": 1024, "H": 1024},
}
IMPLS = {
    "numpy": "NumPy reference (np_ref fast path)",
    "eager": "torch_ref, readable eager loop",
    "fast": "torch_ref, fast path",
    "compiled": "torch_ref, fast path + torch.compile'd step",
    "graphs": "torch_ref, compiled step + CUDA graphs",
    "nn": "torch.nn.LSTM",
}
MODES = ("forward", "forward+backward")
# The course's goals: (device, impl, mode, config) -> the largest allowed ratio to torch.nn.LSTM.
GOALS = {
    ("cpu", "numpy", "forward", "S"): 1.3,
    ("cpu", "numpy", "forward", "M"): 1.3,
    ("cpu", "numpy", "forward", "L"): 1.3,
    ("cpu", "numpy", "forward+backward", "S"): 1.5,
    ("cpu", "numpy", "forward+backward", "M"): 1.1,
    ("cpu", "numpy", "forward+backward", "L"): 1.1,
    ("cpu", "fast", "forward", "M"): 1.3,
    ("cpu", "fast", "forward", "L"): 1.3,
    ("cpu", "fast", "forward+backward", "M"): 1.3,
    ("cpu", "fast", "forward+backward", "L"): 1.3,
    ("cuda", "compiled", "forward+backward", "M"): 1.2,
    ("cuda", "compiled", "forward+backward", "L"): 1.1,
    ("cuda", "graphs", "forward+backward", "M"): 1.2,
    ("cuda", "graphs", "forward+backward", "L"): 1.1,
    # "eager" in the sense: PyTorch eager mode, nothing compiled: both of ours qualify
    ("cuda", "eager", "forward+backward", "M"): 3.0,
    ("cuda", "fast", "forward+backward", "M"): 3.0,
}


def flops(cfg: dict, mode: str) -> float:
    """8·T·N·H·(D + H) for a forward pass; the backward pass costs twice the forward."""
    forward = 8 * cfg["T"] * cfg["N"] * cfg["H"] * (cfg["D"] + cfg["H"])
    return forward * (3 if mode == "forward+backward" else 1)


# ---------------------------------------------------------------------------------------------
# One runner per implementation: a function that does one forward (or forward + backward) pass.


def numpy_runner(cfg: dict, mode: str, state: dict):
    T, N, D, H = cfg["T"], cfg["N"], cfg["D"], cfg["H"]
    W = state["module"]  # torch.nn.LSTM: the same weights for everyone, read on the CPU
    params = {k: v.cpu().numpy().astype(np.float32) for k, v in tr.params_from_module(W).items()}
    x = state["x"].transpose(0, 1).contiguous().cpu().numpy()  # np_ref is batch-first: (N, T, D)
    dhs = state["dhs"].transpose(0, 1).contiguous().cpu().numpy()
    assert x.shape == (N, T, D) and dhs.shape == (N, T, H)

    def forward():
        return npr.lstm_forward_fast(x, params)

    def forward_backward():
        _, _, cache = npr.lstm_forward_fast(x, params)
        return npr.lstm_backward_fast(dhs, cache)

    return forward if mode == "forward" else forward_backward


def torch_runner(module, cfg: dict, mode: str, state: dict, sync):
    x, dhs = state["x"], state["dhs"]

    def forward():
        with torch.no_grad():
            out = module(x)[0]
        sync()
        return out

    x_grad = x.detach().requires_grad_()  # every side computes dx, as the NumPy reference does

    def forward_backward():
        module.zero_grad(set_to_none=True)
        x_grad.grad = None
        out = module(x_grad)[0]
        out.backward(dhs)
        sync()
        return out

    return forward if mode == "forward" else forward_backward


def make_runner(impl: str, cfg: dict, mode: str, state: dict, device: str, sync):
    if impl == "numpy":
        return numpy_runner(cfg, mode, state)
    if impl == "nn":
        return torch_runner(state["module"], cfg, mode, state, sync)
    ours = tr.LSTM(cfg["D"], cfg["H"], impl="eager" if impl == "eager" else "fast", device=device)
    ours.load_state_dict(state["module"].state_dict())
    run = torch_runner(ours, cfg, mode, state, sync)
    fusion = "none" if impl in ("eager", "fast") else "compile"  # "fast": unfused, even on a GPU

    def with_fusion():
        before = speed.get_fusion()
        speed.set_fusion(fusion)
        speed.set_cuda_graphs(impl == "graphs")
        try:
            return run()
        finally:
            speed.set_fusion(before)
            speed.set_cuda_graphs(False)

    return with_fusion


# ---------------------------------------------------------------------------------------------


def time_runners(runners: dict, warmups: int, repeats: int, progress, label: str) -> dict:
    """Seconds per run of each runner: warm-ups first (compilation, caches), then timed rounds.

    The implementations take turns, one run each per round, in an order that rotates from round
    to round, so a burst of load from other programs spreads over all of them instead of
    landing on whichever happened to be measured at the time.
    """
    names = list(runners)
    for name in names:
        progress.set_description(f"{label} {name:<8} warm-up")
        for _ in range(warmups):
            runners[name]()
            progress.update(1)
    times = {name: [] for name in names}
    for round_ in range(repeats):
        for k in range(len(names)):
            name = names[(k + round_) % len(names)]
            progress.set_description(f"{label} {name:<8}")
            start = time.perf_counter()
            runners[name]()
            times[name].append(time.perf_counter() - start)
            progress.update(1)
            time.sleep(0.02)  # let one library's idle threads go to sleep before the next runs
    return times


def environment(args, device: str) -> dict:
    info = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "device": device,
        "cpu": _cpu_name(),
        "threads": args.threads,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "repeats": args.repeats,
        "warmups": args.warmups,
        "quick": args.quick,
        "dtype": "float32",
        "command": "python benchmarks/bench_lstm.py " + " ".join(sys.argv[1:]),
        "note": args.note,
    }
    info.update(blas_libraries())
    info["blas"] = describe_blas(info)  # the line the performance page shows
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name()
        info["tf32"] = bool(torch.backends.cudnn.allow_tf32)
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
    else:
        info["onednn"] = bool(torch.backends.mkldnn.is_available())
    return info


def blas_libraries() -> dict:
    """Which BLAS ran on each side: NumPy's as threadpoolctl finds it loaded (library, version,
    the kernels picked for this CPU, threads), PyTorch's as it was built, and the OpenBLAS
    variables that were set (None: unset)."""
    numpy_blas = [
        {key: lib.get(key) for key in ("internal_api", "version", "architecture", "num_threads")}
        for lib in threadpool_info()
        if lib["user_api"] == "blas"
    ]
    config = torch.__config__.show()  # "... Math Kernel Library Version 2024.2-Product ...
    mkl = re.search(r"Math Kernel Library Version ([\w.]+)", config)
    onednn = re.search(r"MKL-DNN (v[\w.]+)", config)
    built = [f"MKL {mkl[1]}"] if mkl else []
    built += [f"oneDNN {onednn[1]}"] if onednn else []
    built += [f"CPU capability {torch.backends.cpu.get_cpu_capability()}"]  # ATen's own kernels
    return {
        "numpy_blas": numpy_blas,
        "torch_blas": ", ".join(built),
        "openblas_env": {name: os.environ.get(name) for name in OPENBLAS_OVERRIDES},
    }


BLAS_NAMES = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}  # threadpoolctl's internal_api


def describe_blas(env: dict) -> str:
    """One line naming NumPy's BLAS kernels and PyTorch's libraries, from blas_libraries()."""
    numpy_side = "; ".join(
        f"{BLAS_NAMES.get(lib['internal_api'], lib['internal_api'])} {lib['version']}, "
        f"{lib['architecture']} kernels"
        for lib in env["numpy_blas"]
    )
    forced = [f"{k}={v}" for k, v in env["openblas_env"].items() if v is not None]
    if forced:
        numpy_side += f" (forced by {', '.join(forced)})"
    return f"NumPy: {numpy_side or 'no BLAS found'}. PyTorch: {env['torch_blas']}"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_benchmark(args) -> dict:
    device = args.device
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available")
    torch.set_num_threads(args.threads)
    if device == "cuda":  # our matrix products use TF32 exactly when cuDNN's do
        if args.no_tf32:
            torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    configs = [c.strip().upper() for c in args.configs.split(",") if c.strip()]
    impls = [i.strip() for i in args.impls.split(",") if i.strip()]
    if device != "cuda":
        impls = [i for i in impls if i != "graphs"]  # CUDA graphs need a GPU
    for name in configs:
        if name not in CONFIGS:
            raise SystemExit(f"--configs: unknown configuration {name!r}; choose from S, M, L")
    for name in impls:
        if name not in IMPLS:
            raise SystemExit(f"--impls: unknown implementation {name!r}; choose from {list(IMPLS)}")
    total = len(configs) * len(impls) * len(MODES) * (args.warmups + args.repeats)
    progress = _progress(total, args.no_progress)
    results = []
    for name in configs:
        cfg = CONFIGS[name]
        torch.manual_seed(0)
        module = torch.nn.LSTM(cfg["D"], cfg["H"], device=device)
        state = {
            "module": module,
            "x": torch.randn(cfg["T"], cfg["N"], cfg["D"], device=device),
            "dhs": torch.randn(cfg["T"], cfg["N"], cfg["H"], device=device),
        }
        for mode in MODES:
            runners = {impl: make_runner(impl, cfg, mode, state, device, sync) for impl in impls}
            label = f"{name} {mode:<16}"
            all_times = time_runners(runners, args.warmups, args.repeats, progress, label)
            del runners
            for impl, times in all_times.items():
                median = statistics.median(times)
                results.append(
                    {
                        "config": name,
                        **cfg,
                        "impl": impl,
                        "mode": mode,
                        "median_ms": 1e3 * median,
                        "min_ms": 1e3 * min(times),
                        "max_ms": 1e3 * max(times),
                        "repeats": len(times),
                        "gflops": flops(cfg, mode) / median / 1e9,
                    }
                )
    progress.close()
    for row in results:
        ref = (
            next(
                r
                for r in results
                if r["config"] == row["config"] and r["mode"] == row["mode"] and r["impl"] == "nn"
            )
            if "nn" in impls
            else None
        )
        row["ratio_to_nn"] = row["median_ms"] / ref["median_ms"] if ref else None
    return {
        "environment": environment(args, device),
        "results": results,
        "goals": goals(results, device),
    }


def _progress(total: int, disabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="run", disable=disabled, dynamic_ncols=True, file=sys.stderr)


def goals(results: list[dict], device: str) -> list[dict]:
    out = []
    for (dev, impl, mode, config), bound in GOALS.items():
        if dev != device:
            continue
        row = next(
            (r for r in results if (r["impl"], r["mode"], r["config"]) == (impl, mode, config)),
            None,
        )
        if row is None or row["ratio_to_nn"] is None:
            continue
        out.append(
            {
                "impl": impl,
                "mode": mode,
                "config": config,
                "bound": bound,
                "ratio": row["ratio_to_nn"],
                "met": row["ratio_to_nn"] <= bound,
            }
        )
    return out


def format_table(report: dict) -> str:
    env = report["environment"]
    head = (
        f"{env['date']}  device {env['device']}"
        + (
            f" ({env.get('gpu')}, TF32 {'on' if env.get('tf32') else 'off'})"
            if env["device"] == "cuda"
            else ""
        )
        + f"  CPU {env['cpu']}, {env['threads']} thread(s)  torch {env['torch']}  numpy {env['numpy']}"
        + f"  float32, median of {env['repeats']}"
    )
    lines = [head, env["blas"], ""]
    lines.append(
        f"{'config':<7}{'mode':<18}{'implementation':<46}{'ms':>10}{'GFLOP/s':>10}{'x nn.LSTM':>11}"
    )
    for row in report["results"]:
        ratio = "" if row["ratio_to_nn"] is None else f"{row['ratio_to_nn']:.2f}"
        lines.append(
            f"{row['config']:<7}{row['mode']:<18}{IMPLS[row['impl']]:<46}"
            f"{row['median_ms']:>10.1f}{row['gflops']:>10.1f}{ratio:>11}"
        )
    if report["goals"]:
        lines += ["", "Goals (ratio to torch.nn.LSTM):"]
        for g in report["goals"]:
            lines.append(
                f"  {'met   ' if g['met'] else 'MISSED'} {IMPLS[g['impl']]}, {g['mode']}, {g['config']}: "
                f"{g['ratio']:.2f} (goal <= {g['bound']})"
            )
    return "\n".join(lines)


def main(args) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        report = run_benchmark(args)
    print(format_table(report))
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
    path = (
        Path(args.json)
        if args.json
        else ROOT / "benchmarks" / "results" / f"bench-{args.device}-{stamp}.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwrote {path}")
    if args.write_book:
        book = ROOT / "book" / "appendix" / "bench_results.json"
        stored = json.loads(book.read_text()) if book.exists() else {}
        stored[args.device] = report
        book.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
        print(f"wrote {book} ({args.device})")


if __name__ == "__main__":
    main(_ARGS)
