"""The sanction process: transitions, the deciding-body rules, working-day response deadlines
(injected clock, across a Swedish holiday), the ladder suggestion, escalation, IVO."""

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import db as audit_db
from audit.models import Operator, Role, Unit
from audit.trail import AuditEvent, verify
from tests.conftest import count
from tests.factories import make_unit, make_user
from tests.workflows.test_dialog import _finding
from workflows import action_plan as ap
from workflows import sanction as sc
from workflows.engine import WorkflowError
from workflows.models import Decision, IvoReferral
from workflows.models import SanctionState as C


class Clock:
    def __init__(self, day):
        self.now = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)

    def __call__(self):
        return self.now

    def set(self, day):
        self.now = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(dt.date(2025, 12, 19))  # a Friday before Christmas
    monkeypatch.setattr(audit_db, "clock", clock)
    return clock


@pytest.fixture
def people(db):
    make_unit(db, "byske", operator=Operator.PRIVAT, provider="Vårdbolaget AB")
    make_unit(db, "backen")  # egenregi
    return {
        "bo": make_user(db, "bo", (Role.BESTALLARE, None)),
        "greta": make_user(db, "greta", (Role.GRANSKARE, None)),
        "vc": make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske")),
        "other_vc": make_user(db, "other_vc", (Role.VERKSAMHETSCHEF, "backen")),
    }


def unit(db, code="byske"):
    return db.scalar(sa.select(Unit).where(Unit.code == code))


def new_case(db, people, finding_ids=()):
    return sc.open_case(
        db,
        people["bo"],
        unit(db),
        title="Läkarbemanning",
        grounds="Upprepad brist mot §3.1.2.",
        diarienummer="RS 2025/1",
        finding_ids=list(finding_ids),
    )


PROPORTIONALITY = {
    "prop_seriousness": "Bemanningen understiger kravet med en tredjedel.",
    "prop_duration": "Bristen har pågått sedan våren 2024.",
    "prop_repetition": "Påpekande i ärende RS 2025/1 för samma krav.",
    "prop_own_measures": "En specialist rekryterad; planen i övrigt inte genomförd.",
    "prop_patient_safety": "Ingen känd patientskada; kontinuiteten försämrad.",
}
RS_DECISION = {
    "decision": "penalty",
    "rationale": "Upprepad brist trots rättelseperiod och åtgärdsplan.",
    "deciding_body": "regionstyrelsen",
    "diarienummer": "RS 2025/123",
    "decided_on": dt.date(2026, 1, 20),
    "protocol_paragraph": "§ 12",
    "penalty_sek": 50000,
    **PROPORTIONALITY,
}
INTENDED = {
    "intended_decision": "penalty",
    "intended_grounds": "Upprepad brist mot §3.1.2 efter rättelseperioden.",
    "intended_penalty_sek": 50000,
    "reply_days": 5,
}


def walk(db, people, case, clock, *, respond=True):
    sc.SANCTION.fire(db, people["bo"], case, "inform_unit", data={"response_days": 3})
    if respond:
        sc.SANCTION.fire(
            db, people["vc"], case, "respond", data={"response": "Vi har rekryterat en specialist."}
        )
    else:
        clock.set(case.response_deadline + dt.timedelta(days=1))
        sc.SANCTION.fire(db, people["bo"], case, "note_deadline_passed")
    sc.SANCTION.fire(
        db,
        people["greta"],
        case,
        "assess",
        data={"assessment": "Bristen kvarstår trots åtgärdsplan."},
    )


def rectify_and_communicate(db, people, case, clock):
    """Rättelse that did not help, then kommunicering of the intended vite."""
    sc.SANCTION.fire(
        db,
        people["bo"],
        case,
        "demand_rectification",
        data={"rectification_demand": "Bemanna enligt §3.1.2.", "rectification_days": 5},
    )
    clock.set(case.rectification_deadline + dt.timedelta(days=1))
    sc.SANCTION.fire(
        db,
        people["greta"],
        case,
        "end_rectification",
        data={"rectified": "no", "rectification_outcome": "Ingen ny rekrytering."},
    )
    sc.SANCTION.fire(db, people["bo"], case, "communicate", data=INTENDED)


