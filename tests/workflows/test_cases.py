"""Ärenden through their machine: every kind, every trigger from every state it can reach
(allowed ones succeed with one audit event, the others are refused and change nothing), on
both databases; and what each kind's rules add (periods, diarienummer, documents, the branch,
Lex Maria, the capitation decision, reminders in working days, the checklist's view)."""

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from audit import db as audit_db
from audit.models import Role, Unit, UnitKind
from audit.personal_data import PersonalDataError
from audit.trail import AuditEvent, verify
from checklists.catalog import EDITIONS_DIR
from checklists.evidence import EvidenceStore
from tests.case_factories import (
    ALL_KINDS,
    attach_required,
    complete_entry,
    decision_data,
    filing_unit,
    make_units,
    reachable,
    text_file,
    walk,
)
from tests.checklists.test_rounds import synthetic_personnummer
from tests.conftest import count
from tests.factories import make_unit, make_user
from workflows import sanction as sc
from workflows.cases import operations as co
from workflows.cases.checklist import REQUIREMENT_CASES, cases_for_items
from workflows.cases.machine import CASE, S
from workflows.cases.models import Case, CaseDocument, CaseKind
from workflows.cases.types import TYPES, case_type, months_after
from workflows.deadlines import scan
from workflows.engine import WorkflowError
from workflows.models import Decision, Reminder

MONDAY = dt.date(2026, 3, 2)


class Clock:
    def __init__(self, day):
        self.set(day)

    def __call__(self):
        return self.now

    def set(self, day):
        self.now = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(MONDAY)
    monkeypatch.setattr(audit_db, "clock", clock)
    return clock


@pytest.fixture
def store(tmp_path):
    return EvidenceStore(tmp_path / "arenden")


@pytest.fixture
def people(db, clock):
    make_units(db, make_unit)
    return {
        "bo": make_user(db, "bo", (Role.BESTALLARE, None)),
        "greta": make_user(db, "greta", (Role.GRANSKARE, None)),
        "vc.byske": make_user(db, "vc.byske", (Role.VERKSAMHETSCHEF, "byske")),
        "vc.privat": make_user(db, "vc.privat", (Role.VERKSAMHETSCHEF, "privat")),
        "staff.byske": make_user(db, "staff.byske", (Role.PERSONAL, "byske")),
        "vc.backen": make_user(db, "vc.backen", (Role.VERKSAMHETSCHEF, "backen")),
    }


def unit(db, code):
    return db.scalar(sa.select(Unit).where(Unit.code == code))


# --- every kind, every trigger, every state ------------------------------------------------

TRIGGER_DATA = {
    "submit": ({}, None),
    "request_completion": ({"completion_days": 5}, "Bifoga mer underlag."),
    "grant": ({"diarienummer": "RS 2026/20"}, None),
    "refuse": ({"diarienummer": "RS 2026/21"}, "Särskilda skäl finns inte."),
    "note": ({}, None),
    "take_effect": ({}, None),
    "close": ({}, None),
    "withdraw": ({}, "Behövs inte längre."),
}


def case_events(db) -> int:
    """Events of ärenden (granting a filial also writes the new unit's own "create")."""
    return db.scalar(
        sa.select(sa.func.count()).where(AuditEvent.entity_type == "case").select_from(AuditEvent)
    )


def allowed(kind, state, trigger) -> bool:
    spec = CASE.triggers[trigger]
    application = case_type(kind).application
    if trigger == "note" and application or trigger in ("grant", "refuse") and not application:
        return False
    return state in spec.source


def actor(people, kind, trigger):
    roles = CASE.triggers[trigger].roles
    if Role.BESTALLARE in roles:
        return people["bo"]
    return people[f"vc.{filing_unit(kind)}"]


