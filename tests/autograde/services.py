"""Real services for the large-course tests: a PostgreSQL server and a Dask cluster, started here.

``postgres()`` runs Debian's ``initdb`` and ``pg_ctl`` (``/usr/lib/postgresql/*/bin``) in a fresh
temporary folder, listening on a Unix socket in that folder only (no TCP port), as an
unprivileged user: this user, or, when the tests run as root (PostgreSQL refuses root, and
``.ci/run`` runs as root), the ``postgres`` system user the Debian package creates (else
``nobody``). ``dask_cluster()`` starts a scheduler and worker processes (each with a nanny) on
127.0.0.1. Both are context managers that stop what they started and check it is gone; the
cluster's processes keep their temporary files under a folder of their own, so that anything
left running is found by its command line.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from lstm_course.autograde.distributed import restore_environ

PG_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def pg_bin() -> Path | None:
    for folder in reversed(PG_BINS):
        if os.access(Path(folder) / "initdb", os.X_OK):
            return Path(folder)
    return None


def require_postgres() -> Path:
    """The PostgreSQL binaries, or skip (fail under CI) naming the package to install."""
    found = pg_bin()
    if found is not None:
        return found
    message = "PostgreSQL is not installed: sudo apt-get install postgresql (.ci/run does)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI: {message}", pytrace=False)
    pytest.skip(message)


@dataclass
class Postgres:
    bin: Path
    folder: Path  # data/, the socket and the log
    user: str | None  # the system user the server runs as (None: this one)
    port: int = 5432  # names the socket file only: nothing listens on TCP

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@/gradebook?host={self.folder}&port={self.port}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / args[0]), *args[1:]]
        kwargs = {}
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        return subprocess.run(
            cmd, capture_output=True, text=True, check=check, timeout=60, cwd=self.folder,
            **kwargs,
        )  # fmt: skip

    def start(self) -> None:
        opts = f"-k {self.folder} -c listen_addresses='' -p {self.port} -c fsync=off"
        self._run("pg_ctl", "-D", "data", "-l", "log", "-w", "-t", "30", "-o", opts, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", "data", "-m", mode, "-w", "-t", "30", "stop", check=False)

    def pid(self) -> int | None:
        pidfile = self.folder / "data" / "postmaster.pid"
        try:
            return int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def sql(self, query: str) -> str:
        out = subprocess.run(
            [str(self.bin / "psql"), "-h", str(self.folder), "-p", str(self.port), "-U",
             "postgres", "-d", "gradebook", "-At", "-c", query],
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        return out.stdout.strip()


def _server_user() -> str | None:
    if os.getuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    pytest.fail("running as root, and neither a postgres nor a nobody user to run PostgreSQL")


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL server with an empty database ``gradebook``; stopped and removed after."""
    binaries = require_postgres()
    folder = Path(tempfile.mkdtemp(prefix="lstm-pg-"))
    user = _server_user()
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    os.chmod(folder, 0o700)
    pg = Postgres(binaries, folder, user)
    try:
        pg._run("initdb", "-D", "data", "-A", "trust", "-U", "postgres", "-E", "UTF8",
                "--no-sync", "--no-instructions")  # fmt: skip
        pg.start()
        subprocess.run(
            [str(binaries / "createdb"), "-h", str(folder), "-p", str(pg.port), "-U",
             "postgres", "gradebook"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        yield pg
    finally:
        pid = pg.pid()
        pg.stop("immediate")
        if pid is not None:
            _wait_gone([pid], "PostgreSQL")
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Cluster:
    address: str
    tmp: Path  # the workers' TMPDIR: every sandbox they start has it in its command line
    client: object  # a distributed.Client of the tests' own

    def worker_pids(self) -> dict[str, int]:
        return self.client.run(os.getpid)


@contextlib.contextmanager
def dask_cluster(n_workers: int = 2) -> Iterator[Cluster]:
    """A scheduler and ``n_workers`` worker processes (one thread each) on 127.0.0.1."""
    from distributed import Client, LocalCluster

    tmp = Path(tempfile.mkdtemp(prefix="lstm-dask-"))
    os.chmod(tmp, 0o711)  # as root, the sandboxes' uids reach the workers' scratch folders
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    environ = dict(os.environ)  # Dask's Nanny changes it: restore_environ says how
    try:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=50,
            env={"TMPDIR": str(tmp)},
            local_directory=str(tmp),
        )
    except BaseException:
        restore_environ(environ)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    client = Client(cluster)
    try:
        yield Cluster(cluster.scheduler_address, tmp, client)
    finally:
        # multiprocessing's resource tracker lives as long as this process: not the cluster's
        started = [
            p.pid
            for p in psutil.Process().children(recursive=True)
            if p.pid not in before and "resource_tracker" not in " ".join(_cmdline(p))
        ]
        try:
            client.close()
            cluster.close(timeout=30)
            _wait_gone(started, "Dask")
            leftovers = processes_mentioning(str(tmp))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            restore_environ(environ)
        assert not leftovers, f"processes left behind by the cluster: {leftovers}"


def processes_mentioning(text: str) -> list[str]:
    """Running processes whose command line contains ``text``."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(proc.info.get("cmdline") or [])
        if text in cmd and proc.pid != os.getpid():
            found.append(f"{proc.pid}: {cmd[:200]}")
    return found


def _wait_gone(pids: list[int], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    alive = [p for p in pids if psutil.pid_exists(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [p for p in alive if _running(p)]
    for pid in alive:  # never left behind, even by a failed test
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).kill()
    assert not alive, f"{what} processes still running after {timeout:.0f} s: {alive}"


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# -- a class to grade --------------------------------------------------------------------------
KINDS = ("solved", "wrong", "blank")


def make_class(dest: Path, n: int, db_url: str | None = None) -> list[str]:
    """A released copy of the course (ex03_forget_gate; into ``db_url`` when given) with ``n``
    submissions, solved, wrong and blank in turn; returns the students."""
    import autograde_harness as harness

    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(harness.ROOT / "nbgrader_config.py", dest)
    for folder in ("solutions", "exercises"):
        shutil.copytree(
            harness.ROOT / folder / harness.ASSIGNMENT, dest / folder / harness.ASSIGNMENT
        )
    db = [f"--CourseDirectory.db_url={db_url}"] if db_url else []
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", harness.ASSIGNMENT, "--force", *db],
        cwd=dest, check=True, capture_output=True, env=harness.env(), timeout=300,
    )  # fmt: skip
    cases = harness.load_cases()
    ctx = cases.context(dest, harness.ASSIGNMENT)
    notebooks = {"solved": ctx.solved(), "wrong": ctx.wrong(), "blank": ctx.release}
    students = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        student = f"s{i:03d}-{kind}"
        folder = dest / "submitted" / student / harness.ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text(cases.TIMESTAMP)
        (folder / f"{ctx.notebook}.ipynb").write_bytes(cases.dumps(notebooks[kind]))
        students.append(student)
    return students


def grades(db_url: str) -> dict[tuple[str, str], float | None]:
    """Every (student, grade cell): its score, read from the gradebook with nbgrader."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(db_url, "lstm-course") as gb:
        for student in gb.students:
            for sub in student.submissions:
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        out[(student.id, grade.name)] = grade.score
    return out
