"""The red-team corpus (tests/autograde/corpus/attacks.py), graded end to end.

Every attack of one assignment is graded in ONE run of ``python -m lstm_course.autograde`` (the
attacks on the run itself get a small run each, with an honest control student), then each
attack's safe outcome is checked on its own: the most it may score, the flag where issue 10 asks
for one, what its probes must not have reached, the feedback (rendered by nbgrader) and the
instructor's terminal. The honest baselines are checked in the same runs: the solved notebook
gets full marks and no flag, the blank release 0, the ×1.01 answer of ex03 the 15 points of the
tests it really passes.
"""

from __future__ import annotations

import csv
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import attacks as corpus  # tests/autograde/corpus (pyproject.toml's pythonpath)
import autograde_harness as harness
import pytest

pytestmark = pytest.mark.slow

ATTACKS = corpus.ATTACKS
MEMORY_MB = 1536
GRADE_ARGS = ["--timeout", "8", "--notebook-timeout", "120", "--memory", str(MEMORY_MB)]
GRADE_ARGS += ["--jobs", "2", "--quiet"]
RUN_LIMIT_S = {"main": 1500}  # the whole run; a run-level attack's small run gets 180 s
# ex03: the ×1.01 forget_gate really passes its shape test (1), sigmoid (5), forget (2), and the
# tasks that never call the student's gate, forget_on_cue (4) and half_life (3)
WRONG101_POINTS = 15
ZEROS_POINTS = 1  # ex03: answers returning zeros of the right shape pass forget_gate's shape test
SMALL_RUN_S = 75  # a run of one attack on the run itself and one control student (~20 s)
REPORT = os.environ.get("ATTACKS_REPORT")  # a file to append one JSON line per checked attack
# ATTACKS_ONLY=name,name grades only those attacks (and the baselines): to try one by hand.
ONLY = {n for n in os.environ.get("ATTACKS_ONLY", "").split(",") if n}


# -- running the grader --------------------------------------------------------------------------
@dataclass
class Run:
    course: Path
    ids: dict[str, str]
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    error: str | None = None  # the run did not finish
    summary: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def entry(self, case: str) -> dict | None:
        sid = self.ids[case]
        for entry in self.summary.get("submissions", []):
            if entry["student"] == sid:
                return entry
        return None

    def output(self) -> str:
        return self.stdout + self.stderr


def grade(course: Path, students: list[str], limit_s: float, *extra: str) -> Run:
    """Run the real command line on ``students`` with a terminal-like stdin left open, under an
    address-space limit (a grader that reads /dev/zero fails instead of filling the machine)."""
    args = [sys.executable, "-m", "lstm_course.autograde", "--course-dir", str(course)]
    args += GRADE_ARGS + list(extra)
    for sid in students:
        args += ["--student", sid]

    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (16 * 2**30, 16 * 2**30))

    run = Run(course, {})
    t0 = time.monotonic()
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=harness.env(),
        cwd=course,
        start_new_session=True,
        preexec_fn=limits,
    )
    try:
        out, err = proc.communicate(timeout=limit_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        run.error = f"the grader did not finish in {limit_s:g} s and was killed"
    run.seconds = time.monotonic() - t0
    run.returncode = proc.returncode
    run.stdout = out.decode("utf-8", "replace")
    run.stderr = err.decode("utf-8", "replace")
    path = course / "autograded" / "autograde_summary.json"
    if path.is_file():
        try:
            run.summary = json.loads(path.read_text())
        except ValueError:
            pass
    return run


def make_course(dest: Path, assignment: str) -> Path:
    dest.mkdir(parents=True)
    shutil.copy(harness.ROOT / "nbgrader_config.py", dest)
    for folder in ("solutions", "exercises"):
        shutil.copytree(harness.ROOT / folder / assignment, dest / folder / assignment)
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
        cwd=dest,
        check=True,
        capture_output=True,
        env=harness.env(),
    )
    return dest