@pytest.mark.parametrize(
    "kind, state",
    [pytest.param(k, s, id=f"{k.value}-{s.value}") for k in ALL_KINDS for s in reachable(k)],
)
def test_every_trigger_from_every_state(db, people, store, kind, state):
    case = walk(db, people, kind, state, store)
    assert case.status == state
    wrong = []
    for trigger in CASE.triggers:
        data, reason = TRIGGER_DATA[trigger]
        events = case_events(db)
        nested = db.begin_nested()
        try:
            CASE.fire(
                db, actor(people, kind, trigger), case, trigger, data=dict(data), reason=reason
            )
        except WorkflowError as exc:
            if allowed(kind, state, trigger):
                wrong.append(f"{trigger} refused: {exc}")
            elif state not in CASE.triggers[trigger].source:
                assert "går inte när ärendet är" in str(exc), str(exc)
            else:  # the kind does not have this decision
                assert exc.guard in ("is_application", "is_notice"), str(exc)
            assert case.status == state and case_events(db) == events
        else:
            if not allowed(kind, state, trigger):
                wrong.append(f"{trigger} accepted")
            else:
                assert case.status == CASE.triggers[trigger].dest
                assert case_events(db) == events + 1
        finally:
            nested.rollback()
        db.expire_all()
    assert wrong == []


@pytest.mark.parametrize("kind", ALL_KINDS, ids=str)
def test_each_kind_from_draft_to_closed_is_one_chain_of_events(db, people, store, kind):
    case = walk(db, people, kind, S.CLOSED, store)
    actions = db.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.entity_type == "case", AuditEvent.entity_id == str(case.id))
        .order_by(AuditEvent.id)
    ).all()
    decision = "grant" if case_type(kind).application else "note"
    assert actions[0] == "create"
    assert [a for a in actions if a in CASE.triggers] == [
        "submit",
        decision,
        "take_effect",
        "close",
    ]
    assert case.decided_by_id == people["bo"].id and case.decided_at is not None
    assert verify(db).ok


def test_the_buttons_offer_only_the_decisions_of_the_kind(db, people, store):
    notice = walk(db, people, CaseKind.HEAD_CHANGE, S.SUBMITTED, store)
    application = walk(db, people, CaseKind.LIST_STOP, S.SUBMITTED, store)
    from workflows.cases.machine import available

    names = lambda case: [t.name for t in available(case, people["bo"])]  # noqa: E731
    assert names(notice) == ["request_completion", "note"]
    assert names(application) == ["request_completion", "grant", "refuse"]
    assert [t.name for t in available(application, people["vc.backen"])] == []


# --- submitting --------------------------------------------------------------------------


def test_a_draft_lists_what_is_missing_before_it_can_be_submitted(db, people, store):
    byske = unit(db, "byske")
    case = co.open_case(db, people["staff.byske"], byske, CaseKind.LIST_STOP, co.Entry({}))
    with pytest.raises(WorkflowError) as info:
        CASE.fire(db, people["vc.byske"], case, "submit")
    assert "Listningsstopp från; Till och med; Skäl för ansökan" in str(info.value)
    # staff may write the draft; only the head submits
    co.update_case(db, people["staff.byske"], case, complete_entry(db, CaseKind.LIST_STOP))
    with pytest.raises(WorkflowError, match="behörighet"):
        CASE.fire(db, people["staff.byske"], case, "submit")
    CASE.fire(db, people["vc.byske"], case, "submit")
    assert case.status == S.SUBMITTED and case.submitted_by_id == people["vc.byske"].id


def test_another_units_head_cannot_file_or_submit(db, people):
    byske = unit(db, "byske")
    entry = complete_entry(db, CaseKind.HEAD_CHANGE)
    with pytest.raises(WorkflowError, match="Bara enhetens"):
        co.open_case(db, people["vc.backen"], byske, CaseKind.HEAD_CHANGE, entry)
    with pytest.raises(WorkflowError, match="Bara enhetens"):
        co.open_case(db, people["bo"], byske, CaseKind.HEAD_CHANGE, entry)
    case = co.open_case(db, people["vc.byske"], byske, CaseKind.HEAD_CHANGE, entry)
    with pytest.raises(WorkflowError, match="behörighet"):
        CASE.fire(db, people["vc.backen"], case, "submit")


