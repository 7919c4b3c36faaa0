"""Särskild fördjupning (§7.1.3) as a state machine.

opened on risk signals → material requested from the verksamhetschef (what, and a deadline in
working days, which can be extended with a reason) → material handed in by the unit (files and
an answer) → analysis and conclusions by Beställarenheten, with the requirements the unit must
meet → ended in one of: an action plan (requested with the requirements, §7.1.3 "formulera krav
som verksamhetschefen ska möta med en åtgärdsplan"), a sanction case (on the conclusions, under
its diarienummer), or no action (with a reason). Cancelled with a reason from any open state.

A review cannot get stuck on a unit that does not answer: once the deadline has passed the
purchaser may conclude without the material (the trail says it never came). "Dokumentationen
behöver vara särskilt noggrann i fall där sanktioner kan komma att bli aktuella" (§7.1.3):
every transition is one audit event, with what it stored.
"""

from __future__ import annotations

import datetime as dt

from audit.db import utcnow
from audit.models import Role
from checklists.workdays import add_working_days
from workflows.engine import Trigger, Workflow
from workflows.reviews.models import ReviewState

R = ReviewState
PURCHASER = frozenset({Role.BESTALLARE})
UNIT_STAFF = frozenset({Role.VERKSAMHETSCHEF, Role.PERSONAL})
OPEN_STATES = (R.OPENED, R.MATERIAL_REQUESTED, R.MATERIAL_SUBMITTED, R.CONCLUDED)
ENDED_STATES = (R.ACTION_PLAN, R.SANCTION, R.NO_ACTION)
FINAL_STATES = (*ENDED_STATES, R.CANCELLED)
MAX_DAYS = 60

STATE_LABELS = {
    R.OPENED: "Öppnad",
    R.MATERIAL_REQUESTED: "Underlag begärt",
    R.MATERIAL_SUBMITTED: "Underlag inlämnat",
    R.CONCLUDED: "Analyserad – slutsatser och krav",
    R.ACTION_PLAN: "Avslutad – åtgärdsplan begärd",
    R.SANCTION: "Avslutad – sanktionsärende öppnat",
    R.NO_ACTION: "Avslutad utan åtgärd",
    R.CANCELLED: "Avbruten",
}


def _clean(text) -> str:
    return " ".join(str(text or "").split())


def today() -> dt.date:
    return utcnow().date()


def _days(data, key) -> str | None:
    days = data.get(key)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        return f"Ange tiden i arbetsdagar (1–{MAX_DAYS})."
    return None


# --- guards: None when satisfied, else what is missing ----------------------------------------


def material_request(review, data, session) -> str | None:
    if not _clean(data.get("material_request")):
        return "Beskriv vilket underlag och vilka svar som begärs av verksamhetschefen."
    return None


def material_days(review, data, session) -> str | None:
    return _days(data, "material_days")


def extra_days(review, data, session) -> str | None:
    if review.material_deadline is None:
        return "Ingen sista dag för underlaget är satt."
    return _days(data, "extra_days")


def answer(review, data, session) -> str | None:
    if not _clean(data.get("answer")):
        return "Skriv enhetens svar på begäran (och ladda upp underlaget, om det finns)."
    return None


def analysis(review, data, session) -> str | None:
    if not _clean(data.get("analysis")):
        return "Skriv analysen av underlaget och signalerna."
    return None


def conclusions(review, data, session) -> str | None:
    if not _clean(data.get("conclusions")):
        return "Skriv slutsatserna."
    if review.status == R.MATERIAL_REQUESTED and (
        review.material_deadline is None or review.material_deadline >= today()
    ):
        deadline = review.material_deadline.isoformat() if review.material_deadline else "–"
        return (
            f"Enheten har till och med {deadline} på sig att lämna underlaget; slutsatser utan "
            "underlaget kan dras först när den dagen har passerat."
        )
    return None


def has_requirements(review, data, session) -> str | None:
    if not review.requirements:
        return "Ange minst ett krav som enheten ska uppfylla innan en åtgärdsplan begärs."
    return None


def plan_due(review, data, session) -> str | None:
    due = data.get("plan_due")
    if not isinstance(due, dt.date):
        return "Ange sista dag för att lämna in åtgärdsplanen."
    if due < today():
        return "Planens sista dag kan inte ha passerat."
    latest = max((r.due_date for r in review.requirements), default=None)
    if latest is not None and due > latest:
        return (
            f"Planen ska lämnas in senast den dag det sista kravet ska vara uppfyllt, "
            f"{latest.isoformat()}."
        )
    return None


def diarienummer(review, data, session) -> str | None:
    from workflows.sanction import DIARIENUMMER_RE, normalise_diarienummer

    if not DIARIENUMMER_RE.match(normalise_diarienummer(data.get("diarienummer"))):
        return "Ange sanktionsärendets diarienummer, t.ex. RS 2025/123."
    return None


# --- what each transition stores ----------------------------------------------------------------


def _store_request(review, data, session, user):
    review.material_request = _clean(data["material_request"])
    review.material_requested_on = today()
    review.material_deadline = add_working_days(today(), data["material_days"])
    review.answer = review.answered_on = None
    data["material_deadline"] = review.material_deadline


