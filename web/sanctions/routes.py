"""Sanction case pages: list, open (from a unit or by escalating a plan), drive the case with
the actions allowed for me, the ladder's suggestion; IVO referrals from the unit page."""

from __future__ import annotations

import datetime as dt

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
from web.workflow_views import fire_from_form, timeline
from workflows import sanction as sc
from workflows.engine import WorkflowError
from workflows.models import ActionPlan, DecidingBody, Decision, SanctionCase, SanctionGround


def _date(value):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise WorkflowError("Ange datum som ÅÅÅÅ-MM-DD.") from None


def _int(value):
    text = str(value or "").replace(" ", "").replace("\u00a0", "")
    return int(text) if text.isdigit() else None


def _number(value):
    try:
        return float(str(value).replace(",", ".")) if value not in (None, "") else None
    except ValueError:
        return None


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
    if not BaseForm().validate_on_submit():
        abort(400)
    db = get_db()
    plan_id = _int(request.form.get("plan"))
    try:
        if plan_id:
            plan = db.get(ActionPlan, plan_id)
            if plan is None:
                abort(404)
            case = sc.escalate_plan(db, current_user, plan)
        else:
            unit = db.scalar(sa.select(Unit).where(Unit.code == request.form.get("unit")))
            if unit is None:
                abort(404)
            case = sc.open_case(
                db,
                current_user,
                unit,
                title=request.form.get("title", ""),
                grounds=request.form.get("grounds", ""),
                finding_ids=[int(f) for f in request.form.getlist("finding") if f.isdigit()],
            )
    except WorkflowError as exc:
        flash(str(exc), "error")
        return redirect(request.referrer or url_for("sanctions.index"))
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
    return render_template(
        "sanctions/show.html",
        case=case,
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
        return {"response_days": _int(form.get("response_days"))}
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
            "penalty_sek": _int(form.get("penalty_sek")),
            "reduction_percent": _number(form.get("reduction_percent")),
            "reduction_from": _date(form.get("reduction_from")),
            "reduction_to": _date(form.get("reduction_to")),
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
    if not BaseForm().validate_on_submit():
        abort(400)
    db = get_db()
    unit = db.scalar(sa.select(Unit).where(Unit.code == request.form.get("unit")))
    if unit is None:
        abort(404)
    try:
        sc.refer_to_ivo(
            db,
            current_user,
            unit,
            referred_on=_date(request.form.get("referred_on")) or dt.date.max,
            reference=request.form.get("reference", ""),
            finding_id=_int(request.form.get("finding")),
        )
    except WorkflowError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The referral to IVO has been recorded."), "info")
    return redirect(url_for("units.detail", unit_code=unit.code, _anchor="ivo-h"))
