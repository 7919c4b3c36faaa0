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
from zxcvbn import zxcvbn

from audit.db import utcnow
from audit.keys import audit_key
from audit.models import LoginSession, LoginThrottle, Role, RoleAssignment, Unit, User
from audit.trail import ANONYMOUS, Actor, record

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so both paths take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 12

# Throttling (inloggningsspärr), see authenticate(). The figures in the README's security
# section are computed from these by guesses_per_hour() (tests/test_throttling.py checks them).
# A (user name, address) pair or an address is stopped after this many failures until it has
# been quiet for THROTTLE_WINDOW.
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_PAIR = 5
MAX_FAILURES_PER_ADDRESS = 20
# A user name, tried from addresses that have not logged in to it: this many failures are
# free, then each further attempt waits a delay that doubles from ACCOUNT_BASE_DELAY up to
# ACCOUNT_MAX_DELAY. The count starts over after ACCOUNT_WINDOW without an attempt.
ACCOUNT_FREE_FAILURES = 10
ACCOUNT_BASE_DELAY = dt.timedelta(seconds=15)
ACCOUNT_MAX_DELAY = dt.timedelta(minutes=5)
ACCOUNT_WINDOW = dt.timedelta(hours=1)
# An address a user has logged in from is their own for this long: the delay of the user name
# does not apply to it (a stranger's guesses elsewhere never lock the real user out).
KNOWN_ADDRESS_FOR = dt.timedelta(days=90)
# Counters quiet for this long (and not marking a known address) are removed at a login.
_FORGET_AFTER = dt.timedelta(days=1)
# A login session ends after this long without a request (the default: the app passes its
# configured HALSOVAL_IDLE_TIMEOUT_SECONDS to check_session) or this long after the login.
IDLE_TIMEOUT = dt.timedelta(minutes=30)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)
# last_seen_at is written at most this often, to keep reads from writing on every request; the
# page's script knows it, so that it never counts on a touch that was not written.
TOUCH_INTERVAL = dt.timedelta(seconds=60)


class AccountError(ValueError):
    """A refused account operation; the message is Swedish and safe to show."""


class WrongPassword(AccountError):
    """Fel lösenord: the present password given to change it was not the user's."""


def normalise_username(username: str) -> str:
    return username.strip().lower()


# Svaga lösenord: zxcvbn (Dropbox's estimator of guesses, made for refusing weak passwords)
# must give a password its top score: at least 10^10 guesses, far out of reach of the login
# throttle (README) and costly against argon2 offline. Score 3 (10^8) still lets "Sommar2025!!"
# through. zxcvbn knows English words and common passwords; these Swedish words, and the
# user's own names, count as known words too.
MIN_PASSWORD_SCORE = 4
_ZXCVBN_MAX_LENGTH = 72  # zxcvbn's own limit; a longer password is judged by its start
KNOWN_WORDS = (
    "lösenord losenord hemligt hemlig välkommen valkommen hejsan hej sommar vinter hösten "
    "våren höst vår januari februari mars april maj juni juli augusti september oktober "
    "november december måndag tisdag onsdag torsdag fredag lördag söndag sverige svenska "
    "kärlek karlek region regionen västerbotten vasterbotten umeå umea skellefteå skelleftea "
    "lycksele vilhelmina storuman hälsoval halsoval hälsocentral halsocentral hälsocentralen "
    "vårdcentral vardcentral sjukvård sjukvard sjukhus läkare lakare doktor sköterska "
    "skoterska patient patienten vårdgaranti uppföljning uppfoljning beställare bestallare "
    "granskare administratör administrator verksamhetschef personal läsare"
).split()


def password_problem(password: str, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Svagt lösenord: why ``password`` is refused (Swedish, safe to show), or ``None``.

    ``user_inputs`` are the account's own names (user name, display name): a password built on
    them is weak. Nothing of the password is logged or kept.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Lösenordet måste vara minst {MIN_PASSWORD_LENGTH} tecken."
    own = [part for value in user_inputs for part in value.lower().replace(".", " ").split()]
    own += [value.lower() for value in user_inputs if value]
    if any(len(word) >= 4 and word in password.lower() for word in own):
        return "Lösenordet får inte innehålla ditt namn eller användarnamn."
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=[*KNOWN_WORDS, *own])
    if result["score"] < MIN_PASSWORD_SCORE:
        return (
            "Lösenordet är för lätt att gissa. Välj till exempel tre eller fyra ord som inte "
            "hör ihop, gärna med mellanslag – längd skyddar bättre än specialtecken."
        )
    return None


