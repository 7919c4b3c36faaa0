"""Sanktionsprocessen as a state machine, and the IVO referral.

opened on grounds (findings, action plans) → the unit is informed and given a response
deadline in working days → response received, or the deadline passed → assessed → decided (one
step of the ladder: påpekande, krav på åtgärdsplan, vite, nedsättning av ersättningen, hävning;
with a written rationale including proportionality; financial sanctions and termination only by
Regionstyrelsen with a diarienummer) → notified → carried out → closed; or withdrawn with a
reason. "Dokumentationen behöver vara särskilt noggrann" (§7.1.3): every step is audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.db import utcnow
from audit.models import Role, Unit, User
from audit.trail import Actor, record
from checklists.rounds import Finding
from checklists.workdays import add_working_days
from workflows.engine import Trigger, Workflow, WorkflowError
from workflows.models import (
    ActionPlan,
    DecidingBody,
    Decision,
    IvoReferral,
    SanctionCase,
    SanctionGround,
    SanctionState,
)

C = SanctionState
PURCHASER = frozenset({Role.BESTALLARE})
REVIEWERS = frozenset({Role.BESTALLARE, Role.GRANSKARE})
HEAD = frozenset({Role.VERKSAMHETSCHEF})
OPEN_STATES = (
    C.OPENED,
    C.INFORMED,
    C.RESPONSE_RECEIVED,
    C.DEADLINE_PASSED,
    C.ASSESSED,
    C.DECIDED,
    C.NOTIFIED,
    C.CARRIED_OUT,
)
LADDER = list(Decision)
REGIONSTYRELSEN_ONLY = (Decision.PENALTY, Decision.REDUCTION, Decision.TERMINATION)
DIARIENUMMER_RE = re.compile(r"^[A-ZÅÄÖ]{2,6}\s?\d{1,6}[-/]\d{1,6}(\s?\d{4})?$")
DECISION_LABELS = {
    Decision.REMARK: "påpekande",
    Decision.ACTION_PLAN: "krav på åtgärdsplan",
    Decision.PENALTY: "vite",
    Decision.REDUCTION: "nedsättning av kapiteringsersättningen",
    Decision.TERMINATION: "hävning av avtalet",
}
STATE_LABELS = {
    C.OPENED: "Öppnat",
    C.INFORMED: "Enheten informerad – svarstid löper",
    C.RESPONSE_RECEIVED: "Yttrande inkommet",
    C.DEADLINE_PASSED: "Svarstiden har gått ut",
    C.ASSESSED: "Bedömt",
    C.DECIDED: "Beslutat",
    C.NOTIFIED: "Beslutet meddelat",
    C.CARRIED_OUT: "Verkställt",
    C.CLOSED: "Avslutat",
    C.WITHDRAWN: "Återkallat",
}


def _clean(text) -> str:
    return " ".join(str(text or "").split())


def today() -> dt.date:
    return utcnow().date()


# --- guards ----------------------------------------------------------------------------------


def response_days_given(case, data, session) -> str | None:
    days = data.get("response_days")
    if not isinstance(days, int) or not 1 <= days <= 60:
        return "Ange svarstiden i arbetsdagar (1–60)."
    return None


def response_written(case, data, session) -> str | None:
    if not _clean(data.get("response")):
        return "Skriv enhetens yttrande."
    if case.response_deadline and today() > case.response_deadline:
        return (
            f"Svarstiden gick ut {case.response_deadline.isoformat()}; kontakta Beställarenheten."
        )
    return None


def deadline_has_passed(case, data, session) -> str | None:
    if case.response_deadline is None:
        return "Ingen svarstid är satt i ärendet."
    if today() <= case.response_deadline:
        return f"Svarstiden löper till och med {case.response_deadline.isoformat()}."
    return None


def assessment_written(case, data, session) -> str | None:
    if not _clean(data.get("assessment")):
        return "Skriv bedömningen."
    return None


def decision_complete(case, data, session) -> str | None:
    try:
        decision = Decision(data.get("decision"))
    except ValueError:
        return "Välj beslut på sanktionstrappan."
    rationale = _clean(data.get("rationale"))
    if len(rationale) < 20 or "proportion" not in rationale.lower():
        return (
            "Skriv en motivering som också prövar proportionaliteten (ordet "
            "”proportionalitet” eller ”proportionerlig” ska finnas med)."
        )
    try:
        body = DecidingBody(data.get("deciding_body"))
    except ValueError:
        return "Ange vem som beslutar."
    if decision in REGIONSTYRELSEN_ONLY and body != DecidingBody.REGIONSTYRELSEN:
        return (
            f"Beslut om {DECISION_LABELS[decision]} fattas av Regionstyrelsen, inte inom "
            "Beställarenhetens delegation."
        )
    diarienummer = _clean(data.get("diarienummer")).upper()
    if body == DecidingBody.REGIONSTYRELSEN and not DIARIENUMMER_RE.match(diarienummer):
        return "Regionstyrelsens beslut behöver ett diarienummer, t.ex. RS 2025/123."
    if decision == Decision.PENALTY:
        amount = data.get("penalty_sek")
        if not isinstance(amount, int) or amount <= 0:
            return "Ange vitets belopp i kronor."
    if decision == Decision.REDUCTION:
        percent, start, end = (
            data.get("reduction_percent"),
            data.get("reduction_from"),
            data.get("reduction_to"),
        )
        if not isinstance(percent, int | float) or not 0 < percent <= 100:
            return "Ange nedsättningen i procent (över 0 och högst 100)."
        if not isinstance(start, dt.date) or not isinstance(end, dt.date) or end < start:
            return "Ange perioden för nedsättningen (från och till)."
        source = _restricted_service(session, case)
        if source is not None:
            first, last = source.period
            if start < first or end > last:
                return (
                    "Neddragningen gäller för motsvarande tid som utbudet var begränsat (§2.7.6): "
                    f"perioden ska ligga inom {first.isoformat()}–{last.isoformat()}."
                )
    return None


def _restricted_service(session, case):
    """The restricted-service case (§2.7.6) this sanction case was opened from, if any."""
    from workflows.cases.models import Case

    if case.id is None:
        return None
    return session.scalar(sa.select(Case).where(Case.capitation_case_id == case.id))


# --- storing ---------------------------------------------------------------------------------


def _store_information(case, data, session, user):
    case.response_deadline = add_working_days(today(), data["response_days"])
    data["response_deadline"] = case.response_deadline


def _store_response(case, data, session, user):
    case.response = str(data["response"]).strip()


def _store_assessment(case, data, session, user):
    case.assessment = str(data["assessment"]).strip()


def _store_decision(case, data, session, user):
    decision = Decision(data["decision"])
    case.decision = decision
    case.rationale = str(data["rationale"]).strip()
    case.deciding_body = DecidingBody(data["deciding_body"])
    case.diarienummer = _clean(data.get("diarienummer")).upper() or None
    case.penalty_sek = data.get("penalty_sek") if decision == Decision.PENALTY else None
    if decision == Decision.REDUCTION:
        case.reduction_percent = float(data["reduction_percent"])
        case.reduction_from, case.reduction_to = data["reduction_from"], data["reduction_to"]
    case.decided_on = today()


def _store_notified(case, data, session, user):
    case.notified_on = today()


def _store_withdrawal(case, data, session, user):
    case.withdraw_reason = data.get("reason")


SANCTION = Workflow(
    name="Sanktionsärende",
    entity_type="sanction_case",
    states=SanctionState,
    initial=C.OPENED,
    state_labels=STATE_LABELS,
    guards={
        "response_days_given": response_days_given,
        "response_written": response_written,
        "deadline_has_passed": deadline_has_passed,
        "assessment_written": assessment_written,
        "decision_complete": decision_complete,
    },
    triggers=[
        Trigger(
            "inform_unit",
            "Informera enheten och ge svarstid",
            (C.OPENED,),
            C.INFORMED,
            PURCHASER,
            guards=("response_days_given",),
            apply=_store_information,
        ),
        Trigger(
            "respond",
            "Lämna yttrande",
            (C.INFORMED,),
            C.RESPONSE_RECEIVED,
            HEAD,
            guards=("response_written",),
            apply=_store_response,
        ),
        Trigger(
            "note_deadline_passed",
            "Notera att svarstiden gått ut",
            (C.INFORMED,),
            C.DEADLINE_PASSED,
            PURCHASER,
            guards=("deadline_has_passed",),
        ),
        Trigger(
            "assess",
            "Bedöm ärendet",
            (C.RESPONSE_RECEIVED, C.DEADLINE_PASSED),
            C.ASSESSED,
            REVIEWERS,
            guards=("assessment_written",),
            apply=_store_assessment,
        ),
        Trigger(
            "decide",
            "Registrera beslut",
            (C.ASSESSED,),
            C.DECIDED,
            PURCHASER,
            guards=("decision_complete",),
            apply=_store_decision,
        ),
        Trigger(
            "notify",
            "Beslutet är meddelat enheten",
            (C.DECIDED,),
            C.NOTIFIED,
            PURCHASER,
            apply=_store_notified,
        ),
        Trigger("carry_out", "Beslutet är verkställt", (C.NOTIFIED,), C.CARRIED_OUT, PURCHASER),
        Trigger("close", "Avsluta ärendet", (C.CARRIED_OUT,), C.CLOSED, PURCHASER),
        Trigger(
            "withdraw",
            "Återkalla ärendet",
            OPEN_STATES,
            C.WITHDRAWN,
            PURCHASER,
            needs_reason=True,
            apply=_store_withdrawal,
        ),
    ],
)


def open_case(
    session: Session,
    user: User,
    unit: Unit,
    *,
    title: str,
    grounds: str,
    finding_ids=(),
    plan_ids=(),
) -> SanctionCase:
    """Öppna sanktionsärende on grounds: findings and/or action plans of the unit."""
    if not user.has_role(Role.BESTALLARE):
        raise WorkflowError("Bara beställare kan öppna ett sanktionsärende.")
    title, grounds = _clean(title), _clean(grounds)
    if not title or not grounds:
        raise WorkflowError("Ange rubrik och grunderna för ärendet.")
    findings = set(
        session.scalars(
            sa.select(Finding.id).where(
                Finding.unit_id == unit.id, Finding.id.in_(list(finding_ids))
            )
        )
    )
    plans = set(
        session.scalars(
            sa.select(ActionPlan.id).where(
                ActionPlan.unit_id == unit.id, ActionPlan.id.in_(list(plan_ids))
            )
        )
    )
    if findings != set(finding_ids) or plans != set(plan_ids):
        raise WorkflowError("Grunderna måste höra till enheten.")
    case = SanctionCase(
        unit_id=unit.id,
        title=title,
        grounds=grounds,
        created_by_id=user.id,
        status=C.OPENED,
        ground_findings=[SanctionGround(finding_id=f) for f in sorted(findings)]
        + [SanctionGround(plan_id=p) for p in sorted(plans)],
    )
    session.add(case)
    session.flush()
    record(
        session,
        Actor.of(user),
        "sanction_case",
        case.id,
        "create",
        after={
            "unit": unit.code,
            "title": title,
            "grounds": grounds,
            "findings": sorted(findings),
            "plans": sorted(plans),
        },
    )
    return case


def escalate_plan(session: Session, user: User, plan: ActionPlan) -> SanctionCase:
    """Eskalera: an overdue or failed action plan becomes a sanction case in one action."""
    return open_case(
        session,
        user,
        plan.unit,
        title=f"Åtgärdsplan: {plan.title}",
        grounds=(
            f"Åtgärdsplanen ”{plan.title}” med sista dag "
            f"{plan.due_date.isoformat()} är inte genomförd enligt kraven: "
            f"{plan.requirements}"
        ),
        finding_ids=[f.finding_id for f in plan.findings],
        plan_ids=[plan.id],
    )


@dataclasses.dataclass(frozen=True)
class Suggestion:
    """The ladder's suggested next step and why (people decide)."""

    decision: Decision
    reason: str


