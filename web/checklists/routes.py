"""Besvara checklistan: the task list, one section per page, each item saved on its own.

- ``GET /checklistor/<id>`` — the task list (uppgiftslista) of the rulebook's sections with a
  status each, counts and filters (obesvarade, återsända, ej uppfyllda, bedöms av granskare);
- ``/checklistor/<id>/avsnitt/<section>`` — one section's items. Without JavaScript the
  section's form posts here and every changed item is saved on its own ("Spara och fortsätt"
  goes on to the next section); with JavaScript (``static/checklist.js``) each item saves when
  the user leaves it, through
- ``POST /checklistor/<id>/punkter/<item>/svar`` — one item: JSON for scripts (200, 409 on a
  conflict with both values, 422 with the errors), a redirect back to the item otherwise;
- ``/checklistor/<id>/skicka-in`` — lists every missing item as a link, asks for confirmation.

A refused save re-renders the section with an error summary (*fellista*) that links to each
field, with everything the user typed kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import joinedload

from audit.text import TextRefused
from checklists import answers
from checklists import operations as ops
from checklists.answers import Status
from checklists.evidence import EvidenceError, EvidenceStore
from checklists.models import AnswerType
from checklists.rounds import ChecklistItem, ChecklistStatus
from checklists.sections import UNIT_FILTERS, Filter, counts, section_of, task_list
from web.cases.checklist_links import case_links
from web.checklists import bp
from web.checklists.forms import field_name, item_form, loaded_version, raw_answer
from web.database import get_db, writes_late
from web.negotiation import wants_json
from web.workflow_views import read_upload, send_stored


def evidence_store() -> EvidenceStore:
    return EvidenceStore(current_app.config["EVIDENCE_DIR"])


def unit_tasks(db, checklist):
    """The task list as the unit sees it: the reviewer's marks only once returned."""
    return task_list(db, checklist.id, marks=checklist.status == ChecklistStatus.RETURNED)


def _editable(checklist) -> bool:
    return ops.can_answer(current_user, checklist) and ops.editable(checklist)


def _filter(value: str | None, allowed) -> Filter | None:
    """The filter named in the URL; an unknown one is ignored, never an error."""
    try:
        wanted = Filter(value or "")
    except ValueError:
        return None
    return wanted if wanted in allowed else None


@bp.route("/<int:checklist_id>")
def answer(checklist_id):
    """Uppgiftslistan: the checklist's sections, their status, and the filters."""
    checklist = g.checklist
    tasks = unit_tasks(get_db(), checklist)
    wanted = _filter(request.args.get("visa"), UNIT_FILTERS)
    return render_template(
        "checklists/tasks.html",
        checklist=checklist,
        tasks=tasks,
        wanted=wanted,
        filters=UNIT_FILTERS,
        matching=tasks.matching(wanted) if wanted else None,
        editable=_editable(checklist),
        can_submit=ops.can_submit(current_user, checklist),
        can_review=ops.can_review(current_user),
        returned=checklist.status.value == "returned",
    )


def _section_or_404(tasks, section):
    found = tasks.get(section)
    if found is None:
        abort(404)
    return found


def render_section(
    checklist,
    tasks,
    section,
    *,
    forms=None,
    errors=None,
    conflicts=None,
    upload_errors=None,
    status=200,
):
    """A section page; ``forms`` (item id → bound form) keeps what was typed after a refusal."""
    db = get_db()
    ids = [r.id for r in section.rows]
    items = ops.load_items(db, checklist, ids)
    forms = forms or {}
    item_forms = {i.id: forms.get(i.id) or item_form(i) for i in items}
    before, after = tasks.neighbours(section.key)
    errors = errors or {}
    upload_errors = upload_errors or {}
    summary = []  # the fellista: (anchor, section, message)
    for item in items:
        for field, message in errors.get(item.id, {}).items():
            summary.append((_anchor(item.id, field), item.requirement.section, message))
        if item.id in upload_errors:
            summary.append((f"file-{item.id}", item.requirement.section, upload_errors[item.id]))
    return render_template(
        "checklists/section.html",
        checklist=checklist,
        tasks=tasks,
        section=section,
        items=items,
        forms=item_forms,
        errors=errors,
        conflicts=conflicts or {},
        upload_errors=upload_errors,
        summary=summary,
        before=before,
        after=after,
        editable=_editable(checklist),
        can_review=ops.can_review(current_user),
        returned=checklist.status.value == "returned",
        field_name=field_name,
        case_links=case_links(db, checklist, items),
        describe_rule=answers.describe_rule,
        AnswerType=AnswerType,
        Status=Status,
    ), status


