"""The action plan machine (§7.1.3): transitions, guards, roles, measures, lateness, and random
trigger sequences (Hypothesis), on both databases."""

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
from workflows import action_plan as ap
from workflows.engine import WorkflowError
from workflows.models import PlanState as P

TODAY = dt.date.today()
DUE = TODAY + dt.timedelta(days=60)


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
    }


def new_plan(db, people):
    unit = db.scalar(sa.select(Unit).where(Unit.code == "byske"))
    return ap.request_action_plan(
        db,
        people["bo"],
        unit,
        title="Läkarbemanning",
        requirements="Övervägande delen specialister (§3.1.2).",
        plan_due=DUE,
        measures_due=DUE,
    )


def measure(db, people, plan, days=30):
    return ap.add_measure(
        db,
        people["staff"],
        plan,
        description="Rekrytera två specialister",
        responsible="Vera Vik",
        due_date=TODAY + dt.timedelta(days=days),
    )


def fire(db, people, plan, trigger, who=None, **data):
    who = who or {
        "submit_plan": "vc",
        "report_done": "vc",
        "verify": "greta",
        "send_back": "greta",
        "return_plan": "greta",
    }.get(trigger, "bo")
    reason = {"return_plan": "Datum saknas.", "send_back": "Effekten syns inte."}.get(trigger)
    ap.ACTION_PLAN.fire(db, people[who], plan, trigger, data=data, reason=reason)


def test_plan_from_request_to_closed(db, people):
    plan = new_plan(db, people)
    with pytest.raises(WorkflowError, match="minst en åtgärd"):
        fire(db, people, plan, "submit_plan")
    m = measure(db, people, plan)
    fire(db, people, plan, "submit_plan")
    fire(db, people, plan, "return_plan")
    assert plan.status == P.RETURNED and plan.review_comment == "Datum saknas."
    fire(db, people, plan, "submit_plan")
    fire(db, people, plan, "approve")
    with pytest.raises(WorkflowError, match="1 åtgärder är inte markerade"):
        fire(db, people, plan, "report_done", report="Klart.")
    ap.mark_done(db, people["vc"], m, TODAY)
    with pytest.raises(WorkflowError, match="Beskriv vad som har gjorts"):
        fire(db, people, plan, "report_done")
    fire(db, people, plan, "report_done", report="Två specialister anställda från 1 maj.")
    fire(db, people, plan, "send_back")
    assert plan.status == P.APPROVED
    fire(db, people, plan, "report_done", report="Två specialister anställda; schema bifogat.")
    fire(db, people, plan, "verify")
    fire(db, people, plan, "close")
    assert plan.status == P.CLOSED
    assert verify(db).ok


@pytest.mark.parametrize(
    "trigger, state, who",
    [
        ("submit_plan", P.REQUESTED, "staff"),  # only the head submits
        ("submit_plan", P.REQUESTED, "other_vc"),
        ("approve", P.SUBMITTED, "vc"),  # a health centre cannot approve its own plan
        ("approve", P.SUBMITTED, "greta"),
        ("verify", P.REPORTED, "vc"),
        ("verify", P.REPORTED, "bo"),  # verification is the auditor's
        ("close", P.VERIFIED, "greta"),
    ],
)
def test_roles(db, people, trigger, state, who):
    plan = new_plan(db, people)
    m = measure(db, people, plan)
    path = ["submit_plan", "approve", "report_done", "verify"]
    for step in path:
        if plan.status == state:
            break
        if step == "report_done":
            ap.mark_done(db, people["vc"], m, TODAY)
            fire(db, people, plan, step, report="Klart.")
        else:
            fire(db, people, plan, step)
    assert plan.status == state
    with pytest.raises(WorkflowError, match="behörighet"):
        fire(db, people, plan, trigger, who=who)


def test_measures_only_by_the_unit_and_only_until_approved(db, people):
    plan = new_plan(db, people)
    with pytest.raises(WorkflowError, match="Bara enhetens"):
        ap.add_measure(db, people["other_vc"], plan, description="x", responsible="y", due_date=DUE)
    with pytest.raises(WorkflowError, match="Beskriv åtgärden") as refused:
        ap.add_measure(db, people["vc"], plan, description=" ", responsible="y", due_date=DUE)
    assert refused.value.guard == "description"
    m = measure(db, people, plan)
    fire(db, people, plan, "submit_plan")
    ap.edit_measure(
        db, people["vc"], m, description="Rekrytera en", responsible="Vera", due_date=DUE
    )
    fire(db, people, plan, "approve")
    with pytest.raises(WorkflowError, match="godkänd"):
        ap.edit_measure(db, people["vc"], m, description="x", responsible="y", due_date=DUE)
    with pytest.raises(WorkflowError, match="godkänd"):
        ap.remove_measure(db, people["vc"], m)
    approval = db.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "approve").order_by(AuditEvent.id.desc())
    ).first()
    assert "Rekrytera en" in approval.after  # what was approved is in the trail