def test_a_list_stop_is_at_most_three_months(db, people):
    byske = unit(db, "byske")
    entry = complete_entry(db, CaseKind.LIST_STOP)
    entry.period_to = dt.date(2026, 6, 2)  # from 2 March: three months end on 1 June
    case = co.open_case(db, people["vc.byske"], byske, CaseKind.LIST_STOP, entry)
    with pytest.raises(
        WorkflowError, match=r"högst 3 månader: sista dag kan vara senast 2026-06-01"
    ):
        CASE.fire(db, people["vc.byske"], case, "submit")
    entry.period_to = dt.date(2026, 6, 1)
    co.update_case(db, people["vc.byske"], case, entry)
    CASE.fire(db, people["vc.byske"], case, "submit")
    with pytest.raises(WorkflowError, match="högst 3 månader"):
        CASE.fire(
            db,
            people["bo"],
            case,
            "grant",
            data={"diarienummer": "RS 2026/1", "decided_to": dt.date(2026, 6, 30)},
        )
    CASE.fire(
        db,
        people["bo"],
        case,
        "grant",
        data={"diarienummer": "RS 2026/1", "decided_to": dt.date(2026, 5, 15)},
    )
    assert case.period == (MONDAY, dt.date(2026, 5, 15))


@pytest.mark.parametrize(
    "start, end",
    [
        (dt.date(2026, 3, 1), dt.date(2026, 5, 31)),
        (dt.date(2025, 11, 30), dt.date(2026, 2, 28)),
        (dt.date(2024, 1, 31), dt.date(2024, 4, 30)),
        (dt.date(2023, 11, 30), dt.date(2024, 2, 29)),
    ],
)
def test_three_months_count_as_the_calendar_does(start, end):
    assert months_after(start, 3) == end


def test_partners_must_be_other_health_centres_of_the_register(db, people):
    byske = unit(db, "byske")
    entry = complete_entry(db, CaseKind.COOPERATION)
    entry.partner_ids = [byske.id]
    with pytest.raises(co.CaseFieldErrors) as info:
        co.open_case(db, people["vc.byske"], byske, CaseKind.COOPERATION, entry)
    assert info.value.errors == {"partners": "Välj hälsocentraler ur listan (inte den egna)."}
    entry.partner_ids = [999_999]
    with pytest.raises(co.CaseFieldErrors):
        co.open_case(db, people["vc.byske"], byske, CaseKind.COOPERATION, entry)


def test_restricted_opening_needs_both_channels_and_a_health_centre(db, people):
    byske = unit(db, "byske")
    entry = complete_entry(db, CaseKind.OPENING_RESTRICTED)
    entry.values["patient_information"] = ["contact_card"]
    case = co.open_case(db, people["vc.byske"], byske, CaseKind.OPENING_RESTRICTED, entry)
    with pytest.raises(WorkflowError, match="både via telefonsvarare och via kontaktkortet"):
        CASE.fire(db, people["vc.byske"], case, "submit")
    entry.values["patient_information"] = ["answering_machine", "contact_card"]
    entry.partner_ids = []
    co.update_case(db, people["vc.byske"], case, entry)
    with pytest.raises(WorkflowError, match="Hälsocentral som patienterna hänvisas till"):
        CASE.fire(db, people["vc.byske"], case, "submit")


def test_a_personnummer_in_a_field_is_refused_when_stored(db, people):
    byske = unit(db, "byske")
    entry = complete_entry(db, CaseKind.LIST_STOP)
    entry.values["reasons"] = f"Patient {synthetic_personnummer(dt.date(1961, 7, 14))} listad."
    with pytest.raises(PersonalDataError) as info:
        co.open_case(db, people["vc.byske"], byske, CaseKind.LIST_STOP, entry)
    assert "Uppgifter i ärendet" in str(info.value)


def test_a_document_with_a_personnummer_is_refused_and_nothing_is_stored(db, people, store):
    byske = unit(db, "byske")
    case = co.open_case(db, people["vc.byske"], byske, CaseKind.SERVICE_RESTRICTED, co.Entry({}))
    number = synthetic_personnummer(dt.date(1961, 7, 14))
    checked, data = text_file(text=f"Analys\nPatient {number} drabbades.")
    with pytest.raises(WorkflowError, match=r"innehåller något som liknar ett personnummer"):
        co.add_document(db, people["vc.byske"], case, "risk_analysis", checked, data, store)
    assert count(db, CaseDocument) == 0
    assert not list(store.stored()) and not list(store.incoming.glob("*"))


