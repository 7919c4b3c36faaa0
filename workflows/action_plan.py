"""Åtgärdsplan (§7.1.3) as a state machine.

§7.1.3: "Beställaren kan också ställa krav som verksamhetschefen ska uppfylla genom en
åtgärdsplan" — requested (the requirements it must meet, linked findings, two dates: the day
the plan is to be handed in and the day its measures are to be done) → submitted by the unit's
verksamhetschef with its measures (each with a responsible person and a date, no later than the
plan's date for the measures) → approved, or returned with comments → measures carried out →
reported done, with evidence → verified by a granskare, sent back, or failed (underkänd) →
closed. Beställarenheten may move the dates or withdraw the plan (återkallad), with a reason.

Nothing can get stuck: measures can be changed and removed until the plan is approved, a
measure's date is checked against the plan when it is entered, and the dates can be moved.
A plan the unit has not handed in by its first date is late (försenad) from that day; only a
late or failed plan can be escalated to a sanction case, with grounds that say what happened.
"Dokumentationen behöver vara särskilt noggrann i fall där sanktioner kan komma att bli
aktuella" (§7.1.3): every change is one audit event.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.db import utcnow
from audit.models import Role, Unit, User
from audit.trail import Actor, record
from checklists.evidence import EvidenceError, accept_upload
from checklists.rounds import Finding
from workflows.engine import Trigger, Workflow, WorkflowError
from workflows.models import (
    ActionMeasure,
    ActionPlan,
    ActionPlanFinding,
    PlanEvidenceFile,
    PlanState,
)

P = PlanState
PURCHASER = frozenset({Role.BESTALLARE})
REVIEWERS = frozenset({Role.BESTALLARE, Role.GRANSKARE})
AUDITOR = frozenset({Role.GRANSKARE})
HEAD = frozenset({Role.VERKSAMHETSCHEF})
UNIT_STAFF = frozenset({Role.VERKSAMHETSCHEF, Role.PERSONAL})
DONE_STATES = (P.REPORTED, P.VERIFIED, P.CLOSED)
FINAL_STATES = (P.CLOSED, P.WITHDRAWN)
# Measures are the unit's to change until the plan is approved (while it is submitted too:
# every change is in the trail, and approval records the measures it approved).
EDITABLE_STATES = (P.REQUESTED, P.SUBMITTED, P.RETURNED)
# With the unit to hand in (first date) or to carry out (second date).
WRITING_STATES = (P.REQUESTED, P.RETURNED)
OPEN_STATES = (P.REQUESTED, P.SUBMITTED, P.RETURNED, P.APPROVED, P.REPORTED)

STATE_LABELS = {
    P.REQUESTED: "Begärd",
    P.SUBMITTED: "Inlämnad",
    P.RETURNED: "Återsänd med synpunkter",
    P.APPROVED: "Godkänd – åtgärder pågår",
    P.REPORTED: "Rapporterad som genomförd",
    P.VERIFIED: "Verifierad",
    P.FAILED: "Underkänd",
    P.CLOSED: "Avslutad",
    P.WITHDRAWN: "Återkallad",
}


def _clean(text) -> str:
    return " ".join(str(text or "").split())


def today() -> dt.date:
    return utcnow().date()


def _late_measures(plan) -> list[ActionMeasure]:
    return [m for m in plan.measures if m.done_on is None and m.due_date > plan.measures_due]


# --- guards ----------------------------------------------------------------------------------


def has_measures(plan, data, session) -> str | None:
    if not plan.measures:
        return "Planen behöver minst en åtgärd med ansvarig och datum."
    late = _late_measures(plan)
    if late:
        # Only after Beställarenheten moved the date earlier: each measure can be changed.
        return (
            f"{len(late)} åtgärder har datum efter planens sista dag för åtgärderna "
            f"{plan.measures_due.isoformat()}; ändra deras datum eller ta bort dem."
        )
    return None


def all_measures_done(plan, data, session) -> str | None:
    open_ = [m for m in plan.measures if m.done_on is None]
    if open_:
        return f"{len(open_)} åtgärder är inte markerade som genomförda."
    if not _clean(data.get("report")):
        return "Beskriv vad som har gjorts och vilket underlag som visar det."
    return None


# --- storing ---------------------------------------------------------------------------------


def _store_report(plan, data, session, user):
    plan.report = str(data["report"]).strip()
    data["files"] = [f.id for f in plan.files if f.removed_at is None]


def _store_comment(plan, data, session, user):
    plan.review_comment = data.get("reason")


def _store_approval(plan, data, session, user):
    # What was approved, in the trail: measures stay editable until this moment.
    data["measures"] = [
        {
            "measure": m.id,
            "description": m.description,
            "responsible": m.responsible,
            "due_date": m.due_date,
        }
        for m in plan.measures
    ]


def _store_withdrawal(plan, data, session, user):
    plan.withdraw_reason = data.get("reason")


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
            WRITING_STATES,
            P.SUBMITTED,
            HEAD,
            guards=("has_measures",),
        ),
        Trigger(
            "approve",
            "Godkänn planen",
            (P.SUBMITTED,),
            P.APPROVED,
            PURCHASER,
            guards=("has_measures",),
            apply=_store_approval,
        ),
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
        Trigger(
            "fail",
            "Underkänn – åtgärderna har inte fått effekt",
            (P.REPORTED,),
            P.FAILED,
            AUDITOR,
            needs_reason=True,
            apply=_store_comment,
        ),
        Trigger("close", "Avsluta planen", (P.VERIFIED, P.FAILED), P.CLOSED, PURCHASER),
        Trigger(
            "withdraw",
            "Återkalla planen",
            OPEN_STATES,
            P.WITHDRAWN,
            PURCHASER,
            needs_reason=True,
            apply=_store_withdrawal,
        ),
    ],
)


def _check_dates(plan_due: dt.date | None, measures_due: dt.date | None) -> None:
    if plan_due is None:
        raise WorkflowError("Ange sista dag för att lämna in planen.", guard="plan_due")
    if measures_due is None:
        raise WorkflowError(
            "Ange sista dag för när åtgärderna ska vara genomförda.", guard="measures_due"
        )
    if measures_due < plan_due:
        raise WorkflowError(
            "Åtgärderna kan inte vara klara före planen är inlämnad: sista dag för åtgärderna "
            "ska vara samma dag eller senare än sista dag för planen.",
            guard="measures_due",
        )


def request_action_plan(
    session: Session,
    user: User,
    unit: Unit,
    *,
    title: str,
    requirements: str,
    plan_due: dt.date | None,
    measures_due: dt.date | None,
    finding_ids: list[int] = (),
    dialog_id: int | None = None,
) -> ActionPlan:
    """Begär åtgärdsplan (§7.1.3): what must be met, by when the plan is to be handed in and
    by when its measures are to be done, for which findings."""
    if not user.has_role(Role.BESTALLARE):
        raise WorkflowError("Bara beställare kan begära en åtgärdsplan.")
    title, requirements = _clean(title), _clean(requirements)
    if not title or not requirements:
        raise WorkflowError("Ange rubrik och vilka krav planen ska uppfylla.")
    _check_dates(plan_due, measures_due)
    if plan_due < today():
        raise WorkflowError("Planens sista dag kan inte ha passerat.", guard="plan_due")
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
        plan_due=plan_due,
        measures_due=measures_due,
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
            "plan_due": plan_due,
            "measures_due": measures_due,
            "findings": sorted(valid),
        },
    )
    return plan


def change_deadlines(
    session: Session,
    user: User,
    plan: ActionPlan,
    *,
    plan_due: dt.date | None,
    measures_due: dt.date | None,
    reason: str,
) -> None:
    """Ändra planens datum (Beställarenheten), with a reason, in the trail. The measures'
    own dates must still fit: a measure dated after a new, earlier date is named."""
    if not user.has_role(Role.BESTALLARE):
        raise WorkflowError("Bara beställare kan ändra planens datum.")
    if plan.status not in OPEN_STATES or plan.status == P.REPORTED:
        raise WorkflowError(
            f"Datumen kan inte ändras när planen är {STATE_LABELS[plan.status].lower()}."
        )
    reason = _clean(reason)
    if not reason:
        raise WorkflowError("Ange ett skäl till ändringen.", guard="reason")
    _check_dates(plan_due, measures_due)
    if plan_due == plan.plan_due and measures_due == plan.measures_due:
        raise WorkflowError("Datumen är desamma som förut.", guard="plan_due")
    for name, new, old in (
        ("plan_due", plan_due, plan.plan_due),
        ("measures_due", measures_due, plan.measures_due),
    ):
        if new != old and new < today():
            raise WorkflowError("Ett nytt datum kan inte ha passerat.", guard=name)
    late = [m for m in plan.measures if m.done_on is None and m.due_date > measures_due]
    if late:
        raise WorkflowError(
            f"{len(late)} åtgärder har datum efter {measures_due.isoformat()}; välj ett senare "
            "datum, eller låt enheten ändra åtgärderna först.",
            guard="measures_due",
        )
    before = {"plan_due": plan.plan_due, "measures_due": plan.measures_due}
    plan.plan_due, plan.measures_due = plan_due, measures_due
    session.flush()
    record(
        session,
        Actor.of(user),
        "action_plan",
        plan.id,
        "change_deadlines",
        before=before,
        after={"plan_due": plan_due, "measures_due": measures_due},
        reason=reason,
    )


# --- measures --------------------------------------------------------------------------------


def _require_unit_editor(user: User, plan: ActionPlan, states) -> None:
    if not any(a.role in UNIT_STAFF and a.unit_id == plan.unit_id for a in user.roles):
        raise WorkflowError("Bara enhetens verksamhetschef och personal ändrar planens åtgärder.")
    if plan.status not in states:
        raise WorkflowError(
            f"Åtgärderna kan inte ändras när planen är {STATE_LABELS[plan.status].lower()}."
        )


def _measure_fields(plan, description, responsible, due_date) -> tuple[str, str, dt.date]:
    """A measure's fields, checked as they are entered: its date no later than the plan's
    date for the measures (so the plan can always be handed in)."""
    description, responsible = _clean(description), _clean(responsible)
    if not description:
        raise WorkflowError("Beskriv åtgärden.", guard="description")
    if not responsible:
        raise WorkflowError("Ange vem som är ansvarig för åtgärden.", guard="responsible")
    if due_date is None:
        raise WorkflowError("Ange när åtgärden ska vara genomförd.", guard="measure_due")
    if due_date > plan.measures_due:
        raise WorkflowError(
            f"Åtgärden måste vara genomförd senast planens sista dag för åtgärderna, "
            f"{plan.measures_due.isoformat()}. Välj ett tidigare datum, eller be "
            "Beställarenheten flytta planens datum.",
            guard="measure_due",
        )
    return description, responsible, due_date


def add_measure(
    session: Session,
    user: User,
    plan: ActionPlan,
    *,
    description: str,
    responsible: str,
    due_date: dt.date | None,
) -> ActionMeasure:
    """Lägg till åtgärd (until the plan is approved)."""
    _require_unit_editor(user, plan, EDITABLE_STATES)
    description, responsible, due_date = _measure_fields(plan, description, responsible, due_date)
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


def edit_measure(
    session: Session,
    user: User,
    measure: ActionMeasure,
    *,
    description: str,
    responsible: str,
    due_date: dt.date | None,
) -> None:
    """Ändra åtgärd (until the plan is approved): before and after in the trail."""
    plan = measure.plan
    _require_unit_editor(user, plan, EDITABLE_STATES)
    description, responsible, due_date = _measure_fields(plan, description, responsible, due_date)
    before = {
        "measure": measure.id,
        "description": measure.description,
        "responsible": measure.responsible,
        "due_date": measure.due_date,
    }
    after = {
        "measure": measure.id,
        "description": description,
        "responsible": responsible,
        "due_date": due_date,
    }
    if before == after:
        return
    measure.description, measure.responsible, measure.due_date = description, responsible, due_date
    session.flush()
    record(
        session, Actor.of(user), "action_plan", plan.id, "edit_measure", before=before, after=after
    )


def remove_measure(session: Session, user: User, measure: ActionMeasure) -> None:
    """Ta bort åtgärd (until the plan is approved); the trail keeps what it said."""
    plan = measure.plan
    _require_unit_editor(user, plan, EDITABLE_STATES)
    before = {
        "measure": measure.id,
        "description": measure.description,
        "responsible": measure.responsible,
        "due_date": measure.due_date,
    }
    plan.measures.remove(measure)
    session.flush()
    record(session, Actor.of(user), "action_plan", plan.id, "remove_measure", before=before)


def mark_done(session: Session, user: User, measure: ActionMeasure, done_on: dt.date) -> None:
    """Markera åtgärd som genomförd (while the approved plan is carried out)."""
    plan = measure.plan
    _require_unit_editor(user, plan, (P.APPROVED,))
    if done_on > today():
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


# --- evidence for the report -----------------------------------------------------------------


def add_report_file(
    session: Session, user: User, plan: ActionPlan, checked, data: bytes, store
) -> PlanEvidenceFile:
    """Underlag till rapporten: a file (checked by :func:`checklists.evidence.check_upload`)
    showing what was done, refused with a personnummer anywhere in it, like checklist
    evidence; the bytes reach the store when the transaction commits."""
    _require_unit_editor(user, plan, (P.APPROVED,))
    try:
        stored = accept_upload(session, store, checked, data)
    except EvidenceError as exc:
        raise WorkflowError(str(exc), guard="file") from None
    evidence = PlanEvidenceFile(plan=plan, **stored, uploaded_by_id=user.id)
    session.add(evidence)
    session.flush()
    record(
        session,
        Actor.of(user),
        "action_plan",
        plan.id,
        "add_evidence",
        after={
            "file_id": evidence.id,
            "filename": evidence.filename,
            "sha256": evidence.sha256,
            "size": evidence.size,
        },
    )
    return evidence


def remove_report_file(session: Session, user: User, evidence: PlanEvidenceFile) -> None:
    """Ta bort underlag (before the report; the row stays, marked removed)."""
    plan = evidence.plan
    _require_unit_editor(user, plan, (P.APPROVED,))
    if evidence.removed_at is not None:
        return
    evidence.removed_at = utcnow()
    session.flush()
    record(
        session,
        Actor.of(user),
        "action_plan",
        plan.id,
        "remove_evidence",
        before={"file_id": evidence.id, "filename": evidence.filename},
    )


# --- lateness and escalation -----------------------------------------------------------------


def overdue_measures(plan: ActionPlan, on: dt.date) -> list[ActionMeasure]:
    return [m for m in plan.measures if m.done_on is None and m.due_date < on]


def is_overdue(plan: ActionPlan, on: dt.date) -> bool:
    """Försenad: not handed in by its first date, or (approved) not carried out by the
    measures' dates. A submitted plan waits for Beställarenheten, not for the unit."""
    if plan.status in WRITING_STATES:
        return plan.plan_due < on
    if plan.status == P.APPROVED:
        return plan.measures_due < on or bool(overdue_measures(plan, on))
    return False


