"""Grading on a Dask cluster: each submission a task, graded in the sandbox of whichever worker
takes it; the coordinator (``lstm-course grade``) alone writes the gradebook.

``--scheduler ADDRESS`` connects to a running Dask scheduler (``tcp://`` or ``tls://``, with
Dask's own TLS configuration); ``--workers N`` starts a local cluster of N worker processes on
127.0.0.1 instead. Without either the grader's thread pool runs, as it always has.

A task carries everything a worker needs and nothing of the course directory: the submission's
files (read by the coordinator exactly as the local grader copies them), the assignment's
templates (the release, from the gradebook) and the sandbox's limits. The worker writes the files
into a private folder, grades them with the same ``Grader`` as the local pool, in its own
bubblewrap sandbox (probed once per worker process; a worker without one refuses the task unless
``--allow-unsandboxed``) and returns the ``SubmissionResult``.

A worker that dies mid-task: Dask gives the task to another worker (up to its
``distributed.scheduler.allowed-failures``, then the submission is reported, not recorded). Each
start of a task is logged as a Dask event; a submission started more than once is listed in the
summary as retried, with the workers it ran on.
"""

from __future__ import annotations

import atexit
import fcntl
import itertools
import os
import shutil
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

from lstm_course.autograde.course import Submission, copy_files
from lstm_course.autograde.grader import Grader, SubmissionResult
from lstm_course.autograde.sandbox import Limits, Sandbox, SandboxUnavailable

TOPIC = "lstm-autograde"  # the Dask event topic where tasks say where they start
COPY_IGNORE = [".ipynb_checkpoints", "__pycache__"]  # as Grader.grade copies
SLOT_BASE = 1000  # workers' job slots (uids as root) start here, clear of the local pool's
MAX_SLOTS = 50_000  # below sandbox.VERIFIER_UID_OFFSET: A's and V's uids never meet


# Written by Dask besides the Nanny's settings: the hash seed it gives workers, and the parent pid
# its process titles use (distributed/proctitle.py).
_ALSO_WRITTEN = ("PYTHONHASHSEED", "__DASK_PARENT_PID")


def restore_environ(saved: dict[str, str]) -> None:
    """Put back, as in ``saved`` (``os.environ`` before a local cluster started), the variables
    Dask writes into the environment of the process that spawns its workers.

    The Nanny sets its workers' variables (``distributed.nanny.pre-spawn-environ``:
    OMP_NUM_THREADS=1, MKL_ and OPENBLAS_NUM_THREADS=1, MALLOC_TRIM_THRESHOLD_=65536) and
    ``_ALSO_WRITTEN`` in its own process's ``os.environ`` and leaves them there: every program
    that process starts later inherits them. In the test suite that made each notebook kernel
    after the Dask tests single-threaded and slow to allocate (the site build took 1.5 times as
    long). Only those variables are restored: any other change made meanwhile stays."""
    import dask
    import distributed  # noqa: F401 (its import adds the Nanny's settings to dask.config)

    written = [*dask.config.get("distributed.nanny.pre-spawn-environ", {}), *_ALSO_WRITTEN]
    for key in written:
        if key in saved:
            os.environ[key] = saved[key]
        else:
            os.environ.pop(key, None)


class ClusterUnavailable(ConnectionError):
    """The Dask scheduler cannot be reached, or went away during the run."""