def _anchor(item_id: int, name: str) -> str:
    """The id a fellista link points at: the first option of a radio or checkbox group, the
    file input for a missing document, else the field itself."""
    part = name.removeprefix(f"i{item_id}_")
    if part in ("answer", "selected"):
        return f"{name}-0"
    if part == "files":
        return f"file-{item_id}"
    return name


def _field_errors(item, error) -> dict[str, str]:
    """An AnswerError as {form field name: message} (the whole item when it names no field)."""
    field = error.field or "answer"
    name = field_name(item.id, field)
    return {name: str(error)}


@bp.route("/<int:checklist_id>/avsnitt/<path:section>", methods=["GET", "POST"])
def section(checklist_id, section):
    """Ett avsnitt: its items; a post saves every item the user changed, each on its own."""
    checklist = g.checklist
    db = get_db()
    tasks = unit_tasks(db, checklist)
    current = _section_or_404(tasks, section)
    if request.method == "GET":
        return render_section(checklist, tasks, current)
    if not _editable(checklist):
        flash(_("The checklist is submitted and locked."), "error")
        return redirect(url_for("checklists.section", checklist_id=checklist.id, section=section))
    items = ops.load_items(db, checklist, [r.id for r in current.rows])
    forms, entries = {}, {}
    for item in items:
        form = item_form(item, request.form)
        forms[item.id] = form
        version = loaded_version(form)
        if version is None:
            continue  # not on the posted page (or tampered with): nothing of it to save
        entries[item.id] = (version, form.orig.data or None, raw_answer(form, item))
    outcomes = ops.save_answers(db, current_user, checklist, entries)
    errors = {
        item_id: _field_errors(o.item, o.error)
        for item_id, o in outcomes.items()
        if o.state == "invalid"
    }
    conflicts = {item_id: o.conflict for item_id, o in outcomes.items() if o.state == "conflict"}
    saved = sum(1 for o in outcomes.values() if o.state in ("saved", "cleared"))
    if errors or conflicts:
        # Saved items show their new state; refused ones keep what was typed.
        db.commit()
        tasks = unit_tasks(db, checklist)
        keep = {i: f for i, f in forms.items() if i in errors or i in conflicts}
        for item_id, conflict in conflicts.items():
            keep[item_id].version.data = str(conflict.current_version)
        return render_section(
            checklist,
            tasks,
            tasks.get(section),
            forms=keep,
            errors=errors,
            conflicts=conflicts,
            status=409 if conflicts and not errors else 422,
        )
    flash(
        ngettext("%(num)s answer saved.", "%(num)s answers saved.", saved)
        if saved
        else _("Nothing new to save: every answer is saved."),
        "info",
    )
    after = tasks.neighbours(current.key)[1]
    if request.form.get("action") == "continue":
        if after is not None:
            return redirect(
                url_for("checklists.section", checklist_id=checklist.id, section=after.key)
            )
        return redirect(url_for("checklists.answer", checklist_id=checklist.id))
    anchor = request.form.get("item")
    return redirect(
        url_for(
            "checklists.section",
            checklist_id=checklist.id,
            section=current.key,
            _anchor=f"item-{anchor}" if anchor and anchor.isdigit() else None,
        )
    )


def _item_or_404(checklist, item_id) -> ChecklistItem:
    """One item of this checklist with its requirement (one query), or 404."""
    item = get_db().scalar(
        sa.select(ChecklistItem)
        .where(ChecklistItem.id == item_id, ChecklistItem.checklist_id == checklist.id)
        .options(joinedload(ChecklistItem.requirement))
    )
    if item is None:
        abort(404)
    return item


def _evaluation_html(item) -> str:
    return render_template("checklists/_evaluation.html", item=item)


@bp.route("/<int:checklist_id>/punkter/<int:item_id>/svar", methods=["POST"])
@writes_late
def save_item(checklist_id, item_id):
    """Spara en punkt: that item alone; JSON for the page's script, a redirect otherwise."""
    checklist = g.checklist
    db = get_db()
    item = _item_or_404(checklist, item_id)
    form = item_form(item, request.form)
    version = loaded_version(form)
    if version is None:
        abort(400)
    try:
        outcome = ops.save_item(
            db,
            current_user,
            checklist,
            item,
            raw_answer(form, item),
            loaded_version=version,
            year=checklist.round.year,
        )
    except ops.ChecklistError as exc:
        if wants_json():
            return jsonify(ok=False, message=str(exc)), 403
        flash(str(exc), "error")
        return redirect(url_for("checklists.answer", checklist_id=checklist.id))
    if not wants_json():
        if outcome.ok:
            flash(_("The answer has been saved."), "info")
            return _back_to(checklist, item)
        tasks = unit_tasks(db, checklist)
        section = tasks.section_of_item(item.id)
        if outcome.state == "invalid":
            return render_section(
                checklist,
                tasks,
                section,
                forms={item.id: form},
                errors={item.id: _field_errors(item, outcome.error)},
                status=422,
            )
        form.version.data = str(outcome.conflict.current_version)
        return render_section(
            checklist,
            tasks,
            section,
            forms={item.id: form},
            conflicts={item.id: outcome.conflict},
            status=409,
        )
    if outcome.state == "invalid":
        return jsonify(ok=False, errors=_field_errors(item, outcome.error)), 422
    if outcome.state == "conflict":
        conflict = outcome.conflict
        return jsonify(
            ok=False,
            version=conflict.current_version,
            conflict={
                "html": render_template("checklists/_conflict.html", item=item, conflict=conflict),
                "version": conflict.current_version,
            },
        ), 409
    return jsonify(_item_state(db, checklist, item, outcome.state))


