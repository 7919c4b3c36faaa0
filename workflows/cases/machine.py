"""Ärendets flöde: one state machine for every kind of case; the kind decides the rest.

utkast → inlämnat (by the unit's verksamhetschef, when everything the type asks for is there)
→ komplettering begärd (by the purchaser, with what is missing and a deadline in working days)
↔ inlämnat → beslutat: beviljat or avslaget (an application, §2.13.1, §3.3/§3.8, §3.9, §4.9) or
noterat (a notice, §2.6, §2.7.5, §2.7.6, §3.1.1, §3.20) — who decided, when, with a diarienummer
where the type needs one → gäller (its period) → avslutat; återtaget with a reason while it is
not yet decided. Every transition is one audit event (the engine's).

Which decision triggers a case has is its type's: a notice is only noted, an application only
granted or refused (guards ``is_notice`` and ``is_application``, so that a trigger the type does
not have is refused like one the state does not allow).
"""

from __future__ import annotations

import datetime as dt
import re

from audit.db import utcnow
from audit.models import Role, UnitKind
from checklists.workdays import add_working_days
from workflows.cases.models import CaseKind, CaseOutcome, CaseState
from workflows.cases.types import case_type, months_after
from workflows.engine import Trigger, Workflow

S = CaseState
PURCHASER = frozenset({Role.BESTALLARE})
HEAD = frozenset({Role.VERKSAMHETSCHEF})
UNDECIDED = (S.DRAFT, S.SUBMITTED, S.COMPLETION_REQUESTED)
DECIDED = (S.GRANTED, S.REFUSED, S.NOTED)
OPEN_STATES = (*UNDECIDED, *DECIDED, S.IN_EFFECT)
COMPLETION_DAYS = (1, 60)
DIARIENUMMER_RE = re.compile(r"^[A-ZÅÄÖ]{2,6}\s?\d{1,6}[-/]\d{1,6}(\s?\d{4})?$")

STATE_LABELS = {
    S.DRAFT: "Utkast",
    S.SUBMITTED: "Inlämnat",
    S.COMPLETION_REQUESTED: "Komplettering begärd",
    S.GRANTED: "Beslutat – beviljat",
    S.REFUSED: "Beslutat – avslaget",
    S.NOTED: "Beslutat – noterat",
    S.IN_EFFECT: "Gäller",
    S.CLOSED: "Avslutat",
    S.WITHDRAWN: "Återtaget",
}


def today() -> dt.date:
    return utcnow().date()


def _clean(text) -> str:
    return " ".join(str(text or "").split())


# --- guards: None when satisfied, else what is missing -------------------------------------


def is_application(case, data, session) -> str | None:
    if not case_type(case.kind).application:
        return (
            f"{case_type(case.kind).label} är en anmälan: Beställarenheten noterar den, den "
            "beviljas eller avslås inte."
        )
    return None


def is_notice(case, data, session) -> str | None:
    if case_type(case.kind).application:
        return f"{case_type(case.kind).label} är en ansökan: den beviljas eller avslås."
    return None


def ready_to_submit(case, data, session) -> str | None:
    kind = case_type(case.kind)
    if case.unit.kind == UnitKind.FILIAL:
        return "Ärenden lämnas av huvudmottagningen, inte av en filial (§3.9)."
    if kind.private_only and case.unit.operator.value != "privat":
        return (
            "Lex Maria-ärenden lämnas hit bara av privata hälsocentraler; hälsocentraler i "
            "regionens egen regi följer regionens rutiner för Lex Maria (§2.6)."
        )
    missing = kind.missing(case)
    if missing:
        return "Fyll i innan ärendet lämnas in: " + "; ".join(missing) + "."
    problems = kind.problems(case)
    if problems:
        return " ".join(problems)
    return None


def completion_days_given(case, data, session) -> str | None:
    days = data.get("completion_days")
    low, high = COMPLETION_DAYS
    if not isinstance(days, int) or isinstance(days, bool) or not low <= days <= high:
        return f"Ange tiden för kompletteringen i arbetsdagar ({low}–{high})."
    return None


def _diarienummer_problem(case, data) -> str | None:
    kind = case_type(case.kind)
    number = _clean(data.get("diarienummer")).upper()
    if kind.needs_diarienummer and not number:
        return f"{kind.decided_by}s beslut om {kind.label.lower()} behöver ett diarienummer."
    if number and not DIARIENUMMER_RE.match(number):
        return "Ange diarienumret som t.ex. RS 2025/123."
    return None


def decision_complete(case, data, session) -> str | None:
    """Grant or note: the diarienummer the type needs, and a period the rulebook allows."""
    problem = _diarienummer_problem(case, data)
    if problem:
        return problem
    kind = case_type(case.kind)
    start = data.get("decided_from") or case.period_from
    end = data.get("decided_to") or case.period_to
    if start is None:
        return f"Ange från vilken dag beslutet gäller ({kind.period_from_label.lower()})."
    if kind.period_to_required and end is None:
        return "Ange till och med vilken dag beslutet gäller."
    if end is not None and end < start:
        return "Beslutets sista dag kan inte vara före dess första."
    if kind.max_months and end and end > months_after(start, kind.max_months):
        return (
            f"{kind.label} är tidsbegränsat till högst {kind.max_months} månader "
            f"({kind.section_label}): senast {months_after(start, kind.max_months).isoformat()}."
        )
    if kind.limit_label:
        limit = data.get("decided_limit")
        if limit is None:
            limit = (case.details or {}).get("cap")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            return f"Ange beslutat tak ({kind.limit_label.lower()})."
    return None