def escalation_grounds(plan: ActionPlan, on: dt.date) -> str:
    """Grunder för eskalering: what actually happened to a late or failed plan, in Swedish;
    refused for any other plan (a plan just requested is not a breach)."""
    head = f"Åtgärdsplanen ”{plan.title}” (krav: {plan.requirements})"
    if plan.status == P.FAILED:
        return (
            f"{head} rapporterades som genomförd men underkändes av granskaren: "
            f"{plan.review_comment or 'åtgärderna har inte fått avsedd effekt'}."
        )
    if plan.status in WRITING_STATES and plan.plan_due < on:
        what = (
            "har inte lämnats in"
            if plan.status == P.REQUESTED
            else ("återsändes med synpunkter och har inte lämnats in på nytt")
        )
        return f"{head} {what}; sista dag för att lämna in den var {plan.plan_due.isoformat()}."
    if plan.status == P.APPROVED and is_overdue(plan, on):
        late = overdue_measures(plan, on)
        if plan.measures_due < on:
            when = f"planens sista dag för åtgärderna {plan.measures_due.isoformat()} har passerat"
        else:
            when = "åtgärdernas egna datum har passerat"
        listed = "; ".join(f"”{m.description}” ({m.due_date.isoformat()})" for m in late)
        return f"{head} godkändes, men {when} utan att planen rapporterats som genomförd" + (
            f". Ej genomförda åtgärder: {listed}." if listed else "."
        )
    raise WorkflowError(
        "Bara en försenad eller underkänd åtgärdsplan kan eskaleras till ett sanktionsärende; "
        f"den här är {STATE_LABELS[plan.status].lower()} och inte försenad."
    )
