"""Sanktionsprocessen as a state machine, and the IVO referral.

How a public body decides (the steps, and what each serves):

- opened on grounds (findings, late or failed action plans) with the case's **diarienummer**
  (registration, offentlighets- och sekretesslagen 5 kap. 1 §);
- the unit is **informed** of the grounds and given a response time in working days, which
  can be **extended** with a reason → response received, or the time passed;
- **assessed** (who assessed is recorded: the four-eyes rule below);
- where the contract allows, a **rättelse** period before vite or hävning (the provider may put
  things right first: the contract's rectification clause, and proportionality);
- **kommunicering** (förvaltningslagen 25 §) before any decision that burdens the unit: it is
  told the intended decision with its grounds, amount or percentage and period, and given a
  reply time in working days that can be extended; a burdening decision cannot be recorded
  until the unit answered or its time passed, and not heavier than what it was told;
- **decided** by the deciding body (Regionstyrelsen for vite and hävning, Beställarenheten
  within its delegation) with the meeting's date — from which the decision runs — its protocol
  paragraph and diarienummer, and structured **proportionality** reasons (seriousness,
  duration, repetition, the unit's own measures, patient-safety impact; förvaltningslagen 5 §
  third paragraph, and the motivering of 32 §); **four eyes**: the person who recorded the
  assessment does not record the decision, or the exception is recorded with its reason;
- **notified** with a decision letter (grounds, how to have it reviewed) → carried out →
  closed; or withdrawn with a reason.

Which steps a unit's ladder has depends on its operator (:data:`LADDERS`): for the region's own
units (egenregi) there is no contract to enforce, so the ladder ends in escalation to the
production management instead of vite or hävning. The §2.7.6 capitation reduction is taken in
the restricted-service case, "för motsvarande tid", and is no step of any ladder here.
"Dokumentationen behöver vara särskilt noggrann" (§7.1.3): every step is audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.db import utcnow
from audit.models import Operator, Role, Unit, User
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
D = Decision
PURCHASER = frozenset({Role.BESTALLARE})
REVIEWERS = frozenset({Role.BESTALLARE, Role.GRANSKARE})
HEAD = frozenset({Role.VERKSAMHETSCHEF})
OPEN_STATES = (
    C.OPENED,
    C.INFORMED,
    C.RESPONSE_RECEIVED,
    C.DEADLINE_PASSED,
    C.ASSESSED,
    C.RECTIFICATION,
    C.COMMUNICATED,
    C.COMMUNICATION_ANSWERED,
    C.DECIDED,
    C.NOTIFIED,
    C.CARRIED_OUT,
)
DECIDABLE_STATES = (C.ASSESSED, C.COMMUNICATED, C.COMMUNICATION_ANSWERED)

# The ladder per operator, mildest first (an assumption to confirm with Beställarenheten):
# a private provider's contract can be enforced with vite and ended by hävning; the region's
# own units have no contract with the region, so the follow-up ends inside the region, with
# the production management (produktionsledningen). "Ingen åtgärd" is always possible.
LADDERS: dict[Operator, tuple[Decision, ...]] = {
    Operator.PRIVAT: (D.REMARK, D.ACTION_PLAN, D.PENALTY, D.TERMINATION),
    Operator.EGENREGI: (D.REMARK, D.ACTION_PLAN, D.ESCALATION),
}
# Decisions that burden the unit in the sense of förvaltningslagen 25 §: economic or
# contractual consequences. A remark and a demand for an action plan are not (the unit has
# already answered the grounds), nor is an internal escalation.
BURDENING = frozenset({D.PENALTY, D.REDUCTION, D.TERMINATION})
# Decisions before which the contract gives the provider a period to put things right.
RECTIFICATION_FIRST = frozenset({D.PENALTY, D.TERMINATION})
REGIONSTYRELSEN_ONLY = (D.PENALTY, D.REDUCTION, D.TERMINATION)
# The severity order across ladders, for the suggestion (a decision from another ladder, or
# recorded before this one, still counts).
RANK = {
    D.NO_ACTION: 0,
    D.REMARK: 1,
    D.ACTION_PLAN: 2,
    D.ESCALATION: 3,
    D.PENALTY: 3,
    D.REDUCTION: 3,
    D.TERMINATION: 4,
}
DIARIENUMMER_RE = re.compile(r"^[A-ZÅÄÖ]{2,6}\s?\d{1,6}[-/]\d{1,6}(\s?\d{4})?$")
MAX_REPLY_DAYS = 60
DECISION_LABELS = {
    D.NO_ACTION: "ingen åtgärd",
    D.REMARK: "påpekande",
    D.ACTION_PLAN: "krav på åtgärdsplan",
    D.ESCALATION: "eskalering till produktionsledningen",
    D.PENALTY: "vite",
    D.REDUCTION: "nedsättning av kapiteringsersättningen",
    D.TERMINATION: "hävning av avtalet",
}
STATE_LABELS = {
    C.OPENED: "Öppnat",
    C.INFORMED: "Enheten informerad – svarstid löper",
    C.RESPONSE_RECEIVED: "Yttrande inkommet",
    C.DEADLINE_PASSED: "Svarstiden har gått ut",
    C.ASSESSED: "Bedömt",
    C.RECTIFICATION: "Rättelseperiod löper",
    C.COMMUNICATED: "Avsett beslut kommunicerat – svarstid löper",
    C.COMMUNICATION_ANSWERED: "Enheten har yttrat sig över det avsedda beslutet",
    C.DECIDED: "Beslutat",
    C.NOTIFIED: "Beslutet meddelat",
    C.CARRIED_OUT: "Verkställt",
    C.CLOSED: "Avslutat",
    C.WITHDRAWN: "Återkallat",
}
PROPORTIONALITY = {  # field -> what the decision must say about it
    "prop_seriousness": "hur allvarlig bristen är",
    "prop_duration": "hur länge bristen har pågått",
    "prop_repetition": "om bristen är upprepad",
    "prop_own_measures": "vad enheten själv har gjort",
    "prop_patient_safety": "påverkan på patientsäkerheten",
}


def _clean(text) -> str:
    return " ".join(str(text or "").split())


def today() -> dt.date:
    return utcnow().date()


def ladder_for(unit: Unit) -> tuple[Decision, ...]:
    """The steps this unit's operator allows (no action is always possible)."""
    return (D.NO_ACTION, *LADDERS[Operator(unit.operator)])


