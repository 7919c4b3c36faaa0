"""Personliga API-nycklar: tokens with which a user's BI tool reads the API as that user.

A token is created by its user for themselves, shown once and stored only as its SHA-256
(a random 256-bit secret needs no slow hash: nothing can be guessed from its digest). It acts
with the roles and units its user holds at the time of each request -- the same scope as a
login session, never more -- and stops working when revoked, when it expires, or when its user
is deactivated or must change a one-time password. Creation and revocation are events in the
audit trail; every use is a row in ``api_token_uses`` (when, which token, the method, the route
and the answer's status: never the secret, the hash or the caller's address), kept apart from
the hash-chained trail so that a BI tool's thousands of reads do not queue on its chain lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from audit.db import Base, UTCDateTime, utcnow
from audit.models import User
from audit.personal_data import personal_text
from audit.trail import Actor, record

PREFIX = "hvu_"  # Hälsoval uppföljning, user token: recognisable in a leaked config file
SHOWN_PREFIX = 12  # the first characters, shown in lists so the user can tell tokens apart
LIFETIMES = (30, 90, 365)  # days a token may live; no token lives for ever
NAME_MAX = 100


class ApiTokenError(ValueError):
    """A token that cannot be created or revoked as asked; the message is Swedish."""


class ApiToken(Base):
    """Personlig API-nyckel: one user's named token, its digest, lifetime and last use."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX), info=personal_text("Namn"))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_live(self, now: dt.datetime | None = None) -> bool:
        return self.revoked_at is None and (now or utcnow()) < self.expires_at

    def snapshot(self) -> dict:
        """For the trail: what identifies the token, never its secret or digest."""
        return {
            "name": self.name,
            "prefix": self.prefix,
            "user_id": self.user_id,
            "expires_at": self.expires_at,
        }


class ApiTokenUse(Base):
    """Användning av en API-nyckel: one request made with it and how it was answered."""

    __tablename__ = "api_token_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(sa.ForeignKey("api_tokens.id"), index=True)
    used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    method: Mapped[str] = mapped_column(sa.String(8))
    # The route used (api.results …), set by the code: not the URL, which a caller may fill
    # with anything, personnummer included.
    endpoint: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int]


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(session: Session, user: User, name: str, days: int) -> tuple[ApiToken, str]:
    """Skapa en API-nyckel for ``user`` (by themselves); returns the row and the secret,
    which is not stored and cannot be shown again."""
    name = " ".join((name or "").split())
    if not name:
        raise ApiTokenError("Ge nyckeln ett namn, till exempel verktyget som ska använda den.")
    if len(name) > NAME_MAX:
        raise ApiTokenError(f"Namnet får vara högst {NAME_MAX} tecken.")
    if days not in LIFETIMES:
        raise ApiTokenError("Välj hur länge nyckeln ska gälla.")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[:SHOWN_PREFIX],
        token_hash=token_digest(secret),
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    session.add(token)
    session.flush()
    record(session, Actor.of(user), "api_token", token.id, "create", after=token.snapshot())
    return token, secret


def revoke_token(session: Session, user: User, token: ApiToken) -> None:
    """Återkalla: the token stops working at once. Only its own user revokes it."""
    if token.user_id != user.id:
        raise ApiTokenError("Du kan bara återkalla dina egna nycklar.")
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    session.flush()
    record(session, Actor.of(user), "api_token", token.id, "revoke", before=token.snapshot())


def find_live_token(session: Session, secret: str) -> ApiToken | None:
    """The live token with this secret whose user may still act, or ``None``."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_digest(secret)))
    if token is None or not token.is_live():
        return None
    user = token.user
    if not user.active or user.must_change_password:
        return None
    return token


def record_use(session: Session, token_id: int, method: str, endpoint: str, status: int) -> None:
    """Log one use of a token (and note it as its last use)."""
    now = utcnow()
    session.add(
        ApiTokenUse(
            token_id=token_id, used_at=now, method=method[:8], endpoint=endpoint[:64], status=status
        )
    )
    session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones too, marked as such)."""
    return list(
        session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )
