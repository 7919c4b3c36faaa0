"""The sanction process: transitions, the deciding-body rules, working-day response deadlines
(injected clock, across a Swedish holiday), the ladder suggestion, escalation, IVO."""

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import db as audit_db
from audit.models import Role, Unit
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
    make_unit(db, "byske")
    make_unit(db, "backen")
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
        finding_ids=list(finding_ids),
    )


RS_DECISION = {
    "decision": "penalty",
    "rationale": "Upprepad brist; vitet är proportionerligt mot bristens omfattning.",
    "deciding_body": "regionstyrelsen",
    "diarienummer": "RS 2025/123",
    "penalty_sek": 50000,
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
    walk(db, people, case, clock)
    sc.SANCTION.fire(db, people["bo"], case, "decide", data=RS_DECISION)
    assert case.decision == Decision.PENALTY and case.diarienummer == "RS 2025/123"
    for trigger in ("notify", "carry_out", "close"):
        sc.SANCTION.fire(db, people["bo"], case, trigger)
    assert case.status == C.CLOSED and case.notified_on == dt.date(2025, 12, 19)
    assert verify(db).ok


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"deciding_body": "bestallarenheten"}, "fattas av Regionstyrelsen"),
        ({"diarienummer": ""}, "diarienummer"),
        ({"rationale": "Kort."}, "proportionaliteten"),
        (
            {"rationale": "En lång motivering utan prövning av skäligheten alls."},
            "proportionaliteten",
        ),
        ({"penalty_sek": 0}, "vitets belopp"),
        ({"decision": "reduction", "reduction_percent": 150}, "procent"),
        (
            {
                "decision": "reduction",
                "reduction_percent": 10,
                "reduction_from": dt.date(2026, 2, 1),
                "reduction_to": dt.date(2026, 1, 1),
            },
            "perioden",
        ),
        ({"decision": "termination", "deciding_body": "bestallarenheten"}, "Regionstyrelsen"),
        ({"decision": "gissning"}, "sanktionstrappan"),
    ],
)
def test_decision_rules(db, people, clock, changes, message):
    case = new_case(db, people)
    walk(db, people, case, clock)
    events = count(db, AuditEvent)
    with pytest.raises(WorkflowError, match=message):
        sc.SANCTION.fire(db, people["bo"], case, "decide", data={**RS_DECISION, **changes})
    assert case.status == C.ASSESSED and count(db, AuditEvent) == events


def test_remark_within_the_purchasers_delegation_needs_no_diarienummer(db, people, clock):
    case = new_case(db, people)
    walk(db, people, case, clock, respond=False)
    sc.SANCTION.fire(
        db,
        people["bo"],
        case,
        "decide",
        data={
            "decision": "remark",
            "deciding_body": "bestallarenheten",
            "rationale": "Ett påpekande är proportionerligt vid första bristen.",
        },
    )
    assert case.status == C.DECIDED and case.diarienummer is None


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
            "decision": "remark",
            "deciding_body": "bestallarenheten",
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
        due_date=dt.date(2026, 1, 30),
    )
    clock.set(dt.date(2026, 2, 2))
    assert ap.is_overdue(plan, sc.today())
    case = sc.escalate_plan(db, people["bo"], plan)
    assert case.status == C.OPENED and case.ground_findings[0].plan_id == plan.id
    assert "Bemanning" in case.grounds


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
    "respond": {"response": "Svar."},
    "assess": {"assessment": "Bedömning."},
    "decide": RS_DECISION,
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