def _item_state(db, checklist, item, state: str) -> dict:
    """What the page shows after a save: the item's new version, evaluation and the counts."""
    in_section, section_total, answered, total = counts(
        db, checklist.id, section_of(item.requirement.section)
    )
    return {
        "ok": True,
        "state": state,
        "version": item.version,
        "orig": ops.value_hash(item.value),
        "status": str(item.status),
        "html": _evaluation_html(item),
        "section": {"answered": in_section, "total": section_total},
        "progress": {"answered": answered, "total": total},
    }


def _back_to(checklist, item):
    tasks = unit_tasks(get_db(), checklist)
    section = tasks.section_of_item(item.id)
    return redirect(
        url_for(
            "checklists.section",
            checklist_id=checklist.id,
            section=section.key,
            _anchor=f"item-{item.id}",
        )
    )


@bp.route("/<int:checklist_id>/skicka-in", methods=["GET", "POST"])
def submit(checklist_id):
    """Skicka in: every missing item as a link; submitting asks for confirmation."""
    checklist = g.checklist
    db = get_db()
    if request.method == "POST" and request.form.get("confirm") == "1":
        try:
            ops.submit(db, current_user, checklist)
        except ops.Incomplete:
            pass  # someone emptied an item meanwhile: show the list again
        except ops.ChecklistError as exc:
            flash(str(exc), "error")
            return redirect(url_for("checklists.answer", checklist_id=checklist.id))
        else:
            flash(_("The checklist has been submitted for review."), "info")
            return redirect(url_for("checklists.answer", checklist_id=checklist.id))
    tasks = unit_tasks(db, checklist)
    missing = tasks.matching(Filter.UNANSWERED)
    return render_template(
        "checklists/submit.html",
        checklist=checklist,
        tasks=tasks,
        missing=missing,
        editable=_editable(checklist),
        can_submit=ops.can_submit(current_user, checklist),
    ), (422 if request.method == "POST" else 200)


@bp.route("/<int:checklist_id>/punkter/<int:item_id>/underlag", methods=["POST"])
def upload(checklist_id, item_id):
    """Ladda upp underlag for one item; a refusal is shown beside that item."""
    checklist = g.checklist
    db = get_db()
    item = _item_or_404(checklist, item_id)
    error = None
    checked = None
    try:
        checked, data = read_upload()
        ops.add_evidence(db, current_user, item, checked, data, evidence_store())
    except (EvidenceError, ops.ChecklistError, TextRefused) as exc:
        error = str(exc)
    if wants_json():
        if error:
            return jsonify(ok=False, errors={f"file-{item.id}": error}), 422
        return jsonify(
            {
                **_item_state(db, checklist, item, "saved"),
                "files": render_template("checklists/_files.html", item=item, editable=True),
                "forms": render_template("checklists/_file_forms.html", item=item),
            }
        )
    if error:
        db.rollback()
        tasks = unit_tasks(db, checklist)
        return render_section(
            checklist,
            tasks,
            tasks.section_of_item(item.id),
            upload_errors={item.id: error},
            status=422,
        )
    flash(_("The file %(name)s has been uploaded.", name=checked.filename), "info")
    return _back_to(checklist, item)


@bp.route("/underlag/<int:file_id>/ta-bort", methods=["POST"])
def remove_file(file_id):
    evidence = g.evidence
    item = evidence.item
    checklist = item.checklist
    try:
        ops.remove_evidence(get_db(), current_user, evidence)
    except ops.ChecklistError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The file %(name)s has been removed.", name=evidence.filename), "info")
    return _back_to(checklist, item)


@bp.route("/underlag/<int:file_id>")
def download(file_id):
    evidence = g.evidence
    return send_stored(evidence_store(), evidence)


from web.checklists import review  # noqa: E402,F401  (the reviewer's routes)
