"""Snabbspåret för patientsäkerhet (§7.1.3).

§7.1.3: "Vissa risker kan ha direkt betydelse för patienternas vård och säkerhet, och därmed
kräva särskilt snabb utredning. I sådana fall hanteras frågan enligt Region Västerbottens
rutiner för hantering av patientsäkerhetsfrågor, och det kan bli aktuellt att samarbeta med
den statliga tillsynsmyndigheten IVO."

A finding of severity ``patient_safety`` therefore

- asks the beställare for a recorded **IVO decision**: referred to IVO on a date under IVO's
  reference, or not referred, with the reason (``record_ivo_decision``) — "det kan bli
  aktuellt", so not referring is a decision too, and it is written down with its reason
  (§7.1.3: "Dokumentationen behöver vara särskilt noggrann"); due within
  :data:`IVO_DECISION_WORKING_DAYS` working days of the finding;
- gets **shorter deadlines** (:data:`PATIENT_SAFETY_DEADLINES` instead of
  :data:`STANDARD_DEADLINES`): an action plan its disposition opens is due sooner, and a
  sanction case resting on it proposes a shorter response and kommunicering reply time
  ("särskilt snabb utredning"; förvaltningslagen 9 § "så enkelt, snabbt och kostnadseffektivt
  som möjligt"). The unit is still heard: the shortest reply time is a working week, enough to
  read the grounds and answer them (förvaltningslagen 25 §: a reasonable time), and the
  beställare may give more;
- is **visible** on the unit page and on the beställare's start page until its IVO decision
  is recorded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from audit.db import utcnow
from audit.models import Role, User
from audit.trail import Actor, record
from checklists.models import Severity
from checklists.rounds import Finding
from checklists.workdays import add_working_days
from workflows.engine import WorkflowError
from workflows.models import ActionPlan, DialogFinding, IvoReferral, SanctionCase, SanctionGround


@dataclasses.dataclass(frozen=True)
class Deadlines:
    """Tidsfrister in working days: for an action plan a disposition opens (hand the plan in
    within ``plan_days`` of the disposition; its measures within ``measures_days`` after
    that), and the times a sanction case proposes for the unit's response to the grounds
    (``response_days``) and its reply to an intended decision (``reply_days``)."""

    plan_days: int
    measures_days: int
    response_days: int
    reply_days: int


# Configurable here, in one place (assumptions to confirm with Beställarenheten): four weeks to
# hand in a plan and three months more for its measures; two weeks to answer in a sanction
# case, as the sanction forms proposed before.
STANDARD_DEADLINES = Deadlines(plan_days=20, measures_days=60, response_days=10, reply_days=10)
# The fast route: a plan within a working week, its measures within four weeks after it; a
# working week to answer the grounds and the intended decision.
PATIENT_SAFETY_DEADLINES = Deadlines(plan_days=5, measures_days=20, response_days=5, reply_days=5)
# The beställare's IVO decision on a patient-safety finding: within two working days.
IVO_DECISION_WORKING_DAYS = 2


def today() -> dt.date:
    return utcnow().date()


def _clean(text) -> str:
    return " ".join(str(text or "").split())


def is_patient_safety(finding: Finding) -> bool:
    return finding.severity == Severity.PATIENT_SAFETY


def deadlines_for(findings) -> Deadlines:
    """The fast route's deadlines when any of ``findings`` is a patient-safety finding."""
    if any(is_patient_safety(f) for f in findings):
        return PATIENT_SAFETY_DEADLINES
    return STANDARD_DEADLINES


def case_is_patient_safety(session: Session, case: SanctionCase) -> bool:
    """A sanction case on the fast route: one of its grounds (a finding, or a finding of a
    plan on which it rests) is a patient-safety finding. One query."""
    from workflows.models import ActionPlanFinding

    direct = sa.select(SanctionGround.finding_id).where(
        SanctionGround.case_id == case.id, SanctionGround.finding_id.is_not(None)
    )
    via_plans = (
        sa.select(ActionPlanFinding.finding_id)
        .join(SanctionGround, SanctionGround.plan_id == ActionPlanFinding.plan_id)
        .where(SanctionGround.case_id == case.id)
    )
    return bool(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Finding)
            .where(
                Finding.severity == Severity.PATIENT_SAFETY,
                sa.or_(Finding.id.in_(direct), Finding.id.in_(via_plans)),
            )
        )
    )


def plan_is_patient_safety(session: Session, plan: ActionPlan) -> bool:
    return any(is_patient_safety(f.finding) for f in plan.findings)


def ivo_decision_due(finding: Finding) -> dt.date:
    """Sista dag för beslutet om anmälan till IVO."""
    return add_working_days(finding.created_at.date(), IVO_DECISION_WORKING_DAYS)


# --- the IVO decision ----------------------------------------------------------------------


