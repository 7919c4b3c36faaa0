"""Granskningslogg: the append-only, hash-chained audit trail.

Every change to the follow-up record writes one :class:`AuditEvent` in the same transaction as
the change itself, so a rolled-back change leaves no event. Each event carries the SHA-256 of
its canonical serialisation together with the previous event's hash; :func:`verify` walks the
chain and names the first row that does not fit. The database refuses UPDATE and DELETE on the
table (triggers created by the migrations), so editing the trail takes deliberate tampering
that ``verify`` then reveals. (Removing the newest rows cannot be seen from the chain alone;
the hash of the head can be recorded outside the database for that.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.db import Base, UTCDateTime, utcnow
from audit.personal_data import personal_text

GENESIS_HASH = "0" * 64
# Any constant will do: it names the advisory lock that serialises appends on PostgreSQL.
_PG_CHAIN_LOCK = 7_141_971_301


class AuditEvent(Base):
    """Händelse i granskningsloggen: who did what to which entity, when, and why."""

    __tablename__ = "audit_events"

    # Assigned by record() as predecessor + 1, so that a gap means a deleted row.
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(sa.String(100), info=personal_text("Användare"))
    entity_type: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(64))
    before: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Händelsens uppgifter (före)")
    )
    after: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Händelsens uppgifter"))
    reason: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Skäl"))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    def payload(self) -> dict[str, Any]:
        """The fields the hash covers, as plain values."""
        return _payload(self)

    def before_data(self) -> Any:
        return json.loads(self.before) if self.before is not None else None

    def after_data(self) -> Any:
        return json.loads(self.after) if self.after is not None else None


HASHED_FIELDS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_label",
    "entity_type",
    "entity_id",
    "action",
    "before",
    "after",
    "reason",
    "prev_hash",
)


def _payload(row: Any) -> dict[str, Any]:
    payload = {name: getattr(row, name) for name in HASHED_FIELDS}
    payload["occurred_at"] = _timestamp(payload["occurred_at"])
    return payload


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 kept; dates as ISO strings."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__} in an audit event")


def compute_hash(payload: dict[str, Any]) -> str:
    """SHA-256 over the canonical serialisation of an event's payload (prev_hash included)."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


@dataclasses.dataclass(frozen=True)
class Actor:
    """Vem: the user (or system process) an event is attributed to."""

    label: str
    user_id: int | None = None

    @classmethod
    def of(cls, user) -> Actor:
        return cls(label=user.username, user_id=user.id)


SYSTEM = Actor(label="system")


def record(
    session: Session,
    actor: Actor,
    entity_type: str,
    entity_id: Any,
    action: str,
    *,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> AuditEvent:
    """Append one event to the trail inside the caller's transaction and flush it.

    The caller commits (or rolls back) the change and its event together.
    """
    _lock_chain(session)
    last = session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    event = AuditEvent(
        id=(last.id + 1) if last else 1,
        occurred_at=utcnow(),
        actor_id=actor.user_id,
        actor_label=actor.label,
        entity_type=entity_type,
        entity_id=str(entity_id),
        action=action,
        before=canonical_json(before) if before is not None else None,
        after=canonical_json(after) if after is not None else None,
        reason=reason,
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = compute_hash(event.payload())
    session.add(event)
    session.flush()
    return event


def _lock_chain(session: Session) -> None:
    """Serialise appends so that two transactions never chain to the same predecessor.

    PostgreSQL: a transaction-scoped advisory lock. SQLite allows one writer at a time and
    refuses to upgrade a stale read snapshot, so a concurrent append fails instead of forking.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CHAIN_LOCK})


@dataclasses.dataclass(frozen=True)
class VerifyResult:
    """Result of walking the chain: ok, or the first bad row and what is wrong with it."""

    ok: bool
    checked: int
    bad_id: int | None = None
    problem: str | None = None
    head_hash: str | None = None


def verify(session: Session, *, batch_size: int = 1000) -> VerifyResult:
    """Walk the whole chain in id order and report the first row that does not fit.

    Detects a changed byte in any hashed field (the row's hash no longer matches), a deleted row
    (a gap in the ids, or the next row's ``prev_hash`` no longer matches) and reordered rows.
    """
    prev_hash = GENESIS_HASH
    expected_id = 1
    checked = 0
    last_id = 0
    while True:
        # Plain rows, not ORM objects: what is on disk, not what the session remembers.
        rows = session.execute(
            sa.select(*(getattr(AuditEvent, name) for name in (*HASHED_FIELDS, "hash")))
            .where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.id != expected_id:
                return VerifyResult(
                    False, checked, event.id, f"rad {expected_id} saknas före rad {event.id}"
                )
            if event.prev_hash != prev_hash:
                return VerifyResult(
                    False,
                    checked,
                    event.id,
                    "föregående hash stämmer inte: raden har flyttats eller en rad före den "
                    "har tagits bort eller ändrats",
                )
            if compute_hash(_payload(event)) != event.hash:
                return VerifyResult(
                    False, checked, event.id, "innehållet stämmer inte med radens hash"
                )
            prev_hash = event.hash
            expected_id += 1
            checked += 1
            last_id = event.id
    return VerifyResult(True, checked, head_hash=prev_hash if checked else None)