def hash_password(password: str, user_inputs: tuple[str, ...] = ()) -> str:
    """Argon2id hash of a password that is long enough and not easily guessed."""
    problem = password_problem(password, user_inputs)
    if problem:
        raise AccountError(problem)
    return _hasher.hash(password)


# Engångslösenord: letters and digits that cannot be mistaken for each other when read aloud
# or copied by hand, in groups of four (31^16, about 10^24 possibilities).
_ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def one_time_password() -> str:
    """A random engångslösenord such as ``k7mq-2xrt-9hwd-p4ne``."""
    groups = ("".join(secrets.choice(_ONE_TIME_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


def _unit_by_code(session: Session, code: str) -> Unit:
    unit = session.scalar(sa.select(Unit).where(Unit.code == code))
    if unit is None:
        raise AccountError(f"Enheten {code!r} finns inte.")
    return unit


def check_username(username: str) -> str:
    """Användarnamn: the normalised name, or :class:`AccountError` saying what is wrong."""
    username = normalise_username(username)
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise AccountError("Användarnamnet får bara innehålla bokstäver, siffror, . - och _.")
    if not username.isascii():
        raise AccountError(
            "Användarnamnet får bara innehålla a–z utan å, ä och ö, siffror, . - och _."
        )
    return username


def create_user(
    session: Session,
    actor: Actor,
    username: str,
    display_name: str,
    password: str,
    *,
    one_time: bool = False,
) -> User:
    """Skapa användare: a new account with an argon2 password hash.

    ``one_time``: the password is an engångslösenord the user must change at first login.
    """
    username = check_username(username)
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"Användarnamnet {username!r} är upptaget.")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password, (username, display_name)),
        must_change_password=one_time,
        password_changed_at=utcnow(),
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor,
        "user",
        user.id,
        "create",
        after={"username": username, "display_name": display_name, "one_time_password": one_time},
    )
    return user


def set_password(session: Session, actor: Actor, user: User, password: str) -> None:
    """Byt lösenord; every open login session of the user ends with it."""
    user.password_hash = hash_password(password, (user.username, user.display_name))
    user.must_change_password = False
    user.password_changed_at = utcnow()
    end_all_sessions(session, user, "password_changed")
    record(session, actor, "user", user.id, "set_password")


def set_one_time_password(session: Session, actor: Actor, user: User) -> str:
    """Sätt engångslösenord: a new random password the user must change at next login.

    Every open session of the user ends. Returns the password, to be shown once to the
    administratör; it is stored only as its hash and never written to the trail or a log.
    """
    password = one_time_password()
    user.password_hash = _hasher.hash(password)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    end_all_sessions(session, user, "one_time_password")
    record(session, actor, "user", user.id, "set_one_time_password")
    return password


def change_own_password(
    session: Session, user: User, current: str, new: str, keep_token: str | None = None
) -> None:
    """Byt ditt lösenord: the user replaces their password, knowing the present one.

    The user's other login sessions end (a stolen session elsewhere is cut off); the one
    named by ``keep_token`` -- the browser they change it in -- stays open.
    """
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise WrongPassword("Det nuvarande lösenordet stämmer inte.") from None
    if new == current:
        raise AccountError("Välj ett nytt lösenord, inte samma som det nuvarande.")
    user.password_hash = hash_password(new, (user.username, user.display_name))
    user.must_change_password = False
    user.password_changed_at = utcnow()
    others = [LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)]
    if keep_token:
        others.append(LoginSession.token_hash != _token_hash(keep_token))
    session.execute(
        sa.update(LoginSession)
        .where(*others)
        .values(ended_at=utcnow(), ended_reason="password_changed")
    )
    record(session, Actor.of(user), "user", user.id, "change_password")


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
    """Ta bort roll. An administratör cannot take away their own administratör role (someone
    must always be left who can give it back)."""
    role = Role(role)
    if role == Role.ADMIN and actor.user_id == user.id:
        raise AccountError(
            "Du kan inte ta bort din egen administratörsroll. Be en annan administratör."
        )
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
    """Aktivera/inaktivera användare; deactivation ends every open session. Nobody
    deactivates their own account."""
    if user.active == active:
        return
    if not active and actor.user_id == user.id:
        raise AccountError("Du kan inte inaktivera ditt eget konto. Be en annan administratör.")
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