def test_response_deadline_counts_working_days_across_christmas(db, people, clock):
    case = new_case(db, people)
    sc.SANCTION.fire(db, people["bo"], case, "inform_unit", data={"response_days": 3})
    # Fri 19 Dec + 3 working days: 22, 23, (24–26 holidays, 27–28 weekend), 29 December.
    assert case.response_deadline == dt.date(2025, 12, 29)
    with pytest.raises(WorkflowError, match="löper till och med 2025-12-29"):
        sc.SANCTION.fire(db, people["bo"], case, "note_deadline_passed")
    clock.set(dt.date(2025, 12, 30))
    with pytest.raises(WorkflowError, match="Svarstiden gick ut 2025-12-29"):
        sc.SANCTION.fire(db, people["vc"], case, "respond", data={"response": "Sent svar."})
    sc.SANCTION.fire(db, people["bo"], case, "note_deadline_passed")
    assert case.status == C.DEADLINE_PASSED


def test_case_decided_by_regionstyrelsen_through_to_closed(db, people, clock):
    case = new_case(db, people)
    assert case.case_number == "RS 2025/1"
    walk(db, people, case, clock)
    rectify_and_communicate(db, people, case, clock)
    sc.SANCTION.fire(
        db, people["vc"], case, "answer_communication", data={"reply": "Vi bestrider vitet."}
    )
    clock.set(dt.date(2026, 1, 21))
    sc.SANCTION.fire(db, people["bo"], case, "decide", data=RS_DECISION)
    assert case.decision == Decision.PENALTY and case.diarienummer == "RS 2025/123"
    assert case.decided_on == dt.date(2026, 1, 20)  # the meeting, not the day it was recorded
    assert case.protocol_paragraph == "§ 12" and case.prop_duration.startswith("Bristen")
    for trigger in ("notify", "carry_out", "close"):
        sc.SANCTION.fire(db, people["bo"], case, trigger)
    assert case.status == C.CLOSED and case.notified_on == dt.date(2026, 1, 21)
    assert verify(db).ok


def test_a_burdening_decision_needs_a_kommunicering_the_unit_could_answer(db, people, clock):
    case = new_case(db, people)
    walk(db, people, case, clock)
    clock.set(dt.date(2026, 1, 21))
    with pytest.raises(WorkflowError, match="kommunicering") as refused:
        sc.SANCTION.fire(db, people["bo"], case, "decide", data=RS_DECISION)
    assert refused.value.guard == "unit_was_heard" and case.status == C.ASSESSED
    # Vite before a rättelse period is refused at the kommunicering already.
    with pytest.raises(WorkflowError, match="rättelseperiod"):
        sc.SANCTION.fire(db, people["bo"], case, "communicate", data=INTENDED)
    clock.set(dt.date(2025, 12, 22))
    rectify_and_communicate(db, people, case, clock)
    told = case.reply_deadline
    # While the reply time runs, no decision; extending it moves the day.
    with pytest.raises(WorkflowError, match=f"till och med {told.isoformat()}"):
        sc.SANCTION.fire(
            db, people["bo"], case, "decide", data={**RS_DECISION, "decided_on": sc.today()}
        )
    sc.SANCTION.fire(
        db, people["bo"], case, "extend_reply", data={"extra_days": 3}, reason="Semester."
    )
    assert case.reply_deadline > told and case.status == C.COMMUNICATED
    clock.set(case.reply_deadline + dt.timedelta(days=1))
    # No heavier than told, and not on a meeting before the reply time was over.
    with pytest.raises(WorkflowError, match="högre än det belopp"):
        sc.SANCTION.fire(
            db,
            people["bo"],
            case,
            "decide",
            data={**RS_DECISION, "decided_on": sc.today(), "penalty_sek": 90000},
        )
    with pytest.raises(WorkflowError, match="kunde inte ha yttrat sig"):
        sc.SANCTION.fire(db, people["bo"], case, "decide", data={**RS_DECISION, "decided_on": told})
    sc.SANCTION.fire(
        db, people["bo"], case, "decide", data={**RS_DECISION, "decided_on": sc.today()}
    )
    assert case.status == C.DECIDED and case.reply is None