def ladder_of(case, session) -> tuple[Decision, ...]:
    """The decisions open in this case: a case opened from a restricted-service ärende
    (§2.7.6) decides the reduced capitation "för motsvarande tid" (or nothing) and is no step
    of the sanction ladder; any other case has its unit's ladder."""
    if _restricted_service(session, case) is not None:
        return (D.NO_ACTION, D.REDUCTION)
    return ladder_for(case.unit)


def normalise_diarienummer(value) -> str:
    return _clean(value).upper()


def _days(data, key) -> str | None:
    days = data.get(key)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_REPLY_DAYS:
        return f"Ange tiden i arbetsdagar (1–{MAX_REPLY_DAYS})."
    return None


# --- guards ----------------------------------------------------------------------------------


def response_days_given(case, data, session) -> str | None:
    return _days(data, "response_days")


def response_extendable(case, data, session) -> str | None:
    if case.response_deadline is None:
        return "Ingen svarstid är satt i ärendet."
    return _days(data, "extra_days")


def reply_extendable(case, data, session) -> str | None:
    if case.reply_deadline is None:
        return "Ingen svarstid för kommuniceringen är satt i ärendet."
    return _days(data, "extra_days")


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


def rectification_possible(case, data, session) -> str | None:
    if not RECTIFICATION_FIRST & set(LADDERS[Operator(case.unit.operator)]):
        return "Enhetens trappa har varken vite eller hävning; någon rättelseperiod behövs inte."
    if not _clean(data.get("rectification_demand")):
        return "Skriv vad enheten ska rätta."
    return _days(data, "rectification_days")


def rectification_over(case, data, session) -> str | None:
    if data.get("rectified") not in ("yes", "no"):
        return "Ange om enheten har rättat bristen."
    if not _clean(data.get("rectification_outcome")):
        return "Beskriv vad enheten har gjort under rättelseperioden."
    if case.rectification_deadline is None:
        return "Ingen rättelseperiod är satt i ärendet."
    if data["rectified"] == "no" and case.rectification_deadline >= today():
        return (
            f"Rättelseperioden löper till och med {case.rectification_deadline.isoformat()}; "
            "först därefter kan den avslutas utan rättelse."
        )
    return None


