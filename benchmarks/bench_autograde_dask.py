"""The distributed mode of ``make bench-autograde`` (issue 13): the Dask engine against the pool.

``--distributed``: the same N submissions of one assignment (3/5 correct, 1/5 wrong, 1/5 blank,
as ``bench_autograde.make_course`` makes them) graded four times, sandbox on, each with the
command an instructor runs:

    python -m lstm_course.autograde --jobs 1            the local pool, one process at a time
    python -m lstm_course.autograde --scheduler ADDR    a Dask cluster of one worker process
    python -m lstm_course.autograde --jobs 2            the local pool, two
    python -m lstm_course.autograde --scheduler ADDR    a Dask cluster of two worker processes

The clusters (one thread per worker process, on 127.0.0.1) are started before the timing, as an
instructor's cluster is already running; each pair runs ``--repeat`` times in turn and the fastest
of each counts (the machine may be shared); the scores of every run must agree. Printed and
written to benchmarks/results/autograde_distributed.json: the seconds, one worker against two,
and the engine's overhead against the pool for the same number of processes (goal: at most 10 %).

``--sizing``: seconds per submission of every assignment (correct submissions, the local pool
with one job per core), and from them how many 2-core workers grade 2,000 submissions of each
assignment in 15 minutes; written to benchmarks/results/autograde_sizing.json.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_autograde as base

ROOT = base.ROOT
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.name.startswith("ex"))


def grade_cmd(course: Path, assignment: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "lstm_course.autograde", "--course-dir", str(course),
        "--assignment", assignment, "--force", "--quiet", *extra,
    ]  # fmt: skip


def _cluster(n_workers: int):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=50,
    )  # fmt: skip
    client = Client(cluster)
    client.wait_for_workers(n_workers)
    return cluster, client


def main(args, out_given: bool) -> int:
    """``bench_autograde.py --distributed`` or ``--sizing``; ``--out`` when ``out_given``."""
    if not out_given:
        args.out = None
    return distributed(args) if args.distributed else sizing(args)


def distributed(args) -> int:
    runs: dict[str, float] = {}
    scores: dict[str, dict[str, float]] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-autograde-dask-") as tmp:
        course = Path(tmp) / "course"
        base.make_course(course, args.assignment, args.n)
        for processes in (1, 2):
            cluster, client = _cluster(processes)
            try:
                pool = grade_cmd(course, args.assignment, "--jobs", str(processes))
                dask = grade_cmd(course, args.assignment, "--scheduler", cluster.scheduler_address)
                # pool and Dask in turn, --repeat times: on a shared machine the fastest run of
                # each is the one least slowed by others
                for _ in range(args.repeat):
                    for name, cmd in ((f"pool_{processes}", pool), (f"dask_{processes}", dask)):
                        seconds = base.timed(cmd, course)
                        runs[name] = min(runs.get(name, seconds), seconds)
                        scores[name] = base.scores(course)
            finally:
                client.close()
                cluster.close()
    load_after = os.getloadavg()
    agree = all(s == scores["pool_1"] for s in scores.values())
    overhead = {p: runs[f"dask_{p}"] / runs[f"pool_{p}"] - 1 for p in (1, 2)}
    result = {
        "assignment": args.assignment,
        "submissions": args.n,
        "repeats_fastest_counts": args.repeat,
        "cores": os.cpu_count(),
        "seconds": {k: round(v, 2) for k, v in runs.items()},
        "seconds_per_submission": {k: round(v / args.n, 3) for k, v in runs.items()},
        "speedup_two_workers_vs_one": round(runs["dask_1"] / runs["dask_2"], 3),
        "dask_overhead_vs_pool": {f"{p}_process": round(v, 3) for p, v in overhead.items()},
        "goal_overhead_at_most": 0.10,
        "goal_met": all(v <= 0.10 for v in overhead.values()),
        "scores_agree": agree,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }
    out = Path(args.out or ROOT / "benchmarks" / "results" / "autograde_distributed.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{args.n} submissions of {args.assignment} on {os.cpu_count()} cores, sandbox on")
    for p in (1, 2):
        print(
            f"  {p} process(es): local pool {runs[f'pool_{p}']:6.1f} s, Dask "
            f"{runs[f'dask_{p}']:6.1f} s (overhead {100 * overhead[p]:+.1f} %, goal <= +10 %)"
        )
    print(f"  Dask, two workers against one: {result['speedup_two_workers_vs_one']:.2f}x")
    print(f"  scores agree across the four runs: {'yes' if agree else 'NO'}")
    print(f"  load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"  written to {out}")
    return 0 if agree else 1


def sizing(args) -> int:
    jobs = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-autograde-sizing-") as tmp:
        for assignment in ASSIGNMENTS:
            course = Path(tmp) / assignment
            base.make_course(course, assignment, args.n)
            for sub in (course / "submitted").iterdir():  # correct submissions only
                if not sub.name.endswith("-solved"):
                    subprocess.run(["rm", "-rf", str(sub)], check=True)
            n = sum(1 for _ in (course / "submitted").iterdir())
            t0 = time.perf_counter()
            base.timed(grade_cmd(course, assignment, "--jobs", "1", "--student", "nobody"), course)
            startup = time.perf_counter() - t0
            seconds = base.timed(grade_cmd(course, assignment, "--jobs", str(jobs)), course)
            per = max(seconds - startup, 0.0) * jobs / n  # one process's seconds per submission
            workers = math.ceil(2000 * per / (2 * 15 * 60))  # 2-core workers, 15 minutes
            rows.append(
                {"assignment": assignment, "submissions": n, "seconds": round(seconds, 2),
                 "startup_seconds": round(startup, 2), "seconds_per_submission": round(per, 2),
                 "two_core_workers_for_2000_in_15_min": workers}
            )  # fmt: skip
            print(f"  {assignment:<20} {per:6.2f} s per submission -> {workers} workers")
    out = Path(args.out or ROOT / "benchmarks" / "results" / "autograde_sizing.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cores": jobs, "rows": rows}, indent=1) + "\n")
    print(f"  written to {out}")
    return 0
