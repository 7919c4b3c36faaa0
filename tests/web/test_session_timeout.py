"""The idle timeout through the web: the page tells its script the timeout, "Fortsätt vara
inloggad" posts to the keep-alive, and a script's request from an ended session gets 401 JSON
(never the HTML login page). Both databases."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

import audit.db as audit_db
from audit import accounts
from audit.models import LoginSession, Role
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_unit, make_user
from web import session_timeout

START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
KEEP_ALIVE = "/inloggning/fortsatt"
JSON = {"Accept": "application/json"}


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
def vera(db):
    make_unit(db, "backen")
    user = make_user(db, "vera", (Role.VERKSAMHETSCHEF, "backen"))
    db.commit()
    return user


@pytest.fixture
def logged_in(client, vera, clock):
    assert login(client, "vera", PASSWORD).status_code == 302
    return client


def _last_seen(db) -> dt.datetime:
    db.expire_all()
    seen = db.scalar(sa.select(sa.func.max(LoginSession.last_seen_at)))
    return seen.replace(tzinfo=dt.UTC) if seen.tzinfo is None else seen


def _body(page: str) -> str:
    return re.search(r"<body[^>]*>", page).group(0)


def test_a_logged_in_page_tells_its_script_the_timeout(logged_in, clock):
    clock.advance(seconds=30)  # not touched: 30 s of the 30 minutes are gone
    page = logged_in.get("/").get_data(as_text=True)
    body = _body(page)
    assert 'data-idle-timeout="1800"' in body
    assert 'data-idle-remaining="1770"' in body
    assert 'data-touch-interval="60"' in body and 'data-warn-before="120"' in body
    assert 'data-expires-in="43170"' in body
    assert 'role="alertdialog"' in page
    assert "Du loggas ut om 2 minuter" in page
    assert "Fortsätt vara inloggad" in page
    assert f'action="{KEEP_ALIVE}"' in page


def test_the_login_page_has_no_timer_and_no_warning(client, vera):
    page = client.get("/logga-in").get_data(as_text=True)
    assert "data-idle-timeout" not in _body(page)
    assert "session-warning" not in page
    # The texts the script shows after a timeout, in Swedish.
    assert "Du har loggats ut efter 30 minuter utan aktivitet." in page
    assert "Det du skrev är sparat i webbläsaren och fylls i igen när du har loggat in." in page


def test_keep_alive_touches_the_session_even_within_the_touch_interval(logged_in, db, clock):
    token = csrf_token(logged_in, "/")
    clock.advance(seconds=20)
    response = logged_in.post(KEEP_ALIVE, data={"csrf_token": token}, headers=JSON)
    assert response.status_code == 200
    assert response.get_json() == {
        "ok": True,
        "idle_timeout": 1800,
        "idle_remaining": 1800,
        "expires_in": 12 * 3600 - 20,
        "touch_interval": 60,
        "warn_before": 120,
    }
    assert _last_seen(db) == clock.now


def test_keep_alive_keeps_the_session_past_its_first_timeout(logged_in, clock):
    token = csrf_token(logged_in, "/")
    for _ in range(3):
        clock.advance(minutes=29)
        response = logged_in.post(KEEP_ALIVE, data={"csrf_token": token}, headers=JSON)
        assert response.status_code == 200
    assert logged_in.get("/").status_code == 200


def test_keep_alive_requires_the_csrf_token(logged_in, db, clock):
    clock.advance(seconds=20)
    response = logged_in.post(KEEP_ALIVE, headers=JSON)
    assert response.status_code == 400
    assert response.get_json()["error"] == "csrf"
    assert _last_seen(db) == START  # not touched


def test_keep_alive_without_the_script_goes_back_to_the_page(logged_in):
    token = csrf_token(logged_in, "/")
    response = logged_in.post(KEEP_ALIVE, data={"csrf_token": token, "next": "/enheter/"})
    assert response.status_code == 302 and response.location == "/enheter/"
    response = logged_in.post(KEEP_ALIVE, data={"csrf_token": token, "next": "//evil.example"})
    assert response.location == "/"


def test_anonymous_keep_alive_is_refused(client, vera):
    token = csrf_token(client, "/logga-in")
    response = client.post(KEEP_ALIVE, data={"csrf_token": token}, headers=JSON)
    assert response.status_code == 401
    assert response.get_json()["error"] == "logged_out"
    response = client.post(KEEP_ALIVE, data={"csrf_token": token})
    assert response.status_code == 302 and response.location.startswith("/logga-in")


def test_a_script_from_an_idled_out_session_gets_401_json(logged_in, db, clock):
    token = csrf_token(logged_in, "/")
    clock.advance(minutes=31)
    response = logged_in.post(KEEP_ALIVE, data={"csrf_token": token}, headers=JSON)
    assert response.status_code == 401
    body = response.get_json()
    assert body["error"] == "logged_out" and body["reason"] == "idle_timeout"
    assert body["message"] == "Du har loggats ut. Logga in igen för att fortsätta."
    # The session has ended for good: another request does not revive it.
    clock.advance(seconds=1)
    assert logged_in.get("/", headers=JSON).status_code == 401


def test_an_item_save_from_an_idled_out_session_gets_401_json(logged_in, clock):
    """What checklist.js sends (a POST with Accept: application/json) is answered 401."""
    token = csrf_token(logged_in, "/")
    clock.advance(minutes=31)
    response = logged_in.post(
        "/checklistor/1/punkter/1/svar", data={"csrf_token": token}, headers=JSON
    )
    assert response.status_code == 401 and response.get_json()["reason"] == "idle_timeout"


def test_a_browser_from_an_idled_out_session_is_told_why_at_login(logged_in, clock):
    clock.advance(minutes=31)
    response = logged_in.get("/enheter/")
    assert response.status_code == 302
    assert response.location == "/logga-in?next=%2Fenheter%2F"
    page = logged_in.get(response.location).get_data(as_text=True)
    assert "Du har loggats ut efter 30 minuter utan aktivitet." in page


def test_a_script_whose_token_went_with_a_logout_gets_401_json(logged_in):
    """Logged out in another tab: the CSRF token went with the session; the script is told it
    is logged out, not that its form expired."""
    token = csrf_token(logged_in, "/")
    assert logged_in.post("/logga-ut", data={"csrf_token": token}).status_code == 302
    response = logged_in.post(KEEP_ALIVE, data={"csrf_token": token}, headers=JSON)
    assert response.status_code == 401
    assert response.get_json()["error"] == "logged_out"


def test_the_idle_timeout_is_configurable(connection, vera, clock):
    from tests.conftest import _session
    from web import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SESSION_FACTORY": lambda: _session(connection),
            "IDLE_TIMEOUT_SECONDS": 600,
        }
    )
    client = app.test_client()
    assert login(client, "vera", PASSWORD).status_code == 302
    assert 'data-idle-timeout="600"' in _body(client.get("/").get_data(as_text=True))
    clock.advance(minutes=9)
    assert client.get("/").status_code == 200
    clock.advance(minutes=11)
    response = client.get("/")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Du har loggats ut efter 10 minuter utan aktivitet." in page


@pytest.mark.parametrize(
    "value, message",
    [("abc", "whole number"), ("60", "at least 300"), ("", None), ("900", None)],
)
def test_the_environment_sets_the_idle_timeout(monkeypatch, value, message):
    from web import create_app

    monkeypatch.setenv("HALSOVAL_IDLE_TIMEOUT_SECONDS", value)
    config = {"SECRET_KEY": "x", "SESSION_FACTORY": lambda: None}
    if message:
        with pytest.raises(RuntimeError, match=message):
            create_app(config)
    else:
        app = create_app(config)
        expected = int(value) if value else int(accounts.IDLE_TIMEOUT.total_seconds())
        assert session_timeout.idle_timeout(app) == dt.timedelta(seconds=expected)


def test_keep_alive_works_while_a_one_time_password_must_be_replaced(logged_in, db, vera):
    """The page choosing one's own password warns before the timeout like any other."""
    vera.must_change_password = True
    db.commit()
    token = csrf_token(logged_in, "/konto/losenord")
    response = logged_in.post(KEEP_ALIVE, data={"csrf_token": token}, headers=JSON)
    assert response.status_code == 200 and response.get_json()["ok"] is True
