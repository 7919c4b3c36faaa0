"""Granskningslogg: the append-only, signed, hash-chained audit trail.

Every change to the follow-up record writes one :class:`AuditEvent` in the same transaction as
the change itself, so a rolled-back change leaves no event. Each event carries an HMAC-SHA256,
under a key kept outside the database (:mod:`audit.keys`), of its canonical serialisation
together with the previous event's hash; :func:`verify` walks the chain and names the first
row that does not fit.

The database refuses UPDATE and DELETE on the table, and any INSERT that does not continue the
chain -- the next id, the head's hash as ``prev_hash`` -- which is also what refuses SQLite's
``INSERT OR REPLACE`` (a delete that fires no DELETE trigger) and PostgreSQL's
``INSERT ... ON CONFLICT DO UPDATE`` (triggers created by the migrations). Whoever can drop
those triggers still cannot recompute the chain or forge an event without the key, and
*checkpoints* -- the head's id and hash, signed, in a file outside the database
(:func:`append_checkpoint`) -- reveal removed newest rows and a chain rewritten even with the
key.

Rows written before revision 0009 have ``key_id`` NULL and plain SHA-256 hashes; they verify as
before, but only as the chain's first rows: an unkeyed row after a keyed one, or beyond the
``legacy_head`` a checkpoint recorded, is reported as unsigned.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.db import Base, UTCDateTime, utcnow
from audit.keys import AuditKey, audit_key, instance_dir
from audit.personal_data import personal_text

GENESIS_HASH = "0" * 64
# Any constant will do: it names the advisory lock that serialises appends on PostgreSQL.
_PG_CHAIN_LOCK = 7_141_971_301
_EVENT_PURPOSE = "halsoval audit event v2"
_CHECKPOINT_PURPOSE = "halsoval audit checkpoint v1"
CHECKPOINTS_ENV = "HALSOVAL_AUDIT_CHECKPOINTS"


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
    # Id of the key the row is signed with; NULL for rows from before keys (plain SHA-256).
    key_id: Mapped[str | None] = mapped_column(sa.String(16))

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
    """The signed fields; a keyed row's payload names its key, a legacy row's is as it was."""
    payload = {name: getattr(row, name) for name in HASHED_FIELDS}
    payload["occurred_at"] = _timestamp(payload["occurred_at"])
    if row.key_id is not None:
        payload["key_id"] = row.key_id
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


def compute_hash(payload: dict[str, Any], key: AuditKey | None = None) -> str:
    """An event's hash: HMAC-SHA256 under ``key`` of its canonical payload (prev_hash included).

    Without a key, plain SHA-256 -- how rows were hashed before revision 0009 (``key_id``
    NULL), kept so that those rows verify as before.
    """
    text = canonical_json(payload)
    if key is None:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    return key.sign(_EVENT_PURPOSE, text)


@dataclasses.dataclass(frozen=True)
class Actor:
    """Vem: the user (or system process) an event is attributed to."""

    label: str
    user_id: int | None = None

    @classmethod
    def of(cls, user) -> Actor:
        return cls(label=user.username, user_id=user.id)


SYSTEM = Actor(label="system")
# Whoever typed at the login page before being anyone.
ANONYMOUS = Actor(label="anonym")


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
    key = audit_key()
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
        key_id=key.id,
    )
    event.hash = compute_hash(event.payload(), key)
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


# --- checkpoints -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """Kontrollpunkt: the head of the chain at one moment, signed, kept outside the database.

    ``legacy_head`` is the last row without a key (0 if none): rows after it must be keyed.
    ``line`` is the line of the checkpoint file it was read from (0 if not read from one).
    """

    id: int
    hash: str
    legacy_head: int
    at: str
    key_id: str
    sig: str
    line: int = 0

    def body(self) -> str:
        return canonical_json(
            {
                "v": 1,
                "id": self.id,
                "hash": self.hash,
                "legacy_head": self.legacy_head,
                "at": self.at,
                "key_id": self.key_id,
            }
        )

    def to_json(self) -> str:
        data = json.loads(self.body())
        data["sig"] = self.sig
        return canonical_json(data)

    def signed_by(self, key: AuditKey) -> bool:
        return self.key_id == key.id and hmac.compare_digest(
            key.sign(_CHECKPOINT_PURPOSE, self.body()), self.sig
        )

    @property
    def when(self) -> str:
        """The time for people: 2026-12-03 10:15 UTC."""
        return self.at[:16].replace("T", " ") + " UTC"


def checkpoint_path() -> Path:
    """Where checkpoints go by default: ``HALSOVAL_AUDIT_CHECKPOINTS`` or
    ``audit-checkpoints.jsonl`` in the instance directory."""
    return Path(os.environ.get(CHECKPOINTS_ENV) or instance_dir() / "audit-checkpoints.jsonl")


def make_checkpoint(session: Session) -> Checkpoint:
    """A signed checkpoint of the chain's head as it is now (verify the chain first)."""
    key = audit_key()
    head = session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    legacy = session.scalar(
        sa.select(sa.func.max(AuditEvent.id)).where(AuditEvent.key_id.is_(None))
    )
    unsigned = Checkpoint(
        id=head.id if head else 0,
        hash=head.hash if head else GENESIS_HASH,
        legacy_head=legacy or 0,
        at=utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        key_id=key.id,
        sig="",
    )
    return dataclasses.replace(unsigned, sig=key.sign(_CHECKPOINT_PURPOSE, unsigned.body()))


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line to the checkpoint file (created 0600), flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(checkpoint.to_json() + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def load_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in ``path`` (none if it does not exist).

    A line that cannot be read as a checkpoint comes back unsigned, so that verify names it.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    checkpoints = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            checkpoints.append(
                Checkpoint(
                    id=int(data["id"]),
                    hash=str(data["hash"]),
                    legacy_head=int(data["legacy_head"]),
                    at=str(data["at"]),
                    key_id=str(data["key_id"]),
                    sig=str(data["sig"]),
                    line=number,
                )
            )
        except (ValueError, KeyError, TypeError):
            checkpoints.append(Checkpoint(0, "", 0, "", "", "", line=number))
    return checkpoints


# --- verification ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VerifyResult:
    """Result of walking the chain: ok, or the first bad row, what kind of tampering, and how.

    ``kind`` is one of ``missing_row``, ``broken_link``, ``changed``, ``recomputed``,
    ``forged``, ``unsigned`` (recomputed or forged: no checkpoint to tell), ``truncated``,
    ``rewritten``, ``checkpoint_forged``; ``problem`` says it in Swedish.
    """

    ok: bool
    checked: int
    bad_id: int | None = None
    problem: str | None = None
    head_hash: str | None = None
    kind: str | None = None
    head_id: int = 0
    checkpoints: int = 0
    latest_checkpoint: Checkpoint | None = None


_REASONS = {
    "content": "innehållet stämmer inte med radens hash (signatur)",
    "unkeyed": "raden är osignerad (vanlig SHA-256) fast kedjan redan signeras med nyckeln",
    "other_key": "raden är signerad med en annan nyckel än granskningsnyckeln",
}


def verify(
    session: Session, *, checkpoints: Sequence[Checkpoint] = (), batch_size: int = 1000
) -> VerifyResult:
    """Walk the whole chain in id order and name the first tampering found.

    From the chain alone: a changed byte in any signed field (``changed``), a deleted row
    (``missing_row``, or ``broken_link`` where the ids were renumbered), reordered rows
    (``broken_link``), rows whose hashes were recomputed without the key or forged events
    (``unsigned``). With ``checkpoints``: whether unsigned rows rewrote what a checkpoint had
    seen (``recomputed``) or came after it (``forged``), removed newest rows (``truncated``), a
    chain rewritten even with the key (``rewritten``), a forged checkpoint
    (``checkpoint_forged``).
    """
    key = audit_key()
    valid = [c for c in checkpoints if c.signed_by(key)]
    forged_checkpoint = next((c for c in checkpoints if not c.signed_by(key)), None)
    latest = max(valid, key=lambda c: (c.id, c.at), default=None)
    legacy_limit = min((c.legacy_head for c in valid), default=None)
    watched = {c.id for c in valid}
    seen_hashes: dict[int, str] = {}

    prev_hash = GENESIS_HASH
    expected_id = 1
    checked = 0
    last_id = 0
    seen_keyed = False
    first_bad: tuple[int, str] | None = None
    good_after_bad = False

    def result(**kwargs) -> VerifyResult:
        return VerifyResult(
            checkpoints=len(valid), latest_checkpoint=latest, head_id=last_id, **kwargs
        )

    while True:
        # Plain rows, not ORM objects: what is on disk, not what the session remembers.
        rows = session.execute(
            sa.select(*(getattr(AuditEvent, name) for name in (*HASHED_FIELDS, "key_id", "hash")))
            .where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.id != expected_id:
                return result(
                    ok=False,
                    checked=checked,
                    bad_id=event.id,
                    kind="missing_row",
                    problem=f"rad {expected_id} saknas före rad {event.id}",
                )
            if event.prev_hash != prev_hash:
                return result(
                    ok=False,
                    checked=checked,
                    bad_id=event.id,
                    kind="broken_link",
                    problem="föregående hash stämmer inte: raden har flyttats eller en rad före "
                    "den har tagits bort eller ändrats",
                )
            reason = _signature_problem(event, key, seen_keyed, legacy_limit)
            seen_keyed = seen_keyed or event.key_id is not None
            if reason is not None and first_bad is None:
                first_bad = (event.id, reason)
            elif reason is None and first_bad is not None:
                good_after_bad = True
            if event.id in watched:
                seen_hashes[event.id] = event.hash
            prev_hash = event.hash
            expected_id += 1
            checked += 1
            last_id = event.id
    head_hash = prev_hash if checked else None

    if first_bad is not None:
        bad_id, reason = first_bad
        kind, problem = _classify(bad_id, reason, last_id, good_after_bad, latest, seen_hashes)
        return result(
            ok=False,
            checked=bad_id - 1,
            bad_id=bad_id,
            kind=kind,
            problem=problem,
            head_hash=head_hash,
        )
    if latest is not None and latest.id > last_id:
        return result(
            ok=False,
            checked=checked,
            bad_id=last_id + 1,
            head_hash=head_hash,
            kind="truncated",
            problem=f"rad {last_id + 1}–{latest.id} saknas: de senaste raderna har tagits bort "
            f"(kontrollpunkten från {latest.when} visar att kedjan då slutade vid rad "
            f"{latest.id})",
        )
    last_match = 0
    for checkpoint in sorted(valid, key=lambda c: c.id):
        if checkpoint.id == 0:
            continue
        if seen_hashes.get(checkpoint.id) != checkpoint.hash:
            return result(
                ok=False,
                checked=checked,
                bad_id=checkpoint.id,
                head_hash=head_hash,
                kind="rewritten",
                problem=f"rad {checkpoint.id} stämmer inte med kontrollpunkten från "
                f"{checkpoint.when}: kedjan har skrivits om (med nyckeln) någonstans mellan rad "
                f"{last_match + 1} och rad {checkpoint.id}",
            )
        last_match = checkpoint.id
    if forged_checkpoint is not None:
        return result(
            ok=False,
            checked=checked,
            bad_id=forged_checkpoint.id or None,
            head_hash=head_hash,
            kind="checkpoint_forged",
            problem=f"kontrollpunkten på rad {forged_checkpoint.line} i kontrollpunktsfilen är "
            "inte signerad med granskningsnyckeln: den är förfalskad eller ändrad",
        )
    return result(ok=True, checked=checked, head_hash=head_hash)


def _signature_problem(
    event: Any, key: AuditKey, seen_keyed: bool, legacy_limit: int | None
) -> str | None:
    """Why a row's hash is not what its key (or, for a legacy row, SHA-256) gives; or None."""
    if event.key_id is None:
        if not hmac.compare_digest(compute_hash(_payload(event)), event.hash):
            return "content"
        if seen_keyed or (legacy_limit is not None and event.id > legacy_limit):
            return "unkeyed"
        return None
    if event.key_id != key.id:
        return "other_key"
    if not hmac.compare_digest(compute_hash(_payload(event), key), event.hash):
        return "content"
    return None


def _classify(
    bad_id: int,
    reason: str,
    head_id: int,
    good_after_bad: bool,
    latest: Checkpoint | None,
    seen_hashes: dict[int, str],
) -> tuple[str, str]:
    """Name what the first row with a bad signature means, from the rows after it and the
    latest checkpoint."""
    why = _REASONS[reason]
    span = f"rad {bad_id}" if bad_id == head_id else f"rad {bad_id}–{head_id}"
    if good_after_bad:
        # The next row still links to the stored hash: the content changed, the hash did not.
        return "changed", f"{why}: raden har ändrats i efterhand"
    if latest is not None and bad_id <= latest.id:
        if seen_hashes.get(latest.id) == latest.hash:
            return "changed", f"{why}: raden har ändrats i efterhand"
        return (
            "recomputed",
            f"{why}: kedjan har räknats om utan nyckeln från rad {bad_id} "
            f"({span} saknar giltig signatur; kontrollpunkten från {latest.when} gäller rad "
            f"{latest.id})",
        )
    if latest is not None:
        return (
            "forged",
            f"{why}: {span} har lagts till eller skrivits om utan nyckeln efter kontrollpunkten "
            f"från {latest.when} (rad {latest.id}) — förfalskade händelser",
        )
    return (
        "unsigned",
        f"{why}: {span} saknar giltig signatur — kedjan har räknats om utan nyckeln eller "
        "händelser har förfalskats från den raden (ingen kontrollpunkt att jämföra med)",
    )
