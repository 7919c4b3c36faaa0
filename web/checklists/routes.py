"""Checklist pages: answer and save drafts, upload evidence, submit; review, return, accept."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload

from checklists import answers
from checklists import operations as ops
from checklists.answers import AnswerError, Status
from checklists.evidence import EvidenceError, EvidenceStore, check_upload
from checklists.models import AnswerType, Requirement
from checklists.rounds import Checklist, ChecklistItem, ChecklistStatus, Finding
from web.checklists import bp
from web.checklists.forms import (
    field_data,
    field_name,
    make_checklist_form,
    raw_answer,
    value_hash,
)
from web.database import get_db
from web.forms import BaseForm


def evidence_store() -> EvidenceStore:
    return EvidenceStore(current_app.config["EVIDENCE_DIR"])


def load_items(checklist: Checklist) -> list[ChecklistItem]:
    """Every item of the checklist with requirement and files, in the rulebook's order."""
    return list(
        get_db().scalars(
            sa.select(ChecklistItem)
            .join(Requirement)
            .where(ChecklistItem.checklist_id == checklist.id)
            .options(selectinload(ChecklistItem.requirement), selectinload(ChecklistItem.files))
            .order_by(Requirement.section_key, Requirement.position)
        )
    )


def group_by_chapter(items):
    """[(chapter number, area titles, [items])] — the page's sections."""
    chapters = []
    for item in items:
        chapter = item.requirement.section.split(".")[0]
        if not chapters or chapters[-1][0] != chapter:
            chapters.append((chapter, []))
        chapters[-1][1].append(item)
    return chapters


def _render(checklist, items, form, *, conflict=None, status=200, item_errors=None):
    answered = sum(1 for i in items if i.auto_status != Status.NOT_ANSWERED)
    return render_template(
        "checklists/answer.html",
        checklist=checklist,
        items=items,
        chapters=group_by_chapter(items),
        form=form,
        answered=answered,
        editable=ops.can_answer(current_user, checklist)
        and checklist.status in (ChecklistStatus.OPEN, ChecklistStatus.RETURNED),
        can_submit=ops.can_submit(current_user, checklist),
        can_review=ops.can_review(current_user),
        conflict=conflict,
        item_errors=item_errors or {},
        field_name=field_name,
        describe_rule=answers.describe_rule,
        AnswerType=AnswerType,
        Status=Status,
        action_form=BaseForm(),
    ), status


@bp.route("/<int:checklist_id>", methods=["GET", "POST"])
def answer(checklist_id):
    checklist = g.checklist
    items = load_items(checklist)
    form_class = make_checklist_form(items)
    if request.method == "GET":
        data = {"version": str(checklist.version)}
        for item in items:
            data.update(field_data(item))
        return _render(checklist, items, form_class(data=data))

    form = form_class()
    if not form.validate():  # CSRF only: answers are validated per item below
        abort(400)
    try:
        form_version = int(form.version.data)
    except (TypeError, ValueError):
        abort(400)
    # Only what the user changed since the page was loaded is saved.
    touched = {}
    for item in items:
        raw = raw_answer(form, item)
        if raw is None:
            continue
        original = getattr(form, field_name(item.id, "orig")).data
        try:
            cleaned = (
                None
                if ops._is_empty(raw)
                else answers.clean_answer(
                    item.requirement.answer_type, item.requirement.answer_params, raw
                )
            )
        except AnswerError:
            cleaned = "invalid"
        if cleaned == "invalid" or value_hash(cleaned) != original:
            touched[item.id] = raw
    db = get_db()
    try:
        result = ops.save_answers(db, current_user, checklist, form_version, touched)
    except ops.VersionConflict as conflict:
        db.rollback()
        checklist = db.get(Checklist, checklist.id)
        items = load_items(checklist)
        form = form_class()
        form.version.data = str(conflict.current_version)
        changed_ids = {i.id for i in conflict.changed}
        both = []
        for item in items:
            if item.id not in changed_ids:
                continue
            if item.id in touched:
                both.append(item.id)  # keep what this user typed; they decide
            else:
                for name, value in field_data(item).items():
                    getattr(form, name).data = value
            getattr(form, field_name(item.id, "orig")).data = value_hash(item.value)
        return _render(
            checklist,
            items,
            form,
            status=409,
            conflict={"items": [i for i in items if i.id in changed_ids], "both": both},
        )
    except ops.ChecklistError as exc:
        flash(str(exc), "error")
        return redirect(url_for("checklists.answer", checklist_id=checklist.id))
    if not result.errors:
        saved = len(result.saved) + len(result.cleared)
        flash(
            ngettext("%(num)s answer saved.", "%(num)s answers saved.", saved)
            if saved
            else _("Nothing had changed."),
            "info",
        )
        return redirect(url_for("checklists.answer", checklist_id=checklist.id))
    # Some answers could not be saved: show everything as typed, with the errors.
    form.version.data = str(result.version)
    for item in items:
        if item.id in result.saved or item.id in result.cleared:
            getattr(form, field_name(item.id, "orig")).data = value_hash(item.value)
    item_errors = {}
    for item_id, errors in result.errors.items():
        for field, message in errors.items():
            target = getattr(form, field_name(item_id, field), None)
            if target is not None and field:
                target.errors = [message]
            item_errors[item_id] = message
    return _render(checklist, items, form, item_errors=item_errors)


