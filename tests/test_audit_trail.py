"""The audit trail: one event per change, none on rollback, the database refuses edits and
out-of-chain inserts, and ``verify`` names each kind of tampering and the row it starts at --
from the signed chain alone and against signed checkpoints kept outside the database."""

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit import accounts
from audit.keys import audit_key, make_key
from audit.trail import (
    GENESIS_HASH,
    SYSTEM,
    AuditEvent,
    compute_hash,
    make_checkpoint,
    record,
    verify,
)
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
    assert events[2].key_id == audit_key().id
    assert events[2].hash == compute_hash(events[2].payload(), audit_key())
    # Keyed: the plain SHA-256 of the same payload (what anyone can compute) is not it.
    assert events[2].hash != compute_hash(events[2].payload())
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


# --- issue 9, finding 3: the trail could be rewritten by whoever can write the database ------

_COLUMNS = (
    "id, occurred_at, actor_label, entity_type, entity_id, action, after, prev_hash, hash, key_id"
)


def _copy_of(db, event_id):
    return dict(
        db.execute(sa.text(f"SELECT {_COLUMNS} FROM audit_events WHERE id = :id"), {"id": event_id})  # noqa: S608 (constant)
        .one()
        ._mapping
    )


def _insert(db, values, verb="INSERT", tail=""):
    names = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    db.execute(sa.text(f"{verb} INTO audit_events ({names}) VALUES ({params}) {tail}"), values)


def test_insert_or_replace_of_an_old_row_is_refused(db):
    """The attack of the issue: on SQLite ``INSERT OR REPLACE ... id=<old>`` deleted the old
    row without firing the DELETE trigger; on PostgreSQL the same with ON CONFLICT DO UPDATE."""
    events = _events(db, 4)
    target = events[1]
    forged = _copy_of(db, target.id)
    forged["after"] = '{"n":99}'
    if db.get_bind().dialect.name == "postgresql":
        verb, tail = "INSERT", "ON CONFLICT (id) DO UPDATE SET after = EXCLUDED.after"
    else:
        verb, tail = "INSERT OR REPLACE", ""
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.begin_nested():
            _insert(db, forged, verb, tail)
    assert _copy_of(db, target.id)["after"] == target.after
    assert verify(db).ok


@pytest.mark.parametrize("wrong", ["id_in_the_past", "id_skipping_ahead", "prev_hash"])
def test_insert_that_does_not_continue_the_chain_is_refused(db, wrong):
    events = _events(db, 3)
    head = events[-1]
    row = _copy_of(db, head.id)
    row.update(id=head.id + 1, prev_hash=head.hash, hash="f" * 64)
    if wrong == "id_in_the_past":
        row["id"] = events[0].id
        row["hash"] = "e" * 64
        verb = "INSERT OR REPLACE" if db.get_bind().dialect.name == "sqlite" else "INSERT"
    else:
        verb = "INSERT"
        if wrong == "id_skipping_ahead":
            row["id"] = head.id + 2
        else:
            row["prev_hash"] = events[0].hash
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.begin_nested():
            _insert(db, row, verb)
    assert verify(db).ok and verify(db).checked == len(events)


def test_sqlite_replace_through_the_hash_column_is_refused(db):
    """``hash`` is unique too: a REPLACE of a new row that reuses an old row's hash would
    delete that old row -- also without a DELETE trigger."""
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("REPLACE is SQLite's")
    events = _events(db, 3)
    row = _copy_of(db, events[-1].id)
    row.update(id=events[-1].id + 1, prev_hash=events[-1].hash, hash=events[0].hash)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.begin_nested():
            _insert(db, row, "INSERT OR REPLACE")
    assert verify(db).ok and verify(db).checked == len(events)


def _recompute(db, from_id, key=None, change=None):
    """What the issue's attacker did after changing a row: recompute every hash after it."""
    _disable_protection(db)
    rows = db.scalars(sa.select(AuditEvent).where(AuditEvent.id >= from_id).order_by(AuditEvent.id))
    rows = list(rows)
    prev = db.scalar(sa.select(AuditEvent.hash).where(AuditEvent.id == from_id - 1))
    table = AuditEvent.__table__
    for row in rows:
        values = {"prev_hash": prev}
        if row.id == from_id and change:
            values.update(change)
        payload = {**row.payload(), **values}
        values["hash"] = compute_hash(payload, key)
        db.execute(table.update().where(table.c.id == row.id).values(values))
        prev = values["hash"]
    db.expire_all()


