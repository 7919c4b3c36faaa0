"""Users, roles and login sessions (domain level, both databases)."""

import datetime as dt

import pytest

from audit import accounts
from audit import db as audit_db
from audit.access import can_see_unit, visible_units
from audit.models import Role, UnitKind
from tests.factories import PASSWORD, TEST_ACTOR, make_unit, make_user

SECRET = b"test"


@pytest.fixture
def clock(monkeypatch):
    """A controllable clock for audit.db.utcnow."""

    class Clock:
        now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)

        def __call__(self):
            return self.now

        def advance(self, **kwargs):
            self.now += dt.timedelta(**kwargs)

    clock = Clock()
    monkeypatch.setattr(audit_db, "clock", clock)
    return clock


def test_password_is_hashed_with_argon2(db):
    user = make_user(db, "hashed")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_short_password_refused(db):
    with pytest.raises(accounts.AccountError, match="minst 12 tecken"):
        accounts.create_user(db, TEST_ACTOR, "kort", "Kort", "kort")


@pytest.mark.parametrize(
    "role, unit, message",
    [
        (Role.VERKSAMHETSCHEF, None, "måste kopplas till en enhet"),
        (Role.BESTALLARE, "u", "gäller hela regionen"),
        (Role.PERSONAL, "finns-inte", "finns inte"),
    ],
)
def test_role_unit_rules(db, role, unit, message):
    make_unit(db, "u")
    user = make_user(db)
    with pytest.raises(accounts.AccountError, match=message):
        accounts.grant_role(db, TEST_ACTOR, user, role, unit)


def test_login_opens_session_and_logout_ends_it(db, clock):
    make_user(db, "karin", (Role.GRANSKARE, None))
    result = accounts.authenticate(db, "Karin ", PASSWORD, "127.0.0.1", secret=SECRET)
    assert result.user is not None and result.token
    assert accounts.resume_session(db, result.token) is result.user
    accounts.end_session(db, result.token)
    assert accounts.resume_session(db, result.token) is None


def test_wrong_password_and_unknown_user_look_the_same(db, clock):
    make_user(db, "lisa")
    wrong = accounts.authenticate(db, "lisa", "fel lösenord!!", "1.2.3.4", secret=SECRET)
    unknown = accounts.authenticate(db, "nobody", "fel lösenord!!", "1.2.3.4", secret=SECRET)
    assert wrong.error == unknown.error == accounts.INVALID_CREDENTIALS


def test_own_address_throttled_after_five_failures_even_with_right_password(db, clock):
    make_user(db, "mats")
    for _ in range(accounts.MAX_FAILURES_PER_PAIR):
        assert accounts.authenticate(db, "mats", "fel lösenord!!", "a", secret=SECRET).error
    result = accounts.authenticate(db, "mats", PASSWORD, "a", secret=SECRET)
    assert result.throttled and result.user is None
    clock.advance(minutes=16)
    assert accounts.authenticate(db, "mats", PASSWORD, "a", secret=SECRET).user is not None


def test_idle_timeout_and_absolute_lifetime(db, clock):
    make_user(db, "nils")
    token = accounts.authenticate(db, "nils", PASSWORD, "a", secret=SECRET).token
    clock.advance(minutes=29)
    assert accounts.resume_session(db, token) is not None
    clock.advance(minutes=31)
    assert accounts.resume_session(db, token) is None  # idle too long
    token = accounts.authenticate(db, "nils", PASSWORD, "a", secret=SECRET).token
    for _ in range(13):
        clock.advance(minutes=59)
        accounts.resume_session(db, token)
    assert accounts.resume_session(db, token) is None  # older than 12 hours


def test_deactivation_ends_sessions(db, clock):
    user = make_user(db, "olle")
    token = accounts.authenticate(db, "olle", PASSWORD, "a", secret=SECRET).token
    accounts.set_active(db, TEST_ACTOR, user, False)
    assert accounts.resume_session(db, token) is None
    assert accounts.authenticate(db, "olle", PASSWORD, "a", secret=SECRET).user is None


def test_unit_user_sees_own_unit_and_its_branches_only(db):
    main = make_unit(db, "main", name="A Huvud")
    branch = make_unit(db, "branch", name="B Filial", kind=UnitKind.FILIAL, main_unit_id=main.id)
    other = make_unit(db, "other", name="C Annan")
    staff = make_user(db, "staff", (Role.PERSONAL, "main"))
    purchaser = make_user(db, "purchaser", (Role.BESTALLARE, None))
    assert [u.code for u in visible_units(db, staff)] == ["main", "branch"]
    assert can_see_unit(db, staff, branch) and not can_see_unit(db, staff, other)
    assert {"main", "branch", "other"} <= {u.code for u in visible_units(db, purchaser)}


def test_filial_must_have_main_unit(db):
    import sqlalchemy as sa

    with pytest.raises(sa.exc.IntegrityError):
        with db.begin_nested():
            make_unit(db, "lonely", kind=UnitKind.FILIAL)