def intended_decision_complete(case, data, session) -> str | None:
    try:
        decision = Decision(data.get("intended_decision"))
    except ValueError:
        return "Välj det avsedda beslutet."
    if decision not in BURDENING:
        return (
            f"Ett beslut om {DECISION_LABELS[decision]} är inte betungande på det sätt som "
            "kräver kommunicering; det kan fattas direkt efter bedömningen."
        )
    if decision not in ladder_of(case, session):
        return _not_on_ladder(case, decision)
    if decision in RECTIFICATION_FIRST and not case.rectification_outcome:
        return (
            f"Innan {DECISION_LABELS[decision]} ska enheten ha fått en rättelseperiod enligt "
            "avtalet; begär rättelse först."
        )
    if not _clean(data.get("intended_grounds")):
        return "Skriv skälen för det avsedda beslutet, så att enheten kan bemöta dem."
    if decision == D.PENALTY:
        amount, percent = data.get("intended_penalty_sek"), data.get("intended_percent")
        if not (isinstance(amount, int) and amount > 0) and not (
            isinstance(percent, int | float) and 0 < percent <= 100
        ):
            return "Ange vitets belopp i kronor eller i procent av ersättningen."
    start, end = data.get("intended_from"), data.get("intended_to")
    if (start is None) != (end is None) or (start and end < start):
        return "Ange perioden med både från- och tilldatum (eller ingen period)."
    if data.get("intended_percent") is not None and start is None:
        return "En procentsats gäller en period: ange från och till."
    return _days(data, "reply_days")


def reply_written(case, data, session) -> str | None:
    if not _clean(data.get("reply")):
        return "Skriv enhetens synpunkter på det avsedda beslutet."
    if case.reply_deadline and today() > case.reply_deadline:
        return f"Svarstiden gick ut {case.reply_deadline.isoformat()}; kontakta Beställarenheten."
    return None


def _not_on_ladder(case, decision) -> str:
    if decision == D.REDUCTION:
        return (
            "Nedsättning av kapiteringsersättningen beslutas i ärendet om begränsad service "
            "(§2.7.6), inte som ett steg i sanktionstrappan."
        )
    return (
        f"{DECISION_LABELS[decision].capitalize()} finns inte i trappan för "
        f"{'egenregi' if case.unit.operator == Operator.EGENREGI else 'privata utförare'}."
    )


def decision_complete(case, data, session) -> str | None:
    try:
        decision = Decision(data.get("decision"))
    except ValueError:
        return "Välj beslut på sanktionstrappan."
    if decision not in ladder_of(case, session):
        return _not_on_ladder(case, decision)
    try:
        body = DecidingBody(data.get("deciding_body"))
    except ValueError:
        return "Ange vem som beslutar."
    if decision in REGIONSTYRELSEN_ONLY and body != DecidingBody.REGIONSTYRELSEN:
        return (
            f"Beslut om {DECISION_LABELS[decision]} fattas av Regionstyrelsen, inte inom "
            "Beställarenhetens delegation."
        )
    if not DIARIENUMMER_RE.match(normalise_diarienummer(data.get("diarienummer"))):
        return "Beslutet behöver ett diarienummer, t.ex. RS 2025/123."
    meeting = data.get("decided_on")
    if not isinstance(meeting, dt.date):
        return (
            "Ange dagen för Regionstyrelsens sammanträde."
            if body == DecidingBody.REGIONSTYRELSEN
            else "Ange dagen för delegationsbeslutet."
        )
    if meeting > today():
        return "Beslutsdagen kan inte ligga i framtiden; registrera beslutet när det är fattat."
    if meeting < case.created_at.date():
        return "Beslutsdagen kan inte ligga före ärendets start."
    if body == DecidingBody.REGIONSTYRELSEN and not _clean(data.get("protocol_paragraph")):
        return "Ange paragrafen i Regionstyrelsens protokoll, t.ex. § 123."
    missing = [what for field, what in PROPORTIONALITY.items() if not _clean(data.get(field))]
    if missing:
        return "Proportionalitetsprövningen ska säga " + ", ".join(missing) + "."
    if not _clean(data.get("rationale")):
        return "Skriv motiveringen: varför beslutet blir just detta."
    if decision == D.PENALTY:
        amount = data.get("penalty_sek")
        if not isinstance(amount, int) or amount <= 0:
            return "Ange vitets belopp i kronor."
    if decision == D.REDUCTION:
        return _reduction_complete(case, data, session)
    return None


def _reduction_complete(case, data, session) -> str | None:
    """Nedsatt kapitering (§2.7.6): a percentage for a period within the restricted one."""
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