class Runs:
    """Each (assignment, run) graded once, when a test first needs it; the small runs of an
    assignment all at once (an attack that hangs its run costs its time limit only once)."""

    def __init__(self, root: Path):
        self.root = root
        self.done: dict[tuple[str, str], Run] = {}
        self.released: dict[str, Path] = {}

    def course(self, assignment: str, run: str) -> Path:
        """A copy of the assignment's released course (nbgrader releases it once)."""
        if assignment not in self.released:
            self.released[assignment] = make_course(self.root / f"{assignment}-release", assignment)
        dest = self.root / f"{assignment}-{run}"
        shutil.copytree(self.released[assignment], dest)
        return dest

    def names(self, key: tuple[str, str]) -> list[str]:
        names = [n for n, a in ATTACKS.items() if (a.assignment, a.run) == key]
        return [n for n in names if not ONLY or n in ONLY]

    def get(self, assignment: str, run: str) -> Run:
        key = (assignment, run)
        if key in self.done:
            return self.done[key]
        if run == "main":
            self.done[key] = self._main(self.course(*key), assignment, self.names(key))
        elif run == "stale":
            self.done[key] = self._stale(self.course(*key), assignment, self.names(key))
        else:
            runs = {a.run for a in ATTACKS.values() if a.assignment == assignment}
            runs -= {"main", "stale"} | {r for a, r in self.done if a == assignment}
            courses = {r: self.course(assignment, r) for r in sorted(runs)}
            with ThreadPoolExecutor(max_workers=len(courses)) as pool:
                futures = {
                    r: pool.submit(self._small, c, assignment, r, self.names((assignment, r)))
                    for r, c in courses.items()
                }
                for r, future in futures.items():
                    self.done[(assignment, r)] = future.result()
        return self.done[key]

    def _main(self, course, assignment, names) -> Run:
        ids = corpus.build(course, assignment, names)
        run = grade(course, list(ids.values()), RUN_LIMIT_S["main"])
        run.ids = ids
        if any(ATTACKS[n].feedback for n in names) and not run.error:
            run.extra["feedback"] = _feedback(course, assignment, ["atkfb-*"])
        return run

    def _small(self, course, assignment, run_name, names) -> Run:
        ids = corpus.build(course, assignment, names, baselines=("solved",))
        students = list(ids.values())
        run = grade(course, students, SMALL_RUN_S)
        run.ids = ids
        if run_name == "names" and not run.error:
            export = subprocess.run(
                [sys.executable, "-m", "nbgrader", "export"],
                cwd=course,
                capture_output=True,
                text=True,
                env=harness.env(),
                timeout=300,
            )
            run.extra["export"] = export
            run.extra["feedback"] = _feedback(course, assignment, ["*"])
        if run_name == "reserved":  # and the run after it, on the same course
            again = grade(course, students, SMALL_RUN_S, "--force")
            run.extra["again"] = again
        return run

    def _stale(self, course, assignment, names) -> Run:
        base = corpus.cases.context(course, assignment)
        ids = {}
        for name in names:  # first a correct notebook, graded ...
            spec = ATTACKS[name]
            folder = course / "submitted" / spec.sid / assignment
            corpus.write_files(folder, corpus.build_solved(corpus.Ctx(base, spec.sid)))
            ids[name] = spec.sid
        first = grade(course, list(ids.values()), SMALL_RUN_S)
        for name in names:  # ... then the attack, submitted later
            spec = ATTACKS[name]
            folder = course / "submitted" / spec.sid / assignment
            corpus.write_files(folder, spec.build(corpus.Ctx(base, spec.sid)), corpus.LATER)
        run = grade(course, list(ids.values()), SMALL_RUN_S)
        run.ids = ids
        run.extra["first"] = first
        run.extra["gradebook"] = {
            sid: _gradebook_score(course, assignment, sid) for sid in ids.values()
        }
        return run


def _feedback(course: Path, assignment: str, students: list[str]) -> dict:
    """nbgrader generate_feedback for these students (globs allowed); {student: html or error}."""
    results = {}
    for pattern in students:
        proc = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_feedback", assignment,
             f"--student={pattern}", "--force"],
            cwd=course, capture_output=True, text=True, env=harness.env(), timeout=600,
        )  # fmt: skip
        results[f"_proc:{pattern}"] = proc
    for folder in (course / "feedback").glob(f"*/{assignment}"):
        html = "".join(p.read_text(errors="replace") for p in folder.glob("*.html"))
        results[folder.parent.name] = html
    return results