def set_email(session: Session, actor: Actor, user: User, email: str | None) -> None:
    """Ändra e-postadress (the administratör, or the user on their own account page); empty
    removes it (no e-mail at all). Refused unless it looks like an address one can send to."""
    from audit.outbox import valid_email

    email = (email or "").strip() or None
    if email is not None and not valid_email(email):
        raise AccountError("Ange en e-postadress som namn@exempel.se.")
    if email == user.email:
        return
    before = user.email
    user.email = email
    session.flush()
    record(
        session, actor, "user", user.id, "email", before={"email": before}, after={"email": email}
    )


def set_notifications(
    session: Session, actor: Actor, user: User, settings: dict[str, bool]
) -> None:
    """Aviseringar: which kinds of e-mail the user wants (audit.outbox.NOTIFY_ATTRIBUTE)."""
    from audit.outbox import NOTIFY_ATTRIBUTE

    before = {a: getattr(user, a) for a in NOTIFY_ATTRIBUTE.values()}
    after = {a: bool(settings.get(a, before[a])) for a in NOTIFY_ATTRIBUTE.values()}
    if before == after:
        return
    for attribute, value in after.items():
        setattr(user, attribute, value)
    session.flush()
    record(session, actor, "user", user.id, "notifications", before=before, after=after)


# --- login -------------------------------------------------------------------------------


def _key(secret: bytes, value: str) -> str:
    return hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()


# The trail's actions for logging in and out (not changes: the start page leaves them out).
LOGIN_ACTIONS = ("login", "logout", "login_failed")
INVALID_CREDENTIALS = "invalid_credentials"
THROTTLED = "throttled"


@dataclasses.dataclass(frozen=True)
class LoginResult:
    """Outcome of a login attempt: a user and a session token, or an error code.

    A throttled attempt says in ``retry_after`` how many seconds to wait.
    """

    user: User | None = None
    token: str | None = None
    error: str | None = None
    throttled: bool = False
    retry_after: int = 0


def account_delay(failures: int) -> dt.timedelta:
    """The wait a user name imposes after ``failures`` failed attempts (none below the free
    ones): doubling from ACCOUNT_BASE_DELAY, at most ACCOUNT_MAX_DELAY."""
    if failures < ACCOUNT_FREE_FAILURES:
        return dt.timedelta(0)
    doublings = min(failures - ACCOUNT_FREE_FAILURES, 32)
    return min(ACCOUNT_BASE_DELAY * 2**doublings, ACCOUNT_MAX_DELAY)


def guesses_per_hour() -> dict[str, int]:
    """The most passwords an attacker gets evaluated, from the constants above.

    ``pair``: one user name from one address, per hour; ``address``: one address, any user
    names, per hour; ``account_first_hour`` / ``account_per_hour``: one user name from any
    number of addresses, in the first hour of an attack and in each hour after it (the count
    never goes quiet while the attack goes on, the delay stays at its maximum).
    """
    hour = dt.timedelta(hours=1)

    def windows(limit: int) -> int:
        # Attempts at once up to the limit, then quiet for the window, then again.
        return limit * -(-hour // THROTTLE_WINDOW)

    at, failures, first_hour = dt.timedelta(0), 0, 0
    while at < hour:
        failures += 1
        first_hour += 1
        at += account_delay(failures)
    return {
        "pair": windows(MAX_FAILURES_PER_PAIR),
        "address": windows(MAX_FAILURES_PER_ADDRESS),
        "account_first_hour": first_hour,
        "account_per_hour": hour // ACCOUNT_MAX_DELAY,
    }


@dataclasses.dataclass(frozen=True)
class _Counter:
    """One throttling counter: its key, its window and (pair and address) its limit."""

    scope: str
    key: str
    window: dt.timedelta
    limit: int | None


class _Refused(Exception):
    def __init__(self, counter: _Counter):
        self.counter = counter


def _insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(LoginThrottle.__table__)


def _count_attempt(session: Session, counter: _Counter, now: dt.datetime):
    """Count one attempt on ``counter`` if it is allowed now, in one statement.

    ``INSERT ... ON CONFLICT DO UPDATE ... WHERE allowed RETURNING``: the row is locked from
    the statement to the end of the transaction, so a concurrent attempt on the same counter
    waits and then sees this one (PostgreSQL re-checks the WHERE on the newest row; SQLite
    has one writer at a time). ``None`` when refused.
    """
    table = LoginThrottle.__table__
    quiet = table.c.last_attempt_at <= now - counter.window
    if counter.limit is not None:
        allowed = quiet | (table.c.failures < counter.limit)
    else:
        allowed = quiet | table.c.next_attempt_at.is_(None) | (table.c.next_attempt_at <= now)
    statement = (
        _insert(session)
        .values(key=counter.key, failures=1, last_attempt_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "failures": sa.case((quiet, 1), else_=table.c.failures + 1),
                "last_attempt_at": now,
                "next_attempt_at": sa.case((quiet, None), else_=table.c.next_attempt_at),
            },
            where=allowed,
        )
        .returning(table.c.failures, table.c.known_until)
    )
    return session.execute(statement).first()