def refusal_complete(case, data, session) -> str | None:
    return _diarienummer_problem(case, data)


def period_started(case, data, session) -> str | None:
    start, _end = case.period
    if start is not None and today() < start:
        return f"Ärendet gäller från {start.isoformat()}; det kan markeras som gällande då."
    return None


def closable(case, data, session) -> str | None:
    missing = case_type(case.kind).missing_later(case)
    if case.status == S.IN_EFFECT and missing:
        return "Ärendet kan avslutas när det finns: " + "; ".join(missing) + "."
    return None


# --- what each transition stores -------------------------------------------------------------


def _store_submission(case, data, session, user):
    case.submitted_at = utcnow()
    case.submitted_by_id = user.id
    case.completion_message = None
    case.completion_deadline = None
    data["submitted_on"] = today()


def _store_completion_request(case, data, session, user):
    case.completion_message = data.get("reason")
    case.completion_deadline = add_working_days(today(), data["completion_days"])
    data["completion_deadline"] = case.completion_deadline


OUTCOME_LABELS = {
    CaseOutcome.GRANTED: "Beviljat",
    CaseOutcome.REFUSED: "Avslaget",
    CaseOutcome.NOTED: "Noterat",
}


def _store_decision(case, data, session, user, outcome=CaseOutcome.REFUSED):
    kind = case_type(case.kind)
    case.outcome = outcome
    data["outcome"] = outcome.value
    case.decided_at = utcnow()
    case.decided_by_id = user.id
    case.diarienummer = _clean(data.get("diarienummer")).upper() or None
    rationale = str(data.get("rationale") or data.get("reason") or "").strip()
    case.decision_rationale = rationale or None
    data["diarienummer"] = case.diarienummer
    data["decided_on"] = today()
    data["decided_by"] = kind.decided_by


def _store_grant_or_note(case, data, session, user):
    kind = case_type(case.kind)
    outcome = CaseOutcome.GRANTED if kind.application else CaseOutcome.NOTED
    _store_decision(case, data, session, user, outcome)
    case.decided_from = data.get("decided_from") or case.period_from
    case.decided_to = data.get("decided_to") or case.period_to
    data["decided_from"], data["decided_to"] = case.decided_from, case.decided_to
    if kind.limit_label:
        limit = data.get("decided_limit")
        case.decided_limit = limit if isinstance(limit, int) else (case.details or {}).get("cap")
        data["decided_limit"] = case.decided_limit
    if case.kind == CaseKind.BRANCH:  # only ever granted (is_application)
        from workflows.cases.branch import create_branch

        branch = create_branch(session, user, case)
        data["branch_unit"] = branch.code


def _store_in_effect(case, data, session, user):
    case.in_effect_at = utcnow()


def _store_closed(case, data, session, user):
    case.closed_at = utcnow()


def _store_withdrawal(case, data, session, user):
    case.withdraw_reason = data.get("reason")


CASE = Workflow(
    name="Ärende från hälsocentralen",
    entity_type="case",
    states=CaseState,
    initial=S.DRAFT,
    state_labels=STATE_LABELS,
    guards={
        "ready_to_submit": ready_to_submit,
        "completion_days_given": completion_days_given,
        "is_application": is_application,
        "is_notice": is_notice,
        "decision_complete": decision_complete,
        "refusal_complete": refusal_complete,
        "period_started": period_started,
        "closable": closable,
    },
    triggers=[
        Trigger(
            "submit",
            "Lämna in ärendet",
            (S.DRAFT, S.COMPLETION_REQUESTED),
            S.SUBMITTED,
            HEAD,
            guards=("ready_to_submit",),
            apply=_store_submission,
        ),
        Trigger(
            "request_completion",
            "Begär komplettering",
            (S.SUBMITTED,),
            S.COMPLETION_REQUESTED,
            PURCHASER,
            guards=("completion_days_given",),
            needs_reason=True,
            apply=_store_completion_request,
        ),
        Trigger(
            "grant",
            "Bevilja",
            (S.SUBMITTED,),
            S.GRANTED,
            PURCHASER,
            guards=("is_application", "decision_complete"),
            apply=_store_grant_or_note,
        ),
        Trigger(
            "refuse",
            "Avslå",
            (S.SUBMITTED,),
            S.REFUSED,
            PURCHASER,
            guards=("is_application", "refusal_complete"),
            needs_reason=True,
            apply=_store_decision,
        ),
        Trigger(
            "note",
            "Notera anmälan",
            (S.SUBMITTED,),
            S.NOTED,
            PURCHASER,
            guards=("is_notice", "decision_complete"),
            apply=_store_grant_or_note,
        ),
        Trigger(
            "take_effect",
            "Markera att ärendet gäller",
            (S.GRANTED, S.NOTED),
            S.IN_EFFECT,
            PURCHASER | HEAD,
            guards=("period_started",),
            apply=_store_in_effect,
        ),
        Trigger(
            "close",
            "Avsluta ärendet",
            (S.IN_EFFECT, S.REFUSED),
            S.CLOSED,
            PURCHASER,
            guards=("closable",),
            apply=_store_closed,
        ),
        Trigger(
            "withdraw",
            "Återta ärendet",
            UNDECIDED,
            S.WITHDRAWN,
            HEAD,
            needs_reason=True,
            apply=_store_withdrawal,
        ),
    ],
)


def available(case, user) -> list[Trigger]:
    """The triggers ``user`` may fire now that the case's type has (the buttons)."""
    application = case_type(case.kind).application
    return [
        t
        for t in CASE.available(case, user)
        if not (t.name == "note" and application)
        and not (t.name in ("grant", "refuse") and not application)
    ]