def suggest_decision(session: Session, case: SanctionCase, on: dt.date | None = None) -> Suggestion:
    """Föreslå steg: one step above the heaviest decision the unit has had in the last 12
    months on any of the same requirements; a remark when there is none."""
    on = on or today()
    requirement_ids = {g.finding.requirement_id for g in case.ground_findings if g.finding}
    for ground in case.ground_findings:
        if ground.plan:
            requirement_ids |= {f.finding.requirement_id for f in ground.plan.findings}
    if not requirement_ids:
        return Suggestion(
            Decision.REMARK,
            "Inga tidigare beslut om samma krav kan kopplas till "
            "ärendet; första steget är påpekande.",
        )
    earlier = session.execute(
        sa.select(SanctionCase.decision, SanctionCase.decided_on, SanctionCase.id)
        .join(SanctionGround, SanctionGround.case_id == SanctionCase.id)
        .join(Finding, Finding.id == SanctionGround.finding_id)
        .where(
            SanctionCase.unit_id == case.unit_id,
            SanctionCase.id != case.id,
            SanctionCase.decision.is_not(None),
            SanctionCase.status != C.WITHDRAWN,
            SanctionCase.decided_on >= on - dt.timedelta(days=365),
            Finding.requirement_id.in_(requirement_ids),
        )
        .distinct()
    ).all()
    if not earlier:
        return Suggestion(
            Decision.REMARK,
            "Enheten har inga beslut om samma krav de senaste "
            "12 månaderna; första steget är påpekande.",
        )
    heaviest = max(earlier, key=lambda row: LADDER.index(row.decision))
    step = LADDER[min(LADDER.index(heaviest.decision) + 1, len(LADDER) - 1)]
    return Suggestion(
        step,
        (
            f"Senaste tolv månaderna har enheten fått {DECISION_LABELS[heaviest.decision]} "
            f"({heaviest.decided_on.isoformat()}, ärende {heaviest.id}) om samma krav; nästa steg "
            f"är {DECISION_LABELS[step]}. Proportionaliteten prövas i varje ärende."
        ),
    )