def test_documents_only_of_the_kinds_the_type_asks_for(db, people, store):
    byske = unit(db, "byske")
    case = co.open_case(db, people["vc.byske"], byske, CaseKind.HEAD_CHANGE, co.Entry({}))
    checked, data = text_file()
    with pytest.raises(WorkflowError, match="Välj vilken handling"):
        co.add_document(db, people["vc.byske"], case, "risk_analysis", checked, data, store)
    with pytest.raises(WorkflowError, match="Välj vilken handling"):
        co.add_document(db, people["vc.byske"], case, "okänd", checked, data, store)


# --- deciding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, message",
    [("", "behöver ett diarienummer"), ("tja", "RS 2025/123")],
)
def test_region_decisions_need_a_diarienummer(db, people, store, number, message):
    case = walk(db, people, CaseKind.LIST_CAP, S.SUBMITTED, store)
    with pytest.raises(WorkflowError, match=message):
        CASE.fire(db, people["bo"], case, "grant", data={"diarienummer": number})
    with pytest.raises(WorkflowError, match=message):
        CASE.fire(db, people["bo"], case, "refuse", data={"diarienummer": number}, reason="Nej.")


def test_a_refusal_needs_a_reason_and_records_who_and_when(db, people, store, clock):
    case = walk(db, people, CaseKind.RELOCATION, S.SUBMITTED, store)
    with pytest.raises(WorkflowError, match="Ange ett skäl"):
        CASE.fire(db, people["bo"], case, "refuse", data={"diarienummer": "RS 2026/3"})
    clock.set(MONDAY + dt.timedelta(days=1))
    CASE.fire(
        db,
        people["bo"],
        case,
        "refuse",
        data={"diarienummer": "rs 2026/3"},
        reason="Samråd saknas.",
    )
    assert case.status == S.REFUSED and case.diarienummer == "RS 2026/3"
    assert case.decision_rationale == "Samråd saknas."
    assert case.decided_by_id == people["bo"].id
    assert case.decided_at.date() == MONDAY + dt.timedelta(days=1)


def test_a_list_cap_decision_sets_the_cap_granted(db, people, store):
    case = walk(db, people, CaseKind.LIST_CAP, S.SUBMITTED, store)
    CASE.fire(db, people["bo"], case, "grant", data={**decision_data(case), "decided_limit": 4200})
    assert case.decided_limit == 4200
    other = walk(db, people, CaseKind.LIST_CAP, S.GRANTED, store)
    assert other.decided_limit == 5000  # as applied for


def test_a_case_takes_effect_on_its_first_day(db, people, store, clock):
    byske = unit(db, "byske")
    entry = complete_entry(db, CaseKind.LIST_STOP, start=MONDAY + dt.timedelta(days=7))
    case = co.open_case(db, people["vc.byske"], byske, CaseKind.LIST_STOP, entry)
    CASE.fire(db, people["vc.byske"], case, "submit")
    CASE.fire(db, people["bo"], case, "grant", data=decision_data(case))
    with pytest.raises(WorkflowError, match="gäller från 2026-03-09"):
        CASE.fire(db, people["bo"], case, "take_effect")
    clock.set(MONDAY + dt.timedelta(days=7))
    CASE.fire(db, people["vc.byske"], case, "take_effect")
    assert case.status == S.IN_EFFECT


def test_completion_deadline_counts_working_days_across_christmas(db, people, store, clock):
    clock.set(dt.date(2025, 12, 19))  # a Friday
    case = walk(db, people, CaseKind.SUBCONTRACTOR, S.SUBMITTED, store)
    CASE.fire(
        db,
        people["bo"],
        case,
        "request_completion",
        data={"completion_days": 3},
        reason="Ange vad underleverantören ska utföra.",
    )
    # 22, 23, (24–26 holidays, 27–28 weekend), 29 December.
    assert case.completion_deadline == dt.date(2025, 12, 29)
    assert co.waiting_for(case).whose == "unit"
    scan(db, dt.date(2025, 12, 22))
    # (The purchaser's own reminder of the year's joint dialogs falls due now too.)
    reminder = db.scalars(sa.select(Reminder).where(Reminder.entity_type == "case")).one()
    assert reminder.kind == "due_soon"
    assert "Kompletteringen av ärendet" in reminder.text and "2025-12-29" in reminder.text
    CASE.fire(db, people["vc.byske"], case, "submit")
    assert case.completion_deadline is None and case.status == S.SUBMITTED


