"""Granska checklistan: the reviewer's task list, one section per page, each judgement saved
on its own; return for completion; accept; the findings list.

- ``GET /checklistor/<id>/granska`` — sections with what is left to judge, filters (att bedöma
  manuellt, ej uppfyllt, ändrad bedömning, återsänd), return and accept;
- ``/checklistor/<id>/granska/avsnitt/<section>`` — judgements of one section (a post without
  JavaScript saves each changed item on its own);
- ``POST /checklistor/<id>/granska/punkter/<item>`` — one item's judgement (JSON or redirect);
- ``POST /checklistor/<id>/godkann`` and ``/atersand``.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload

from audit.access import restrict_to_visible
from audit.models import Unit
from audit.text import TextRefused
from checklists import operations as ops
from checklists.answers import AnswerError, Status
from checklists.models import Requirement, Severity
from checklists.rounds import ChecklistStatus, Finding
from checklists.sections import REVIEW_FILTERS, Filter, task_list
from web.cases.checklist_links import case_links
from web.checklists import bp
from web.checklists.routes import _filter, _item_or_404, _section_or_404
from web.database import get_db
from web.negotiation import wants_json

JUDGEMENTS = (
    Status.COMPLIANT,
    Status.PARTLY_COMPLIANT,
    Status.NON_COMPLIANT,
    Status.NOT_APPLICABLE,
)


def _reviewing(checklist) -> bool:
    return checklist.status == ChecklistStatus.SUBMITTED


def _render_tasks(checklist, *, missing=None, error=None, status=200):
    db = get_db()
    tasks = task_list(db, checklist.id)
    wanted = _filter(request.args.get("visa"), REVIEW_FILTERS)
    counts: dict = {}
    for row in tasks.rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return render_template(
        "checklists/review_tasks.html",
        checklist=checklist,
        tasks=tasks,
        wanted=wanted,
        filters=REVIEW_FILTERS,
        matching=tasks.matching(wanted) if wanted else None,
        counts=counts,
        reviewing=_reviewing(checklist),
        missing=missing,
        error=error,
        marked=tasks.matching(Filter.RETURNED),
        message=request.form.get("message", ""),
        Status=Status,
    ), status


@bp.route("/<int:checklist_id>/granska")
def review(checklist_id):
    """Granskningens uppgiftslista."""
    return _render_tasks(g.checklist)


def _judgement(item_id: int) -> tuple[Status | None, str, str, bool]:
    """The posted judgement of one item: (status or None, reason, comment, mark)."""
    value = request.form.get(f"override_{item_id}") or ""
    try:
        status = Status(value) if value else None
    except ValueError:
        status = None
    if status is not None and status not in JUDGEMENTS:
        status = None
    return (
        status,
        request.form.get(f"reason_{item_id}", ""),
        request.form.get(f"comment_{item_id}", ""),
        bool(request.form.get(f"complete_{item_id}")),
    )


def _judge(db, item) -> str | None:
    """Save one item's posted judgement; the Swedish refusal, or None."""
    status, reason, comment_text, mark = _judgement(item.id)
    try:
        with db.begin_nested():
            ops.judge_item(
                db,
                current_user,
                item,
                status=status,
                reason=reason,
                comment_text=comment_text,
                mark=mark,
            )
    except (AnswerError, ops.ChecklistError, TextRefused) as exc:
        return str(exc)
    return None


def _render_section(checklist, tasks, section, *, errors=None, status=200):
    db = get_db()
    items = ops.load_items(db, checklist, [r.id for r in section.rows])
    before, after = tasks.neighbours(section.key)
    return render_template(
        "checklists/review_section.html",
        checklist=checklist,
        tasks=tasks,
        section=section,
        items=items,
        before=before,
        after=after,
        errors=errors or {},
        posted=request.form if errors else {},
        reviewing=_reviewing(checklist),
        case_links=case_links(db, checklist, items),
        judgements=JUDGEMENTS,
        Status=Status,
    ), status