def test_the_stuck_plan_can_no_longer_happen(db, people):
    """Issue 11: a measure dated after the deadline was accepted, then "Lämna in planen" was
    refused for it, and nothing could be changed. Now the date is refused when it is entered
    (beside the field), measures can be changed and removed, and the dates can be moved."""
    plan = new_plan(db, people)
    events = count(db, AuditEvent)
    with pytest.raises(WorkflowError, match="senast planens sista dag") as refused:
        measure(db, people, plan, days=90)  # after the plan's date for the measures
    assert refused.value.guard == "measure_due" and not plan.measures
    assert count(db, AuditEvent) == events
    m = measure(db, people, plan, days=30)
    # Beställarenheten cannot move the date before a measure either ...
    with pytest.raises(WorkflowError, match="1 åtgärder har datum efter"):
        ap.change_deadlines(
            db,
            people["bo"],
            plan,
            plan_due=TODAY + dt.timedelta(days=5),
            measures_due=TODAY + dt.timedelta(days=10),
            reason="Brådskande.",
        )
    # ... and however the dates stand, the unit has a way out: change or remove the measure.
    ap.edit_measure(db, people["vc"], m, description="Rekrytera", responsible="Vera", due_date=DUE)
    ap.remove_measure(db, people["vc"], m)
    measure(db, people, plan, days=20)
    fire(db, people, plan, "submit_plan")
    assert plan.status == P.SUBMITTED and verify(db).ok


def test_a_unit_that_never_submits_is_late_at_the_first_date(db, people):
    unit = db.scalar(sa.select(Unit).where(Unit.code == "byske"))
    plan = ap.request_action_plan(
        db,
        people["bo"],
        unit,
        title="Bemanning",
        requirements="Krav",
        plan_due=TODAY + dt.timedelta(days=10),
        measures_due=DUE,
    )
    assert not ap.is_overdue(plan, TODAY + dt.timedelta(days=10))
    assert ap.is_overdue(plan, TODAY + dt.timedelta(days=11))  # not at DUE, 50 days later
    with pytest.raises(WorkflowError, match="samma dag eller senare"):
        ap.request_action_plan(
            db,
            people["bo"],
            unit,
            title="t",
            requirements="r",
            plan_due=DUE,
            measures_due=TODAY + dt.timedelta(days=1),
        )


def test_dates_change_and_withdrawal_with_a_reason_in_the_trail(db, people):
    plan = new_plan(db, people)
    with pytest.raises(WorkflowError, match="skäl"):
        ap.change_deadlines(db, people["bo"], plan, plan_due=DUE, measures_due=DUE, reason=" ")
    with pytest.raises(WorkflowError, match="Bara beställare"):
        ap.change_deadlines(db, people["vc"], plan, plan_due=DUE, measures_due=DUE, reason="x")
    later = DUE + dt.timedelta(days=30)
    ap.change_deadlines(
        db, people["bo"], plan, plan_due=DUE, measures_due=later, reason="Semester."
    )
    assert plan.measures_due == later
    event = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "change_deadlines" and event.reason == "Semester."
    with pytest.raises(WorkflowError, match="Ange ett skäl"):
        fire(db, people, plan, "withdraw")
    ap.ACTION_PLAN.fire(db, people["bo"], plan, "withdraw", reason="Enheten har lagts ned.")
    assert plan.status == P.WITHDRAWN and plan.withdraw_reason == "Enheten har lagts ned."
    assert not ap.is_overdue(plan, later + dt.timedelta(days=1))


