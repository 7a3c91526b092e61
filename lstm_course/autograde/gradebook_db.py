"""The gradebook's database: SQLite by default, PostgreSQL when the instructor asks for it.

nbgrader takes any SQLAlchemy URL (``--db`` of ``lstm-course grade``, or ``db_url`` in the
course's ``nbgrader_config.py``); the course supports two kinds:

    sqlite:///ABSOLUTE/PATH/gradebook.db         the default, one file next to the course
    postgresql+psycopg://USER@HOST:PORT/DBNAME   a PostgreSQL server (driver: psycopg 3)

``postgresql://`` and ``postgres://`` are read as ``postgresql+psycopg://`` (SQLAlchemy would
otherwise look for psycopg2, which is not installed); passwords belong in ``~/.pgpass`` or
``PGPASSWORD``, never in a command line. ``check`` connects once and says in one sentence what is
wrong (server down, database missing, wrong password) before any submission is graded.

``one_transaction`` makes one submission's record atomic: every nbgrader ``Gradebook`` opened
inside it (nbgrader's preprocessors open their own) shares one connection and one transaction,
committed at the end or rolled back whole, so a database that dies mid-record never keeps half a
grade. A lost connection comes out as ``GradebookUnavailable``, which stops the run (the
submissions recorded so far stay recorded, and the next run resumes after them: ``resume``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# What a connection that went away looks like, by driver: anything else is a bug or bad data.
_LOST = (
    "server closed the connection",
    "connection refused",
    "could not connect",
    "terminating connection",
    "connection is closed",
    "the connection is lost",
    "consuming input failed",
    "no such file or directory",  # the Unix socket is gone: the server is stopped
    "the database system is",  # starting up / shutting down / in recovery mode
    "connection timeout expired",
    "timeout expired",
)
CONNECT_TIMEOUT = 10  # seconds: a server that does not answer is reported, not waited for


# nbgrader's Gradebook logs every database error it rolls back, traceback included, on tornado's
# application logger, then raises it. The run reports that error itself (a lost database in one
# sentence, anything else as the error it is), so the log only buries the sentence.
_ROLLBACK_LOG = "Rolling back session due to database error"


def _not_a_rollback(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith(_ROLLBACK_LOG)


def quiet_rollback_log() -> None:
    """Drop nbgrader's "Rolling back session" log records in this process (idempotent)."""
    logger = logging.getLogger("tornado.application")  # nbgrader.api's app_log
    if _not_a_rollback not in logger.filters:
        logger.addFilter(_not_a_rollback)


class GradebookUnavailable(RuntimeError):
    """The gradebook's database cannot be reached (or went away during a run)."""


def normalise_url(url: str, option: str = "--db") -> str:
    """The URL nbgrader should use; ValueError naming ``option`` for one the course cannot use."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(
            f"{option}: expected a database URL (sqlite:///PATH or "
            f"postgresql+psycopg://USER@HOST/DBNAME), got {url!r}"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return url
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        parsed = parsed.set(drivername="postgresql+psycopg")
        if "connect_timeout" not in parsed.query:
            parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT)})
        return parsed.render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        raise ValueError(
            f"{option}: the PostgreSQL driver {driver!r} is not installed; the course pins "
            f"psycopg 3: write postgresql+psycopg://..., got {redacted(url)!r}"
        )
    raise ValueError(
        f"{option}: expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DBNAME, "
        f"got a {backend!r} URL ({redacted(url)!r})"
    )


def redacted(url: str) -> str:
    """The URL with its password hidden, to print."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 (never fail while explaining a failure)
        return "<an unreadable database URL>"


