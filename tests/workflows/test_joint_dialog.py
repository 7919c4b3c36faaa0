"""The joint dialog (gemensam dialog, §7.1.2): planned, agenda sent to every provider's head of
unit (set-based, when and to whom), attendance per unit, minutes published, follow-ups made
into findings linked both ways; the "minst två gånger per år" count and its reminder; the
annual analysis's query."""

import datetime as dt

import pytest
import sqlalchemy as sa

from audit import db as audit_db
from audit.models import Operator, Role, UnitKind
from audit.trail import AuditEvent
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.models import Requirement
from tests.conftest import count
from tests.factories import TEST_ACTOR, make_unit, make_user
from workflows.deadlines import scan
from workflows.engine import WorkflowError
from workflows.joint import machine as jm
from workflows.joint import operations as jo
from workflows.joint.models import (
    FollowUpState,
    JointDialogAttendance,
    JointDialogRecipient,
    JointDialogState,
)
from workflows.models import Reminder

S = JointDialogState
MONDAY = dt.date(2026, 3, 2)


def at(monkeypatch, day: dt.date) -> None:
    monkeypatch.setattr(audit_db, "clock", lambda: dt.datetime.combine(day, dt.time(9), dt.UTC))


@pytest.fixture
def world(db, monkeypatch):
    at(monkeypatch, MONDAY)
    byske = make_unit(db, "byske", name="Byske hälsocentral")
    backen = make_unit(
        db,
        "backen",
        name="Backens hälsocentral",
        operator=Operator.PRIVAT,
        provider="Vårdbolaget AB",
    )
    make_unit(db, "tom", name="Tomma hälsocentralen")  # no head of unit yet
    make_unit(db, "stängd", name="Stängda hälsocentralen", active=False)
    make_unit(db, "filial", name="Byske filial", kind=UnitKind.FILIAL, main_unit_id=byske.id)
    people = {
        "bo": make_user(db, "bo", (Role.BESTALLARE, None)),
        "greta": make_user(db, "greta", (Role.GRANSKARE, None)),
        "vc_byske": make_user(db, "vc.byske", (Role.VERKSAMHETSCHEF, "byske")),
        "vc_backen": make_user(db, "vc.backen", (Role.VERKSAMHETSCHEF, "backen")),
        "vc_stangd": make_user(db, "vc.stangd", (Role.VERKSAMHETSCHEF, "stängd")),
        "personal": make_user(db, "personal", (Role.PERSONAL, "byske")),
    }
    gone = make_user(db, "vc.gone", (Role.VERKSAMHETSCHEF, "backen"))
    gone.active = False
    db.flush()
    return {"units": {"byske": byske, "backen": backen}, **people}


def plan(db, world, day=MONDAY + dt.timedelta(days=21), theme="Kompetensförsörjning"):
    return jo.plan_joint_dialog(db, world["bo"], meeting_on=day, place="Regionens hus", theme=theme)


def test_the_agenda_goes_to_each_active_units_head_and_every_unit_is_invited(db, world):
    joint = plan(db, world)
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "write_agenda", data={"agenda": "1. Läget"})
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "send_agenda", data={})
    recipients = db.scalars(
        sa.select(JointDialogRecipient.user_id).where(
            JointDialogRecipient.joint_dialog_id == joint.id
        )
    ).all()
    # Not the inactive unit's head, not the deactivated user, not staff; the filial is
    # represented by its main unit.
    assert sorted(recipients) == sorted([world["vc_byske"].id, world["vc_backen"].id])
    invited = db.scalars(
        sa.select(JointDialogAttendance.unit_id).where(
            JointDialogAttendance.joint_dialog_id == joint.id
        )
    ).all()
    assert len(invited) == 3  # byske, backen and the unit without a head
    assert joint.status == S.AGENDA_SENT and joint.agenda_sent_at is not None
    event = db.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == "joint_dialog")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event.action == "send_agenda"
    assert sorted(event.after_data()["recipients"]) == sorted(recipients)
    assert event.after_data()["sent_on"] == MONDAY.isoformat()