def test_escalation_only_from_a_late_or_failed_plan_with_what_happened(db, people):
    plan = new_plan(db, people)
    with pytest.raises(WorkflowError, match="Bara en försenad eller underkänd"):
        ap.escalation_grounds(plan, TODAY)  # just requested: no breach
    late = DUE + dt.timedelta(days=1)
    assert "har inte lämnats in" in ap.escalation_grounds(plan, late)
    assert "är inte genomförd" not in ap.escalation_grounds(plan, late)
    m = measure(db, people, plan, days=10)
    fire(db, people, plan, "submit_plan")
    fire(db, people, plan, "approve")
    grounds = ap.escalation_grounds(plan, TODAY + dt.timedelta(days=11))
    assert "godkändes" in grounds and "Rekrytera två specialister" in grounds
    ap.mark_done(db, people["vc"], m, TODAY)
    fire(db, people, plan, "report_done", report="Klart.")
    with pytest.raises(WorkflowError, match="inte försenad"):
        ap.escalation_grounds(plan, late)  # reported: Beställarenheten's turn
    ap.ACTION_PLAN.fire(db, people["greta"], plan, "fail", reason="Bemanningen är oförändrad.")
    assert "underkändes av granskaren: Bemanningen är oförändrad." in ap.escalation_grounds(
        plan, TODAY
    )


def test_overdue_plans_and_measures(db, people, monkeypatch):
    plan = new_plan(db, people)
    m = measure(db, people, plan, days=10)
    assert not ap.is_overdue(plan, TODAY)
    later = DUE + dt.timedelta(days=1)
    assert ap.is_overdue(plan, later) and ap.overdue_measures(plan, later) == [m]


def test_request_refuses_a_past_date_and_another_units_findings(db, people):
    unit = db.scalar(sa.select(Unit).where(Unit.code == "byske"))
    with pytest.raises(WorkflowError, match="passerat"):
        ap.request_action_plan(
            db,
            people["bo"],
            unit,
            title="t",
            requirements="r",
            plan_due=TODAY - dt.timedelta(days=1),
            measures_due=TODAY - dt.timedelta(days=1),
        )
    with pytest.raises(WorkflowError, match="beställare"):
        ap.request_action_plan(
            db, people["vc"], unit, title="t", requirements="r", plan_due=DUE, measures_due=DUE
        )


ALL = list(ap.ACTION_PLAN.triggers)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(
                [*ALL, "add_measure", "mark_done", "edit_measure", "remove_measure", "dates"]
            ),
            st.sampled_from(["bo", "greta", "vc", "staff", "other_vc"]),
        ),
        max_size=14,
    )
)
def test_random_triggers_keep_the_plan_sound(db, people, steps):
    plan = new_plan(db, people)
    for trigger, who in steps:
        before, events = plan.status, count(db, AuditEvent)
        try:
            if trigger == "add_measure":
                ap.add_measure(
                    db,
                    people[who],
                    plan,
                    description="Åtgärd",
                    responsible="Ansvarig",
                    due_date=DUE,
                )
            elif trigger == "mark_done":
                if plan.measures:
                    ap.mark_done(db, people[who], plan.measures[0], TODAY)
                continue
            elif trigger == "edit_measure":
                if plan.measures:
                    ap.edit_measure(
                        db,
                        people[who],
                        plan.measures[0],
                        description="Ändrad",
                        responsible="Ansvarig",
                        due_date=TODAY + dt.timedelta(days=len(plan.measures)),
                    )
                continue
            elif trigger == "remove_measure":
                if plan.measures:
                    ap.remove_measure(db, people[who], plan.measures[-1])
                continue
            elif trigger == "dates":
                ap.change_deadlines(
                    db,
                    people[who],
                    plan,
                    plan_due=plan.plan_due + dt.timedelta(days=1),
                    measures_due=plan.measures_due + dt.timedelta(days=1),
                    reason="Skäl.",
                )
            else:
                reason = "Skäl." if ap.ACTION_PLAN.triggers[trigger].needs_reason else None
                ap.ACTION_PLAN.fire(
                    db, people[who], plan, trigger, data={"report": "Klart."}, reason=reason
                )
        except WorkflowError:
            assert plan.status == before and count(db, AuditEvent) == events
        else:
            assert count(db, AuditEvent) == events + 1
        assert plan.status in set(P)
    assert verify(db).ok


def test_clock_is_injectable_for_lateness(db, people, monkeypatch):
    plan = new_plan(db, people)
    future = dt.datetime.combine(DUE + dt.timedelta(days=2), dt.time(12), tzinfo=dt.UTC)
    monkeypatch.setattr(audit_db, "clock", lambda: future)
    assert ap.is_overdue(plan, audit_db.utcnow().date())