def _retry_after(session: Session, counter: _Counter, now: dt.datetime) -> int:
    row = session.get(LoginThrottle, counter.key, populate_existing=True)
    if row is None:
        return 1
    until = row.next_attempt_at if counter.limit is None else row.last_attempt_at + counter.window
    return max(1, int((until - now).total_seconds() + 0.999))


def _update_counter(session: Session, key: str, **values) -> None:
    session.execute(sa.update(LoginThrottle).where(LoginThrottle.key == key).values(**values))


def authenticate(
    session: Session, username: str, password: str, address: str, *, secret: bytes
) -> LoginResult:
    """Logga in: count the attempt, check the password, and open a login session.

    Throttling slows attackers, not users. Three counters, keyed with ``secret`` (never a
    name or address in clear): the (user name, address) pair and the address are stopped
    after MAX_FAILURES_PER_PAIR / MAX_FAILURES_PER_ADDRESS failures until they have been quiet
    for THROTTLE_WINDOW; the user name, tried from addresses that have never logged in to it,
    is slowed by a growing delay (:func:`account_delay`) -- but not from an address the user
    has logged in from (``known_until``), so guesses from elsewhere never keep the real user
    out. Every attempt is counted *before* its password is checked, in one statement per
    counter (:func:`_count_attempt`), so concurrent guesses cannot get past the limit; a
    success takes its count back.

    Logins and failed logins go into the audit trail; a failure for an unknown user name
    names it by a keyed hash only. Throttled attempts are refused unevaluated and not
    recorded there (they are what the counters are for). Failures are logged without the
    user name.
    """
    now = utcnow()
    name = normalise_username(username)
    username_key = _key(secret, "user\0" + name)
    address_key = _key(secret, "address\0" + (address or "-"))
    pair = _Counter(
        "pair",
        _key(secret, f"pair\0{username_key}\0{address_key}"),
        THROTTLE_WINDOW,
        MAX_FAILURES_PER_PAIR,
    )
    by_address = _Counter("address", address_key, THROTTLE_WINDOW, MAX_FAILURES_PER_ADDRESS)
    account = _Counter("account", username_key, ACCOUNT_WINDOW, None)
    try:
        with session.begin_nested():
            # Always in this order (pair, address, user name), so that two logins never wait
            # for each other's counters crosswise.
            counted = _count_attempt(session, pair, now)
            if counted is None:
                raise _Refused(pair)
            known = counted.known_until is not None and counted.known_until > now
            if _count_attempt(session, by_address, now) is None:
                raise _Refused(by_address)
            if not known and _count_attempt(session, account, now) is None:
                raise _Refused(account)
    except _Refused as refused:
        log.warning("login throttled (%s) key=%s", refused.counter.scope, username_key[:12])
        return LoginResult(
            error=THROTTLED,
            throttled=True,
            retry_after=_retry_after(session, refused.counter, now),
        )

    user = session.scalar(sa.select(User).where(User.username == name))
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.active:
        if not known:
            failures = session.scalar(
                sa.select(LoginThrottle.failures).where(LoginThrottle.key == account.key)
            )
            if failures is not None and failures >= ACCOUNT_FREE_FAILURES:
                _update_counter(session, account.key, next_attempt_at=now + account_delay(failures))
        if user is not None:
            record(session, ANONYMOUS, "user", user.id, "login_failed")
        else:
            record(session, ANONYMOUS, "login", login_name_key(name), "login_failed")
        session.flush()
        log.warning("login failed key=%s", username_key[:12])
        return LoginResult(error=INVALID_CREDENTIALS)

    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    # A success is no failure: the pair starts over and marks the address as the user's own;
    # the address and user name counters take this attempt back.
    _update_counter(session, pair.key, failures=0, known_until=now + KNOWN_ADDRESS_FOR)
    for counter in (by_address, *(() if known else (account,))):
        _update_counter(
            session,
            counter.key,
            failures=sa.case((LoginThrottle.failures > 0, LoginThrottle.failures - 1), else_=0),
        )
    _forget_quiet_counters(session, now)
    token = start_session(session, user)
    record(session, Actor.of(user), "user", user.id, "login")
    log.info("login ok user_id=%s", user.id)
    return LoginResult(user=user, token=token)