def test_a_late_agenda_needs_its_reason_and_a_past_meeting_cannot_get_one(db, world, monkeypatch):
    # Meeting on Monday 9 March: five working days after Monday 2 March is the 9th itself.
    joint = plan(db, world, day=dt.date(2026, 3, 9))
    assert jm.latest_sending_day(joint.meeting_on) == dt.date(2026, 3, 2)
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "write_agenda", data={"agenda": "1. Läget"})
    at(monkeypatch, dt.date(2026, 3, 3))
    with pytest.raises(
        WorkflowError, match="minst 5 arbetsdagar före mötet, senast 2026-03-02"
    ) as exc:
        jm.JOINT_DIALOG.fire(db, world["bo"], joint, "send_agenda", data={})
    assert exc.value.guard == "late_reason" and joint.status == S.AGENDA_WRITTEN
    jm.JOINT_DIALOG.fire(
        db, world["bo"], joint, "send_agenda", data={"late_reason": "Extra möte om vårdplatser."}
    )
    assert joint.late_reason == "Extra möte om vårdplatser."
    other = plan(db, world, day=dt.date(2026, 3, 4), theme="Ett till")
    jm.JOINT_DIALOG.fire(db, world["bo"], other, "write_agenda", data={"agenda": "1."})
    at(monkeypatch, dt.date(2026, 3, 5))
    with pytest.raises(WorkflowError, match="har passerat"):
        jm.JOINT_DIALOG.fire(db, world["bo"], other, "send_agenda", data={"late_reason": "x"})


def test_in_time_the_reason_is_not_kept(db, world):
    joint = plan(db, world)
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "write_agenda", data={"agenda": "1."})
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "send_agenda", data={"late_reason": "onödigt"})
    assert joint.late_reason is None


def _sent(db, world, monkeypatch):
    joint = plan(db, world)
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "write_agenda", data={"agenda": "1. Läget"})
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "send_agenda", data={})
    return joint


