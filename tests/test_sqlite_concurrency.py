"""Many people at once on one database file: nobody gets "database is locked".

Through the real app and a real engine on a migrated database (not the rolled-back session of
the other tests): 16 threads, each a browser of its own, log in at the same moment, read pages
and write (language switch, logout, login) -- and every login session's touch is due on every
request, so GETs have their bookkeeping write too. On SQLite, before write intent, about a
third of such requests answered 500.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from audit import accounts
from audit.db import make_engine, write_intent
from audit.models import LoginSession, Role, User
from audit.trail import AuditEvent
from tests.conftest import DB_KINDS, csrf_token, database_url, login
from tests.factories import PASSWORD, make_unit, make_user
from web.cli import alembic_config

THREADS = 16
ROUNDS = 2
GETS = 5


@pytest.fixture(params=DB_KINDS)
def live_app(request, tmp_path_factory, monkeypatch):
    from web import create_app

    url = database_url(request.param, "halsoval_concurrency", request, tmp_path_factory)
    engine = make_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(url, connection=connection), "head")
    with Session(engine) as db:
        make_unit(db, "u1")
        for n in range(THREADS):
            make_user(db, f"samtidig{n}", (Role.GRANSKARE, None))
        db.commit()
    # Every request finds its login session's touch due.
    monkeypatch.setattr(accounts, "TOUCH_INTERVAL", dt.timedelta(0))
    app = create_app(
        {
            "TESTING": True,
            "PROPAGATE_EXCEPTIONS": False,  # a failure is a 500, as in production
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": url,
        }
    )
    yield app, engine
    app.extensions["halsoval.engine"].dispose()
    engine.dispose()


def _person(app, n: int, start: threading.Barrier, unexpected: list) -> None:
    client = app.test_client()
    expected = {"login": 302, "get": 200, "language": 302, "logout": 302}

    def check(what: str, response) -> None:
        if response.status_code != expected[what]:
            unexpected.append((n, what, response.status_code))

    try:
        start.wait()
        for _ in range(ROUNDS):
            check("login", login(client, f"samtidig{n}", PASSWORD))
            for path in ["/", "/enheter/", "/katalog/"] * (GETS // 3 + 1):
                check("get", client.get(path))
            token = csrf_token(client, "/")
            lang = {"csrf_token": token, "lang": "en", "next": "/"}
            check("language", client.post("/sprak", data=lang))
            check("get", client.get("/"))
            check("logout", client.post("/logga-ut", data={"csrf_token": token}))
    except Exception as exc:  # pragma: no cover - reported by the assertion below
        unexpected.append((n, "exception", repr(exc)))


def test_many_people_at_once_no_error_and_every_write_lands(live_app, caplog):
    app, engine = live_app
    start = threading.Barrier(THREADS)
    unexpected: list = []
    threads = [
        threading.Thread(target=_person, args=(app, n, start, unexpected)) for n in range(THREADS)
    ]
    with caplog.at_level(logging.WARNING, logger="web.database"):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert unexpected == []
    assert [r.getMessage() for r in caplog.records if r.name == "web.database"] == []
    with Session(engine) as db:
        logins = db.execute(sa.select(User.username, LoginSession).join(LoginSession.user)).all()
        assert len(logins) == THREADS * ROUNDS
        per_user: dict[str, int] = {}
        for username, login_session in logins:
            per_user[username] = per_user.get(username, 0) + 1
            assert login_session.ended_reason == "logout"
            assert login_session.last_seen_at > login_session.created_at  # touches landed
        assert set(per_user.values()) == {ROUNDS}
        succeeded = db.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "login"))
        assert succeeded == THREADS * ROUNDS


def test_write_intent_makes_sqlite_writers_wait_instead_of_fail(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'locks.sqlite3'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER UNIQUE)")

    # Without it: a transaction that read, then another committed, cannot write -- at once,
    # whatever the busy timeout (SQLITE_BUSY_SNAPSHOT).
    with engine.connect() as reader, engine.connect() as other:
        reader.exec_driver_sql("SELECT count(*) FROM t").scalar()
        with other.begin():
            other.exec_driver_sql("INSERT INTO t VALUES (0)")
        started = time.monotonic()
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            reader.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert time.monotonic() - started < 1
        reader.rollback()

    # With it: read-modify-write in eight threads at once; each waits for the one before.
    failures = []

    def writer():
        try:
            with write_intent(), engine.begin() as conn:
                highest = conn.exec_driver_sql("SELECT max(n) FROM t").scalar()
                time.sleep(0.02)
                conn.exec_driver_sql("INSERT INTO t VALUES (?)", (highest + 1,))
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(repr(exc))

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    with engine.connect() as conn:
        assert [n for (n,) in conn.exec_driver_sql("SELECT n FROM t ORDER BY n")] == list(range(9))
    engine.dispose()