@bp.route("/<int:checklist_id>/granska/avsnitt/<path:section>", methods=["GET", "POST"])
def review_section(checklist_id, section):
    """Ett avsnitt att granska; a post saves each changed judgement on its own."""
    checklist = g.checklist
    db = get_db()
    tasks = task_list(db, checklist.id)
    current = _section_or_404(tasks, section)
    if request.method == "GET":
        return _render_section(checklist, tasks, current)
    if not _reviewing(checklist):
        flash(_("The checklist is not waiting for review."), "error")
        return redirect(url_for("checklists.review", checklist_id=checklist.id))
    errors = {}
    for item in ops.load_items(db, checklist, [r.id for r in current.rows]):
        if f"override_{item.id}" not in request.form:
            continue
        error = _judge(db, item)
        if error:
            errors[item.id] = error
    if errors:
        db.commit()  # the other judgements are saved; the refused ones stay as typed
        tasks = task_list(db, checklist.id)
        return _render_section(checklist, tasks, tasks.get(section), errors=errors, status=422)
    flash(_("The review has been saved."), "info")
    after = tasks.neighbours(current.key)[1]
    if request.form.get("action") == "continue" and after is not None:
        return redirect(
            url_for("checklists.review_section", checklist_id=checklist.id, section=after.key)
        )
    if request.form.get("action") == "continue":
        return redirect(url_for("checklists.review", checklist_id=checklist.id))
    return redirect(
        url_for("checklists.review_section", checklist_id=checklist.id, section=current.key)
    )


@bp.route("/<int:checklist_id>/granska/punkter/<int:item_id>", methods=["POST"])
def judge_item(checklist_id, item_id):
    """En punkts bedömning, saved on its own."""
    checklist = g.checklist
    db = get_db()
    item = _item_or_404(checklist, item_id)
    if not _reviewing(checklist):
        error = _("The checklist is not waiting for review.")
    else:
        error = _judge(db, item)
    tasks = task_list(db, checklist.id)
    section = tasks.section_of_item(item.id)
    if wants_json():
        if error:
            # beside the statement, as the page without JavaScript shows it
            return jsonify(ok=False, errors={f"reason_{item.id}": error}), 422
        return jsonify(
            ok=True,
            status=str(item.status),
            html=render_template("checklists/_judgement.html", item=item),
        )
    if error:
        return _render_section(checklist, tasks, section, errors={item.id: error}, status=422)
    flash(_("The assessment has been saved."), "info")
    return redirect(
        url_for(
            "checklists.review_section",
            checklist_id=checklist.id,
            section=section.key,
            _anchor=f"r-{item.id}",
        )
    )


@bp.route("/<int:checklist_id>/godkann", methods=["POST"])
def accept(checklist_id):
    """Godkänn; refused with every missing judgement as a link."""
    checklist = g.checklist
    try:
        findings = ops.accept(get_db(), current_user, checklist)
    except ops.Incomplete as exc:
        get_db().rollback()
        return _render_tasks(checklist, missing=exc.items, error=str(exc), status=422)
    except ops.ChecklistError as exc:
        get_db().rollback()
        return _render_tasks(checklist, error=str(exc), status=422)
    flash(
        ngettext(
            "The checklist is accepted; %(num)s finding recorded.",
            "The checklist is accepted; %(num)s findings recorded.",
            len(findings),
        ),
        "info",
    )
    return redirect(url_for("checklists.review", checklist_id=checklist.id))


@bp.route("/<int:checklist_id>/atersand", methods=["POST"])
def return_checklist(checklist_id):
    """Återsänd för komplettering: the items marked in the review, with a message."""
    checklist = g.checklist
    db = get_db()
    marked = [row.id for _s, row in task_list(db, checklist.id).matching(Filter.RETURNED)]
    try:
        ops.return_for_completion(
            db, current_user, checklist, marked, request.form.get("message", "")
        )
    except (ops.ChecklistError, AnswerError, TextRefused) as exc:
        db.rollback()
        return _render_tasks(checklist, error=str(exc), status=422)
    flash(_("The checklist has been returned to the unit for completion."), "info")
    return redirect(url_for("checklists.review", checklist_id=checklist.id))


@bp.route("/iakttagelser")
def findings():
    """Iakttagelser: the findings the user may see, newest first; by severity on request."""
    db = get_db()
    stmt = (
        sa.select(Finding)
        .join(Unit, Unit.id == Finding.unit_id)
        .join(Requirement, Requirement.id == Finding.requirement_id)
        .options(
            selectinload(Finding.unit),
            selectinload(Finding.requirement),
            selectinload(Finding.round),
        )
        .order_by(Finding.created_at.desc(), Unit.name, Requirement.section_key)
    )
    stmt = restrict_to_visible(stmt, current_user, Finding.unit_id)
    severity = request.args.get("allvarlighet")
    if severity not in {s.value for s in Severity}:
        severity = None  # an unknown filter shows everything rather than failing
    if severity:
        stmt = stmt.where(Finding.severity == severity)
    rows = db.scalars(stmt).all()
    from workflows.joint.operations import follow_up_sources

    # The way back from a finding made of a joint dialog's follow-up (§7.1.2): one query.
    sources = follow_up_sources(db, [f.id for f in rows if f.round_id is None])
    return render_template(
        "checklists/findings.html", findings=rows, severity=severity, joint_sources=sources
    )