def test_four_eyes_the_assessor_does_not_record_the_decision(db, people, clock):
    case = new_case(db, people)
    sc.SANCTION.fire(db, people["bo"], case, "inform_unit", data={"response_days": 3})
    sc.SANCTION.fire(db, people["vc"], case, "respond", data={"response": "Svar."})
    sc.SANCTION.fire(db, people["bo"], case, "assess", data={"assessment": "Brist."})
    remark = {
        **RS_DECISION,
        "decision": "remark",
        "deciding_body": "bestallarenheten",
        "decided_on": dt.date(2025, 12, 19),
    }
    events = count(db, AuditEvent)
    with pytest.raises(WorkflowError, match="en annan person") as refused:
        sc.SANCTION.fire(db, people["bo"], case, "decide", data=remark)
    assert refused.value.guard == "four_eyes" and case.status == C.ASSESSED
    assert count(db, AuditEvent) == events and case.decision is None
    sc.SANCTION.fire(
        db,
        people["bo"],
        case,
        "decide",
        data={**remark, "four_eyes_reason": "Ensam handläggare under julen."},
    )
    assert case.four_eyes_reason == "Ensam handläggare under julen."
    event = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert "Ensam handläggare" in event.after


def test_egenregi_ladder_ends_in_escalation_not_vite(db, people, clock):
    case = sc.open_case(
        db, people["bo"], unit(db, "backen"), title="T", grounds="G", diarienummer="RS 2025/9"
    )
    assert Decision.PENALTY not in sc.ladder_for(case.unit)
    assert sc.ladder_for(case.unit)[-1] == Decision.ESCALATION
    walk_other = make_user(db, "vc2", (Role.VERKSAMHETSCHEF, "backen"))
    sc.SANCTION.fire(db, people["bo"], case, "inform_unit", data={"response_days": 3})
    sc.SANCTION.fire(db, walk_other, case, "respond", data={"response": "Svar."})
    sc.SANCTION.fire(db, people["greta"], case, "assess", data={"assessment": "Brist."})
    with pytest.raises(WorkflowError, match="finns inte i trappan för egenregi"):
        sc.SANCTION.fire(db, people["bo"], case, "decide", data=RS_DECISION)
    with pytest.raises(WorkflowError, match="rättelseperiod behövs inte"):
        sc.SANCTION.fire(
            db,
            people["bo"],
            case,
            "demand_rectification",
            data={"rectification_demand": "x", "rectification_days": 5},
        )
    sc.SANCTION.fire(
        db,
        people["bo"],
        case,
        "decide",
        data={
            **RS_DECISION,
            "decision": "escalation",
            "deciding_body": "bestallarenheten",
            "decided_on": dt.date(2025, 12, 19),
        },
    )
    assert case.decision == Decision.ESCALATION