def test_from_plan_to_a_finding_and_closed(db, world, monkeypatch):
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml")
    bo = world["bo"]
    joint = _sent(db, world, monkeypatch)
    byske, backen = world["units"]["byske"].id, world["units"]["backen"].id
    tom = next(
        u
        for u in db.scalars(
            sa.select(JointDialogAttendance.unit_id).where(
                JointDialogAttendance.joint_dialog_id == joint.id
            )
        )
        if u not in (byske, backen)
    )
    at(monkeypatch, joint.meeting_on)
    with pytest.raises(WorkflowError, match="Närvaron saknas för 3 av 3") as exc:
        jm.JOINT_DIALOG.fire(db, bo, joint, "hold_meeting")
    assert exc.value.guard == "attendance_complete"
    entries = {
        byske: {"status": "attended", "name": "Vera", "role_title": "verksamhetschef"},
        backen: {"status": "represented", "name": "Mats", "role_title": ""},
        tom: {"status": "absent", "absence_reason": ""},
    }
    events = count(db, AuditEvent)
    with pytest.raises(jo.AttendanceRefused) as refused:
        jo.record_attendance(db, bo, joint, entries)
    assert set(refused.value.errors) == {(backen, "role_title"), (tom, "absence_reason")}
    assert count(db, AuditEvent) == events
    entries[backen]["role_title"] = "medicinskt ansvarig"
    entries[tom]["absence_reason"] = "Sjukdom"
    assert jo.record_attendance(db, bo, joint, entries) == 3
    assert count(db, AuditEvent) == events + 1
    assert jo.record_attendance(db, bo, joint, entries) == 0  # nothing changed, no event
    jm.JOINT_DIALOG.fire(db, bo, joint, "hold_meeting")
    jm.JOINT_DIALOG.fire(db, bo, joint, "write_minutes", data={"minutes": "Protokoll."})
    jm.JOINT_DIALOG.fire(db, bo, joint, "write_minutes", data={"minutes": "Protokoll, rättat."})
    assert joint.status == S.MINUTES_WRITTEN and joint.minutes == "Protokoll, rättat."
    jm.JOINT_DIALOG.fire(db, bo, joint, "publish_minutes")
    assert joint.minutes_published_at is not None
    first = jo.add_follow_up(db, bo, joint, "Backen har inte rapporterat telefontillgänglighet.")
    second = jo.add_follow_up(db, bo, joint, "Gemensam utbildning i våras.")
    with pytest.raises(WorkflowError, match="öppna"):
        jm.JOINT_DIALOG.fire(db, bo, joint, "close")
    requirement = db.scalar(sa.select(Requirement).where(Requirement.section == "6.9").limit(1))
    with pytest.raises(jo.PlanRefused) as bad:
        jo.make_finding(
            db,
            bo,
            joint,
            first,
            unit=None,
            requirement=None,
            status="compliant",
            severity=None,
            statement="",
        )
    assert set(bad.value.errors) == {"finding_unit", "requirement", "finding_status", "statement"}
    finding = jo.make_finding(
        db,
        bo,
        joint,
        first,
        unit=world["units"]["backen"],
        requirement=requirement,
        status="non_compliant",
        severity=None,
        statement="Månadsrapporten saknas sedan i höstas.",
    )
    assert finding.item_id is None and finding.round_id is None
    assert finding.severity == requirement.severity
    assert first.status == FollowUpState.FINDING and first.finding_id == finding.id
    assert jo.follow_up_sources(db, [finding.id]) == {
        finding.id: (joint.id, joint.meeting_on, joint.theme)
    }
    created = db.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "finding", AuditEvent.entity_id == str(finding.id)
        )
    )
    assert created.after_data()["joint_dialog"] == joint.id
    assert created.after_data()["follow_up"] == first.id
    with pytest.raises(WorkflowError, match="redan hanterad"):
        jo.resolve_follow_up(db, bo, joint, first, "Klart.")
    with pytest.raises(WorkflowError, match="hur punkten"):
        jo.resolve_follow_up(db, bo, joint, second, " ")
    jo.resolve_follow_up(db, bo, joint, second, "Genomförd i april.")
    jm.JOINT_DIALOG.fire(db, bo, joint, "close")
    assert joint.status == S.CLOSED
    actions = db.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.entity_type == "joint_dialog", AuditEvent.entity_id == str(joint.id))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "create",
        "write_agenda",
        "send_agenda",
        "attendance",
        "hold_meeting",
        "write_minutes",
        "write_minutes",
        "publish_minutes",
        "follow_up",
        "follow_up",
        "follow_up_finding",
        "follow_up_done",
        "close",
    ]


def test_the_meeting_is_held_from_its_day(db, world, monkeypatch):
    joint = _sent(db, world, monkeypatch)
    with pytest.raises(WorkflowError, match="från den dagen") as exc:
        jm.JOINT_DIALOG.fire(db, world["bo"], joint, "hold_meeting")
    assert exc.value.guard == "meeting_day_reached"


def test_only_the_purchaser_plans_and_records(db, world, monkeypatch):
    with pytest.raises(WorkflowError, match="Bara beställare"):
        jo.plan_joint_dialog(db, world["vc_byske"], meeting_on=MONDAY, place="Här", theme="Tema")
    joint = _sent(db, world, monkeypatch)
    with pytest.raises(WorkflowError, match="Bara beställare"):
        jo.record_attendance(db, world["greta"], joint, {})
    with pytest.raises(WorkflowError, match="behörighet"):
        jm.JOINT_DIALOG.fire(db, world["vc_byske"], joint, "cancel", reason="Nej")
    assert jm.JOINT_DIALOG.available(joint, world["vc_byske"]) == []


