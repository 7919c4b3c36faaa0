"""The write path: GETs do not write in their transaction, the login-session touch never fails
a request, error pages render without the database and give back what was typed, gzip."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import logging

import pytest
import sqlalchemy as sa
from flask import redirect, request
from sqlalchemy import event

import audit.db as audit_db
from audit import accounts
from audit.db import write_intent_active
from audit.models import LoginSession, Role, Unit
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_unit, make_user
from web import database
from web.access import PUBLIC, ROUTE_ACCESS, Access
from web.database import get_db

START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += dt.timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(audit_db, "clock", clock)
    return clock


@pytest.fixture
def karin(db):
    make_unit(db, "u1")
    user = make_user(db, "karin", (Role.GRANSKARE, None))
    db.commit()
    return user


@pytest.fixture
def writes(connection):
    """Every INSERT, UPDATE and DELETE sent, with whether write intent was declared."""
    seen: list[tuple[bool, str]] = []

    def _record(conn, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE"}:
            seen.append((write_intent_active(), " ".join(statement.split()[:3])))

    event.listen(connection, "before_cursor_execute", _record)
    yield seen
    event.remove(connection, "before_cursor_execute", _record)


def _last_seen(db, user) -> dt.datetime:
    db.expire_all()
    return db.scalar(
        sa.select(sa.func.max(LoginSession.last_seen_at)).where(LoginSession.user_id == user.id)
    )


def test_check_session_only_reads_and_resume_keeps_the_session_in_step(db, karin, clock):
    token = accounts.authenticate(db, "karin", PASSWORD, "a", secret=b"k").token
    db.flush()
    clock.advance(minutes=20)
    check = accounts.check_session(db, token)
    assert check.user is karin and check.touch and check.end_reason is None
    assert not db.dirty and not db.new
    # Resumed every 20 minutes, the session never idles out: each touch is seen by the next.
    for _ in range(3):
        assert accounts.resume_session(db, token) is karin
        clock.advance(minutes=20)
    assert accounts.resume_session(db, token) is karin
    clock.advance(minutes=31)
    assert accounts.check_session(db, token).end_reason == "idle_timeout"
    assert accounts.resume_session(db, token) is None
    clock.advance(minutes=1)
    assert accounts.check_session(db, token).login_id is None  # ended, nothing more to write


def test_get_writes_nothing_in_its_transaction_and_touches_afterwards(
    client, app, db, karin, clock, writes
):
    assert login(client, "karin", PASSWORD).status_code == 302
    pages = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and "<" not in rule.rule
    ]
    assert "/" in pages and "/logga-in" in pages
    touch = (True, "UPDATE login_sessions SET")
    for page in pages:
        clock.advance(minutes=2)  # the touch is due on every page
        writes.clear()
        response = client.get(page)
        assert response.status_code < 500, page
        assert set(writes) <= {touch}, page  # nothing without write intent, nothing but it
    clock.advance(minutes=2)
    writes.clear()
    assert client.get("/").status_code == 200
    assert writes == [touch]
    assert _last_seen(db, karin) == clock.now
    assert not write_intent_active()


def test_a_post_declares_write_intent_and_touches_in_its_transaction(
    client, db, karin, clock, writes, test_routes
):
    login(client, "karin", PASSWORD)
    token = csrf_token(client, "/")
    clock.advance(minutes=2)
    writes.clear()
    response = client.post("/test/skriv", data={"csrf_token": token})
    assert response.status_code == 302
    assert {verb for _, verb in writes} >= {"UPDATE login_sessions SET", "INSERT INTO units"}
    assert all(intent for intent, _ in writes)
    assert _last_seen(db, karin) == clock.now
    assert db.scalar(sa.select(Unit.name).where(Unit.code == "ny")) == "Testenhet ny"
    assert not write_intent_active()


def test_a_refused_post_still_touches_the_session(client, db, karin, clock):
    login(client, "karin", PASSWORD)
    token = csrf_token(client, "/")
    clock.advance(minutes=2)
    response = client.post("/sprak", data={"csrf_token": token, "lang": "xx"})
    assert response.status_code == 400  # rolled back, the touch redone after it
    assert _last_seen(db, karin) == clock.now


def test_an_idled_out_session_is_ended_by_a_get(client, db, karin, clock):
    login(client, "karin", PASSWORD)
    clock.advance(minutes=31)
    assert client.get("/").status_code == 302  # to the login page
    db.expire_all()
    assert db.scalar(sa.select(LoginSession.ended_reason)) == "idle_timeout"


def test_a_failing_touch_never_fails_the_get(client, db, karin, clock, monkeypatch, caplog):
    login(client, "karin", PASSWORD)
    before = _last_seen(db, karin)

    @contextlib.contextmanager
    def locked():
        raise sa.exc.OperationalError("UPDATE login_sessions", {}, Exception("locked"))
        yield  # pragma: no cover

    monkeypatch.setattr(database, "write_intent", locked)
    clock.advance(minutes=2)
    with caplog.at_level(logging.WARNING, logger="web.database"):
        response = client.get("/")
    assert response.status_code == 200
    assert "Karin" in response.get_data(as_text=True)
    assert _last_seen(db, karin) == before
    messages = [r.getMessage() for r in caplog.records if r.name == "web.database"]
    assert messages == ["bookkeeping write after the request failed: OperationalError"]
    assert "karin" not in caplog.text.lower()


# --- error pages -----------------------------------------------------------------------------

TYPED = {
    "svar": "Vi har <b>två</b> läkare & en sjuksköterska.\nRad två.",
    "kommentar": "Se bilaga",
    "tomt": "   ",
    "password": "hemligt lösenord 123",
    "new_password": "ännu hemligare",
}


@pytest.fixture
def test_routes(app, monkeypatch):
    """Test-only views, added before the first request: one that writes (for logged-in users),
    and one that breaks the request's session (a failed flush, after which every use of the
    session raises -- as "database is locked" does)."""

    def write():
        make_unit(get_db(), "ny")
        return redirect("/")

    def broken():
        db = get_db()
        db.add(Unit(code="trasig", name=request.form.get("svar", "x")))  # NOT NULL fields missing
        db.flush()
        return "not reached"

    app.add_url_rule("/test/skriv", "test_write", write, methods=["POST"])
    app.add_url_rule("/test/trasig", "test_broken", broken, methods=["GET", "POST"])
    monkeypatch.setitem(ROUTE_ACCESS, "test_write", Access(roles=frozenset(Role)))
    monkeypatch.setitem(ROUTE_ACCESS, "test_broken", PUBLIC)
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False


@pytest.fixture
def broken_route(test_routes):
    return "/test/trasig"


def _assert_typed_text_shown(text: str, token: str) -> None:
    assert "Det här skrev du — kopiera det innan du går vidare" in text
    assert "Vi har &lt;b&gt;två&lt;/b&gt; läkare &amp; en sjuksköterska.\nRad två." in text
    assert "<b>två</b>" not in text
    assert "Se bilaga" in text and "kommentar" in text
    assert "tomt" not in text
    assert "hemligt" not in text and "hemligare" not in text
    assert "<dt>csrf_token</dt>" not in text and "<dt>password</dt>" not in text


def test_a_failed_get_shows_a_swedish_page_without_the_database(client, karin, broken_route):
    login(client, "karin", PASSWORD)  # the layout would ask who this is
    response = client.get(broken_route)
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "<h1>Något gick fel</h1>" in text and "Felet har loggats" in text
    assert "Det här skrev du" not in text
    assert client.get("/").status_code == 200  # the next request is fine


def test_a_failed_post_gives_back_what_was_typed_and_logs_none_of_it(
    client, karin, broken_route, caplog
):
    login(client, "karin", PASSWORD)
    token = csrf_token(client, "/")
    with caplog.at_level(logging.DEBUG):
        response = client.post(broken_route, data={"csrf_token": token, **TYPED})
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "<h1>Något gick fel</h1>" in text and "Inget sparades." in text
    _assert_typed_text_shown(text, token)
    logged = caplog.text
    assert "Exception on /test/trasig [POST]: IntegrityError" in logged
    for word in ("läkare", "sjuksköterska", "bilaga", "hemligt", "hemligare"):
        assert word not in logged, word


def test_when_not_even_the_template_renders_a_static_page_still_gives_it_back(
    client, karin, broken_route, monkeypatch
):
    login(client, "karin", PASSWORD)
    token = csrf_token(client, "/")

    def no_templates(*args, **kwargs):
        raise RuntimeError("no templates today")

    monkeypatch.setattr("web.app.render_template", no_templates)
    response = client.post(broken_route, data={"csrf_token": token, **TYPED})
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert "<h1>Något gick fel</h1>" in text and "Felkod: 500" in text
    _assert_typed_text_shown(text, token)


def test_an_expired_form_gives_back_what_was_typed(client, karin):
    login(client, "karin", PASSWORD)
    token = csrf_token(client, "/")
    response = client.post("/sprak", data={"csrf_token": "utgången", **TYPED})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Formuläret hade gått ut" in text
    assert "Karin" in text  # the full layout, the database being fine
    _assert_typed_text_shown(text, token)


# --- compression ---------------------------------------------------------------------------


def test_html_is_gzipped_for_clients_that_accept_it(client, karin):
    login(client, "karin", PASSWORD)
    plain = client.get("/enheter/")
    zipped = client.get("/enheter/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert plain.status_code == zipped.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    for response in (plain, zipped):
        assert "Accept-Encoding" in response.headers["Vary"]
    body = zipped.get_data()
    assert int(zipped.headers["Content-Length"]) == len(body) < len(plain.get_data())
    assert gzip.decompress(body) == plain.get_data()


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/static/app.css", {}),  # send_file: passed through as it is
        ("/halsa", {}),  # below the threshold
        ("/enheter/", {"Sec-Fetch-Site": "cross-site"}),  # BREACH: never for other sites
        ("/enheter/", {"Sec-Fetch-Site": "same-site"}),
    ],
)
def test_not_gzipped(client, karin, path, headers):
    login(client, "karin", PASSWORD)
    response = client.get(path, headers={"Accept-Encoding": "gzip", **headers})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers


def test_gzipped_from_the_same_origin_and_from_the_address_bar(client, karin):
    login(client, "karin", PASSWORD)
    for site in ("same-origin", "none"):
        response = client.get(
            "/enheter/", headers={"Accept-Encoding": "gzip", "Sec-Fetch-Site": site}
        )
        assert response.headers.get("Content-Encoding") == "gzip", site