def test_the_capitation_reduction_is_no_step_of_the_ladder(db, people, clock):
    case = new_case(db, people)
    walk(db, people, case, clock)
    with pytest.raises(WorkflowError, match="begränsad service"):
        sc.SANCTION.fire(
            db, people["bo"], case, "decide", data={**RS_DECISION, "decision": "reduction"}
        )


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"deciding_body": "bestallarenheten"}, "fattas av Regionstyrelsen"),
        ({"diarienummer": ""}, "diarienummer"),
        ({"decided_on": None}, "sammanträde"),
        ({"decided_on": dt.date(2026, 3, 1)}, "framtiden"),
        ({"protocol_paragraph": ""}, "paragrafen"),
        ({"prop_duration": " "}, "hur länge bristen har pågått"),
        ({"prop_patient_safety": ""}, "patientsäkerheten"),
        ({"rationale": ""}, "motiveringen"),
        ({"penalty_sek": 0}, "vitets belopp"),
        ({"decision": "termination", "deciding_body": "bestallarenheten"}, "Regionstyrelsen"),
        ({"decision": "gissning"}, "sanktionstrappan"),
    ],
)
def test_decision_rules(db, people, clock, changes, message):
    case = new_case(db, people)
    walk(db, people, case, clock)
    rectify_and_communicate(db, people, case, clock)
    clock.set(dt.date(2026, 1, 21))
    events, state = count(db, AuditEvent), case.status
    with pytest.raises(WorkflowError, match=message):
        sc.SANCTION.fire(db, people["bo"], case, "decide", data={**RS_DECISION, **changes})
    assert case.status == state and count(db, AuditEvent) == events


def test_remark_within_the_purchasers_delegation_needs_no_kommunicering(db, people, clock):
    case = new_case(db, people)
    walk(db, people, case, clock, respond=False)
    sc.SANCTION.fire(
        db,
        people["bo"],
        case,
        "decide",
        data={
            **PROPORTIONALITY,
            "decision": "remark",
            "deciding_body": "bestallarenheten",
            "diarienummer": "RS 2025/1",
            "decided_on": sc.today(),
            "rationale": "Ett påpekande räcker vid första bristen.",
        },
    )
    assert case.status == C.DECIDED and case.diarienummer == "RS 2025/1"
    assert case.protocol_paragraph is None


@pytest.mark.parametrize(
    "trigger, who",
    [("decide", "vc"), ("decide", "greta"), ("inform_unit", "vc"), ("withdraw", "greta")],
)
def test_a_health_centre_cannot_decide_its_own_sanction(db, people, clock, trigger, who):
    case = new_case(db, people)
    if trigger == "decide":
        walk(db, people, case, clock)
    with pytest.raises(WorkflowError, match="behörighet"):
        sc.SANCTION.fire(db, people[who], case, trigger, data=RS_DECISION, reason="x")


def test_other_units_head_cannot_respond(db, people, clock):
    case = new_case(db, people)
    sc.SANCTION.fire(db, people["bo"], case, "inform_unit", data={"response_days": 5})
    with pytest.raises(WorkflowError, match="behörighet"):
        sc.SANCTION.fire(db, people["other_vc"], case, "respond", data={"response": "x"})


def test_ladder_suggests_the_next_step_from_the_last_twelve_months(db, people, clock):
    first_finding = _finding(db, type("D", (), {"unit_id": unit(db).id})())
    first = new_case(db, people, [first_finding.id])
    assert sc.suggest_decision(db, first).decision == Decision.REMARK
    walk(db, people, first, clock)
    sc.SANCTION.fire(
        db,
        people["bo"],
        first,
        "decide",
        data={
            **PROPORTIONALITY,
            "decision": "remark",
            "deciding_body": "bestallarenheten",
            "diarienummer": "RS 2025/1",
            "decided_on": sc.today(),
            "rationale": "Påpekande är proportionerligt första gången.",
        },
    )
    again = _finding(db, type("D", (), {"unit_id": unit(db).id})())  # same requirement
    assert again.requirement_id == first_finding.requirement_id
    second = new_case(db, people, [again.id])
    suggestion = sc.suggest_decision(db, second)
    assert suggestion.decision == Decision.ACTION_PLAN
    assert "påpekande" in suggestion.reason and str(first.id) in suggestion.reason
    # Thirteen months later the remark no longer counts.
    later = sc.suggest_decision(db, second, on=dt.date(2027, 1, 20))
    assert later.decision == Decision.REMARK