@pytest.mark.parametrize("days", [0, 61, "5", None, True])
def test_completion_needs_working_days_in_range(db, people, store, days):
    case = walk(db, people, CaseKind.SUBCONTRACTOR, S.SUBMITTED, store)
    with pytest.raises(WorkflowError, match=r"arbetsdagar \(1–60\)"):
        CASE.fire(
            db, people["bo"], case, "request_completion", data={"completion_days": days}, reason="x"
        )


# --- reminders ------------------------------------------------------------------------------


def test_a_list_stop_in_effect_is_reminded_of_before_it_ends(db, people, store, clock):
    byske = unit(db, "byske")
    entry = complete_entry(db, CaseKind.LIST_STOP)
    entry.period_to = dt.date(2026, 5, 29)  # a Friday
    case = co.open_case(db, people["vc.byske"], byske, CaseKind.LIST_STOP, entry)
    CASE.fire(db, people["vc.byske"], case, "submit")
    CASE.fire(db, people["bo"], case, "grant", data=decision_data(case))
    CASE.fire(db, people["bo"], case, "take_effect")
    # Ten working days before 29 May: 15 May (14 May is Ascension Day, a holiday).
    scan(db, dt.date(2026, 5, 13))
    assert count(db, Reminder) == 0
    assert scan(db, dt.date(2026, 5, 15)).due_soon == 1
    reminder = db.scalar(sa.select(Reminder))
    assert (reminder.entity_type, reminder.kind, reminder.due_on) == (
        "case_period",
        "due_soon",
        dt.date(2026, 5, 29),
    )
    assert reminder.text.startswith("Listningsstopp gäller till och med 2026-05-29")
    assert scan(db, dt.date(2026, 6, 1)).overdue == 1
    assert (
        "upphörde 2026-05-29: avsluta ärendet"
        in db.scalars(sa.select(Reminder.text).where(Reminder.kind == "overdue")).one()
    )


def test_an_application_is_reminded_of_for_a_decision_before_its_start(db, people, store):
    byske = unit(db, "byske")
    entry = complete_entry(db, CaseKind.RELOCATION, start=dt.date(2026, 3, 16))
    case = co.open_case(db, people["vc.byske"], byske, CaseKind.RELOCATION, entry)
    CASE.fire(db, people["vc.byske"], case, "submit")
    assert co.decision_due(case) == dt.date(2026, 3, 13)
    assert co.waiting_for(case) == co.Waiting("purchaser", "Pröva ansökan", dt.date(2026, 3, 13))
    assert scan(db, dt.date(2026, 3, 10)).due_soon == 1
    assert db.scalar(sa.select(Reminder.text)) == (
        "Beslut behövs i ärendet ”Flytt av verksamheten (ändrad lokalisering) 2026-03-16” senast "
        "2026-03-13, före planerad flyttdag 2026-03-16."
    )


# --- timeliness ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, ok, text",
    [
        (dt.date(2026, 3, 10), False, "Inlämnat 6 arbetsdagar före första dagen; i god tid"),
        (dt.date(2026, 3, 20), True, "Inlämnat 14 arbetsdagar före första dagen. (§2.7.5)"),
    ],
)
def test_a_restricted_opening_says_whether_it_came_in_good_time(db, people, start, ok, text):
    byske = unit(db, "byske")
    entry = complete_entry(db, CaseKind.OPENING_RESTRICTED, start=start)
    case = co.open_case(db, people["vc.byske"], byske, CaseKind.OPENING_RESTRICTED, entry)
    CASE.fire(db, people["vc.byske"], case, "submit")  # early or late, it is filed
    [(in_time, said)] = co.timeliness(case)
    assert in_time is ok and said.startswith(text)


