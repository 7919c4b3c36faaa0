"""Fixtures: both databases migrated once per session, a rolled-back session per test, the
app bound to that session, and a logged-in client helper."""

from __future__ import annotations

import os
import re

import pytest
import sqlalchemy as sa
from alembic import command
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from audit import accounts
from audit.db import make_engine
from tests.servers import PostgresServer
from web.cli import alembic_config

DB_KINDS = ["sqlite", "postgresql"]


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Argon2 with its production cost makes every test user take ~0.1 s; tests use less."""
    original = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts._hasher = original


@pytest.fixture(autouse=True, scope="session")
def _instance_dir(tmp_path_factory):
    os.environ["HALSOVAL_INSTANCE"] = str(tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer().start()
    yield server
    server.stop()


def database_url(kind: str, name: str, request, tmp_path_factory) -> str:
    """An empty database of ``kind`` named ``name``."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp(name) / 'test.sqlite3'}"
    return request.getfixturevalue("postgres_server").create_database(name)


@pytest.fixture(scope="session", params=DB_KINDS)
def engine(request, tmp_path_factory):
    """A database of each kind, migrated to head once for the session."""
    url = database_url(request.param, "halsoval_test", request, tmp_path_factory)
    engine = make_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(url, connection=connection), "head")
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    """A connection inside a transaction that is rolled back after the test."""
    conn = engine.connect()
    transaction = conn.begin()
    yield conn
    transaction.rollback()
    conn.close()


def _session(connection) -> Session:
    # commit() inside the test releases a savepoint; the outer transaction is rolled back.
    return Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db(connection) -> Session:
    session = _session(connection)
    yield session
    session.close()


@pytest.fixture
def app(connection):
    from web import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SESSION_FACTORY": lambda: _session(connection),
        }
    )
    return app


@pytest.fixture
def client(app):
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/logga-in") -> str:
    """The CSRF token of a form on ``path``, as a browser would find it."""
    response = client.get(path)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path} (status {response.status_code})"
    return match.group(1)


def login(client, username: str, password: str):
    token = csrf_token(client)
    return client.post(
        "/logga-in", data={"csrf_token": token, "username": username, "password": password}
    )


def count(db: Session, model) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model))
