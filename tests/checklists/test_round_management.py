"""Managing an open round, on both databases: extend the deadline for all or one unit (with a
reason), remind the units that have not submitted (e-mail through the outbox, once a day),
close the round (unsubmitted checklists become "ej inlämnad", locked), add a missed unit --
each in the trail, and the deadline scan follows an extension."""

import datetime as dt

import pytest
import sqlalchemy as sa

from audit.models import Role, Unit
from audit.outbox import OutboxMessage
from audit.trail import AuditEvent
from checklists import operations as ops
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.models import Requirement
from checklists.rounds import Checklist, ChecklistItem, ChecklistStatus
from tests.factories import TEST_ACTOR, make_unit, make_user, sample_answer
from workflows.deadlines import open_deadlines


@pytest.fixture
def world(db):
    for code in ("byske", "backen", "sent"):
        make_unit(db, code, name=f"Hälsocentralen {code}")
    edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
    bo = make_user(db, "bo", (Role.BESTALLARE, None))
    vc = make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske"))
    vc.email = "vc@byske.se"
    staff = make_user(db, "staff", (Role.PERSONAL, "byske"))
    staff.email = "staff@byske.se"
    other = make_user(db, "other", (Role.VERKSAMHETSCHEF, "backen"))
    other.email = "vc@backen.se"
    other.notify_rounds = False
    ids = db.scalars(
        sa.select(Requirement.id).where(
            Requirement.edition_id == edition.id, Requirement.section == "2.6"
        )
    ).all()
    units = db.scalars(sa.select(Unit.id).where(Unit.code.in_(["byske", "backen"]))).all()
    round_ = ops.open_round(
        db,
        bo,
        edition=edition,
        title="Omgång 2025",
        year=2025,
        opens_on=dt.date(2025, 1, 1),
        deadline=dt.date(2025, 3, 3),
        selection=ops.RoundSelection(requirement_ids=ids, unit_ids=units),
    )
    db.flush()
    return round_, {"bo": bo, "vc": vc, "staff": staff, "other": other}


def _checklist(db, round_, code) -> Checklist:
    return db.scalar(
        sa.select(Checklist).join(Unit).where(Checklist.round_id == round_.id, Unit.code == code)
    )


def _events(db, action):
    return db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


def test_extend_for_one_unit_with_a_reason_and_the_scan_follows(db, world):
    round_, people = world
    byske = _checklist(db, round_, "byske")
    with pytest.raises(ops.ChecklistError, match="skäl"):
        ops.extend_deadline(db, people["bo"], round_, dt.date(2025, 3, 20), " ", byske)
    with pytest.raises(ops.ChecklistError, match="senare"):
        ops.extend_deadline(db, people["bo"], round_, dt.date(2025, 3, 1), "Sjukdom", byske)
    with pytest.raises(ops.ChecklistError, match="beställare"):
        ops.extend_deadline(db, people["vc"], round_, dt.date(2025, 3, 20), "Sjukdom", byske)
    ops.extend_deadline(db, people["bo"], round_, dt.date(2025, 3, 20), "Sjukdom", byske)
    assert byske.due_on == dt.date(2025, 3, 20)
    assert _checklist(db, round_, "backen").due_on == dt.date(2025, 3, 3)
    dues = {d.entity_id: d.due_on for d in open_deadlines(db) if d.entity_type == "checklist"}
    assert dues[byske.id] == dt.date(2025, 3, 20)
    (event,) = _events(db, "deadline_extended")
    assert (event.entity_type, event.reason) == ("checklist", "Sjukdom")
    assert event.before_data() == {"deadline": "2025-03-03"}


def test_extend_for_all_overtakes_earlier_unit_extensions(db, world):
    round_, people = world
    byske = _checklist(db, round_, "byske")
    ops.extend_deadline(db, people["bo"], round_, dt.date(2025, 3, 10), "Sjukdom", byske)
    ops.extend_deadline(db, people["bo"], round_, dt.date(2025, 3, 31), "Påsklov")
    db.refresh(byske)
    assert round_.deadline == dt.date(2025, 3, 31) and byske.deadline is None
    assert byske.due_on == dt.date(2025, 3, 31)


