"""The audit trail: one event per change, none on rollback, the database refuses edits, and
``verify`` names the first bad row for each kind of tampering."""

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit import accounts
from audit.trail import GENESIS_HASH, SYSTEM, AuditEvent, compute_hash, record, verify
from tests.conftest import count
from tests.factories import TEST_ACTOR, make_unit, make_user


def _events(db, n=5):
    return [record(db, SYSTEM, "thing", i, "create", after={"n": i, "å": "ö"}) for i in range(n)]


def test_each_change_writes_exactly_one_event(db):
    before = count(db, AuditEvent)
    user = accounts.create_user(db, TEST_ACTOR, "anna", "Anna", "ett långt lösenord")
    assert count(db, AuditEvent) == before + 1
    make_unit(db, "u1")
    accounts.grant_role(db, TEST_ACTOR, user, "verksamhetschef", "u1")
    events = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).all()
    assert count(db, AuditEvent) == before + 3
    assert events[0].action == "grant_role"
    assert events[0].after_data() == {"role": "verksamhetschef", "unit": "u1"}
    assert events[0].actor_label == "test"


def test_refused_operation_writes_no_event(db):
    make_user(db, "bertil")
    before = count(db, AuditEvent)
    with pytest.raises(accounts.AccountError):
        accounts.create_user(db, TEST_ACTOR, "bertil", "Bertil igen", "ett långt lösenord")
    assert count(db, AuditEvent) == before


def test_rolled_back_transaction_leaves_no_event(engine):
    with Session(engine) as session:
        before = count(session, AuditEvent)
    with Session(engine) as session:
        accounts.create_user(session, TEST_ACTOR, "rollback.user", "R", "ett långt lösenord")
        assert count(session, AuditEvent) == before + 1
        session.rollback()
    with Session(engine) as session:
        assert count(session, AuditEvent) == before
        assert verify(session).ok


def test_events_chain_from_genesis(db):
    events = _events(db, 3)
    first = db.scalar(sa.select(AuditEvent).order_by(AuditEvent.id).limit(1))
    assert first.prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert events[2].hash == compute_hash(events[2].payload())
    result = verify(db)
    assert result.ok and result.checked == count(db, AuditEvent)
    assert result.head_hash == events[-1].hash


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET reason = 'ändrad i efterhand'",
        "DELETE FROM audit_events",
    ],
)
def test_database_refuses_update_and_delete(db, statement):
    _events(db, 2)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.begin_nested():
            db.execute(sa.text(statement))
    assert verify(db).ok


def _disable_protection(db):
    """What an attacker with database-owner rights would do first."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    else:
        db.execute(sa.text("DROP TRIGGER audit_events_no_update"))
        db.execute(sa.text("DROP TRIGGER audit_events_no_delete"))


def test_verify_names_row_with_flipped_byte(db):
    events = _events(db)
    target = events[2]
    _disable_protection(db)
    db.execute(
        sa.text("UPDATE audit_events SET after = :v WHERE id = :id"),
        {"v": target.after.replace('"n":2', '"n":3'), "id": target.id},
    )
    result = verify(db)
    assert not result.ok
    assert result.bad_id == target.id
    assert "hash" in result.problem


def test_verify_names_row_after_a_deleted_one(db):
    events = _events(db)
    _disable_protection(db)
    db.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": events[1].id})
    result = verify(db)
    assert not result.ok
    assert result.bad_id == events[2].id
    assert "saknas" in result.problem


def test_verify_catches_deleted_row_with_ids_renumbered(db):
    events = _events(db)
    _disable_protection(db)
    db.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": events[1].id})
    for event in events[2:]:
        db.execute(sa.text("UPDATE audit_events SET id = id - 1 WHERE id = :id"), {"id": event.id})
    result = verify(db)
    assert not result.ok
    assert result.bad_id == events[1].id  # the row that now sits in the deleted one's place


def test_verify_catches_two_rows_swapped(db):
    events = _events(db)
    a, b = events[1], events[2]
    _disable_protection(db)
    columns = [
        "occurred_at",
        "actor_label",
        "entity_type",
        "entity_id",
        "action",
        "before",
        "after",
        "reason",
        "prev_hash",
        "hash",
    ]
    row_a = db.execute(sa.select(AuditEvent.__table__).where(AuditEvent.id == a.id)).one()
    row_b = db.execute(sa.select(AuditEvent.__table__).where(AuditEvent.id == b.id)).one()
    table = AuditEvent.__table__
    # Move a's content out of the way first: hash is unique.
    db.execute(table.update().where(table.c.id == a.id).values(hash="x" * 64))
    db.execute(
        table.update().where(table.c.id == b.id).values({c: getattr(row_a, c) for c in columns})
    )
    db.execute(
        table.update().where(table.c.id == a.id).values({c: getattr(row_b, c) for c in columns})
    )
    result = verify(db)
    assert not result.ok
    assert result.bad_id == a.id