@bp.route("/<int:checklist_id>/skicka-in", methods=["POST"])
def submit(checklist_id):
    checklist = g.checklist
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        ops.submit(get_db(), current_user, checklist)
    except ops.ChecklistError as exc:
        flash(str(exc), "error")
        return redirect(url_for("checklists.answer", checklist_id=checklist.id))
    flash(_("The checklist has been submitted for review."), "info")
    return redirect(url_for("checklists.answer", checklist_id=checklist.id))


@bp.route("/<int:checklist_id>/punkter/<int:item_id>/underlag", methods=["POST"])
def upload(checklist_id, item_id):
    checklist = g.checklist
    if not BaseForm().validate_on_submit():
        abort(400)
    item = get_db().get(ChecklistItem, item_id)
    if item is None or item.checklist_id != checklist.id:
        abort(404)
    upload_file = request.files.get("file")
    anchor = f"item-{item.id}"
    if upload_file is None or not upload_file.filename:
        flash(_("Choose a file to upload."), "error")
        return redirect(url_for("checklists.answer", checklist_id=checklist.id, _anchor=anchor))
    data = upload_file.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
    try:
        checked = check_upload(upload_file.filename, data)
        ops.add_evidence(get_db(), current_user, item, checked, data, evidence_store())
    except (EvidenceError, ops.ChecklistError) as exc:
        flash(str(exc), "error")
        return redirect(url_for("checklists.answer", checklist_id=checklist.id, _anchor=anchor))
    flash(_("The file %(name)s has been uploaded.", name=checked.filename), "info")
    return redirect(url_for("checklists.answer", checklist_id=checklist.id, _anchor=anchor))


@bp.route("/underlag/<int:file_id>/ta-bort", methods=["POST"])
def remove_file(file_id):
    evidence = g.evidence
    if not BaseForm().validate_on_submit():
        abort(400)
    checklist_id = evidence.item.checklist_id
    try:
        ops.remove_evidence(get_db(), current_user, evidence)
    except ops.ChecklistError as exc:
        flash(str(exc), "error")
    return redirect(
        url_for("checklists.answer", checklist_id=checklist_id, _anchor=f"item-{evidence.item_id}")
    )


@bp.route("/underlag/<int:file_id>")
def download(file_id):
    evidence = g.evidence
    try:
        handle = evidence_store().open(evidence.sha256)
    except FileNotFoundError:
        abort(404)
    return send_file(
        handle,
        mimetype=evidence.media_type,
        as_attachment=True,
        download_name=evidence.filename,
        max_age=0,
    )


@bp.route("/<int:checklist_id>/granska", methods=["GET", "POST"])
def review(checklist_id):
    checklist = g.checklist
    items = load_items(checklist)
    form = BaseForm()
    errors = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        db = get_db()
        action = request.form.get("action", "save")
        errors = _save_review(db, checklist, items)
        if not errors:
            try:
                if action == "return":
                    marked = [i.id for i in items if request.form.get(f"complete_{i.id}")]
                    ops.return_for_completion(
                        db, current_user, checklist, marked, request.form.get("message", "")
                    )
                    flash(_("The checklist has been returned to the unit for completion."), "info")
                elif action == "accept":
                    findings = ops.accept(db, current_user, checklist)
                    flash(
                        ngettext(
                            "The checklist is accepted; %(num)s finding recorded.",
                            "The checklist is accepted; %(num)s findings recorded.",
                            len(findings),
                        ),
                        "info",
                    )
                else:
                    flash(_("The review has been saved."), "info")
                return redirect(url_for("checklists.review", checklist_id=checklist.id))
            except (ops.ChecklistError, AnswerError) as exc:
                errors["_action"] = str(exc)
        if errors:
            get_db().rollback()
            checklist = get_db().get(Checklist, checklist.id)
            items = load_items(checklist)
    counts = {}
    for item in items:
        counts[item.status] = counts.get(item.status, 0) + 1
    return render_template(
        "checklists/review.html",
        checklist=checklist,
        items=items,
        chapters=group_by_chapter(items),
        form=form,
        errors=errors,
        counts=counts,
        Status=Status,
        reviewing=checklist.status == ChecklistStatus.SUBMITTED,
        posted=request.form if request.method == "POST" else {},
    ), (422 if errors else 200)


def _save_review(db, checklist, items) -> dict:
    """Overrides and comments from the review form; errors per item (nothing half-saved)."""
    errors = {}
    if checklist.status != ChecklistStatus.SUBMITTED:
        return errors
    for item in items:
        override = request.form.get(f"override_{item.id}") or None
        reason = request.form.get(f"reason_{item.id}", "")
        comment = request.form.get(f"comment_{item.id}", "")
        try:
            if (override or None) != (item.override_status and item.override_status.value) or (
                override and reason.strip() != (item.override_reason or "")
            ):
                ops.override(db, current_user, item, Status(override) if override else None, reason)
            ops.comment(db, current_user, item, comment)
        except (AnswerError, ops.ChecklistError, ValueError) as exc:
            errors[item.id] = str(exc)
    return errors


@bp.route("/iakttagelser")
def findings():
    from audit.access import restrict_to_visible
    from audit.models import Unit

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
    if severity:
        stmt = stmt.where(Finding.severity == severity)
    rows = db.scalars(stmt).all()
    return render_template("checklists/findings.html", findings=rows, severity=severity)