def unit_was_heard(case, data, session) -> str | None:
    """Förvaltningslagen 25 §: a burdening decision only after the unit was told of it and
    could answer — it answered, or its reply time has passed — and no heavier than told."""
    try:
        decision = Decision(data.get("decision"))
    except ValueError:
        return None  # decision_complete says so
    if decision not in BURDENING:
        return None
    label = DECISION_LABELS[decision]
    if (
        case.intended_decision != decision
        or case.status == C.ASSESSED
        or case.reply_deadline is None
    ):
        return (
            f"Ett beslut om {label} får inte fattas förrän enheten har fått del av det avsedda "
            "beslutet och kunnat yttra sig (kommunicering, förvaltningslagen 25 §)."
        )
    if case.status == C.COMMUNICATED and today() <= case.reply_deadline:
        return (
            f"Enheten har till och med {case.reply_deadline.isoformat()} på sig att yttra sig "
            "över det avsedda beslutet."
        )
    heard_by = case.replied_on or (case.reply_deadline + dt.timedelta(days=1))
    meeting = data.get("decided_on")
    if isinstance(meeting, dt.date) and meeting < heard_by:
        return (
            "Beslutsdagen ligger före slutet av enhetens svarstid "
            f"({case.reply_deadline.isoformat()}); enheten kunde inte ha yttrat sig."
        )
    amount = data.get("penalty_sek")
    if (
        decision == D.PENALTY
        and case.intended_penalty_sek
        and isinstance(amount, int)
        and amount > case.intended_penalty_sek
    ):
        return (
            "Vitet är högre än det belopp enheten fick yttra sig över "
            f"({case.intended_penalty_sek} kr); kommunicera det nya beloppet först."
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


def _extend_response(case, data, session, user):
    data["before"] = case.response_deadline
    case.response_deadline = add_working_days(case.response_deadline, data["extra_days"])
    data["response_deadline"] = case.response_deadline


def _store_response(case, data, session, user):
    case.response = str(data["response"]).strip()


def _store_assessment(case, data, session, user):
    case.assessment = str(data["assessment"]).strip()
    case.assessed_by_id = user.id


def _store_rectification(case, data, session, user):
    case.rectification_demand = str(data["rectification_demand"]).strip()
    case.rectification_deadline = add_working_days(today(), data["rectification_days"])
    case.rectification_outcome = None
    data["rectification_deadline"] = case.rectification_deadline


def _store_rectification_outcome(case, data, session, user):
    done = "Rättad" if data["rectified"] == "yes" else "Inte rättad"
    case.rectification_outcome = f"{done}: {str(data['rectification_outcome']).strip()}"


def _store_communication(case, data, session, user):
    case.intended_decision = Decision(data["intended_decision"])
    case.intended_grounds = str(data["intended_grounds"]).strip()
    case.intended_penalty_sek = data.get("intended_penalty_sek")
    percent = data.get("intended_percent")
    case.intended_percent = float(percent) if percent is not None else None
    case.intended_from, case.intended_to = data.get("intended_from"), data.get("intended_to")
    case.communicated_on = today()
    case.reply_deadline = add_working_days(today(), data["reply_days"])
    case.reply, case.replied_on = None, None
    data["reply_deadline"] = case.reply_deadline


def _extend_reply(case, data, session, user):
    data["before"] = case.reply_deadline
    case.reply_deadline = add_working_days(case.reply_deadline, data["extra_days"])
    data["reply_deadline"] = case.reply_deadline


def _store_reply(case, data, session, user):
    case.reply = str(data["reply"]).strip()
    case.replied_on = today()


def _store_decision(case, data, session, user):
    exception = _clean(data.get("four_eyes_reason"))
    if case.assessed_by_id == user.id and not exception:
        # Fyraögonsprincipen: raised inside the transition's savepoint, so nothing is kept.
        raise WorkflowError(
            "Du registrerade bedömningen; en annan person ska registrera beslutet, eller ange "
            "skälet till undantaget.",
            guard="four_eyes",
        )
    decision = Decision(data["decision"])
    case.decision = decision
    case.rationale = str(data["rationale"]).strip()
    case.deciding_body = DecidingBody(data["deciding_body"])
    case.diarienummer = normalise_diarienummer(data.get("diarienummer"))
    case.decided_on = data["decided_on"]
    case.protocol_paragraph = _clean(data.get("protocol_paragraph")) or None
    for field in PROPORTIONALITY:
        setattr(case, field, str(data[field]).strip())
    case.four_eyes_reason = exception if case.assessed_by_id == user.id else None
    case.penalty_sek = data.get("penalty_sek") if decision == D.PENALTY else None
    if decision == D.REDUCTION:  # §2.7.6, for the restricted period only (ladder_of)
        case.reduction_percent = data["reduction_percent"]
        case.reduction_from, case.reduction_to = data["reduction_from"], data["reduction_to"]
    else:
        case.reduction_percent = case.reduction_from = case.reduction_to = None
    data["four_eyes_reason"] = case.four_eyes_reason


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
        "response_extendable": response_extendable,
        "reply_extendable": reply_extendable,
        "response_written": response_written,
        "deadline_has_passed": deadline_has_passed,
        "assessment_written": assessment_written,
        "rectification_possible": rectification_possible,
        "rectification_over": rectification_over,
        "intended_decision_complete": intended_decision_complete,
        "reply_written": reply_written,
        "decision_complete": decision_complete,
        "unit_was_heard": unit_was_heard,
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
            "extend_response",
            "Förläng svarstiden",
            (C.INFORMED,),
            C.INFORMED,
            PURCHASER,
            guards=("response_extendable",),
            needs_reason=True,
            apply=_extend_response,
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
            "demand_rectification",
            "Begär rättelse inom en period",
            (C.ASSESSED,),
            C.RECTIFICATION,
            PURCHASER,
            guards=("rectification_possible",),
            apply=_store_rectification,
        ),
        Trigger(
            "end_rectification",
            "Avsluta rättelseperioden",
            (C.RECTIFICATION,),
            C.ASSESSED,
            REVIEWERS,
            guards=("rectification_over",),
            apply=_store_rectification_outcome,
        ),
        Trigger(
            "communicate",
            "Kommunicera avsett beslut",
            DECIDABLE_STATES,
            C.COMMUNICATED,
            PURCHASER,
            guards=("intended_decision_complete",),
            apply=_store_communication,
        ),
        Trigger(
            "extend_reply",
            "Förläng svarstiden för kommuniceringen",
            (C.COMMUNICATED,),
            C.COMMUNICATED,
            PURCHASER,
            guards=("reply_extendable",),
            needs_reason=True,
            apply=_extend_reply,
        ),
        Trigger(
            "answer_communication",
            "Yttra dig över det avsedda beslutet",
            (C.COMMUNICATED,),
            C.COMMUNICATION_ANSWERED,
            HEAD,
            guards=("reply_written",),
            apply=_store_reply,
        ),
        Trigger(
            "decide",
            "Registrera beslut",
            DECIDABLE_STATES,
            C.DECIDED,
            PURCHASER,
            guards=("decision_complete", "unit_was_heard"),
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
    diarienummer: str,
    finding_ids=(),
    plan_ids=(),
) -> SanctionCase:
    """Öppna sanktionsärende on grounds (findings and/or action plans of the unit), registered
    under its diarienummer from the start."""
    if not user.has_role(Role.BESTALLARE):
        raise WorkflowError("Bara beställare kan öppna ett sanktionsärende.")
    title, grounds = _clean(title), _clean(grounds)
    if not title or not grounds:
        raise WorkflowError("Ange rubrik och grunderna för ärendet.")
    case_number = normalise_diarienummer(diarienummer)
    if not DIARIENUMMER_RE.match(case_number):
        raise WorkflowError("Ange ärendets diarienummer, t.ex. RS 2025/123.", guard="diarienummer")
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
        case_number=case_number,
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
            "case_number": case_number,
            "findings": sorted(findings),
            "plans": sorted(plans),
        },
    )
    return case


def escalate_plan(
    session: Session, user: User, plan: ActionPlan, *, diarienummer: str
) -> SanctionCase:
    """Eskalera: a late or failed action plan becomes a sanction case in one action, with
    grounds that say what happened (:func:`workflows.action_plan.escalation_grounds`)."""
    from workflows.action_plan import escalation_grounds

    grounds = escalation_grounds(plan, today())
    already = session.scalar(
        sa.select(SanctionCase.id)
        .join(SanctionGround, SanctionGround.case_id == SanctionCase.id)
        .where(SanctionGround.plan_id == plan.id, SanctionCase.status.in_(OPEN_STATES))
    )
    if already:
        raise WorkflowError(f"Planen är redan grund i sanktionsärende {already}.")
    return open_case(
        session,
        user,
        plan.unit,
        title=f"Åtgärdsplan: {plan.title}",
        grounds=grounds,
        diarienummer=diarienummer,
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
            SanctionCase.decision != D.NO_ACTION,
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
    heaviest = max(earlier, key=lambda row: RANK[row.decision])
    ladder = LADDERS[Operator(case.unit.operator)]
    heavier = [d for d in ladder if RANK[d] > RANK[heaviest.decision]]
    step = heavier[0] if heavier else ladder[-1]
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