def test_chain_recomputed_without_the_key_is_named_from_the_changed_row(db):
    events = _events(db, 6)
    checkpoint = make_checkpoint(db)
    _recompute(db, events[2].id, key=None, change={"after": '{"n":99}'})
    result = verify(db, checkpoints=[checkpoint])
    assert not result.ok
    assert (result.kind, result.bad_id) == ("recomputed", events[2].id)
    assert "räknats om utan nyckeln" in result.problem
    # Even without a checkpoint the unsigned rows are found, from the same row.
    alone = verify(db)
    assert (alone.kind, alone.bad_id) == ("unsigned", events[2].id)


def test_chain_recomputed_with_another_key_is_caught(db):
    events = _events(db, 4)
    _recompute(db, events[1].id, key=make_key(b"a key the attacker made up, 32+ chars"))
    result = verify(db, checkpoints=[make_checkpoint(db)])
    assert not result.ok and result.bad_id == events[1].id


def test_chain_rewritten_with_the_key_is_caught_by_the_checkpoint(db):
    """Whoever has the key too can recompute a valid chain; the checkpoint outside the
    database still names the rewrite, between the checkpoints that bound it."""
    events = _events(db, 3)
    first = make_checkpoint(db)
    events += _events(db, 3)
    second = make_checkpoint(db)
    _recompute(db, events[4].id, key=audit_key(), change={"reason": "i efterhand"})
    assert verify(db).ok  # the chain alone cannot tell
    result = verify(db, checkpoints=[first, second])
    assert not result.ok
    assert (result.kind, result.bad_id) == ("rewritten", second.id)
    assert f"mellan rad {first.id + 1} och rad {second.id}" in result.problem


def test_truncated_newest_rows_are_named(db):
    events = _events(db, 5)
    checkpoint = make_checkpoint(db)
    _disable_protection(db)
    db.execute(sa.text("DELETE FROM audit_events WHERE id > :id"), {"id": events[2].id})
    assert verify(db).ok  # the chain alone cannot tell
    result = verify(db, checkpoints=[checkpoint])
    assert not result.ok
    assert (result.kind, result.bad_id) == ("truncated", events[3].id)
    assert f"rad {events[3].id}–{events[4].id} saknas" in result.problem


def test_forged_appended_event_is_named(db):
    """A well-formed append (next id, the head's hash as prev_hash) gets past the trigger --
    but without the key its hash is not signed, and verify says so."""
    events = _events(db, 3)
    checkpoint = make_checkpoint(db)
    head = events[-1]
    forged = _copy_of(db, head.id)
    forged.update(id=head.id + 1, prev_hash=head.hash, action="grant_role", after='{"x":1}')
    payload = {**head.payload(), **forged, "occurred_at": head.payload()["occurred_at"]}
    payload.pop("hash")
    forged["hash"] = compute_hash(payload)  # all the attacker can compute: plain SHA-256
    _insert(db, forged)
    result = verify(db, checkpoints=[checkpoint])
    assert not result.ok
    assert (result.kind, result.bad_id) == ("forged", head.id + 1)
    assert "förfalskade" in result.problem


def test_unkeyed_row_after_keyed_ones_is_caught(db):
    """Rows from before the key (key_id NULL, plain SHA-256) are only accepted as the chain's
    first rows: recomputing the rest in the old format does not pass."""
    events = _events(db, 3)
    _disable_protection(db)
    target = events[1]
    payload = target.payload()
    payload.pop("key_id")
    table = AuditEvent.__table__
    db.execute(
        table.update()
        .where(table.c.id == target.id)
        .values(key_id=None, hash=compute_hash(payload))
    )
    db.execute(
        table.update().where(table.c.id == events[2].id).values(prev_hash=compute_hash(payload))
    )
    result = verify(db)
    assert not result.ok and result.bad_id == target.id
    assert "osignerad" in result.problem


def test_changed_row_is_named_as_changed(db):
    events = _events(db, 4)
    checkpoint = make_checkpoint(db)
    _disable_protection(db)
    db.execute(
        sa.text("UPDATE audit_events SET reason = 'i efterhand' WHERE id = :id"),
        {"id": events[1].id},
    )
    result = verify(db, checkpoints=[checkpoint])
    assert (result.ok, result.kind, result.bad_id) == (False, "changed", events[1].id)


def test_forged_checkpoint_is_named(db):
    import dataclasses

    _events(db, 3)
    real = make_checkpoint(db)
    forged = dataclasses.replace(real, id=real.id + 5, line=2)
    result = verify(db, checkpoints=[real, forged])
    assert (result.ok, result.kind) == (False, "checkpoint_forged")
    assert "rad 2 i kontrollpunktsfilen" in result.problem
    assert verify(db, checkpoints=[real]).ok


def test_intact_chain_agrees_with_its_checkpoints(db):
    _events(db, 2)
    first = make_checkpoint(db)
    head = _events(db, 2)[-1]
    result = verify(db, checkpoints=[first, make_checkpoint(db)])
    assert result.ok and result.checkpoints == 2 and result.latest_checkpoint.id == head.id
