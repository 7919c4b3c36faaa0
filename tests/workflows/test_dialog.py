"""The follow-up dialog machine (§7.1.1): every allowed and refused transition, every guard,
roles, one audit event per accepted transition, none (and no change) on refusal, full rollback
when a transition raises — and random sequences of triggers (Hypothesis) on both databases."""

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import Role
from audit.trail import AuditEvent, verify
from tests.conftest import count
from tests.factories import make_unit, make_user
from workflows import dialog as wf
from workflows.engine import WorkflowError
from workflows.models import DialogState as S
from workflows.models import Disposition

TOMORROW = dt.date.today() + dt.timedelta(days=1)
MEETING = dt.datetime(2030, 5, 20, 9, 0, tzinfo=dt.UTC)
PARTICIPANTS = [
    {"name": "Vera Vik", "role_title": "Verksamhetschef"},
    {"name": "Mats Mo", "role_title": "Medicinskt ansvarig"},
    {"name": "Bo Berg", "role_title": "Beställare"},
]
GOOD_DATA = {
    "request_material": {
        "material_request": "Checklistan för 2025 och bemanningslistan.",
        "material_deadline": TOMORROW,
    },
    "submit_material": {"comment": "Bifogat."},
    "book_meeting": {
        "meeting_at": MEETING,
        "meeting_place": "Byske hälsocentral",
        "participants": PARTICIPANTS,
    },
    "hold_meeting": {"minutes": "Genomgång av iakttagelserna; åtgärdsplan begärs."},
}
REASONS = {"return_material": "Bemanningslistan saknas.", "cancel": "Enheten läggs ned."}


@pytest.fixture
def people(db):
    make_unit(db, "byske")
    make_unit(db, "backen")
    return {
        "bo": make_user(db, "bo", (Role.BESTALLARE, None)),
        "greta": make_user(db, "greta", (Role.GRANSKARE, None)),
        "vc": make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske")),
        "staff": make_user(db, "staff", (Role.PERSONAL, "byske")),
        "other_vc": make_user(db, "other_vc", (Role.VERKSAMHETSCHEF, "backen")),
        "admin": make_user(db, "admin", (Role.ADMIN, None)),
    }


def new_dialog(db, people):
    from audit.models import Unit

    unit = db.scalar(sa.select(Unit).where(Unit.code == "byske"))
    return wf.open_dialog(db, people["bo"], unit, "Uppföljning Byske 2025")


def fire(db, people, dialog, trigger, who=None, **overrides):
    who = who or {"submit_material": "vc", "start_review": "greta", "return_material": "greta"}.get(
        trigger, "bo"
    )
    data = {**GOOD_DATA.get(trigger, {}), **overrides}
    wf.DIALOG.fire(db, people[who], dialog, trigger, data=data, reason=REASONS.get(trigger))


PATH = [
    "request_material",
    "submit_material",
    "start_review",
    "book_meeting",
    "hold_meeting",
    "close",
]
STATE_AFTER = dict(
    zip(
        PATH,
        [
            S.MATERIAL_REQUESTED,
            S.MATERIAL_SUBMITTED,
            S.UNDER_REVIEW,
            S.MEETING_BOOKED,
            S.MEETING_HELD,
            S.CLOSED,
        ],
        strict=True,
    )
)


def walk_to(db, people, dialog, state):
    for trigger in PATH:
        if dialog.status == state:
            return
        fire(db, people, dialog, trigger)
    assert dialog.status == state


ALL_TRIGGERS = list(wf.DIALOG.triggers)
ALLOWED = {(source, t.name) for t in wf.DIALOG.triggers.values() for source in t.source}


@pytest.mark.parametrize("state", [s for s in S if s not in (S.CANCELLED,)])
@pytest.mark.parametrize("trigger", ALL_TRIGGERS)
def test_every_trigger_from_every_state(db, people, state, trigger):
    dialog = new_dialog(db, people)
    walk_to(db, people, dialog, state)
    events = count(db, AuditEvent)
    if (state, trigger) in ALLOWED:
        fire(db, people, dialog, trigger)
        expected = (
            S.CANCELLED
            if trigger == "cancel"
            else (S.MATERIAL_REQUESTED if trigger == "return_material" else STATE_AFTER[trigger])
        )
        assert dialog.status == expected
        assert count(db, AuditEvent) == events + 1
    else:
        with pytest.raises(WorkflowError, match="går inte när ärendet är"):
            fire(db, people, dialog, trigger)
        assert dialog.status == state
        assert count(db, AuditEvent) == events


