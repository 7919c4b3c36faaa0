"""Database plumbing: one declarative base, engines for SQLite and PostgreSQL, sessions.

SQLite is the embedded default (a file under ``instance/``); PostgreSQL is what a region runs in
production (``postgresql+psycopg://...``). The schema comes only from Alembic migrations.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

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


def make_engine(url: str | None = None, **kwargs) -> Engine:
    """Create an engine with the project's per-dialect settings.

    For SQLite: foreign keys on for every connection, WAL journal, a busy timeout, and
    SQLAlchemy's recipe for pysqlite's transaction handling (the driver's own BEGIN handling is
    switched off and SQLAlchemy emits BEGIN itself) so that SAVEPOINT works as documented.
    """
    url = url or database_url()
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
        cursor.execute("PRAGMA busy_timeout=5000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory; sessions do not expire objects on commit (pages render after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