class DaskGrading:
    """The executor ``grader.grade_class`` takes: ``run(grader, todo)`` yields each result."""

    def __init__(
        self,
        scheduler: str | None,
        workers: int | None,
        limits: Limits,
        allow_unsandboxed: bool,
        threads_per_worker: int = 1,
    ):
        from distributed import Client, LocalCluster

        self.limits, self.allow_unsandboxed = limits, allow_unsandboxed
        self.cluster = self.scratch = None
        self._environ = dict(os.environ)  # restored by close(): see restore_environ
        try:
            if scheduler:
                self.client = Client(scheduler, timeout=30)
            else:  # its scratch space is its own, removed by close()
                self.scratch = tempfile.mkdtemp(prefix="lstm-autograde-dask-")
                self.cluster = LocalCluster(
                    local_directory=self.scratch,
                    n_workers=workers or 1,
                    threads_per_worker=threads_per_worker,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",
                    silence_logs=40,
                )
                self.client = Client(self.cluster)
        except BaseException as exc:
            restore_environ(self._environ)
            if isinstance(exc, (OSError, TimeoutError, ValueError)):
                raise ClusterUnavailable(
                    f"could not reach the Dask scheduler {scheduler or '(local cluster)'}: {exc}"
                ) from exc
            raise
        self.starts: dict[str, list[str]] = {}  # task key: the workers it started on
        self.names: dict[str, str] = {}  # task key: student/assignment
        self._lock = threading.Lock()
        self.client.subscribe_topic(TOPIC, self._started)

    @property
    def address(self) -> str:
        return self.client.scheduler.address

    @property
    def dashboard(self) -> str | None:
        """The Dask dashboard's link, when the scheduler serves one (it needs bokeh)."""
        info = self.client.scheduler_info()
        return self.client.dashboard_link if "dashboard" in info.get("services", {}) else None

    def describe(self) -> str:
        """One line for the terminal: where the run grades (kept for the summary)."""
        workers = self.client.scheduler_info().get("workers", {})
        self.info = {
            "scheduler": self.address,
            "workers": len(workers),
            "threads": sum(w.get("nthreads", 1) for w in workers.values()),
            "dashboard": self.dashboard,
        }
        line = f"autograde: Dask scheduler {self.address}, {len(workers)} worker(s)"
        if self.info["dashboard"]:
            line += f", dashboard {self.info['dashboard']}"
        return line

    def summary(self) -> dict:
        """What the run's summary adds: the cluster, and the submissions retried."""
        info = getattr(self, "info", None) or {"scheduler": None}
        return {"distributed": info, "retried": self.retried(), "jobs": info.get("threads", 0)}

    def print_retried(self, summary: dict) -> None:
        from lstm_course.autograde.sanitize import printable

        retried = summary.get("retried") or {}
        if retried:
            lines = [f"Retried {len(retried)} submission(s) after a worker was lost:"]
            lines += [f"  {k}: started on {', '.join(w)}" for k, w in sorted(retried.items())]
            print(printable("\n".join(lines)))

    def _started(self, event) -> None:
        _, msg = event
        with self._lock:
            self.starts.setdefault(msg["key"], []).append(msg["worker"])

    def run(self, grader: Grader, todo: list[Submission]) -> Iterator[SubmissionResult]:
        """Grade ``todo`` on the cluster; yield each result as it comes back. A few tasks per
        worker thread are in flight at a time: the coordinator reads a submission's files only
        when it sends it, so a class of thousands never sits in memory."""
        from distributed import as_completed

        window = max(8, 3 * self._threads())
        pending = iter(enumerate(todo))
        futures: dict = {}
        done = as_completed()

        def send() -> bool:
            try:
                i, sub = next(pending)
            except StopIteration:
                return False
            notes: list[str] = []
            key = f"grade-{sub.student}-{sub.assignment}-{os.getpid()}-{i}"
            task = {
                "key": key,
                "student": sub.student,
                "assignment": sub.assignment,
                "notebooks": list(sub.notebooks),
                "files": read_submission(sub.path, notes),
                "templates": grader.templates[sub.assignment],
                "limits": self.limits,
                "allow_unsandboxed": self.allow_unsandboxed,
            }
            self.names[key] = f"{sub.student}/{sub.assignment}"
            future = self.client.submit(grade_task, task, key=key, pure=False, retries=1)
            futures[future] = (sub, notes)
            done.add(future)
            return True

        try:
            for _ in range(window):
                if not send():
                    break
            for future in done:
                sub, notes = futures.pop(future)
                yield self._result(future, sub, notes)
                send()
        finally:
            for future in futures:
                future.cancel()

    def _result(self, future, sub: Submission, notes: list[str]) -> SubmissionResult:
        try:
            result = future.result()
        except Exception as exc:
            if future.status != "error":  # cancelled or lost: the cluster went away
                raise ClusterUnavailable(
                    f"the Dask scheduler {self.address} went away during the run "
                    f"({type(exc).__name__}: {exc}); run the same command again: it skips "
                    "what is already recorded"
                ) from exc
            # the task itself failed (every worker it ran on died, or a worker has no
            # sandbox): reported, never recorded as a grade
            result = SubmissionResult(sub)
            result.not_graded = _task_error(future.key, exc, self)
        finally:
            future.release()
        result.submission = sub
        result.notes[:0] = notes
        return result

    def _threads(self) -> int:
        workers = self.client.scheduler_info().get("workers", {})
        return sum(w.get("nthreads", 1) for w in workers.values()) or 1

    def retried(self) -> dict[str, list[str]]:
        """``student/assignment`` of each submission started more than once: its workers."""
        with self._lock:
            return {
                self.names.get(key, key): workers
                for key, workers in self.starts.items()
                if len(workers) > 1
            }

    def close(self) -> None:
        try:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        finally:
            if self.scratch is not None:
                shutil.rmtree(self.scratch, ignore_errors=True)
            restore_environ(self._environ)