def _gradebook_score(course: Path, assignment: str, student: str) -> float | None:
    code = (
        "import sys\nfrom nbgrader.api import Gradebook, MissingEntry\n"
        "with Gradebook(sys.argv[1]) as gb:\n"
        "    try:\n        print(gb.find_submission(sys.argv[2], sys.argv[3]).score)\n"
        "    except MissingEntry:\n        print('missing')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, f"sqlite:///{course / 'gradebook.db'}", assignment, student],
        capture_output=True, text=True, env=harness.env(), timeout=120,
    )  # fmt: skip
    text = out.stdout.strip()
    return None if text in ("missing", "") else float(text)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    if shutil.which("bwrap") is None:
        pytest.fail("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    return Runs(tmp_path_factory.mktemp("attacks"))


# -- what an attack may score --------------------------------------------------------------------
def task_points(course: Path, assignment: str, grade_id: str) -> float:
    """The points of the test cells that follow an answer cell, up to the next answer cell."""
    release = corpus.cases.context(course, assignment).release
    total, inside = 0.0, False
    for cell in release.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            inside = meta.get("grade_id") == grade_id
        elif inside and meta.get("grade"):
            total += float(meta.get("points", 0))
    return total


def ceiling(run: Run, spec: corpus.Attack, max_score: float) -> float:
    if spec.most == "zero":
        return 0.0
    if spec.most == "baseline":
        return WRONG101_POINTS
    if spec.most == "zeros":
        return ZEROS_POINTS
    if spec.most == "full":
        return max_score
    if spec.most.startswith("task:"):
        return max_score - task_points(run.course, spec.assignment, spec.most[5:])
    if spec.most.startswith("less:"):
        return max_score - float(spec.most[5:])
    raise AssertionError(spec.most)


def describe(run: Run, name: str) -> str:
    entry = run.entry(name) or {}
    return (
        f"{name}: score {entry.get('score')}/{entry.get('max_score')}, "
        f"flags {[f[:160] for f in entry.get('flags', [])]}, "
        f"failures {[f[:160] for f in entry.get('failures', [])]}"
        + (f", run: {run.error}" if run.error else "")
    )


def _report(name: str, check: str, ok: bool, run: Run) -> None:
    if REPORT:
        entry = run.entry(name) or {}
        with open(REPORT, "a") as fh:
            line = {"attack": name, "check": check, "ok": ok, "score": entry.get("score"),
                    "max": entry.get("max_score"), "flags": len(entry.get("flags", [])),
                    "flag_text": [f[:200] for f in entry.get("flags", [])][:3],
                    "run_error": run.error, "run_seconds": round(run.seconds, 1)}  # fmt: skip
            fh.write(json.dumps(line) + "\n")


def _check(name: str, check: str, run: Run, ok: bool, message: str) -> None:
    _report(name, check, ok, run)
    assert ok, message


def by(**kw) -> list[str]:
    return sorted(n for n, a in ATTACKS.items() if all(getattr(a, k) == v for k, v in kw.items()))


def where(pred) -> list[str]:
    return sorted(n for n, a in ATTACKS.items() if pred(a))


# -- the baselines ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "assignment", sorted({a.assignment for a in ATTACKS.values() if a.run == "main"})
)
def test_baselines(runs, assignment):
    """The honest submissions graded in the attacks' run score as they should, unflagged."""
    run = runs.get(assignment, "main")
    assert not run.error and run.returncode == 0, (run.error, run.stderr[-3000:])
    solved, blank = run.entry("solved"), run.entry("blank")
    assert solved and solved["score"] == solved["max_score"] > 0, solved
    assert not solved["flags"], solved
    assert blank and blank["score"] == 0, blank
    if assignment == corpus.EX03:
        wrong, zeros = run.entry("wrong101"), run.entry("zeros")
        assert wrong["score"] == WRONG101_POINTS, wrong
        assert not wrong["flags"], wrong
        assert zeros["score"] == ZEROS_POINTS, zeros
        assert not zeros["flags"], zeros


@pytest.mark.parametrize("key", sorted({(a.assignment, a.run) for a in ATTACKS.values()}))
def test_the_run_completes(runs, key):
    """Whatever the submissions do, the run ends in time, exits 0 and writes its summary."""
    run = runs.get(*key)
    assert run.error is None, run.error
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.summary.get("submissions"), run.stdout[-2000:]