def _forget_quiet_counters(session: Session, now: dt.datetime) -> None:
    """Remove counters quiet for a day that mark no known address (a few hundred at most per
    login). Rows another login holds are skipped, not waited for: waiting here, with this
    login's own counters locked, could deadlock with that login on PostgreSQL."""
    stale = (
        sa.select(LoginThrottle.key)
        .where(
            LoginThrottle.last_attempt_at < now - _FORGET_AFTER,
            sa.or_(LoginThrottle.known_until.is_(None), LoginThrottle.known_until < now),
        )
        .limit(500)
        .with_for_update(skip_locked=True)
    )
    session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key.in_(stale.scalar_subquery())))


def login_name_key(name: str) -> str:
    """How the trail names a user name that has no account: a digest keyed with the audit
    key (so equal names are seen as equal, and the name itself is not stored)."""
    return audit_key().sign("login name", normalise_username(name))[:32]


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
    reads, in a short one of its own afterwards. ``ended_reason`` says why a session is not
    live (ended now or before: "idle_timeout", "logout" ...). For a live session ``seen_at`` is its
    ``last_seen_at`` once that write is done, and ``idle_ends_at`` / ``expires_at`` when it
    will idle out and expire (what the page tells its script).
    """

    user: User | None
    login_id: int | None = None
    now: dt.datetime | None = None
    touch: bool = False
    end_reason: str | None = None
    ended_reason: str | None = None
    seen_at: dt.datetime | None = None
    idle_ends_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None

    @property
    def needs_write(self) -> bool:
        return self.touch or self.end_reason is not None


def check_session(
    session: Session, token: str, idle_timeout: dt.timedelta = IDLE_TIMEOUT
) -> SessionCheck:
    """Kontrollera inloggningen: is the login session of ``token`` live, and does it need
    touching? Reads only; see :class:`SessionCheck`. ``idle_timeout`` is the app's
    configured inaktivitetsgräns."""
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
    if login is None:
        return SessionCheck(user=None)
    if login.ended_at is not None:
        return SessionCheck(user=None, ended_reason=login.ended_reason)
    now = utcnow()
    ended = None
    if now - login.last_seen_at > idle_timeout:
        ended = "idle_timeout"
    elif now - login.created_at > ABSOLUTE_TIMEOUT:
        ended = "expired"
    elif not login.user.active:
        ended = "deactivated"
    if ended is not None:
        return SessionCheck(
            user=None, login_id=login.id, now=now, end_reason=ended, ended_reason=ended
        )
    touch = now - login.last_seen_at > TOUCH_INTERVAL
    seen_at = now if touch else login.last_seen_at
    return SessionCheck(
        user=login.user,
        login_id=login.id,
        now=now,
        touch=touch,
        seen_at=seen_at,
        idle_ends_at=seen_at + idle_timeout,
        expires_at=login.created_at + ABSOLUTE_TIMEOUT,
    )


def keep_session_alive(check: SessionCheck, idle_timeout: dt.timedelta) -> SessionCheck:
    """Förläng inloggningen: the check of a live session with its touch forced, even within
    the touch interval (the user asked to stay logged in; :func:`apply_session_check` writes
    it). A check of a session that is not live is returned as it is."""
    if check.user is None:
        return check
    return dataclasses.replace(
        check, touch=True, seen_at=check.now, idle_ends_at=check.now + idle_timeout
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


def resume_session(
    session: Session, token: str, idle_timeout: dt.timedelta = IDLE_TIMEOUT
) -> User | None:
    """The user of a live login session, or ``None`` if it ended, idled out or expired.

    Checks and writes in ``session``; a request that must not write uses
    :func:`check_session` and :func:`apply_session_check` separately.
    """
    check = check_session(session, token, idle_timeout)
    apply_session_check(session, check)
    return check.user


def end_session(session: Session, token: str, reason: str = "logout") -> None:
    """Logga ut: end the login session so its cookie is worthless from now on."""
    login = session.scalar(
        sa.select(LoginSession).where(LoginSession.token_hash == _token_hash(token))
    )
    if login is not None and login.ended_at is None:
        _end(login, utcnow(), reason)
        record(session, Actor.of(login.user), "user", login.user_id, "logout")


def end_all_sessions(session: Session, user: User, reason: str) -> None:
    session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )


def _end(login: LoginSession, now: dt.datetime, reason: str) -> None:
    login.ended_at = now
    login.ended_reason = reason