def refer_to_ivo(
    session: Session,
    user: User,
    unit: Unit,
    *,
    referred_on: dt.date | None,
    reference: str,
    finding_id: int | None = None,
    case_id: int | None = None,
) -> IvoReferral:
    """Anmälan till IVO in a matter of patient safety (§7.1.3), recorded on the unit."""
    if not user.has_role(Role.BESTALLARE, Role.GRANSKARE):
        raise WorkflowError("Bara beställare och granskare registrerar anmälan till IVO.")
    reference = _clean(reference)
    if not reference:
        raise WorkflowError("Ange IVO:s diarienummer eller annan referens.")
    if referred_on is None:
        raise WorkflowError("Ange datum för anmälan till IVO.")
    if referred_on > today():
        raise WorkflowError("Anmälningsdatum kan inte ligga i framtiden.")
    if (
        finding_id is not None
        and session.scalar(sa.select(Finding.unit_id).where(Finding.id == finding_id)) != unit.id
    ):
        raise WorkflowError("Iakttagelsen hör inte till enheten.")
    referral = IvoReferral(
        unit_id=unit.id,
        finding_id=finding_id,
        case_id=case_id,
        referred_on=referred_on,
        reference=reference,
        referred_by_id=user.id,
    )
    session.add(referral)
    session.flush()
    record(
        session,
        Actor.of(user),
        "ivo_referral",
        referral.id,
        "create",
        after={
            "unit": unit.code,
            "referred_on": referred_on,
            "reference": reference,
            "finding": finding_id,
            "case": case_id,
        },
    )
    return referral