@pytest.mark.parametrize(
    "trigger, state, overrides, message",
    [
        ("request_material", S.PLANNED, {"material_request": " "}, "Beskriv vilket underlag"),
        ("request_material", S.PLANNED, {"material_deadline": None}, "Ange sista dag"),
        (
            "request_material",
            S.PLANNED,
            {"material_deadline": dt.date(2020, 1, 1)},
            "kan inte ha passerat",
        ),
        (
            "book_meeting",
            S.UNDER_REVIEW,
            {"participants": PARTICIPANTS[:1]},
            "saknas: medicinskt ansvarig",
        ),
        (
            "book_meeting",
            S.UNDER_REVIEW,
            {"participants": PARTICIPANTS[1:]},
            "saknas: verksamhetschef",
        ),
        ("book_meeting", S.UNDER_REVIEW, {"meeting_at": None}, "datum och tid"),
        ("book_meeting", S.UNDER_REVIEW, {"meeting_place": ""}, "plats eller länk"),
        ("hold_meeting", S.MEETING_BOOKED, {"minutes": ""}, "minnesanteckningar"),
    ],
)
def test_guards_say_what_is_missing(db, people, trigger, state, overrides, message):
    dialog = new_dialog(db, people)
    walk_to(db, people, dialog, state)
    events = count(db, AuditEvent)
    with pytest.raises(WorkflowError, match=message) as excinfo:
        fire(db, people, dialog, trigger, **overrides)
    assert excinfo.value.guard
    assert dialog.status == state and count(db, AuditEvent) == events


def test_close_needs_a_disposition_for_every_finding(db, people):
    from checklists.rounds import Finding

    dialog = new_dialog(db, people)
    walk_to(db, people, dialog, S.MEETING_HELD)
    # A finding to discuss (made directly: the round machinery is tested elsewhere).
    db.add(wf.DialogFinding(dialog=dialog, finding_id=_finding(db, dialog).id))
    db.flush()
    with pytest.raises(WorkflowError, match="1 iakttagelser saknar beslut"):
        fire(db, people, dialog, "close")
    wf.set_disposition(
        db,
        people["bo"],
        dialog,
        dialog.findings[0],
        Disposition.ACTION_PLAN,
        "Åtgärdsplan för läkarbemanningen.",
    )
    fire(db, people, dialog, "close")
    assert dialog.status == S.CLOSED
    assert db.get(Finding, dialog.findings[0].finding_id) is not None


def _finding(db, dialog):
    from checklists.answers import Status
    from checklists.catalog import EDITIONS_DIR, load_edition
    from checklists.models import Severity
    from checklists.rounds import Checklist, ChecklistItem, Finding, Round
    from tests.factories import TEST_ACTOR

    edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "tillagg-2023.yaml").edition
    requirement = edition.requirements[0]
    round_ = Round(
        edition_id=edition.id,
        title="R",
        year=2025,
        opens_on=dt.date(2025, 1, 1),
        deadline=dt.date(2025, 2, 1),
    )
    checklist = Checklist(round=round_, unit_id=dialog.unit_id)
    item = ChecklistItem(checklist=checklist, requirement_id=requirement.id)
    finding = Finding(
        item=item,
        round=round_,
        unit_id=dialog.unit_id,
        requirement_id=requirement.id,
        status=Status.NON_COMPLIANT,
        severity=Severity.NORMAL,
        statement="Ej uppfyllt.",
    )
    db.add_all([round_, checklist, item, finding])
    db.flush()
    return finding


@pytest.mark.parametrize(
    "trigger, state, who",
    [
        ("request_material", S.PLANNED, "vc"),  # a health centre cannot demand material
        ("request_material", S.PLANNED, "greta"),
        ("submit_material", S.MATERIAL_REQUESTED, "staff"),  # only the head submits
        ("submit_material", S.MATERIAL_REQUESTED, "other_vc"),  # another unit's head
        ("submit_material", S.MATERIAL_REQUESTED, "bo"),
        ("start_review", S.MATERIAL_SUBMITTED, "vc"),
        ("book_meeting", S.UNDER_REVIEW, "vc"),
        ("close", S.MEETING_HELD, "vc"),
        ("cancel", S.PLANNED, "vc"),
        ("cancel", S.PLANNED, "admin"),
    ],
)
def test_roles_are_checked_on_every_trigger(db, people, trigger, state, who):
    dialog = new_dialog(db, people)
    walk_to(db, people, dialog, state)
    with pytest.raises(WorkflowError, match="behörighet"):
        fire(db, people, dialog, trigger, who=who)
    assert dialog.status == state