# -- each attack -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_score(runs, name):
    """No attack scores more than its honest content earns."""
    spec = ATTACKS[name]
    run = runs.get(spec.assignment, spec.run)
    if spec.run == "stale":
        score = run.extra["gradebook"][spec.sid]
        ok = score is None or score <= 0
        message = f"the gradebook still says {score} after a blank resubmission"
        _check(name, "score", run, ok, f"{message} ({describe(run, name)})")
        return
    entry = run.entry(name)
    if entry is None:
        ok = spec.most == "zero" and run.error is None and bool(run.summary)
        _check(name, "score", run, ok, f"not in the summary ({run.error or 'no entry'})")
        return
    limit = ceiling(run, spec, entry["max_score"])
    ok = entry["score"] <= limit
    _check(name, "score", run, ok, f"scored more than {limit}: {describe(run, name)}")
    if spec.flagged is False:  # an honest submission with something unusual in it: full marks
        assert entry["score"] == entry["max_score"], describe(run, name)


@pytest.mark.parametrize("name", where(lambda a: a.flagged is not None))
def test_flag(runs, name):
    """Attacks issue 10 asks to be reviewed are flagged; the honest one is not."""
    spec = ATTACKS[name]
    run = runs.get(spec.assignment, spec.run)
    entry = run.entry(name) or {}
    ok = bool(entry.get("flags")) == spec.flagged
    _check(name, "flag", run, ok, f"flagged should be {spec.flagged}: {describe(run, name)}")


def _graded_notebook(run: Run, spec: corpus.Attack) -> dict | None:
    folder = run.course / "autograded" / spec.sid / spec.assignment
    paths = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    return json.loads(paths[0].read_text()) if paths else None


def _texts(nb: dict, grade_ids: set[str] | None = None) -> str:
    out = []
    for cell in nb.get("cells", []):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_ids is not None and gid not in grade_ids:
            continue
        for o in cell.get("outputs", []) or []:
            out.append(json.dumps(o, ensure_ascii=False))
    return "\n".join(out)


@pytest.mark.parametrize("name", where(lambda a: a.forbid or a.canary))
def test_probe_reached_nothing(runs, name):
    """What a probe prints when it reached a secret is not in its graded notebook; its canary is
    (the probe ran, and its output was kept)."""
    spec = ATTACKS[name]
    run = runs.get(spec.assignment, spec.run)
    nb = _graded_notebook(run, spec)
    assert nb is not None, describe(run, name)
    text = _texts(nb)
    if spec.canary:
        assert spec.canary in text, (
            "cannot tell what the probe reached: its output is not in the graded notebook"
        )
    found = [line[:300] for line in text.splitlines() if any(f in line for f in spec.forbid)]
    _check(name, "probe", run, not found, f"the probe reached: {found[:3]}")


def test_memory_across_forks_is_capped(runs):
    """The forked children together hold no more than the notebook's memory limit."""
    spec = ATTACKS["memory_forks"]
    run = runs.get(spec.assignment, spec.run)
    text = _texts(_graded_notebook(run, spec) or {})
    held = [int(m) for m in re.findall(r"HELD_MB=(\d+)", text)]
    assert held, "the probe's output is not in the graded notebook"
    _check("memory_forks", "memory", run, max(held) <= MEMORY_MB,
           f"{max(held)} MB held by forked children with --memory {MEMORY_MB}")  # fmt: skip


def test_hidden_inputs_are_not_in_the_feedback(runs):
    """What an answer prints while a hidden test calls it does not reach the student's feedback
    (the instructor's graded copy may keep it)."""
    spec = ATTACKS["exfiltrate_inputs"]
    run = runs.get(spec.assignment, spec.run)
    nb = _graded_notebook(run, spec) or {}
    # the student's last cell prints what the answers saw (in the instructor's copy at least);
    # the marker is built at run time: the feedback shows the answer's source, not the marker
    assert "SEEN-HIDDEN-INPUT" in _texts(nb), "the answer never saw a hidden test's input"
    html = run.extra.get("feedback", {}).get(spec.sid)
    assert html, "no feedback was rendered"
    leaked = [m.start() for m in re.finditer("SEEN-HIDDEN-INPUT", html)]
    _check("exfiltrate_inputs", "hidden-inputs", run, not leaked,
           f"hidden inputs in the feedback: {[html[i:i + 120] for i in leaked[:2]]}")  # fmt: skip


