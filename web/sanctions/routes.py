"""Sanction case pages: list, open (from a unit or by escalating a plan), drive the case with
the actions allowed for me, the ladder's suggestion; IVO referrals from the unit page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from audit.access import can_see_unit, restrict_to_visible
from audit.models import Operator, Unit, User
from checklists.rounds import Finding
from web.database import get_db
from web.forms import BaseForm
from web.sanctions import bp
from web.workflow_views import (
    REFUSED,
    fire_from_form,
    parse_date,
    parse_ids,
    parse_int,
    parse_number,
    refusal,
    refuse_on_unit_page,
    timeline,
    unit_from_form,
)
from workflows import sanction as sc
from workflows.cases.operations import capitation_source
from workflows.engine import WorkflowError
from workflows.fast_route import (
    PATIENT_SAFETY_DEADLINES,
    STANDARD_DEADLINES,
    case_is_patient_safety,
)
from workflows.models import ActionPlan, DecidingBody, Decision, SanctionCase, SanctionGround


@bp.route("/")
def index():
    stmt = (
        sa.select(SanctionCase)
        .join(Unit, Unit.id == SanctionCase.unit_id)
        .options(selectinload(SanctionCase.unit))
        .order_by(SanctionCase.created_at.desc())
    )
    cases = get_db().scalars(restrict_to_visible(stmt, current_user, SanctionCase.unit_id))
    return render_template(
        "sanctions/index.html",
        cases=cases.all(),
        labels=sc.STATE_LABELS,
        decisions=sc.DECISION_LABELS,
    )


@bp.route("/ny", methods=["POST"])
def new():
    plan_id = parse_int(request.form.get("plan"))
    if plan_id:  # escalation from a late or failed action plan
        if not BaseForm().validate_on_submit():
            abort(400)
        plan = get_db().get(ActionPlan, plan_id)
        if plan is None or not can_see_unit(get_db(), current_user, plan.unit):
            abort(404)
        try:
            case = sc.escalate_plan(
                get_db(), current_user, plan, diarienummer=request.form.get("diarienummer", "")
            )
        except REFUSED as exc:
            from web.plans.routes import _page as plan_page

            get_db().rollback()
            message, status = refusal(exc, "escalate", 422)
            return plan_page(
                get_db().get(ActionPlan, plan.id),
                errors={"escalate": message},
                posted=request.form,
                status=status,
            )
    else:
        unit = unit_from_form()
        try:
            case = sc.open_case(
                get_db(),
                current_user,
                unit,
                title=request.form.get("title", ""),
                grounds=request.form.get("grounds", ""),
                diarienummer=request.form.get("diarienummer", ""),
                finding_ids=parse_ids(request.form.getlist("finding")),
            )
        except REFUSED as exc:
            return refuse_on_unit_page(unit, "case", exc)
    flash(_("The sanction case has been opened."), "info")
    return redirect(url_for("sanctions.show", case_id=case.id))


def _page(case, *, errors=None, posted=None, status=200):
    db = get_db()
    grounds = db.scalars(
        sa.select(SanctionGround)
        .where(SanctionGround.case_id == case.id)
        .options(
            selectinload(SanctionGround.finding).selectinload(Finding.requirement),
            selectinload(SanctionGround.plan),
        )
    ).all()
    events = timeline("sanction_case", case.id)
    suggestion = sc.suggest_decision(db, case) if case.decision is None else None
    source = capitation_source(db, case.id)  # a reduction for a restricted service (§2.7.6)
    fast = case_is_patient_safety(db, case)
    return render_template(
        "sanctions/show.html",
        case=case,
        fast=fast,
        deadlines=PATIENT_SAFETY_DEADLINES if fast else STANDARD_DEADLINES,
        source=source,
        source_period=source.period if source else (None, None),
        grounds=grounds,
        timeline=events,
        actions=sc.SANCTION.available(case, current_user),
        labels=sc.STATE_LABELS,
        triggers=sc.SANCTION.triggers,
        errors=errors or {},
        posted=posted or {},
        suggestion=suggestion,
        decisions=sc.DECISION_LABELS,
        ladder=sc.ladder_of(case, get_db()),
        burdening=[d for d in sc.ladder_of(case, get_db()) if d in sc.BURDENING],
        proportionality=PROPORTIONALITY_FIELDS,
        assessed_by=db.get(User, case.assessed_by_id) if case.assessed_by_id else None,
        Decision=Decision,
        DecidingBody=DecidingBody,
    ), status


# The proportionality fields of the decision form: name, label (msgid), help (msgid).
PROPORTIONALITY_FIELDS = [
    ("prop_seriousness", _l("Seriousness"), _l("How serious the breach is, and why.")),
    ("prop_duration", _l("Duration"), _l("How long the breach has lasted.")),
    (
        "prop_repetition",
        _l("Repetition"),
        _l("Whether it has happened before (earlier decisions on the same requirements)."),
    ),
    ("prop_own_measures", _l("The unit’s own measures"), _l("What the unit has done itself.")),
    (
        "prop_patient_safety",
        _l("Patient-safety impact"),
        _l("How the breach affects the patients’ care and safety."),
    ),
]


@bp.route("/<int:case_id>")
def show(case_id):
    return _page(g.case)


def _data(trigger, form) -> dict:
    if trigger == "inform_unit":
        return {"response_days": parse_int(form.get("response_days"))}
    if trigger in ("extend_response", "extend_reply"):
        return {"extra_days": parse_int(form.get("extra_days"))}
    if trigger == "respond":
        return {"response": form.get("response", "")}
    if trigger == "assess":
        return {"assessment": form.get("assessment", "")}
    if trigger == "demand_rectification":
        return {
            "rectification_demand": form.get("rectification_demand", ""),
            "rectification_days": parse_int(form.get("rectification_days")),
        }
    if trigger == "end_rectification":
        return {
            "rectified": form.get("rectified"),
            "rectification_outcome": form.get("rectification_outcome", ""),
        }
    if trigger == "communicate":
        return {
            "intended_decision": form.get("intended_decision"),
            "intended_grounds": form.get("intended_grounds", ""),
            "intended_penalty_sek": parse_int(form.get("intended_penalty_sek")),
            "intended_percent": parse_number(form.get("intended_percent")),
            "intended_from": parse_date(form.get("intended_from")),
            "intended_to": parse_date(form.get("intended_to")),
            "reply_days": parse_int(form.get("reply_days")),
        }
    if trigger == "answer_communication":
        return {"reply": form.get("reply", "")}
    if trigger == "decide":
        return {
            "decision": form.get("decision"),
            "rationale": form.get("rationale", ""),
            "deciding_body": form.get("deciding_body"),
            "diarienummer": form.get("diarienummer", ""),
            "decided_on": parse_date(form.get("decided_on")),
            "protocol_paragraph": form.get("protocol_paragraph", ""),
            "prop_seriousness": form.get("prop_seriousness", ""),
            "prop_duration": form.get("prop_duration", ""),
            "prop_repetition": form.get("prop_repetition", ""),
            "prop_own_measures": form.get("prop_own_measures", ""),
            "prop_patient_safety": form.get("prop_patient_safety", ""),
            "four_eyes_reason": form.get("four_eyes_reason", ""),
            "penalty_sek": parse_int(form.get("penalty_sek")),
            "reduction_percent": parse_number(form.get("reduction_percent")),
            "reduction_from": parse_date(form.get("reduction_from")),
            "reduction_to": parse_date(form.get("reduction_to")),
        }
    return {}


@bp.route("/<int:case_id>/atgard/<trigger>", methods=["POST"])
def act(case_id, trigger):
    case = g.case
    return fire_from_form(
        sc.SANCTION,
        case,
        trigger,
        lambda: _data(trigger, request.form),
        request.form.get("reason"),
        lambda row, **kw: _page(row, posted=request.form, **kw),
        "sanctions.show",
        case_id=case.id,
    )


@bp.route("/<int:case_id>/beslut")
def letter(case_id):
    """Beslutsbrev: the decision as a printable page — what was decided, by whom and when,
    on what grounds, what the unit said, and how to have it reviewed."""
    return render_template("sanctions/letter.html", **letter_context(g.case))


def letter_context(case: SanctionCase) -> dict:
    """What the decision letter shows, for its page and its PDF (one text for both); a case
    not yet decided has no letter (404)."""
    if case.decision is None:
        abort(404)
    return dict(
        case=case,
        decisions=sc.DECISION_LABELS,
        proportionality=PROPORTIONALITY_FIELDS,
        private=case.unit.operator == Operator.PRIVAT,
    )


@bp.route("/ivo", methods=["POST"])
def ivo():
    unit = unit_from_form()
    try:
        sc.refer_to_ivo(
            get_db(),
            current_user,
            unit,
            referred_on=parse_date(request.form.get("referred_on")),
            reference=request.form.get("reference", ""),
            finding_id=parse_int(request.form.get("finding")),
        )
    except REFUSED as exc:
        return refuse_on_unit_page(unit, "ivo", exc)
    flash(_("The referral to IVO has been recorded."), "info")
    return redirect(url_for("units.detail", unit_code=unit.code, _anchor="ivo-h"))


@bp.route("/ivo/iakttagelser/<int:finding_id>", methods=["POST"])
def ivo_decision(finding_id):
    """Beslut om anmälan till IVO för en patientsäkerhetsiakttagelse (snabbspåret, §7.1.3):
    referred (date, reference) or not referred (reason); refused beside the form on the unit
    page, with what was typed."""
    from workflows.fast_route import record_ivo_decision

    finding = g.finding
    if not BaseForm().validate_on_submit():
        abort(400)
    unit = finding.unit
    choice = request.form.get("referred", "")
    try:
        if choice not in ("yes", "no"):
            raise WorkflowError(
                _("Choose whether the finding is referred to IVO."), guard="referred"
            )
        record_ivo_decision(
            get_db(),
            current_user,
            finding,
            referred=choice == "yes",
            referred_on=parse_date(request.form.get("referred_on")) if choice == "yes" else None,
            reference=request.form.get("reference", ""),
            reason=request.form.get("reason", ""),
        )
    except REFUSED as exc:
        return refuse_on_unit_page(unit, f"ivo_{finding.id}", exc)
    flash(_("The decision on referral to IVO has been recorded."), "info")
    return redirect(url_for("units.detail", unit_code=unit.code, _anchor="fast-h"))