def record_ivo_decision(
    session: Session,
    user: User,
    finding: Finding,
    *,
    referred: bool,
    referred_on: dt.date | None = None,
    reference: str = "",
    reason: str = "",
) -> IvoReferral:
    """Beslut om anmälan till IVO för en patientsäkerhetsiakttagelse (§7.1.3), by the
    beställare: referred (date, IVO's reference) or not referred (the reason). A decision not
    to refer may later be followed by a referral (new facts); a referral is final."""
    if not user.has_role(Role.BESTALLARE):
        raise WorkflowError("Bara beställare beslutar om anmälan till IVO.")
    if not is_patient_safety(finding):
        raise WorkflowError("Snabbspåret gäller iakttagelser som rör patientsäkerheten.")
    earlier = session.scalars(
        sa.select(IvoReferral).where(IvoReferral.finding_id == finding.id)
    ).all()
    if any(r.referred for r in earlier):
        raise WorkflowError("Iakttagelsen är redan anmäld till IVO.")
    if earlier and not referred:
        raise WorkflowError("Beslutet att inte anmäla är redan registrerat.")
    reference, reason = _clean(reference), _clean(reason)
    if referred:
        if referred_on is None:
            raise WorkflowError("Ange datum för anmälan till IVO.", guard="referred_on")
        if referred_on > today():
            raise WorkflowError("Anmälningsdatum kan inte ligga i framtiden.", guard="referred_on")
        if not reference:
            raise WorkflowError("Ange IVO:s diarienummer eller annan referens.", guard="reference")
        reason = ""
    else:
        if not reason:
            raise WorkflowError("Ange skälet till att inte anmäla till IVO.", guard="reason")
        referred_on, reference = None, ""
    row = IvoReferral(
        unit_id=finding.unit_id,
        finding_id=finding.id,
        referred=referred,
        referred_on=referred_on,
        reference=reference or None,
        reason=reason or None,
        referred_by_id=user.id,
    )
    session.add(row)
    session.flush()
    record(
        session,
        Actor.of(user),
        "ivo_referral",
        row.id,
        "decide" if not referred else "create",
        after={
            "finding": finding.id,
            "referred": referred,
            "referred_on": referred_on,
            "reference": reference or None,
            "reason": reason or None,
        },
    )
    return row


# --- what the pages show -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FastRouteEntry:
    """A patient-safety finding on the fast route: its IVO decision (or when it is due) and
    the plan or case its disposition opened, with their deadlines."""

    finding: Finding
    decision: IvoReferral | None
    due: dt.date
    plan: ActionPlan | None
    case: SanctionCase | None

    @property
    def overdue(self) -> bool:
        return self.decision is None and self.due < today()


def fast_route(
    session: Session, *, unit_id: int | None = None, undecided_only=False, unit_ids=None
):
    """The fast route's findings, oldest first: of one unit (``unit_id``), or of the units in
    ``unit_ids`` (a select of ids, None for all); ``undecided_only`` keeps those without an
    IVO decision. Three queries, whatever the number of findings."""
    stmt = (
        sa.select(Finding)
        .where(Finding.severity == Severity.PATIENT_SAFETY)
        .options(selectinload(Finding.requirement), selectinload(Finding.unit))
        .order_by(Finding.created_at, Finding.id)
    )
    if unit_id is not None:
        stmt = stmt.where(Finding.unit_id == unit_id)
    if unit_ids is not None:
        stmt = stmt.where(Finding.unit_id.in_(unit_ids))
    decided = sa.select(IvoReferral.finding_id).where(IvoReferral.finding_id.is_not(None))
    if undecided_only:
        stmt = stmt.where(Finding.id.not_in(decided))
    findings = session.scalars(stmt).all()
    ids = [f.id for f in findings]
    decisions: dict[int, IvoReferral] = {}
    opened: dict[int, DialogFinding] = {}
    if ids:
        for row in session.scalars(
            sa.select(IvoReferral).where(IvoReferral.finding_id.in_(ids)).order_by(IvoReferral.id)
        ):
            decisions[row.finding_id] = row  # the latest counts (a referral after a "no")
        for entry in session.scalars(
            sa.select(DialogFinding)
            .where(
                DialogFinding.finding_id.in_(ids),
                sa.or_(
                    DialogFinding.action_plan_id.is_not(None),
                    DialogFinding.sanction_case_id.is_not(None),
                ),
            )
            .options(
                selectinload(DialogFinding.action_plan), selectinload(DialogFinding.sanction_case)
            )
            .order_by(DialogFinding.id)
        ):
            opened[entry.finding_id] = entry
    return [
        FastRouteEntry(
            finding=f,
            decision=decisions.get(f.id),
            due=ivo_decision_due(f),
            plan=opened[f.id].action_plan if f.id in opened else None,
            case=opened[f.id].sanction_case if f.id in opened else None,
        )
        for f in findings
    ]