@pytest.mark.parametrize("name", by(feedback=True))
def test_feedback_runs_no_payload(runs, name):
    """The student's feedback, as nbgrader renders it, runs none of the payloads, and the graded
    notebook keeps no output of an unsafe MIME type that carries one."""
    spec = ATTACKS[name]
    run = runs.get(spec.assignment, spec.run)
    feedback = run.extra.get("feedback", {})
    html = feedback.get(spec.sid)
    if spec.run == "names":  # the name itself is the payload: look in every page
        html = "\n".join(v for k, v in feedback.items() if isinstance(v, str))
    procs = [v for k, v in feedback.items() if k.startswith("_proc:")]
    errors = [
        line for p in procs for line in p.stderr.splitlines() if "ERROR" in line or "Error" in line
    ]
    assert html, "no feedback was rendered: " + " | ".join(
        errors[:6] or [p.stderr[-800:] for p in procs]
    )
    live = corpus.live_payloads(html)
    nb = _graded_notebook(run, spec) or {}
    unsafe = corpus.unsafe_outputs(nb)
    _check(
        name, "xss", run, not live and not unsafe, f"live: {live[:4]}; unsafe outputs: {unsafe[:4]}"
    )


@pytest.mark.parametrize("name", where(lambda a: a.terminal))
def test_no_escape_reaches_the_terminal(runs, name):
    """None of this attack's escape sequences reaches the grader's terminal output: not its own
    (tagged F-esc-<tag>), nor any ESC on a line that names the student."""
    spec = ATTACKS[name]
    run = runs.get(spec.assignment, spec.run)
    text = run.output()
    tagged = [m.start() for m in re.finditer(re.escape("\x1b]2;F-esc-" + spec.terminal), text)]
    found = [text[max(0, i - 60) : i + 30].encode() for i in tagged]
    found += [
        line[:160].encode() for line in text.splitlines() if "\x1b" in line and spec.sid in line
    ]
    _check(name, "terminal", run, not found, f"ESC printed: {found[:3]}")


@pytest.mark.parametrize("name", where(lambda a: a.max_seconds))
def test_submission_time_is_bounded(runs, name):
    spec = ATTACKS[name]
    run = runs.get(spec.assignment, spec.run)
    entry = run.entry(name)
    assert entry is not None, describe(run, name)
    _check(name, "time", run, entry["seconds"] <= spec.max_seconds,
           f"{entry['seconds']} s for one submission")  # fmt: skip


# -- the run-level attacks -------------------------------------------------------------------------
@pytest.mark.parametrize("name", where(lambda a: a.run not in ("main", "stale")))
def test_control_student_is_graded(runs, name):
    """The honest student graded in the same run as a run-level attack gets full marks."""
    spec = ATTACKS[name]
    run = runs.get(spec.assignment, spec.run)
    control = run.entry("solved")
    ok = control is not None and control["score"] == control["max_score"] > 0
    _check(name, "control", run, ok, f"the control student: {control} ({run.error})")


NAMES = by(run="names")


@pytest.mark.parametrize("name", NAMES)
def test_bad_names_are_refused(runs, name):
    """A student folder whose name is not ^[A-Za-z0-9._@-]+$ is not graded into the gradebook
    or autograded/, and the summary says why."""
    spec = ATTACKS[name]
    run = runs.get(spec.assignment, spec.run)
    score = _gradebook_score(run.course, spec.assignment, spec.sid)
    in_autograded = (run.course / "autograded" / spec.sid).exists()
    failures = [f for f in run.summary.get("failures", []) if spec.sid in f or repr(spec.sid) in f]
    said = any("name" in f for f in failures)
    ok = score is None and not in_autograded and said
    message = f"gradebook score {score}, autograded folder {in_autograded}, reason given {said}"
    _check(name, "name", run, ok, message)


def test_csv_export_has_no_forged_rows(runs):
    """nbgrader export's grades.csv: every row as wide as the header, no 'victim' row."""
    spec = ATTACKS["csv_rows"]
    run = runs.get(spec.assignment, "names")
    export = run.extra.get("export")
    assert export is not None and export.returncode == 0, getattr(export, "stderr", run.error)
    with open(run.course / "grades.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    sid = header.index("student_id")
    bad = [r for r in body if len(r) != len(header) or r[sid] == "victim"]
    _check("csv_rows", "csv", run, not bad, f"forged rows: {bad[:3]}")


def test_reserved_name_does_not_break_later_runs(runs):
    spec = ATTACKS["reserved_summary"]
    run = runs.get(spec.assignment, "reserved")
    again = run.extra["again"]
    ok = again.returncode == 0 and again.error is None and bool(again.summary)
    message = f"the next run: exit {again.returncode}, {again.error}, {again.stderr[-800:]}"
    _check("reserved_summary", "again", run, ok, message)