def test_a_plan_needs_a_date_not_passed_a_place_and_a_theme(db, world):
    with pytest.raises(jo.PlanRefused) as exc:
        jo.plan_joint_dialog(
            db, world["bo"], meeting_on=MONDAY - dt.timedelta(days=1), place=" ", theme=""
        )
    assert exc.value.errors == {
        "meeting_on": "Mötesdagen kan inte ha passerat.",
        "place": "Ange plats eller länk för mötet.",
        "theme": "Ange mötets tema.",
    }


# --- "minst två gånger per år" ---------------------------------------------------------------


def test_fewer_than_two_a_year_is_reminded_of_once_from_1_september(db, world, monkeypatch):
    at(monkeypatch, dt.date(2026, 8, 1))
    plan(db, world, day=dt.date(2026, 10, 1))
    cancelled = plan(db, world, day=dt.date(2026, 11, 1), theme="Inställt")
    jm.JOINT_DIALOG.fire(db, world["bo"], cancelled, "cancel", reason="Krockar med budgeten.")
    assert jo.held_or_planned(db, 2026) == 1 and jo.year_shortfall(db, 2026) == 1
    assert scan(db, dt.date(2026, 8, 31)).due_soon == 0
    assert count(db, Reminder) == 0
    assert scan(db, dt.date(2026, 9, 1)).due_soon == 1
    assert scan(db, dt.date(2026, 9, 1)).due_soon == 0  # idempotent: the same row
    assert scan(db, dt.date(2026, 10, 15)).due_soon == 0  # and on later days too
    reminder = db.scalar(sa.select(Reminder))
    assert reminder.unit_id is None and reminder.entity_type == "joint_dialog_year"
    assert reminder.entity_id == 2026 and reminder.due_on == dt.date(2026, 12, 31)
    assert "för 2026 är 1 planerad eller hållen" in reminder.text
    assert count(db, Reminder) == 1


def test_two_planned_is_enough(db, world, monkeypatch):
    at(monkeypatch, dt.date(2026, 8, 1))
    plan(db, world, day=dt.date(2026, 10, 1))
    plan(db, world, day=dt.date(2026, 11, 1), theme="Hösten")
    assert scan(db, dt.date(2026, 9, 1)).due_soon == 0
    assert count(db, Reminder) == 0


# --- the annual analysis -----------------------------------------------------------------------


def test_joint_dialogs_for_year_counts_attendance_per_provider_in_three_queries(
    db, world, monkeypatch, engine
):
    joint = _sent(db, world, monkeypatch)
    plan(db, world, day=dt.date(2026, 10, 1), theme="Hösten")
    plan(db, world, day=dt.date(2027, 3, 1), theme="Nästa år")
    byske, backen = world["units"]["byske"].id, world["units"]["backen"].id
    jo.record_attendance(
        db,
        world["bo"],
        joint,
        {
            byske: {"status": "attended", "name": "Vera"},
            backen: {"status": "absent", "absence_reason": "Sjukdom"},
        },
    )
    db.flush()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        summaries = jo.joint_dialogs_for_year(db, 2026)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) == 3
    assert [s.theme for s in summaries] == ["Kompetensförsörjning", "Hösten"]
    first = summaries[0]
    assert first.status == S.AGENDA_SENT and first.meeting_on == joint.meeting_on
    assert first.attendance == {
        jo.EGENREGI_PROVIDER: {"attended": 1, "represented": 0, "absent": 0, "not_recorded": 1},
        "Vårdbolaget AB": {"attended": 0, "represented": 0, "absent": 1, "not_recorded": 0},
    }
    assert summaries[1].attendance == {} and summaries[1].follow_ups == []


def test_the_help_pages_diagram_has_the_joint_dialog():
    from workflows.diagram import svg, transitions

    picture = svg(jm.JOINT_DIALOG)
    for label in jm.STATE_LABELS.values():
        assert label in picture
    assert "Spara agendan ✱" in picture  # the loop: the agenda rewritten
    rows = transitions(jm.JOINT_DIALOG)
    assert ("Agenda skriven", "Spara agendan", "Agenda skriven", ("agenda",)) in rows
    assert "stateDiagram" in jm.JOINT_DIALOG.diagram()


