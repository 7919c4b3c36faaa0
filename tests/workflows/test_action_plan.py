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
        due_date=DUE,
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


def test_measures_only_by_the_unit_and_only_while_writing(db, people):
    plan = new_plan(db, people)
    with pytest.raises(WorkflowError, match="Bara enhetens"):
        ap.add_measure(db, people["other_vc"], plan, description="x", responsible="y", due_date=DUE)
    with pytest.raises(WorkflowError, match="beskrivning, en ansvarig och ett datum"):
        ap.add_measure(db, people["vc"], plan, description=" ", responsible="y", due_date=DUE)
    measure(db, people, plan, days=90)  # after the plan's own date
    with pytest.raises(WorkflowError, match="efter planens sista dag"):
        fire(db, people, plan, "submit_plan")


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
            due_date=TODAY - dt.timedelta(days=1),
        )
    with pytest.raises(WorkflowError, match="beställare"):
        ap.request_action_plan(db, people["vc"], unit, title="t", requirements="r", due_date=DUE)


ALL = list(ap.ACTION_PLAN.triggers)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from([*ALL, "add_measure", "mark_done"]),
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