def _extend(review, data, session, user):
    data["before"] = review.material_deadline
    review.material_deadline = add_working_days(review.material_deadline, data["extra_days"])
    data["material_deadline"] = review.material_deadline


def _store_answer(review, data, session, user):
    review.answer = str(data["answer"]).strip()
    review.answered_on = today()
    data["files"] = [f.id for f in review.files if f.removed_at is None]


def _store_conclusions(review, data, session, user):
    review.analysis = str(data["analysis"]).strip()
    review.conclusions = str(data["conclusions"]).strip()
    review.concluded_on = today()
    if review.status == R.MATERIAL_REQUESTED:
        data["material_not_received"] = True


def _requirements_text(review) -> str:
    return "; ".join(f"{r.text} (senast {r.due_date.isoformat()})" for r in review.requirements)


def _finding_ids(review) -> list[int]:
    return sorted({s.finding_id for s in review.signals if s.finding_id is not None})


def _open_action_plan(review, data, session, user):
    """Begär åtgärdsplan with the review's requirements, its findings and dates; linked both
    ways (the review names the plan, the plan's page finds the review)."""
    from workflows.action_plan import request_action_plan

    plan = request_action_plan(
        session,
        user,
        review.unit,
        title=f"Åtgärdsplan efter fördjupning: {review.title}"[:200],
        requirements=_requirements_text(review),
        plan_due=data["plan_due"],
        measures_due=max(r.due_date for r in review.requirements),
        finding_ids=_finding_ids(review),
        dialog_id=review.dialog_id,
    )
    review.action_plan_id = plan.id
    review.ended_on = today()
    data["action_plan"] = plan.id


def _open_sanction_case(review, data, session, user):
    """Öppna sanktionsärende on the review's conclusions (and requirements), its findings as
    grounds, under its diarienummer; linked both ways."""
    from workflows.sanction import open_case

    grounds = f"Särskild fördjupning {review.id} ({review.title}): {review.conclusions}"
    if review.requirements:
        grounds += f" Krav: {_requirements_text(review)}"
    case = open_case(
        session,
        user,
        review.unit,
        title=f"Fördjupning: {review.title}"[:200],
        grounds=grounds,
        diarienummer=data["diarienummer"],
        finding_ids=_finding_ids(review),
    )
    review.sanction_case_id = case.id
    review.ended_on = today()
    data["sanction_case"] = case.id


def _store_end(review, data, session, user):
    review.end_reason = data.get("reason")
    review.ended_on = today()


REVIEW = Workflow(
    name="Särskild fördjupning (§7.1.3)",
    entity_type="in_depth_review",
    states=ReviewState,
    initial=R.OPENED,
    state_labels=STATE_LABELS,
    guards={
        "material_request": material_request,
        "material_days": material_days,
        "extra_days": extra_days,
        "answer": answer,
        "analysis": analysis,
        "conclusions": conclusions,
        "has_requirements": has_requirements,
        "plan_due": plan_due,
        "diarienummer": diarienummer,
    },
    triggers=[
        Trigger(
            "request_review_material",
            "Begär underlag",
            (R.OPENED, R.MATERIAL_SUBMITTED),
            R.MATERIAL_REQUESTED,
            PURCHASER,
            guards=("material_request", "material_days"),
            apply=_store_request,
        ),
        Trigger(
            "extend_material_deadline",
            "Förläng tiden för underlaget",
            (R.MATERIAL_REQUESTED,),
            R.MATERIAL_REQUESTED,
            PURCHASER,
            guards=("extra_days",),
            needs_reason=True,
            apply=_extend,
        ),
        Trigger(
            "submit_review_material",
            "Lämna underlag och svar",
            (R.MATERIAL_REQUESTED,),
            R.MATERIAL_SUBMITTED,
            UNIT_STAFF,
            guards=("answer",),
            apply=_store_answer,
        ),
        Trigger(
            "conclude_review",
            "Registrera analys och slutsatser",
            (R.OPENED, R.MATERIAL_REQUESTED, R.MATERIAL_SUBMITTED),
            R.CONCLUDED,
            PURCHASER,
            guards=("analysis", "conclusions"),
            apply=_store_conclusions,
        ),
        Trigger(
            "end_with_action_plan",
            "Avsluta med krav på åtgärdsplan",
            (R.CONCLUDED,),
            R.ACTION_PLAN,
            PURCHASER,
            guards=("has_requirements", "plan_due"),
            apply=_open_action_plan,
        ),
        Trigger(
            "end_with_sanction_case",
            "Avsluta med sanktionsärende",
            (R.CONCLUDED,),
            R.SANCTION,
            PURCHASER,
            guards=("diarienummer",),
            apply=_open_sanction_case,
        ),
        Trigger(
            "end_without_action",
            "Avsluta utan åtgärd",
            (R.CONCLUDED,),
            R.NO_ACTION,
            PURCHASER,
            needs_reason=True,
            apply=_store_end,
        ),
        Trigger(
            "cancel_review",
            "Avbryt fördjupningen",
            OPEN_STATES,
            R.CANCELLED,
            PURCHASER,
            needs_reason=True,
            apply=_store_end,
        ),
    ],
)