def test_reason_required_for_return_and_cancel(db, people):
    dialog = new_dialog(db, people)
    walk_to(db, people, dialog, S.UNDER_REVIEW)
    with pytest.raises(WorkflowError, match="Ange ett skäl"):
        wf.DIALOG.fire(db, people["greta"], dialog, "return_material", reason="  ")
    wf.DIALOG.fire(db, people["bo"], dialog, "cancel", reason="Enheten har lagts ned.")
    assert dialog.cancel_reason == "Enheten har lagts ned."
    event = db.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert event.reason == "Enheten har lagts ned." and event.action == "cancel"
    assert event.before_data() == {"status": "under_review"}


def test_a_transition_that_raises_rolls_back_entirely(db, people, monkeypatch):
    dialog = new_dialog(db, people)
    walk_to(db, people, dialog, S.UNDER_REVIEW)
    events = count(db, AuditEvent)
    trigger = wf.DIALOG.triggers["book_meeting"]

    def broken(row, data, session, user):
        trigger.apply(row, data, session, user)  # stores the meeting …
        raise RuntimeError("disk full")  # … and then fails

    monkeypatch.setattr(
        wf.DIALOG,
        "triggers",
        {
            **wf.DIALOG.triggers,
            "book_meeting": type(trigger)(**{**trigger.__dict__, "apply": broken}),
        },
    )
    with pytest.raises(RuntimeError):
        fire(db, people, dialog, "book_meeting")
    db.refresh(dialog)
    assert dialog.status == S.UNDER_REVIEW and dialog.meeting_place is None
    assert dialog.participants == [] and count(db, AuditEvent) == events


def test_buttons_are_the_triggers_allowed_for_me_now(db, people):
    dialog = new_dialog(db, people)
    walk_to(db, people, dialog, S.MATERIAL_REQUESTED)
    assert [t.name for t in wf.DIALOG.available(dialog, people["vc"])] == ["submit_material"]
    assert [t.name for t in wf.DIALOG.available(dialog, people["other_vc"])] == []
    assert [t.name for t in wf.DIALOG.available(dialog, people["bo"])] == ["cancel"]


def test_diagram_is_drawn_from_the_machine():
    diagram = wf.DIALOG.diagram()
    assert diagram.count("-->") >= len(ALLOWED)
    assert "head_and_medical_lead_attend" in diagram and "stateDiagram" in diagram


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(ALL_TRIGGERS),
            st.sampled_from(["bo", "greta", "vc", "staff", "other_vc"]),
            st.booleans(),
        ),
        max_size=12,
    )
)
def test_random_triggers_keep_the_machine_sound(db, people, steps):
    """Whatever is fired by whoever: the state stays valid, a refused trigger changes nothing,
    an accepted one writes exactly one audit event, and the chain verifies."""
    dialog = new_dialog(db, people)
    for trigger, who, good_data in steps:
        before_state, events = dialog.status, count(db, AuditEvent)
        data = GOOD_DATA.get(trigger, {}) if good_data else {}
        try:
            wf.DIALOG.fire(
                db,
                people[who],
                dialog,
                trigger,
                data=data,
                reason=REASONS.get(trigger) if good_data else None,
            )
        except WorkflowError:
            assert dialog.status == before_state
            assert count(db, AuditEvent) == events
        else:
            assert count(db, AuditEvent) == events + 1
        assert dialog.status in set(S)
    assert verify(db).ok


def test_svg_diagram_has_every_state_and_transition():
    from workflows.diagram import svg, transitions

    picture = svg(wf.DIALOG)
    for label in wf.STATE_LABELS.values():
        assert label in picture
    assert picture.count("<rect") == len(wf.STATE_LABELS)
    assert "style=" not in picture  # presentation attributes only: the CSP holds
    rows = transitions(wf.DIALOG)
    assert len(rows) == len(ALLOWED)
    assert (
        "Under granskning",
        "Boka möte",
        "Möte bokat",
        ("head_and_medical_lead_attend",),
    ) in rows