def test_overdue_plan_escalates_into_a_case_with_one_action(db, people, clock):
    plan = ap.request_action_plan(
        db,
        people["bo"],
        unit(db),
        title="Bemanning",
        requirements="Mer än hälften specialister.",
        plan_due=dt.date(2026, 1, 30),
        measures_due=dt.date(2026, 1, 30),
    )
    clock.set(dt.date(2026, 2, 2))
    assert ap.is_overdue(plan, sc.today())
    case = sc.escalate_plan(db, people["bo"], plan, diarienummer="RS 2026/7")
    assert case.status == C.OPENED and case.ground_findings[0].plan_id == plan.id
    assert case.case_number == "RS 2026/7"
    assert "har inte lämnats in" in case.grounds and "2026-01-30" in case.grounds
    with pytest.raises(WorkflowError, match="redan grund i sanktionsärende"):
        sc.escalate_plan(db, people["bo"], plan, diarienummer="RS 2026/8")


def test_a_plan_just_requested_cannot_be_escalated(db, people, clock):
    plan = ap.request_action_plan(
        db,
        people["bo"],
        unit(db),
        title="Bemanning",
        requirements="Krav.",
        plan_due=dt.date(2026, 1, 30),
        measures_due=dt.date(2026, 3, 30),
    )
    with pytest.raises(WorkflowError, match="Bara en försenad eller underkänd"):
        sc.escalate_plan(db, people["bo"], plan, diarienummer="RS 2026/7")


def test_a_case_needs_its_diarienummer_when_it_opens(db, people, clock):
    with pytest.raises(WorkflowError, match="diarienummer") as refused:
        sc.open_case(db, people["bo"], unit(db), title="T", grounds="G", diarienummer="")
    assert refused.value.guard == "diarienummer"


def test_ivo_referral_is_recorded(db, people, clock):
    referral = sc.refer_to_ivo(
        db,
        people["greta"],
        unit(db),
        referred_on=dt.date(2025, 12, 18),
        reference="IVO 3.5.1-12345/2025",
    )
    assert db.get(IvoReferral, referral.id).reference == "IVO 3.5.1-12345/2025"
    with pytest.raises(WorkflowError, match="framtiden"):
        sc.refer_to_ivo(db, people["bo"], unit(db), referred_on=dt.date(2026, 1, 1), reference="x")
    with pytest.raises(WorkflowError, match="Bara beställare och granskare"):
        sc.refer_to_ivo(db, people["vc"], unit(db), referred_on=dt.date(2025, 12, 1), reference="x")


ALL = list(sc.SANCTION.triggers)
GOOD = {
    "inform_unit": {"response_days": 3},
    "extend_response": {"extra_days": 2},
    "extend_reply": {"extra_days": 2},
    "respond": {"response": "Svar."},
    "assess": {"assessment": "Bedömning."},
    "demand_rectification": {"rectification_demand": "Rätta.", "rectification_days": 3},
    "end_rectification": {"rectified": "yes", "rectification_outcome": "Rättat."},
    "communicate": INTENDED,
    "answer_communication": {"reply": "Synpunkter."},
    "decide": {**RS_DECISION, "decided_on": dt.date(2025, 12, 19)},
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(ALL), st.sampled_from(["bo", "greta", "vc", "other_vc"]), st.booleans()
        ),
        max_size=12,
    )
)
def test_random_triggers_keep_the_case_sound(db, people, clock, steps):
    case = new_case(db, people)
    for trigger, who, good in steps:
        before, events = case.status, count(db, AuditEvent)
        try:
            sc.SANCTION.fire(
                db,
                people[who],
                case,
                trigger,
                data=GOOD.get(trigger, {}) if good else {},
                reason="Skäl." if good else None,
            )
        except WorkflowError:
            assert case.status == before and count(db, AuditEvent) == events
        else:
            assert count(db, AuditEvent) == events + 1
        assert case.status in set(C)
    assert verify(db).ok