def _task_error(key: str, exc: BaseException, grading: DaskGrading) -> str:
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return (
            "not graded: every worker that took this submission died "
            f"({len(grading.starts.get(key, []))} tries); grade it again"
        )
    return "not graded, a worker failed:\n" + "".join(traceback.format_exception(exc, limit=5))


def read_submission(folder: Path, notes: list[str]) -> dict[str, bytes]:
    """The files ``Grader.grade`` would copy from ``folder`` (relative path: bytes), read here
    by the same ``copy_files``; what it refuses to copy goes to ``notes``."""
    with tempfile.TemporaryDirectory(prefix="lstm-autograde-send-") as tmp:
        copy_files(folder, Path(tmp), notes, COPY_IGNORE)
        out = {}
        for path in sorted(Path(tmp).rglob("*")):
            if path.is_file():
                out[path.relative_to(tmp).as_posix()] = path.read_bytes()
            elif path.is_dir() and not any(path.iterdir()):
                out[path.relative_to(tmp).as_posix() + "/"] = b""
        return out


# -- on the worker ---------------------------------------------------------------------------
_worker_lock = threading.Lock()
_worker_sandboxes: dict[tuple, tuple[Sandbox, Path]] = {}
_worker_tasks = itertools.count()


def grade_task(task: dict) -> SubmissionResult:
    """Runs on a Dask worker: grade one submission in this machine's sandbox."""
    from distributed import get_worker

    worker = get_worker()
    worker.log_event(TOPIC, {"key": task["key"], "worker": worker.address})
    sandbox, root = _worker_state(task["limits"], task["allow_unsandboxed"])
    with _worker_lock:
        index = next(_worker_tasks)
    folder = root / f"in-{index:06d}"
    try:
        for rel, data in task["files"].items():
            path = folder / rel
            if rel.endswith("/"):
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        folder.mkdir(exist_ok=True)
        sub = Submission(task["student"], task["assignment"], folder, list(task["notebooks"]))
        grader = Grader(None, sandbox, root)  # the course directory stays on the coordinator
        grader.templates[sub.assignment] = task["templates"]
        with _slot() as slot:
            grader.slots.put(slot)
            return grader.grade(sub, index)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _worker_state(limits: Limits, allow_unsandboxed: bool) -> tuple[Sandbox, Path]:
    """This worker process's sandbox (probed on first use) and scratch folder (the sandbox
    keeps its filtered packages there, built once), removed when the process exits."""
    key = (tuple(sorted(vars(limits).items())), allow_unsandboxed)
    with _worker_lock:
        if key not in _worker_sandboxes:
            root = Path(tempfile.mkdtemp(prefix="lstm-autograde-worker-"))
            os.chmod(root, 0o711)  # the sandboxes' uids (as root) reach their folders in it
            atexit.register(shutil.rmtree, root, True)
            sandbox = Sandbox(limits, enabled=True)
            try:
                sandbox.probe(root)
            except SandboxUnavailable as exc:
                if not allow_unsandboxed:
                    raise SandboxUnavailable(
                        f"worker on {os.uname().nodename}: refusing to run student code: {exc}"
                    ) from exc
                print(f"autograde worker: WARNING: no sandbox ({exc})", file=sys.stderr)
                sandbox = Sandbox(limits, enabled=False)
            _worker_sandboxes[key] = (sandbox, root)
        return _worker_sandboxes[key]


class _slot:
    """A job slot no other grading process on this machine holds (its uid as root): the first
    free lock file; the kernel frees it when the process dies, however it dies."""

    def __enter__(self) -> int:
        folder = Path(tempfile.gettempdir()) / f"lstm-autograde-slots-{os.getuid()}"
        folder.mkdir(mode=0o700, exist_ok=True)
        if folder.is_symlink() or folder.stat().st_uid != os.getuid():
            raise RuntimeError(f"{folder} is not this user's own folder: not used for slots")
        for n in range(MAX_SLOTS):
            fd = os.open(folder / str(n), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.fd = fd
            return SLOT_BASE + n
        raise RuntimeError("no free grading slot on this machine")

    def __exit__(self, *exc) -> None:
        os.close(self.fd)
