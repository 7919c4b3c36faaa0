"""Användare och inloggning: accounts, roles, passwords, login sessions and throttling.

Operations flush and write their audit event; the caller commits once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session, joinedload

from audit.db import utcnow
from audit.models import LoginAttempt, LoginSession, Role, RoleAssignment, Unit, User
from audit.trail import Actor, record

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so both paths take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 12
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20
IDLE_TIMEOUT = dt.timedelta(minutes=30)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)
# last_seen_at is written at most this often, to keep reads from writing on every request.
_TOUCH_INTERVAL = dt.timedelta(seconds=60)


class AccountError(ValueError):
    """A refused account operation; the message is Swedish and safe to show."""


def normalise_username(username: str) -> str:
    return username.strip().lower()


def hash_password(password: str) -> str:
    """Argon2id hash of a password that meets the length rule."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Lösenordet måste vara minst {MIN_PASSWORD_LENGTH} tecken.")
    return _hasher.hash(password)


def _unit_by_code(session: Session, code: str) -> Unit:
    unit = session.scalar(sa.select(Unit).where(Unit.code == code))
    if unit is None:
        raise AccountError(f"Enheten {code!r} finns inte.")
    return unit


def create_user(
    session: Session, actor: Actor, username: str, display_name: str, password: str
) -> User:
    """Skapa användare: a new account with an argon2 password hash."""
    username = normalise_username(username)
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise AccountError("Användarnamnet får bara innehålla bokstäver, siffror, . - och _.")
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"Användarnamnet {username!r} är upptaget.")
    user = User(username=username, display_name=display_name, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    record(
        session,
        actor,
        "user",
        user.id,
        "create",
        after={"username": username, "display_name": display_name},
    )
    return user


def set_password(session: Session, actor: Actor, user: User, password: str) -> None:
    """Byt lösenord; every open login session of the user ends with it."""
    user.password_hash = hash_password(password)
    end_all_sessions(session, user, "password_changed")
    record(session, actor, "user", user.id, "set_password")


def grant_role(
    session: Session, actor: Actor, user: User, role: Role, unit_code: str | None = None
) -> RoleAssignment:
    """Tilldela roll: a region role, or a unit role bound to ``unit_code``."""
    role = Role(role)
    if role.is_unit_role and not unit_code:
        raise AccountError(f"Rollen {role} måste kopplas till en enhet.")
    if not role.is_unit_role and unit_code:
        raise AccountError(f"Rollen {role} gäller hela regionen och kopplas inte till en enhet.")
    unit = _unit_by_code(session, unit_code) if unit_code else None
    for existing in user.roles:
        if existing.role == role and existing.unit_id == (unit.id if unit else None):
            raise AccountError("Användaren har redan den rollen.")
    assignment = RoleAssignment(user=user, role=role, unit=unit)
    session.add(assignment)
    session.flush()
    record(
        session,
        actor,
        "user",
        user.id,
        "grant_role",
        after={"role": str(role), "unit": unit.code if unit else None},
    )
    return assignment


def revoke_role(
    session: Session, actor: Actor, user: User, role: Role, unit_code: str | None = None
) -> None:
    """Ta bort roll."""
    role = Role(role)
    for assignment in list(user.roles):
        if assignment.role == role and (assignment.unit.code if assignment.unit else None) == (
            unit_code or None
        ):
            user.roles.remove(assignment)
            session.flush()
            record(
                session,
                actor,
                "user",
                user.id,
                "revoke_role",
                before={"role": str(role), "unit": unit_code},
            )
            return
    raise AccountError("Användaren har inte den rollen.")


def set_active(session: Session, actor: Actor, user: User, active: bool) -> None:
    """Aktivera/inaktivera användare; deactivation ends every open session."""
    if user.active == active:
        return
    user.active = active
    if not active:
        end_all_sessions(session, user, "deactivated")
    record(
        session,
        actor,
        "user",
        user.id,
        "activate" if active else "deactivate",
        before={"active": not active},
        after={"active": active},
    )


# --- login -------------------------------------------------------------------------------


def _key(secret: bytes, value: str) -> str:
    return hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()


INVALID_CREDENTIALS = "invalid_credentials"
THROTTLED = "throttled"


@dataclasses.dataclass(frozen=True)
class LoginResult:
    """Outcome of a login attempt: a user and a session token, or an error code."""

    user: User | None = None
    token: str | None = None
    error: str | None = None
    throttled: bool = False


def authenticate(
    session: Session, username: str, password: str, address: str, *, secret: bytes
) -> LoginResult:
    """Logga in: check throttling, the password, and open a login session.

    Failed attempts are recorded (keyed, never in clear) and logged without the user name.
    """
    now = utcnow()
    username_key = _key(secret, normalise_username(username))
    address_key = _key(secret, address or "-")
    since = now - THROTTLE_WINDOW
    failures = session.execute(
        sa.select(
            sa.func.count().filter(LoginAttempt.username_key == username_key),
            sa.func.count().filter(LoginAttempt.address_key == address_key),
        ).where(
            LoginAttempt.at >= since,
            LoginAttempt.succeeded.is_(False),
            sa.or_(
                LoginAttempt.username_key == username_key, LoginAttempt.address_key == address_key
            ),
        )
    ).one()
    if failures[0] >= MAX_FAILURES_PER_USERNAME or failures[1] >= MAX_FAILURES_PER_ADDRESS:
        log.warning("login throttled key=%s", username_key[:12])
        return LoginResult(error=THROTTLED, throttled=True)
    user = session.scalar(sa.select(User).where(User.username == normalise_username(username)))
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.active:
        session.add(LoginAttempt(username_key=username_key, address_key=address_key, at=now))
        session.flush()
        log.warning("login failed key=%s", username_key[:12])
        return LoginResult(error=INVALID_CREDENTIALS)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.add(
        LoginAttempt(username_key=username_key, address_key=address_key, at=now, succeeded=True)
    )
    token = start_session(session, user)
    log.info("login ok user_id=%s", user.id)
    return LoginResult(user=user, token=token)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start_session(session: Session, user: User) -> str:
    """Open a server-side login session and return its (unstored) random token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        LoginSession(token_hash=_token_hash(token), user=user, created_at=now, last_seen_at=now)
    )
    session.flush()
    return token


@dataclasses.dataclass(frozen=True)
class SessionCheck:
    """What checking a login session found, without writing anything.

    ``user`` is the user of a live session (``None`` otherwise). The write the session needs,
    if any, is described by ``touch`` (``last_seen_at`` is older than the touch interval) or
    ``end_reason`` (it idled out, expired or its user was deactivated) and is done by
    :func:`apply_session_check` -- in the caller's transaction or, for a request that only
    reads, in a short one of its own afterwards.
    """

    user: User | None
    login_id: int | None = None
    now: dt.datetime | None = None
    touch: bool = False
    end_reason: str | None = None

    @property
    def needs_write(self) -> bool:
        return self.touch or self.end_reason is not None


def check_session(session: Session, token: str) -> SessionCheck:
    """Check a login session token. Reads only; see :class:`SessionCheck`."""
    try:
        token_hash = _token_hash(token)
    except (UnicodeEncodeError, AttributeError):
        return SessionCheck(user=None)
    # The session, its user and the user's roles (with their units) in one query: every
    # request needs all three.
    login = (
        session.scalars(
            sa.select(LoginSession)
            .where(LoginSession.token_hash == token_hash)
            .options(joinedload(LoginSession.user).joinedload(User.roles))
        )
        .unique()
        .one_or_none()
    )
    if login is None or login.ended_at is not None:
        return SessionCheck(user=None)
    now = utcnow()
    ended = None
    if now - login.last_seen_at > IDLE_TIMEOUT:
        ended = "idle_timeout"
    elif now - login.created_at > ABSOLUTE_TIMEOUT:
        ended = "expired"
    elif not login.user.active:
        ended = "deactivated"
    if ended is not None:
        return SessionCheck(user=None, login_id=login.id, now=now, end_reason=ended)
    return SessionCheck(
        user=login.user,
        login_id=login.id,
        now=now,
        touch=now - login.last_seen_at > _TOUCH_INTERVAL,
    )


def apply_session_check(session: Session, check: SessionCheck) -> None:
    """Write what :func:`check_session` found: end the session, or touch ``last_seen_at``.

    One conditional UPDATE, harmless to run twice or after the session was ended meanwhile
    (it never revives an ended session, never moves ``last_seen_at`` back). Objects already
    in ``session`` are kept in step with it.
    """
    if check.login_id is None or not check.needs_write:
        return
    where = [LoginSession.id == check.login_id, LoginSession.ended_at.is_(None)]
    if check.end_reason is not None:
        values = {"ended_at": check.now, "ended_reason": check.end_reason}
    else:
        where.append(LoginSession.last_seen_at < check.now)
        values = {"last_seen_at": check.now}
    session.execute(sa.update(LoginSession).where(*where).values(**values))


def resume_session(session: Session, token: str) -> User | None:
    """The user of a live login session, or ``None`` if it ended, idled out or expired.

    Checks and writes in ``session``; a request that must not write uses
    :func:`check_session` and :func:`apply_session_check` separately.
    """
    check = check_session(session, token)
    apply_session_check(session, check)
    return check.user


def end_session(session: Session, token: str, reason: str = "logout") -> None:
    """Logga ut: end the login session so its cookie is worthless from now on."""
    login = session.scalar(
        sa.select(LoginSession).where(LoginSession.token_hash == _token_hash(token))
    )
    if login is not None and login.ended_at is None:
        _end(login, utcnow(), reason)


def end_all_sessions(session: Session, user: User, reason: str) -> None:
    session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )


def _end(login: LoginSession, now: dt.datetime, reason: str) -> None:
    login.ended_at = now
    login.ended_reason = reason