def is_connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database server cannot be reached."""
    from sqlalchemy.exc import DBAPIError

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, GradebookUnavailable):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        module = type(exc).__module__ or ""
        if module.startswith(("psycopg", "sqlalchemy")) and type(exc).__name__ in (
            "OperationalError",
            "InterfaceError",
        ):
            text = str(exc).lower()
            if any(s in text for s in _LOST):
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def unavailable(url: str, exc: BaseException, doing: str) -> GradebookUnavailable:
    """The error a run stops with, in words an instructor can act on."""
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:400]
    return GradebookUnavailable(
        f"the gradebook database {redacted(url)} could not be reached while {doing}: {reason}. "
        + RESUMABLE
    )


RESUMABLE = (
    "Every submission is recorded in one transaction, so nothing is half-written; once the "
    "database is back, run the same command again: it skips what is already recorded."
)


def check(url: str) -> None:
    """Connect once; GradebookUnavailable (or ValueError) says clearly what is wrong."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 (every failure becomes one sentence)
        hint = ""
        message = str(getattr(exc, "orig", None) or exc)
        if "does not exist" in message and "database" in message:
            hint = " (create it first: createdb, then `make release DB=...` fills it)"
        elif "password" in message:
            hint = " (put the password in ~/.pgpass or PGPASSWORD, not in the URL)"
        reason = " ".join(message.split())[:400]
        raise GradebookUnavailable(
            f"cannot use the gradebook database {redacted(url)}{hint}: {reason}"
        ) from None
    finally:
        engine.dispose()


_shared = threading.local()


@contextmanager
def one_transaction(url: str) -> Iterator[object]:
    """Within: every nbgrader Gradebook on ``url`` opened by this thread shares one connection
    and one transaction, committed when the block ends and rolled back if it raises. Yields the
    connection (SQLAlchemy Core statements may join the same transaction)."""
    from sqlalchemy import create_engine

    if getattr(_shared, "conn", None) is not None:
        raise RuntimeError("one_transaction: already inside one on this thread")
    engine = create_engine(url)
    try:
        try:
            conn = engine.connect()
            trans = conn.begin()
        except Exception as exc:
            if is_connection_lost(exc):
                raise unavailable(url, exc, "opening a transaction") from exc
            raise
        # nbgrader's Gradebook calls engine.dispose() when it closes: not ours to dispose
        conn.dispose = lambda: None
        _shared.conn, _shared.url = conn, url
        _install_hook()
        try:
            yield conn
            trans.commit()
        except BaseException as exc:
            try:
                trans.rollback()
            except Exception:  # noqa: BLE001 (the connection may be gone: nothing was committed)
                pass
            if isinstance(exc, Exception) and is_connection_lost(exc):
                raise unavailable(url, exc, "recording a grade") from exc
            raise
        finally:
            _shared.conn = _shared.url = None
            conn.close()
    finally:
        engine.dispose()


def _install_hook() -> None:
    """nbgrader.api.create_engine, wrapped once: inside ``one_transaction`` (this thread, same
    URL) it returns the shared connection. nbgrader's sessions bound to a connection already in a
    transaction only flush on commit (SQLAlchemy's "rollback_only" join mode): the outer
    transaction alone commits."""
    import nbgrader.api

    original = nbgrader.api.create_engine
    if getattr(original, "_lstm_shared", False):
        return

    def create_engine(url, *args, **kwargs):
        conn = getattr(_shared, "conn", None)
        if conn is not None and str(url) == _shared.url:
            return conn
        return original(url, *args, **kwargs)

    create_engine._lstm_shared = True
    nbgrader.api.create_engine = create_engine


def use(course, url: str | None) -> None:
    """Point ``course`` (a ``course.Course``) at ``url`` (``--db``; None: the course config's),
    normalised, and check a server is there. ValueError for a URL the course cannot use,
    GradebookUnavailable for a server that does not answer."""
    option = "--db" if url else "CourseDirectory.db_url (nbgrader_config.py)"
    url = normalise_url(url or course.db_url, option)
    course.db_url = course.coursedir.db_url = url
    if not url.startswith("sqlite"):  # SQLite's file is made by `make release`, checked there
        check(url)
