"""The late write phase: read without SQLite's write lock, then write briefly under it.

An item's save reads its login session, the checklist, the item and validates without the
lock (so the workers' reads run side by side) and holds the lock only for its UPDATE and trail
event (:func:`audit.db.write_phase`). What that must guarantee, on a database file and on
PostgreSQL: a colleague's commit between the read and the write is no "database is locked";
the write re-checks what it depends on (the checklist may have been submitted in between); and
a late writer that wrote during its read phase is a programming error, caught.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import OperationalError

from audit.db import (
    make_engine,
    make_session_factory,
    reset_late_write,
    set_late_write,
    write_intent,
    write_phase,
)
from audit.models import Role, Unit, User
from audit.trail import AuditEvent, verify
from audit.units import load_units
from checklists import operations as ops
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.models import Requirement
from checklists.rounds import Checklist, ChecklistItem, ChecklistStatus
from tests.conftest import DB_KINDS, database_url
from tests.factories import TEST_ACTOR, make_user
from web.cli import alembic_config


@pytest.fixture(params=DB_KINDS)
def world(request, tmp_path_factory):
    url = database_url(request.param, "halsoval_write_phase", request, tmp_path_factory)
    engine = make_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(url, connection=connection), "head")
    factory = make_session_factory(engine)
    with factory() as db:
        load_units(db, TEST_ACTOR)
        edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
        bo = make_user(db, "bo", (Role.BESTALLARE, None))
        make_user(db, "chef", (Role.VERKSAMHETSCHEF, "byske"))
        ops.open_round(
            db,
            bo,
            edition=edition,
            title="Sent skrivande",
            year=2025,
            opens_on=dt.date(2025, 1, 1),
            deadline=dt.date(2025, 3, 31),
        )
        db.commit()
        checklist_id = db.scalar(sa.select(Checklist.id).join(Unit).where(Unit.code == "byske"))
        item_ids = db.scalars(
            sa.select(ChecklistItem.id)
            .join(Requirement)
            .where(ChecklistItem.checklist_id == checklist_id, Requirement.answer_type == "yes_no")
            .order_by(ChecklistItem.id)
            .limit(2)
        ).all()
    yield engine, factory, checklist_id, item_ids
    engine.dispose()


@pytest.fixture
def late():
    token = set_late_write(True)
    yield
    reset_late_write(token)


def _load(db, checklist_id, item_id):
    user = db.scalar(sa.select(User).where(User.username == "chef"))
    checklist = db.get(Checklist, checklist_id)
    item = db.get(ChecklistItem, item_id)
    _ = item.requirement, checklist.round  # loaded in the read phase, as the route does
    return user, checklist, item


def _colleague_saves(factory, checklist_id, item_id) -> None:
    with write_intent(), factory() as other:
        user, checklist, item = _load(other, checklist_id, item_id)
        outcome = ops.save_item(
            other, user, checklist, item, {"answer": "no"}, loaded_version=item.version, year=2025
        )
        assert outcome.state == "saved"
        other.commit()


def test_a_commit_between_read_and_write_is_no_lock_error(world, late):
    engine, factory, checklist_id, (mine, theirs) = world
    with factory() as db:
        user, checklist, item = _load(db, checklist_id, mine)  # the read phase has begun
        _colleague_saves(factory, checklist_id, theirs)  # ... and a colleague commits
        outcome = ops.save_item(
            db, user, checklist, item, {"answer": "yes"}, loaded_version=item.version, year=2025
        )
        assert outcome.state == "saved"
    with factory() as check:
        values = dict(
            check.execute(
                sa.select(ChecklistItem.id, ChecklistItem.value).where(
                    ChecklistItem.id.in_([mine, theirs])
                )
            ).all()
        )
        assert values[mine]["answer"] == "yes"  # committed by the write phase itself
        assert values[theirs]["answer"] == "no"
        assert verify(check).ok


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)  # PostgreSQL has no such refusal
def test_without_the_write_phase_the_same_interleaving_fails_on_sqlite(world):
    """The control: what write_phase avoids. A deferred transaction that read, then writes
    after another connection committed, is refused at once (SQLITE_BUSY_SNAPSHOT)."""
    engine, factory, checklist_id, (mine, theirs) = world
    with factory() as db:
        db.get(ChecklistItem, mine)
        _colleague_saves(factory, checklist_id, theirs)
        with pytest.raises(OperationalError, match="locked"):
            db.execute(sa.update(ChecklistItem).where(ChecklistItem.id == mine).values(version=99))


def test_a_checklist_submitted_in_between_refuses_the_save(world, late):
    engine, factory, checklist_id, (mine, _) = world
    with factory() as db:
        user, checklist, item = _load(db, checklist_id, mine)
        version = item.version
        with write_intent(), factory() as other:
            other.execute(
                sa.update(Checklist)
                .where(Checklist.id == checklist_id)
                .values(status=ChecklistStatus.SUBMITTED)
            )
            other.commit()
        with pytest.raises(ops.ChecklistError, match="inskickad"):
            ops.save_item(
                db, user, checklist, item, {"answer": "yes"}, loaded_version=version, year=2025
            )
    with factory() as check:
        stored = check.get(ChecklistItem, mine)
        assert stored.value is None and stored.version == version
        assert (
            check.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.entity_type == "checklist_item", AuditEvent.entity_id == str(mine)
                )
            )
            == 0
        )


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)  # the check guards SQLite's lock
def test_a_late_writer_that_wrote_while_reading_is_stopped(world, late):
    engine, factory, checklist_id, (mine, _) = world
    with factory() as db:
        db.execute(sa.update(ChecklistItem).where(ChecklistItem.id == mine).values(version=7))
        with pytest.raises(RuntimeError, match="wrote before"), write_phase(db):
            pass
        db.rollback()
        assert db.get(ChecklistItem, mine).version != 7


def test_without_late_write_intent_the_phase_leaves_the_transaction_to_the_caller(world):
    engine, factory, checklist_id, (mine, _) = world
    with write_intent(), factory() as db:
        user, checklist, item = _load(db, checklist_id, mine)
        version = item.version
        outcome = ops.save_item(
            db, user, checklist, item, {"answer": "yes"}, loaded_version=version, year=2025
        )
        assert outcome.state == "saved"
        db.rollback()  # nothing was committed behind the caller's back
    with factory() as check:
        assert check.get(ChecklistItem, mine).version == version