def test_after_the_meeting_attendance_is_corrected_not_removed(db, world, monkeypatch):
    joint = _sent(db, world, monkeypatch)
    units = db.scalars(
        sa.select(JointDialogAttendance.unit_id).where(
            JointDialogAttendance.joint_dialog_id == joint.id
        )
    ).all()
    absent = {u: {"status": "absent", "absence_reason": "Sjuk"} for u in units}
    jo.record_attendance(db, world["bo"], joint, absent)
    at(monkeypatch, joint.meeting_on)
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "hold_meeting")
    with pytest.raises(jo.AttendanceRefused):
        jo.record_attendance(db, world["bo"], joint, {units[0]: {"status": ""}})
    corrected = {units[0]: {"status": "attended", "name": "Vera"}}
    assert jo.record_attendance(db, world["bo"], joint, corrected) == 1


def test_the_date_place_and_theme_change_until_the_agenda_is_sent(db, world, monkeypatch):
    joint = plan(db, world)
    events = count(db, AuditEvent)
    later = joint.meeting_on + dt.timedelta(days=7)
    assert jo.replan_joint_dialog(
        db, world["bo"], joint, meeting_on=later, place="Skellefteå", theme=joint.theme
    )
    assert (joint.meeting_on, joint.place) == (later, "Skellefteå")
    event = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert count(db, AuditEvent) == events + 1 and event.action == "replan"
    assert set(event.after_data()) == {"meeting_on", "place"}  # what changed, not the theme
    assert not jo.replan_joint_dialog(
        db, world["bo"], joint, meeting_on=later, place="Skellefteå", theme=joint.theme
    )
    with pytest.raises(jo.PlanRefused) as exc:
        jo.replan_joint_dialog(db, world["bo"], joint, meeting_on=MONDAY, place="", theme="T")
    assert set(exc.value.errors) == {"place"}
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "write_agenda", data={"agenda": "1."})
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "send_agenda", data={})
    with pytest.raises(WorkflowError, match="innan agendan har sänts ut"):
        jo.replan_joint_dialog(
            db, world["bo"], joint, meeting_on=later, place="Umeå", theme=joint.theme
        )


def test_sending_the_agenda_emails_each_head_with_an_address_once(db, world):
    """The agenda goes out through the outbox in the sending's transaction (§7.1.2): one
    e-mail per head of unit who has an address, none twice if the agenda is sent again."""
    from audit.outbox import OutboxMessage

    world["vc_byske"].email = "vc.byske@example.se"
    db.flush()
    joint = plan(db, world)
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "write_agenda", data={"agenda": "1. Läget"})
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "send_agenda", data={})
    rows = db.scalars(sa.select(OutboxMessage)).all()
    assert [(r.user_id, r.key) for r in rows] == [
        (world["vc_byske"].id, f"joint:{joint.id}:agenda:user:{world['vc_byske'].id}")
    ]
    assert rows[0].subject.startswith("Kallelse: gemensam dialog")
    assert "1. Läget" in rows[0].body and "Regionens hus" in rows[0].body
    # The invitation (§7.1.2's meeting) is attached: an all-day event on the meeting's day.
    import icalendar

    (attachment,) = rows[0].attachments
    assert attachment["filename"] == "gemensam-dialog.ics"
    calendar = icalendar.Calendar.from_ical(attachment["content"])
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == joint.meeting_on
    assert event.decoded("DTEND") == joint.meeting_on + dt.timedelta(days=1)
    assert str(event["UID"]).startswith(f"joint-dialog-{joint.id}")
    # The head with an address is an attendee; the one without is named in the description.
    assert str(event["ATTENDEE"]) == "mailto:vc.byske@example.se"
    assert world["vc_backen"].display_name in str(event["DESCRIPTION"])
    jm._mail_agenda(db, joint, {world["vc_byske"].id})  # sent again: nothing new
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