def test_a_head_change_filed_after_it_took_effect_is_shown_as_late(db, people, store):
    byske = unit(db, "byske")
    entry = complete_entry(db, CaseKind.HEAD_CHANGE, start=MONDAY - dt.timedelta(days=7))
    case = co.open_case(db, people["vc.byske"], byske, CaseKind.HEAD_CHANGE, entry)
    CASE.fire(db, people["vc.byske"], case, "submit")  # a late notice is still a notice
    [(ok, text)] = co.timeliness(case)
    assert not ok and "inte innan förändringen trädde i kraft 2026-02-23 (§3.1.1)" in text


# --- Lex Maria -----------------------------------------------------------------------------


def test_lex_maria_cases_come_only_from_private_units(db, people):
    with pytest.raises(WorkflowError, match="bara av privata hälsocentraler"):
        co.open_case(
            db,
            people["vc.byske"],
            unit(db, "byske"),
            CaseKind.LEX_MARIA,
            complete_entry(db, CaseKind.LEX_MARIA),
        )


def test_lex_maria_needs_the_copies_deidentified_and_ivos_decision_to_close(db, people, store):
    privat = unit(db, "privat")
    head = people["vc.privat"]
    entry = complete_entry(db, CaseKind.LEX_MARIA)
    entry.values["deidentified"] = False
    case = co.open_case(db, head, privat, CaseKind.LEX_MARIA, entry)
    with pytest.raises(WorkflowError) as info:
        CASE.fire(db, head, case, "submit")
    assert "Handlingarna är avidentifierade" in str(info.value)
    assert "Kopia av anmälan till IVO; Utredningsmaterial" in str(info.value)
    entry.values["deidentified"] = True
    co.update_case(db, head, case, entry)
    attach_required(db, head, case, store)
    CASE.fire(db, head, case, "submit")
    CASE.fire(db, people["bo"], case, "note")
    CASE.fire(db, people["bo"], case, "take_effect")
    assert co.waiting_for(case).whose == "unit"
    with pytest.raises(WorkflowError, match="Datum för IVO:s beslut; IVO:s beslut"):
        CASE.fire(db, people["bo"], case, "close")
    checked, data = text_file("ivo-beslut.txt")
    with pytest.raises(WorkflowError, match="kan inte läggas till"):
        co.add_document(db, head, case, "report", checked, data, store)  # not a later one
    co.add_document(db, head, case, "ivo_decision", checked, data, store)
    co.update_later(db, head, case, {"ivo_decided_on": MONDAY})
    assert co.waiting_for(case).whose == "purchaser"
    CASE.fire(db, people["bo"], case, "close")
    assert case.status == S.CLOSED


# --- filial ----------------------------------------------------------------------------------


def test_a_granted_branch_is_created_under_its_main_unit(db, people, store):
    case = walk(db, people, CaseKind.BRANCH, S.SUBMITTED, store)
    case.details = {**case.details, "branch_name": "Rödåsens filial"}
    db.flush()
    CASE.fire(db, people["bo"], case, "grant", data={"diarienummer": "RS 2026/44"})
    branch = case.branch_unit
    main = unit(db, "byske")
    assert (branch.code, branch.name, branch.kind) == (
        "byske-rodasens-filial",
        "Rödåsens filial",
        UnitKind.FILIAL,
    )
    assert branch.main_unit_id == main.id and branch.operator == main.operator
    assert "RS 2026/44" in branch.source
    created = db.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "unit", AuditEvent.entity_id == str(branch.id)
        )
    )
    assert created.action == "create" and created.actor_label == people["bo"].username
    grant = db.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == "case", AuditEvent.action == "grant")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert grant.after_data()["branch_unit"] == "byske-rodasens-filial"
    # A second branch of the same name gets a code of its own.
    again = walk(db, people, CaseKind.BRANCH, S.SUBMITTED, store)
    again.details = {**again.details, "branch_name": "Rödåsens filial"}
    db.flush()
    CASE.fire(db, people["bo"], again, "grant", data={"diarienummer": "RS 2026/45"})
    assert again.branch_unit.code == "byske-rodasens-filial-2"


