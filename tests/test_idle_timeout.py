"""The idle timeout of login sessions (inaktivitetsgräns) at the domain level: a parameter of
the check, what the check tells the page, and the forced touch of "Fortsätt vara inloggad"."""

import datetime as dt

import pytest
import sqlalchemy as sa

from audit import accounts
from audit import db as audit_db
from audit.models import LoginSession
from tests.factories import PASSWORD, make_user

SECRET = b"test"
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
def token(db, clock):
    make_user(db, "ingrid")
    return accounts.authenticate(db, "ingrid", PASSWORD, "a", secret=SECRET).token


def _last_seen(db) -> dt.datetime:
    db.expire_all()
    seen = db.scalar(sa.select(sa.func.max(LoginSession.last_seen_at)))
    return seen.replace(tzinfo=dt.UTC) if seen.tzinfo is None else seen


def test_the_idle_timeout_is_a_parameter_with_the_constant_as_default(db, clock, token):
    clock.advance(minutes=11)
    assert accounts.check_session(db, token).user is not None
    check = accounts.check_session(db, token, dt.timedelta(minutes=10))
    assert check.user is None and check.end_reason == check.ended_reason == "idle_timeout"
    assert accounts.resume_session(db, token, dt.timedelta(minutes=10)) is None


def test_the_check_says_when_a_live_session_idles_out_and_expires(db, clock, token):
    clock.advance(seconds=30)  # within the touch interval: not touched, counted from login
    check = accounts.check_session(db, token)
    assert not check.touch and check.seen_at == START
    assert check.idle_ends_at == START + accounts.IDLE_TIMEOUT
    assert check.expires_at == START + accounts.ABSOLUTE_TIMEOUT
    clock.advance(minutes=5)  # touched: counted from now
    check = accounts.check_session(db, token, dt.timedelta(minutes=20))
    assert check.touch and check.idle_ends_at == clock.now + dt.timedelta(minutes=20)


def test_an_ended_session_says_why(db, clock, token):
    accounts.end_session(db, token)
    check = accounts.check_session(db, token)
    assert check.user is None and check.ended_reason == "logout"
    assert not check.needs_write  # nothing more to write for it


def test_keeping_alive_touches_even_within_the_touch_interval(db, clock, token):
    clock.advance(seconds=20)
    check = accounts.check_session(db, token)
    assert not check.touch
    alive = accounts.keep_session_alive(check, accounts.IDLE_TIMEOUT)
    assert alive.touch and alive.idle_ends_at == clock.now + accounts.IDLE_TIMEOUT
    accounts.apply_session_check(db, alive)
    assert _last_seen(db) == clock.now


def test_keeping_alive_never_revives_an_ended_session(db, clock, token):
    clock.advance(minutes=31)
    check = accounts.check_session(db, token)
    assert accounts.keep_session_alive(check, accounts.IDLE_TIMEOUT) is check
    accounts.apply_session_check(db, check)
    assert accounts.check_session(db, token).user is None