def test_remind_emails_the_unsubmitted_units_people_once_a_day(db, world):
    round_, people = world
    today = dt.date(2025, 3, 5)
    assert ops.remind_unsubmitted(db, people["bo"], round_, today) == 2  # byske's two
    recipients = db.scalars(sa.select(OutboxMessage.recipient).order_by("recipient")).all()
    assert recipients == ["staff@byske.se", "vc@byske.se"]  # backen's head opted out
    body = db.scalar(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == "vc@byske.se"))
    assert "Sista svarsdag var 2025-03-03" in body and "/checklistor/" in body
    assert ops.remind_unsubmitted(db, people["bo"], round_, today) == 0  # same day: none
    assert ops.remind_unsubmitted(db, people["bo"], round_, today + dt.timedelta(days=1)) == 2
    assert len(_events(db, "reminded")) == 3


def test_submitted_units_are_not_reminded(db, world):
    round_, people = world
    byske = _checklist(db, round_, "byske")
    byske.status = ChecklistStatus.SUBMITTED
    db.flush()
    assert ops.remind_unsubmitted(db, people["bo"], round_, dt.date(2025, 3, 5)) == 0
    (event,) = _events(db, "reminded")
    assert [u for u in event.after_data()["units"]] == ["backen"]


def test_close_marks_unsubmitted_as_not_submitted_and_locks_them(db, world):
    round_, people = world
    byske = _checklist(db, round_, "byske")
    item = db.scalars(sa.select(ChecklistItem).where(ChecklistItem.checklist_id == byske.id))
    item = item.first()
    backen = _checklist(db, round_, "backen")
    backen.status = ChecklistStatus.SUBMITTED
    db.flush()
    assert ops.close_round(db, people["bo"], round_, "Tiden är ute") == 1
    assert byske.status == ChecklistStatus.NOT_SUBMITTED
    assert backen.status == ChecklistStatus.SUBMITTED  # reviewed as before
    assert not ops.editable(byske)
    with pytest.raises(ops.ChecklistError, match="stängd"):
        ops.save_item(
            db,
            people["vc"],
            byske,
            item,
            sample_answer(item.requirement),
            loaded_version=item.version,
            year=2025,
        )
    assert [d for d in open_deadlines(db) if d.entity_type == "checklist"] == []
    (event,) = _events(db, "closed")
    assert event.after_data() == {"not_submitted": ["byske"]}
    for action in (
        lambda: ops.close_round(db, people["bo"], round_),
        lambda: ops.remind_unsubmitted(db, people["bo"], round_, dt.date(2025, 4, 1)),
        lambda: ops.extend_deadline(db, people["bo"], round_, dt.date(2025, 5, 1), "x"),
    ):
        with pytest.raises(ops.ChecklistError, match="stängd"):
            action()


def test_add_a_missed_unit_gets_the_rounds_requirements_that_apply(db, world):
    round_, people = world
    missed = db.scalar(sa.select(Unit).where(Unit.code == "sent"))
    assert missed in ops.addable_units(db, round_)
    with pytest.raises(ops.ChecklistError, match="skäl"):
        ops.add_unit(db, people["bo"], round_, missed, "")
    checklist = ops.add_unit(db, people["bo"], round_, missed, "Glömdes vid öppnandet")
    expected = set(
        db.scalars(
            sa.select(ChecklistItem.requirement_id).where(
                ChecklistItem.checklist_id == _checklist(db, round_, "byske").id
            )
        )
    )
    got = set(
        db.scalars(
            sa.select(ChecklistItem.requirement_id).where(
                ChecklistItem.checklist_id == checklist.id
            )
        )
    )
    assert got == expected and checklist.status == ChecklistStatus.OPEN
    assert missed not in ops.addable_units(db, round_)
    with pytest.raises(ops.ChecklistError, match="redan"):
        ops.add_unit(db, people["bo"], round_, missed, "Igen")
    (event,) = _events(db, "unit_added")
    assert event.after_data()["unit"] == "sent" and event.reason == "Glömdes vid öppnandet"
