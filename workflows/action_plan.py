"""Åtgärdsplan (§7.1.3) as a state machine.

requested (the requirements it must meet, linked findings, due date) → submitted by the unit's
verksamhetschef with its measures (each with a responsible person and a date) → approved, or
returned with comments → measures carried out → reported done → verified by a granskare, or
sent back → closed. A plan or measure past its date and not done is overdue.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.db import utcnow
from audit.models import Role, Unit, User
from audit.trail import Actor, record
from checklists.rounds import Finding
from workflows.engine import Trigger, Workflow, WorkflowError
from workflows.models import ActionMeasure, ActionPlan, ActionPlanFinding, PlanState

P = PlanState
PURCHASER = frozenset({Role.BESTALLARE})
REVIEWERS = frozenset({Role.BESTALLARE, Role.GRANSKARE})
AUDITOR = frozenset({Role.GRANSKARE})
HEAD = frozenset({Role.VERKSAMHETSCHEF})
UNIT_STAFF = frozenset({Role.VERKSAMHETSCHEF, Role.PERSONAL})
DONE_STATES = (P.REPORTED, P.VERIFIED, P.CLOSED)

STATE_LABELS = {
    P.REQUESTED: "Begärd",
    P.SUBMITTED: "Inlämnad",
    P.RETURNED: "Återsänd med synpunkter",
    P.APPROVED: "Godkänd – åtgärder pågår",
    P.REPORTED: "Rapporterad som genomförd",
    P.VERIFIED: "Verifierad",
    P.CLOSED: "Avslutad",
}


def _clean(text) -> str:
    return " ".join(str(text or "").split())


def has_measures(plan, data, session) -> str | None:
    if not plan.measures:
        return "Planen behöver minst en åtgärd med ansvarig och datum."
    late = [m for m in plan.measures if m.due_date > plan.due_date]
    if late:
        return (
            f"{len(late)} åtgärder har datum efter planens sista dag {plan.due_date.isoformat()}."
        )
    return None


def all_measures_done(plan, data, session) -> str | None:
    open_ = [m for m in plan.measures if m.done_on is None]
    if open_:
        return f"{len(open_)} åtgärder är inte markerade som genomförda."
    if not _clean(data.get("report")):
        return "Beskriv vad som har gjorts och vilket underlag som visar det."
    return None


def _store_report(plan, data, session, user):
    plan.report = str(data["report"]).strip()


def _store_comment(plan, data, session, user):
    plan.review_comment = data.get("reason")


ACTION_PLAN = Workflow(
    name="Åtgärdsplan (§7.1.3)",
    entity_type="action_plan",
    states=PlanState,
    initial=P.REQUESTED,
    state_labels=STATE_LABELS,
    guards={"has_measures": has_measures, "all_measures_done": all_measures_done},
    triggers=[
        Trigger(
            "submit_plan",
            "Lämna in planen",
            (P.REQUESTED, P.RETURNED),
            P.SUBMITTED,
            HEAD,
            guards=("has_measures",),
        ),
        Trigger("approve", "Godkänn planen", (P.SUBMITTED,), P.APPROVED, PURCHASER),
        Trigger(
            "return_plan",
            "Återsänd med synpunkter",
            (P.SUBMITTED,),
            P.RETURNED,
            REVIEWERS,
            needs_reason=True,
            apply=_store_comment,
        ),
        Trigger(
            "report_done",
            "Rapportera som genomförd",
            (P.APPROVED,),
            P.REPORTED,
            HEAD,
            guards=("all_measures_done",),
            apply=_store_report,
        ),
        Trigger(
            "verify", "Verifiera att åtgärderna fått effekt", (P.REPORTED,), P.VERIFIED, AUDITOR
        ),
        Trigger(
            "send_back",
            "Skicka tillbaka",
            (P.REPORTED,),
            P.APPROVED,
            AUDITOR,
            needs_reason=True,
            apply=_store_comment,
        ),
        Trigger("close", "Avsluta planen", (P.VERIFIED,), P.CLOSED, PURCHASER),
    ],
)


def request_action_plan(
    session: Session,
    user: User,
    unit: Unit,
    *,
    title: str,
    requirements: str,
    due_date: dt.date | None,
    finding_ids: list[int] = (),
    dialog_id: int | None = None,
) -> ActionPlan:
    """Begär åtgärdsplan: what must be met, by when, for which findings (§7.1.3)."""
    if not user.has_role(Role.BESTALLARE):
        raise WorkflowError("Bara beställare kan begära en åtgärdsplan.")
    title, requirements = _clean(title), _clean(requirements)
    if not title or not requirements:
        raise WorkflowError("Ange rubrik och vilka krav planen ska uppfylla.")
    if due_date is None:
        raise WorkflowError("Ange planens sista dag.")
    if due_date < utcnow().date():
        raise WorkflowError("Planens sista dag kan inte ha passerat.")
    valid = set(
        session.scalars(
            sa.select(Finding.id).where(
                Finding.unit_id == unit.id, Finding.id.in_(list(finding_ids))
            )
        )
    )
    if set(finding_ids) - valid:
        raise WorkflowError("Iakttagelserna måste höra till enheten.")
    plan = ActionPlan(
        unit_id=unit.id,
        title=title,
        requirements=requirements,
        due_date=due_date,
        dialog_id=dialog_id,
        created_by_id=user.id,
        status=P.REQUESTED,
        findings=[ActionPlanFinding(finding_id=f) for f in sorted(valid)],
    )
    session.add(plan)
    session.flush()
    record(
        session,
        Actor.of(user),
        "action_plan",
        plan.id,
        "create",
        after={
            "unit": unit.code,
            "title": title,
            "requirements": requirements,
            "due_date": due_date,
            "findings": sorted(valid),
        },
    )
    return plan


def _require_unit_editor(user: User, plan: ActionPlan, states) -> None:
    if not any(a.role in UNIT_STAFF and a.unit_id == plan.unit_id for a in user.roles):
        raise WorkflowError("Bara enhetens verksamhetschef och personal ändrar planens åtgärder.")
    if plan.status not in states:
        raise WorkflowError("Åtgärderna kan inte ändras i planens nuvarande läge.")


def add_measure(
    session: Session,
    user: User,
    plan: ActionPlan,
    *,
    description: str,
    responsible: str,
    due_date: dt.date | None,
) -> ActionMeasure:
    """Lägg till åtgärd (while the plan is being written or after it was returned)."""
    _require_unit_editor(user, plan, (P.REQUESTED, P.RETURNED))
    description, responsible = _clean(description), _clean(responsible)
    if not description or not responsible or due_date is None:
        raise WorkflowError("Varje åtgärd behöver en beskrivning, en ansvarig och ett datum.")
    measure = ActionMeasure(
        plan=plan, description=description, responsible=responsible, due_date=due_date
    )
    session.add(measure)
    session.flush()
    record(
        session,
        Actor.of(user),
        "action_plan",
        plan.id,
        "add_measure",
        after={
            "measure": measure.id,
            "description": description,
            "responsible": responsible,
            "due_date": due_date,
        },
    )
    return measure


def mark_done(session: Session, user: User, measure: ActionMeasure, done_on: dt.date) -> None:
    """Markera åtgärd som genomförd (while the approved plan is carried out)."""
    plan = measure.plan
    _require_unit_editor(user, plan, (P.APPROVED,))
    if done_on > utcnow().date():
        raise WorkflowError("En åtgärd kan inte vara genomförd i framtiden.")
    before = measure.done_on
    measure.done_on = done_on
    session.flush()
    record(
        session,
        Actor.of(user),
        "action_plan",
        plan.id,
        "measure_done",
        before={"measure": measure.id, "done_on": before},
        after={"measure": measure.id, "done_on": done_on},
    )


def is_overdue(plan: ActionPlan, today: dt.date) -> bool:
    """Försenad: past its date and not yet reported done."""
    return plan.due_date < today and plan.status not in DONE_STATES


def overdue_measures(plan: ActionPlan, today: dt.date) -> list[ActionMeasure]:
    return [m for m in plan.measures if m.done_on is None and m.due_date < today]
