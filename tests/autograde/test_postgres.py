"""The gradebook on a real PostgreSQL server (issue 13), started by the tests.

The instructor's cycle against PostgreSQL (release, autograde on a local Dask cluster, feedback,
grades.csv) gives the grades of the same cycle on SQLite. The server stopped in the middle of a
run: the run stops with an error that says what happened and what to do, no submission is
half-recorded, and the next run (server back) records the rest and skips what was recorded.
The fast tests check the --db option's errors without any server, and the checksums by which a
run resumes (``resume``).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import autograde_harness as harness
import pytest
import services

from lstm_course.autograde import gradebook_db, resume

ROOT = Path(__file__).resolve().parents[2]
N = 6


def cli(course: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = harness.autograde(course, "--quiet", "--timeout", "20", *args)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def nbgrader(course: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, check=True, capture_output=True,
        env=harness.env(), timeout=300,
    )  # fmt: skip


def summary(course: Path) -> dict:
    return json.loads((course / "autograded" / "autograde_summary.json").read_text())


@pytest.fixture(scope="module")
def sqlite_cycle(tmp_path_factory):
    """The reference: the cycle on the default SQLite gradebook, local pool."""
    course = tmp_path_factory.mktemp("sqlite") / "course"
    services.make_class(course, N)
    cli(course, "--jobs", "2")
    nbgrader(course, "generate_feedback", "*", "--force")
    nbgrader(course, "export", "--to", "grades.csv")
    return course, services.grades(f"sqlite:///{course / 'gradebook.db'}")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_cycle_on_postgresql(sqlite_cycle, tmp_path):
    with services.postgres() as pg:
        course = tmp_path / "course"
        db = f"--CourseDirectory.db_url={pg.url}"
        services.make_class(course, N, db_url=pg.url)  # release: nbgrader generate_assignment
        proc = cli(course, "--db", pg.url, "--workers", "2")
        assert summary(course)["graded"] == N, proc.stderr[-2000:]
        # the embedded cluster's dashboard (bokeh is pinned): its link, live while it grades
        assert "2 worker(s), dashboard http://127.0.0.1:" in proc.stderr
        assert services.grades(pg.url) == sqlite_cycle[1], summary(course)["failures"]
        assert not (course / "gradebook.db").exists()  # nothing went to SQLite
        nbgrader(course, "generate_feedback", "*", "--force", db)
        nbgrader(course, "export", "--to", "grades.csv", db)
        assert int(pg.sql("SELECT count(*) FROM grade")) == len(sqlite_cycle[1])
    ours = _scores(course / "grades.csv")
    assert ours == _scores(sqlite_cycle[0] / "grades.csv") and len(ours) == N
    feedback = sorted(p.relative_to(course) for p in (course / "feedback").rglob("*.html"))
    assert len(feedback) == N


def _scores(path: Path) -> dict[str, float]:
    with open(path) as fh:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(fh)}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_postgresql_stopped_mid_run(sqlite_cycle, tmp_path):
    with services.postgres() as pg:
        course = tmp_path / "course"
        services.make_class(course, N, db_url=pg.url)
        recorded = f"SELECT count(*) FROM {resume.TABLE} WHERE checksum <> 'pending'"
        proc = subprocess.Popen(
            [sys.executable, "-m", "lstm_course.autograde", "--course-dir", str(course),
             "--quiet", "--timeout", "20", "--jobs", "1", "--db", pg.url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=harness.env(),
        )  # fmt: skip
        deadline = time.monotonic() + 240
        while _count(pg, recorded) < 2 and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        pg.stop("immediate")  # as a crash would: no clean goodbye to the clients
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 3, (proc.returncode, err[-3000:])
        assert "could not be reached" in err and "run the same command again" in err
        assert "Traceback" not in err

        pg.start()
        done = int(pg.sql(recorded))
        assert 2 <= done < N
        # never half a grade: every submission in the gradebook has all its grades, and they
        # are the reference's; the one being recorded when the server died is not there
        partial = services.grades(pg.url)
        students = {s for s, _ in partial}
        assert len(students) == done
        assert partial == {k: v for k, v in sqlite_cycle[1].items() if k[0] in students}

        cli(course, "--db", pg.url, "--jobs", "2")
        info = summary(course)
        assert len(info["skipped_already_graded"]) == done
        assert info["graded"] == N - done
        assert services.grades(pg.url) == sqlite_cycle[1], info["failures"]


def _count(pg, query: str) -> int:
    try:
        return int(pg.sql(query))
    except subprocess.CalledProcessError:  # the table is not made yet
        return 0


# -- the --db option's errors: no server, no sandbox, no grading ---------------------------------
def test_db_urls_are_checked_with_clear_errors():
    url = gradebook_db.normalise_url("postgresql://grader:secret@db.example.org/lstm")
    assert url.startswith("postgresql+psycopg://grader:secret@db.example.org/lstm")
    assert "connect_timeout=10" in url
    assert gradebook_db.normalise_url("sqlite:////x/gradebook.db") == "sqlite:////x/gradebook.db"
    for bad, phrase in [
        ("mysql://u@h/db", "got a 'mysql' URL"),
        ("postgresql+psycopg2://u:secret@h/db", "psycopg2' is not installed"),
        ("gradebook.db", "expected a database URL"),
    ]:
        with pytest.raises(ValueError, match="--db") as info:
            gradebook_db.normalise_url(bad)
        assert phrase in str(info.value) and "secret" not in str(info.value)


def test_nbgrader_rollback_log_is_dropped_and_other_errors_kept(caplog):
    """nbgrader logs each database error it rolls back with its traceback (seen once in the
    stopped-mid-run test above, which the run then reports in one sentence); the grader drops
    that record, and only that one."""
    from nbgrader.api import app_log

    try:
        gradebook_db.quiet_rollback_log()
        gradebook_db.quiet_rollback_log()  # twice: one filter
        assert app_log.filters.count(gradebook_db._not_a_rollback) == 1
        try:
            raise RuntimeError("server closed the connection unexpectedly")
        except RuntimeError as e:
            app_log.exception(f"Rolling back session due to database error {e}")
            app_log.exception("something else went wrong")
        logged = [r.getMessage() for r in caplog.records]
        assert logged == ["something else went wrong"], logged
    finally:
        app_log.removeFilter(gradebook_db._not_a_rollback)


def test_an_unreachable_database_stops_before_grading(tmp_path):
    url = f"postgresql+psycopg://grader:secret@/lstm?host={tmp_path}&port=5999"
    proc = harness.autograde(tmp_path, "--db", url, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "cannot use the gradebook database" in proc.stderr
    assert "secret" not in proc.stderr and "Traceback" not in proc.stderr
    proc = harness.autograde(tmp_path, "--db", "mysql://u@h/x", timeout=120)
    assert proc.returncode == 2 and "--db: expected" in proc.stderr


def test_checksums_follow_the_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        (folder / "sub").mkdir(parents=True)
        (folder / "nb.ipynb").write_bytes(b"{}")
        (folder / "sub" / "data.txt").write_text("1 2 3")
        (folder / "__pycache__").mkdir()
        (folder / "__pycache__" / "x.pyc").write_bytes(folder.name.encode())  # never graded
    assert resume.submission_checksum(a) == resume.submission_checksum(b)
    before = resume.submission_checksum(b)
    (b / "sub" / "data.txt").write_text("1 2 4")
    assert resume.submission_checksum(b) != before
    (b / "sub" / "data.txt").write_text("1 2 3")
    assert resume.submission_checksum(b) == before
    (b / "sub" / "data.txt").rename(b / "sub" / "date.txt")
    assert resume.submission_checksum(b) != before
    # a FIFO or a link to /dev/stdin is counted, never opened (it would block the run)
    os.mkfifo(b / "timestamp.txt")
    (b / "stdin.txt").symlink_to("/dev/stdin")
    assert resume.submission_checksum(b) != before
