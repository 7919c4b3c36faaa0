"""Database plumbing: one declarative base, engines for SQLite and PostgreSQL, sessions.

SQLite is the embedded default (a file under ``instance/``); PostgreSQL is what a region runs in
production (``postgresql+psycopg://...``). The schema comes only from Alembic migrations.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from audit import text as _text  # noqa: F401  (checks every stored text as it is assigned)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DATABASE_URL_ENV = "HALSOVAL_DATABASE_URL"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Base(DeclarativeBase):
    """Declarative base for every table, with a naming convention for constraints."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones and hands back naive values,
    which are UTC by construction here.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC timestamp")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC. Tests replace ``audit.db.clock`` to move time."""
    return clock()


def _system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


clock = _system_clock


def default_sqlite_url() -> str:
    """The embedded database: ``instance/halsoval.sqlite3`` in the project directory."""
    instance = PROJECT_ROOT / "instance"
    instance.mkdir(exist_ok=True)
    return f"sqlite:///{instance / 'halsoval.sqlite3'}"


def database_url() -> str:
    """The configured database URL: ``HALSOVAL_DATABASE_URL`` or the embedded SQLite file."""
    return os.environ.get(DATABASE_URL_ENV) or default_sqlite_url()


# --- write intent ----------------------------------------------------------------------------
#
# SQLite allows one writer at a time. A transaction opened with a plain (deferred) BEGIN reads
# from a snapshot and asks for the write lock only at its first write; if another connection
# committed in between, SQLite refuses at once with SQLITE_BUSY_SNAPSHOT ("database is
# locked") -- waiting would not help, the snapshot is stale -- and the busy timeout never
# applies. A unit of work that may write therefore declares it up front: its transactions
# begin with BEGIN IMMEDIATE, which takes the write lock before the first read and, if another
# writer holds it, waits for up to the busy timeout. PostgreSQL needs none of this.

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "halsoval_write_intent", default=False
)


def write_intent_active() -> bool:
    """Whether transactions begun now take SQLite's write lock at BEGIN."""
    return _write_intent.get()


def set_write_intent(active: bool = True) -> contextvars.Token:
    """Declare (or withdraw) write intent until :func:`reset_write_intent` with the token.

    For hooks that cannot wrap the work in a ``with`` block (a web request's before/after).
    """
    return _write_intent.set(active)


def reset_write_intent(token: contextvars.Token) -> None:
    _write_intent.reset(token)


@contextlib.contextmanager
def write_intent() -> Iterator[None]:
    """Transactions begun inside take the write lock at BEGIN (BEGIN IMMEDIATE on SQLite).

    Use it around any unit of work that may write (web requests other than GET/HEAD/OPTIONS,
    command-line and background jobs) so that concurrent writers wait for each other within
    the busy timeout instead of failing. A transaction already open is not affected.
    """
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


# --- late write: read without the lock, then write briefly under it -----------------------
#
# A hot path that mostly reads and then writes a row or two (an item's save: the login session,
# the access check, the item, validation, evaluation -- then one UPDATE and one trail event)
# need not hold SQLite's write lock while it reads. It declares *late* write intent instead:
# its reads run in a deferred transaction, in parallel with other workers, and its writes in a
# :func:`write_phase` -- a transaction of their own begun with BEGIN IMMEDIATE and committed at
# once. Whatever the writes depend on must be re-checked by them (a conditional UPDATE):
# another writer may commit between the two transactions.

_late_write: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "halsoval_late_write", default=False
)
_WROTE = "halsoval.wrote"  # Connection.info key: this transaction has written (SQLite)


@event.listens_for(Session, "after_begin")
def _session_began(session, transaction, connection) -> None:
    # What write_phase checks is whether *this session's* transaction wrote: reset the mark
    # when it begins (also when it is a savepoint inside a connection's outer transaction).
    connection.info[_WROTE] = False


def set_late_write(active: bool = True) -> contextvars.Token:
    """Declare late write intent (reads first, writes in :func:`write_phase`) until
    :func:`reset_late_write` with the token."""
    return _late_write.set(active)


def reset_late_write(token: contextvars.Token) -> None:
    _late_write.reset(token)


@contextlib.contextmanager
def write_phase(session: Session) -> Iterator[None]:
    """The writes of a unit of work that declared late write intent, committed on exit.

    Without late write intent (a command-line job, a request that declared write intent up
    front, a test) this does nothing: the block's writes belong to the caller's transaction.
    With it, the read transaction is ended -- it must not have written anything, which is
    checked -- and the block runs in a new transaction taking the write lock at BEGIN (BEGIN
    IMMEDIATE on SQLite; on PostgreSQL the lock is the UPDATE's row lock), committed when the
    block ends and rolled back if it raises. Objects loaded before stay usable (sessions do not
    expire on commit).
    """
    if not _late_write.get():
        yield
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("unflushed changes before write_phase")
    if session.in_transaction():
        if session.connection().info.get(_WROTE):
            raise RuntimeError("a late writer wrote before its write_phase")
        session.commit()
    late = _late_write.set(False)
    intent = _write_intent.set(True)
    try:
        try:
            yield
            session.commit()
        except BaseException:
            session.rollback()
            raise
    finally:
        _write_intent.reset(intent)
        _late_write.reset(late)


# How long a SQLite connection waits for the write lock. Writers are serialised: with 32
# clients saving at once, the last one waits for the 31 ahead of it, each holding the lock for
# its whole request (a checklist save with every item, or a login with its argon2 hash, takes
# up to a few hundred milliseconds), so waits of several seconds are normal in such a burst.
# 30 s covers that with a wide margin; beyond it something is wrong (a stuck process holding
# the lock) and the user gets the error page, with what they typed. The gunicorn worker
# timeout (web/gunicorn_conf.py) is longer, so the wait ends in that page, not a killed worker.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str | None = None, **kwargs) -> Engine:
    """Create an engine with the project's per-dialect settings.

    For SQLite: foreign keys on for every connection, WAL journal, a busy timeout, and
    SQLAlchemy's recipe for pysqlite's transaction handling (the driver's own BEGIN handling is
    switched off and SQLAlchemy emits BEGIN itself) so that SAVEPOINT works as documented; a
    transaction begun under :func:`write_intent` is BEGIN IMMEDIATE.

    Statement parameters are left out of error messages and logs (``hide_parameters``): they
    are what people typed, and may hold personal data.
    """
    url = url or database_url()
    kwargs.setdefault("hide_parameters", True)
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        # Let SQLAlchemy, not pysqlite, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.info[_WROTE] = False
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")

    @event.listens_for(engine, "before_cursor_execute")
    def _note_writes(conn, cursor, statement, parameters, context, executemany):
        # For write_phase's check that a late writer read only. Cheap: a prefix compare.
        if not statement.startswith(("SELECT", "BEGIN")):
            conn.info[_WROTE] = True


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory; sessions do not expire objects on commit (pages render after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


# Every session refuses to store a personnummer in a column marked personal_text: importing
# the module registers its listeners on the Session class (see audit/personal_data.py).
from audit import personal_data as _personal_data  # noqa: E402, F401