def test_a_branch_cannot_file_cases(db, people):
    main = unit(db, "byske")
    branch = make_unit(db, "byske-filial", kind=UnitKind.FILIAL, main_unit_id=main.id)
    with pytest.raises(WorkflowError, match="huvudmottagningen"):
        co.open_case(db, people["vc.byske"], branch, CaseKind.HEAD_CHANGE, co.Entry({}))


# --- begränsat utbud and the capitation decision --------------------------------------------


def test_a_restricted_service_leads_to_a_capitation_decision_for_its_period(db, people, store):
    case = walk(db, people, CaseKind.SERVICE_RESTRICTED, S.IN_EFFECT, store)
    start, end = case.period
    with pytest.raises(WorkflowError, match="Bara beställare"):
        co.open_capitation_case(db, people["greta"], case, "RS 2026/70")
    sanction = co.open_capitation_case(db, people["bo"], case, "RS 2026/70")
    assert case.capitation_case_id == sanction.id
    assert "§2.7.6" in sanction.grounds and start.isoformat() in sanction.grounds
    with pytest.raises(WorkflowError, match="redan"):
        co.open_capitation_case(db, people["bo"], case, "RS 2026/70")
    sc.SANCTION.fire(db, people["bo"], sanction, "inform_unit", data={"response_days": 5})
    sc.SANCTION.fire(db, people["vc.byske"], sanction, "respond", data={"response": "Bemanning."})
    sc.SANCTION.fire(db, people["greta"], sanction, "assess", data={"assessment": "Stängt."})
    decision = {
        "decision": "reduction",
        "rationale": "Öppettiderna var begränsade; nedsättningen är proportionerlig.",
        "deciding_body": "regionstyrelsen",
        "diarienummer": "RS 2026/77",
        "decided_on": sc.today(),
        "protocol_paragraph": "§ 40",
        "prop_seriousness": "Eftermiddagarna stängda.",
        "prop_duration": "Tre veckor.",
        "prop_repetition": "Första gången.",
        "prop_own_measures": "Akuta besök hänvisades till Backen.",
        "prop_patient_safety": "Ingen känd påverkan.",
        "reduction_percent": 10,
        "reduction_from": start,
        "reduction_to": end + dt.timedelta(days=1),
    }
    # The reduction burdens the unit: it is told of it and may answer first (FL 25 §).
    with pytest.raises(WorkflowError, match="kommunicering"):
        sc.SANCTION.fire(
            db, people["bo"], sanction, "decide", data={**decision, "reduction_to": end}
        )
    intended = {
        "intended_decision": "reduction",
        "intended_grounds": "Öppettiderna begränsades under hela perioden.",
        "intended_percent": 10,
        "intended_from": start,
        "intended_to": end,
        "reply_days": 5,
    }
    sc.SANCTION.fire(db, people["bo"], sanction, "communicate", data=intended)
    sc.SANCTION.fire(
        db, people["vc.byske"], sanction, "answer_communication", data={"reply": "Bemanning."}
    )
    with pytest.raises(WorkflowError, match="motsvarande tid"):
        sc.SANCTION.fire(db, people["bo"], sanction, "decide", data=decision)
    sc.SANCTION.fire(db, people["bo"], sanction, "decide", data={**decision, "reduction_to": end})
    assert sanction.decision == Decision.REDUCTION
    assert (sanction.reduction_from, sanction.reduction_to) == (start, end)
    assert co.capitation_source(db, sanction.id) is case


def test_no_capitation_case_when_opening_hours_were_not_cut(db, people, store):
    case = walk(db, people, CaseKind.SERVICE_RESTRICTED, S.NOTED, store)
    case.details = {**case.details, "opening_hours_reduced": False}
    db.flush()
    with pytest.raises(WorkflowError, match="mer än enstaka dagar"):
        co.open_capitation_case(db, people["bo"], case, "RS 2026/70")
    submitted = walk(db, people, CaseKind.SERVICE_RESTRICTED, S.SUBMITTED, store)
    with pytest.raises(WorkflowError, match="Först när"):
        co.open_capitation_case(db, people["bo"], submitted, "RS 2026/70")
    other = walk(db, people, CaseKind.LIST_STOP, S.IN_EFFECT, store)
    with pytest.raises(WorkflowError, match="begränsat utbud"):
        co.open_capitation_case(db, people["bo"], other, "RS 2026/70")


