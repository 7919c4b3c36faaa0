"""Sanction case pages: list, open (from a unit or by escalating a plan), drive the case with
the actions allowed for me, the ladder's suggestion; IVO referrals from the unit page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from audit.access import restrict_to_visible
from audit.models import Unit
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
    refuse_on_unit_page,
    timeline,
    unit_from_form,
)
from workflows import sanction as sc
from workflows.cases.operations import capitation_source
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
    if plan_id:  # escalation from an action plan: nothing typed to keep
        if not BaseForm().validate_on_submit():
            abort(400)
        plan = get_db().get(ActionPlan, plan_id)
        if plan is None:
            abort(404)
        try:
            case = sc.escalate_plan(get_db(), current_user, plan)
        except REFUSED as exc:
            flash(str(exc), "error")
            return redirect(url_for("plans.show", plan_id=plan.id))
    else:
        unit = unit_from_form()
        try:
            case = sc.open_case(
                get_db(),
                current_user,
                unit,
                title=request.form.get("title", ""),
                grounds=request.form.get("grounds", ""),
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
    return render_template(
        "sanctions/show.html",
        case=case,
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
        Decision=Decision,
        DecidingBody=DecidingBody,
    ), status


@bp.route("/<int:case_id>")
def show(case_id):
    return _page(g.case)


def _data(trigger, form) -> dict:
    if trigger == "inform_unit":
        return {"response_days": parse_int(form.get("response_days"))}
    if trigger == "respond":
        return {"response": form.get("response", "")}
    if trigger == "assess":
        return {"assessment": form.get("assessment", "")}
    if trigger == "decide":
        return {
            "decision": form.get("decision"),
            "rationale": form.get("rationale", ""),
            "deciding_body": form.get("deciding_body"),
            "diarienummer": form.get("diarienummer", ""),
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
