"""Grading 40 submissions: the course's grader (sandboxed, parallel) vs serial nbgrader.

Both graders get the same 40 submissions of one assignment (default ex03_forget_gate), each in
its own temporary copy of the course (own gradebook): 24 correct, 8 wrong in the first function,
8 handed back blank. The command lines are the ones an instructor runs:

    nbgrader autograde <assignment> --force                       (serial, no sandbox)
    python -m lstm_course.autograde --assignment <assignment> --force  (sandbox on, --jobs = cores;
                                                  the same as lstm-course grade ...)

Ours runs before and after nbgrader and the slower of its two runs counts, since the machine
may be shared. The scores of both are compared submission by submission (they must agree), and the times,
their ratio, the machine's cores and its load average before and after are printed and written
to benchmarks/results/autograde.json. Goal: our time at most half of nbgrader's.

    make bench-autograde        or   python benchmarks/bench_autograde.py --n 40 --jobs 2

``--distributed`` and ``--sizing`` are the Dask engine's modes (bench_autograde_dask.py).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict:
    e = dict(os.environ)
    e["PATH"] = f"{Path(sys.executable).parent}:{e.get('PATH', '/usr/bin:/bin')}"
    return e


def _cases():
    path = ROOT / "tests" / "autograde" / "corpus" / "cases.py"
    spec = importlib.util.spec_from_file_location("autograde_corpus", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def make_course(dest: Path, assignment: str, n: int) -> list[str]:
    dest.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", dest)
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder / assignment, dest / folder / assignment)
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
        cwd=dest,
        check=True,
        capture_output=True,
        env=_env(),
    )
    cases = _cases()
    ctx = cases.context(dest, assignment)
    kinds = {"solved": ctx.solved(), "wrong": ctx.wrong(), "blank": ctx.release}
    plan = ["solved"] * (n * 3 // 5) + ["wrong"] * (n // 5)
    plan += ["blank"] * (n - len(plan))
    students = []
    for i, kind in enumerate(plan):
        student = f"s{i:03d}-{kind}"
        folder = dest / "submitted" / student / assignment
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text(cases.TIMESTAMP)
        (folder / f"{ctx.notebook}.ipynb").write_bytes(cases.dumps(kinds[kind]))
        students.append(student)
    return students


def scores(course: Path) -> dict[str, float]:
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", "--to", "grades.csv"],
        cwd=course,
        check=True,
        capture_output=True,
        env=_env(),
    )
    with open(course / "grades.csv") as fh:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(fh)}


def timed(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=_env())
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="ex03_forget_gate")
    parser.add_argument("--n", type=int, default=40, help="number of submissions")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="the Dask engine: one worker process vs two, and vs the local pool (--n 200)",
    )
    parser.add_argument(
        "--sizing", action="store_true", help="seconds per submission of every assignment"
    )
    parser.add_argument("--repeat", type=int, default=2, help="--distributed: runs of each")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "autograde.json"))
    args = parser.parse_args(argv)
    if args.distributed or args.sizing:  # issue 13: benchmarks/bench_autograde_dask.py
        import bench_autograde_dask

        return bench_autograde_dask.main(args, args.out != parser.get_default("out"))

    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        ours_dir, theirs_dir = Path(tmp) / "ours", Path(tmp) / "nbgrader"
        make_course(ours_dir, args.assignment, args.n)
        students = make_course(theirs_dir, args.assignment, args.n)
        ours_cmd = [
            sys.executable,
            "-m",
            "lstm_course.autograde",
            "--course-dir",
            str(ours_dir),
            "--assignment",
            args.assignment,
            "--jobs",
            str(args.jobs),
            "--force",
            "--quiet",
        ]
        # Ours before and after nbgrader (the machine may be shared): the slower run counts.
        load_before = os.getloadavg()
        t_first = timed(ours_cmd, ours_dir)
        t_nbgrader = timed(
            [sys.executable, "-m", "nbgrader", "autograde", args.assignment, "--force"],
            theirs_dir,
        )
        t_second = timed(ours_cmd, ours_dir)
        t_ours = max(t_first, t_second)
        load_after = os.getloadavg()
        ours, theirs = scores(ours_dir), scores(theirs_dir)
        summary = json.loads((ours_dir / "autograded" / "autograde_summary.json").read_text())

    disagree = sorted(s for s in students if ours.get(s) != theirs.get(s))
    ratio = t_ours / t_nbgrader
    result = {
        "assignment": args.assignment,
        "submissions": args.n,
        "jobs": args.jobs,
        "cores": os.cpu_count(),
        "sandbox": summary["sandbox"],
        "seconds_lstm_course_grade": round(t_ours, 2),
        "seconds_lstm_course_grade_runs": [round(t_first, 2), round(t_second, 2)],
        "seconds_nbgrader_autograde_serial": round(t_nbgrader, 2),
        "ratio": round(ratio, 3),
        "goal_ratio_at_most": 0.5,
        "goal_met": ratio <= 0.5,
        "scores_agree": not disagree,
        "disagreements": {s: (ours.get(s), theirs.get(s)) for s in disagree},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{args.n} submissions of {args.assignment} on {os.cpu_count()} cores")
    print(
        f"  python -m lstm_course.autograde (sandbox, {args.jobs} jobs): {t_ours:7.1f} s "
        f"(slower of {t_first:.1f} s before and {t_second:.1f} s after nbgrader)"
    )
    print(f"  nbgrader autograde (serial):                     {t_nbgrader:7.1f} s")
    print(f"  ratio {ratio:.2f} (goal <= 0.50: {'met' if ratio <= 0.5 else 'NOT met'})")
    print(f"  scores agree with nbgrader: {'yes' if not disagree else disagree}")
    print(f"  load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"  written to {out}")
    return 0 if not disagree else 1


if __name__ == "__main__":
    sys.exit(main())