# --- the checklist's view --------------------------------------------------------------------


def test_every_mapped_item_is_an_event_driven_item_of_the_catalog():
    catalog = yaml.safe_load((Path(EDITIONS_DIR) / "uor-2025.yaml").read_text(encoding="utf-8"))
    items = {item["code"]: item for item in catalog["items"]}
    unknown = [code for code in REQUIREMENT_CASES if code not in items]
    assert unknown == []
    assert [c for c in REQUIREMENT_CASES if items[c]["recurrence"] != "on_event"] == []
    for code, kinds in REQUIREMENT_CASES.items():
        sections = {s for k in kinds for s in case_type(k).sections}
        assert items[code]["section"] in sections | {"4.5"}, code
    assert {k for ks in REQUIREMENT_CASES.values() for k in ks} == set(TYPES)


def test_the_checklist_sees_the_units_cases_of_the_follow_up_year(db, people, store, clock):
    code = "listning.listningsstopp-skriftlig-ansokan"
    this_year = walk(db, people, CaseKind.LIST_STOP, S.IN_EFFECT, store)
    walk(db, people, CaseKind.LIST_STOP, S.DRAFT, store)  # not filed
    walk(db, people, CaseKind.LIST_STOP, S.WITHDRAWN, store)  # did not happen
    clock.set(dt.date(2025, 6, 2))
    last_year = walk(db, people, CaseKind.LIST_STOP, S.CLOSED, store)
    byske = unit(db, "byske")
    entry = complete_entry(db, CaseKind.COOPERATION)
    entry.period_to = None  # a co-operation without an end goes on
    cooperation = co.open_case(db, people["vc.byske"], byske, CaseKind.COOPERATION, entry)
    CASE.fire(db, people["vc.byske"], cooperation, "submit")
    CASE.fire(db, people["bo"], cooperation, "grant")
    CASE.fire(db, people["bo"], cooperation, "take_effect")
    clock.set(MONDAY)
    coop = "samverkan.samarbete-halsocentraler-anmalt-godkant"
    assert cases_for_items(db, byske.id, 2026, [code, coop, "okänd"]) == {
        code: [this_year],
        coop: [cooperation],
    }
    assert cases_for_items(db, byske.id, 2025, [code]) == {code: [last_year]}
    assert cases_for_items(db, unit(db, "backen").id, 2026, [code]) == {code: []}
    assert db.scalar(sa.select(sa.func.count()).select_from(Case)) == 5


# --- the case store's garbage collection ---------------------------------------------------


def test_case_documents_are_collected_against_their_own_rows(db, people, store, tmp_path):
    from checklists.evidence import collect_garbage

    case = walk(db, people, CaseKind.SERVICE_RESTRICTED, S.DRAFT, store)
    db.commit()  # moves the staged document into the case store
    kept = case.current_documents[0].sha256
    orphan = store.put(b"ingen rad pekar hit")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    evidence = EvidenceStore(tmp_path / "underlag")
    main = collect_garbage(db, evidence, delete=True, now=later)
    assert main.orphans == [] and store.exists(kept) and store.exists(orphan)
    report = collect_garbage(db, store, delete=True, now=later, referenced_by=CaseDocument.sha256)
    assert report.orphans == [orphan]
    assert store.exists(kept) and not store.exists(orphan)


@pytest.mark.parametrize(
    "kind, trigger, outcome",
    [
        (CaseKind.LIST_CAP, "grant", "granted"),
        (CaseKind.LIST_CAP, "refuse", "refused"),
        (CaseKind.SUBCONTRACTOR, "note", "noted"),
    ],
)
def test_the_outcome_stays_with_the_case_after_it_moves_on(
    db, people, store, kind, trigger, outcome
):
    case = walk(db, people, kind, S.SUBMITTED, store)
    CASE.fire(db, people["bo"], case, trigger, data=decision_data(case), reason="Skäl.")
    if trigger != "refuse":
        CASE.fire(db, people["bo"], case, "take_effect")
    CASE.fire(db, people["bo"], case, "close")
    assert case.status == S.CLOSED and case.outcome.value == outcome
