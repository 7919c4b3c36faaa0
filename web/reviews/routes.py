"""Särskild fördjupning pages (§7.1.3): the list (filter by unit and state), opening a review on
a unit's risk signals, and the review page — its signals, the request and the unit's answer
and files, the analysis, conclusions and requirements, the actions allowed for me, and the
timeline. Every form works without JavaScript; a refusal shows the page again with an error
summary, the message beside the field and everything typed."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from audit.access import restrict_to_visible
from audit.models import Role, Unit
from checklists.evidence import EvidenceError, EvidenceStore, check_upload
from checklists.rounds import Finding
from web.database import get_db
from web.forms import BaseForm
from web.i18n import lazy_gettext as _l
from web.reviews import bp
from web.workflow_views import (
    REFUSED,
    fire_from_form,
    parse_date,
    parse_ids,
    parse_int,
    refusal,
    send_stored,
    timeline,
)
from workflows.engine import WorkflowError
from workflows.reviews import operations as ops
from workflows.reviews.machine import OPEN_STATES, REVIEW, STATE_LABELS, R
from workflows.reviews.models import (
    InDepthReview,
    ReviewFile,
    ReviewRequirement,
    ReviewSignal,
    SignalKind,
)

SIGNAL_LABELS = {
    SignalKind.FINDING: _l("Finding"),
    SignalKind.REPEATED_BREACH: _l("Repeated breach"),
    SignalKind.COMPLAINT: _l("Complaint"),
    SignalKind.CASE: _l("Notice or application"),
}


@bp.app_template_filter("review_signal")
def review_signal(kind) -> str:
    """A risk signal's kind, for people."""
    return str(SIGNAL_LABELS.get(kind, kind))


@bp.app_template_global()
def linked_reviews(**where):
    """The reviews behind a plan or sanction case (``plan_id=``, ``sanction_case_id=``), or
    a dialog's reviews by finding (``dialog_id=``: {finding id: review}) — the way back."""
    db = get_db()
    if "dialog_id" in where:
        rows = db.execute(
            sa.select(ReviewSignal.finding_id, InDepthReview)
            .join(InDepthReview, InDepthReview.id == ReviewSignal.review_id)
            .where(
                InDepthReview.dialog_id == where["dialog_id"],
                ReviewSignal.finding_id.is_not(None),
            )
        )
        return {finding_id: review for finding_id, review in rows}
    return ops.reviews_linked(db, **where)


@bp.app_template_global()
def review_state_label(state) -> str:
    return STATE_LABELS.get(state, str(state))


# --- the list --------------------------------------------------------------------------------


@bp.route("/")
def index():
    """Fördjupningar, newest first; filter by unit (name or code) and state (open by default)."""
    args = request.args
    status = args.get("status") if args.get("status") in {"alla", *(s.value for s in R)} else ""
    q = (args.get("enhet") or "").strip()[:100]
    stmt = (
        sa.select(InDepthReview)
        .join(Unit, Unit.id == InDepthReview.unit_id)
        .options(selectinload(InDepthReview.unit), selectinload(InDepthReview.signals))
        .order_by(InDepthReview.created_at.desc(), InDepthReview.id.desc())
    )
    if status == "":
        stmt = stmt.where(InDepthReview.status.in_(OPEN_STATES))
    elif status != "alla":
        stmt = stmt.where(InDepthReview.status == R(status))
    if q:
        stmt = stmt.where(sa.or_(Unit.name.ilike(f"%{q}%"), Unit.code.ilike(f"%{q}%")))
    reviews = get_db().scalars(restrict_to_visible(stmt, current_user, InDepthReview.unit_id))
    return render_template(
        "reviews/index.html",
        reviews=reviews.all(),
        labels=STATE_LABELS,
        states=list(R),
        status=status,
        q=q,
        signal_labels=SIGNAL_LABELS,
        today=dt.date.today(),
    )


# --- opening a review ------------------------------------------------------------------------


def _signal_choices(unit):
    """What the purchaser can open a review on: the unit's findings, repeated breaches and
    ärenden (three queries)."""
    from workflows.cases.models import Case
    from workflows.cases.types import case_type

    db = get_db()
    findings = db.scalars(
        sa.select(Finding)
        .where(Finding.unit_id == unit.id)
        .options(selectinload(Finding.requirement), selectinload(Finding.round))
        .order_by(Finding.id.desc())
    ).all()
    cases = db.scalars(
        sa.select(Case).where(Case.unit_id == unit.id).order_by(Case.id.desc())
    ).all()
    return {
        "findings": findings,
        "breaches": ops.repeated_breaches(db, unit),
        "cases": [(c, case_type(c.kind).label) for c in cases],
    }


@bp.route("/ny/<unit_code>", methods=["GET", "POST"])
def new(unit_code):
    """Öppna särskild fördjupning on the unit's risk signals."""
    unit = g.unit
    errors, status = {}, 200
    if request.method == "POST":
        if not BaseForm().validate_on_submit():
            abort(400)
        form = request.form
        try:
            review = ops.open_review(
                get_db(),
                current_user,
                unit,
                title=form.get("title", ""),
                concern=form.get("concern", ""),
                finding_ids=parse_ids(form.getlist("finding")),
                breach_codes=[c for c in form.getlist("breach") if isinstance(c, str)],
                case_ids=parse_ids(form.getlist("arende")),
                complaints=form.get("complaints", "").splitlines(),
            )
        except REFUSED as exc:
            get_db().rollback()
            message, status = refusal(exc, "open", 422)
            errors = {"open": message}
        else:
            flash(_("The in-depth review has been opened."), "info")
            return redirect(url_for("reviews.show", review_id=review.id))
    return render_template(
        "reviews/new.html",
        unit=unit,
        errors=errors,
        posted=request.form if errors else {},
        picked={k: request.form.getlist(k) for k in ("finding", "breach", "arende")}
        if errors
        else {},
        **_signal_choices(unit),
    ), status


# --- the review page -------------------------------------------------------------------------


def _page(review, *, errors=None, posted=None, status=200):
    db = get_db()
    signals = list(review.signals)
    findings = {
        f.id: f
        for f in db.scalars(
            sa.select(Finding)
            .where(Finding.id.in_([s.finding_id for s in signals if s.finding_id]))
            .options(selectinload(Finding.requirement), selectinload(Finding.round))
        )
    }
    from workflows.cases.models import Case

    cases = {
        c.id: c
        for c in db.scalars(
            sa.select(Case).where(Case.id.in_([s.case_id for s in signals if s.case_id]))
        )
    }
    breaches = {b.code: b for b in ops.repeated_breaches(db, review.unit)}
    purchaser = current_user.has_role(Role.BESTALLARE)
    unit_staff = ops.is_unit_staff(current_user, review)
    return render_template(
        "reviews/show.html",
        review=review,
        signals=signals,
        findings=findings,
        cases=cases,
        breaches=breaches,
        signal_labels=SIGNAL_LABELS,
        files=[f for f in review.files if f.removed_at is None],
        timeline=timeline("in_depth_review", review.id),
        actions=REVIEW.available(review, current_user),
        labels=STATE_LABELS,
        triggers=REVIEW.triggers,
        errors=errors or {},
        posted=posted or {},
        today=dt.date.today(),
        can_edit_requirements=purchaser and review.status in OPEN_STATES,
        can_upload=unit_staff and review.status in ops.UPLOAD_STATES,
        late=review.status == R.MATERIAL_REQUESTED
        and review.material_deadline is not None
        and review.material_deadline < dt.date.today(),
    ), status


def _refused(review, exc, form):
    get_db().rollback()
    message, status = refusal(exc, form, 422)
    return _page(
        get_db().get(InDepthReview, review.id),
        errors={form: message},
        posted=request.form,
        status=status,
    )


def _date(name: str):
    """A date field; a bad one is refused beside that field."""
    try:
        return parse_date(request.form.get(name))
    except WorkflowError as exc:
        raise WorkflowError(str(exc), guard=name) from None


def _data(trigger: str) -> dict:
    form = request.form
    if trigger == "request_review_material":
        return {
            "material_request": form.get("material_request", ""),
            "material_days": parse_int(form.get("material_days")),
        }
    if trigger == "extend_material_deadline":
        return {"extra_days": parse_int(form.get("extra_days"))}
    if trigger == "submit_review_material":
        return {"answer": form.get("answer", "")}
    if trigger == "conclude_review":
        return {"analysis": form.get("analysis", ""), "conclusions": form.get("conclusions", "")}
    if trigger == "end_with_action_plan":
        return {"plan_due": _date("plan_due")}
    if trigger == "end_with_sanction_case":
        return {"diarienummer": form.get("diarienummer", "")}
    return {}


@bp.route("/<int:review_id>")
def show(review_id):
    return _page(g.review)


@bp.route("/<int:review_id>/atgard/<trigger>", methods=["POST"])
def act(review_id, trigger):
    review = g.review
    return fire_from_form(
        REVIEW,
        review,
        trigger,
        lambda: _data(trigger),
        request.form.get("reason"),
        lambda row, **kw: _page(row, posted=request.form, **kw),
        "reviews.show",
        review_id=review.id,
    )


@bp.route("/<int:review_id>/krav", methods=["POST"])
def add_requirement(review_id):
    """Krav som enheten ska uppfylla, with its date (Beställarenheten)."""
    review = g.review
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        ops.add_requirement(
            get_db(),
            current_user,
            review,
            text=request.form.get("requirement_text", ""),
            due_date=_date("requirement_due"),
        )
    except REFUSED as exc:
        return _refused(review, exc, "requirement")
    flash(_("The requirement has been added."), "info")
    return redirect(url_for("reviews.show", review_id=review.id, _anchor="requirements-h"))


@bp.route("/<int:review_id>/krav/<int:requirement_id>/ta-bort", methods=["POST"])
def remove_requirement(review_id, requirement_id):
    review = g.review
    if not BaseForm().validate_on_submit():
        abort(400)
    row = get_db().get(ReviewRequirement, requirement_id)
    if row is None or row.review_id != review.id:
        abort(404)
    try:
        ops.remove_requirement(get_db(), current_user, row)
    except REFUSED as exc:
        return _refused(review, exc, "requirement")
    flash(_("The requirement has been removed."), "info")
    return redirect(url_for("reviews.show", review_id=review.id, _anchor="requirements-h"))


def _store() -> EvidenceStore:
    return EvidenceStore(current_app.config["EVIDENCE_DIR"])


def _file_or_404(review, review_file_id):
    row = get_db().get(ReviewFile, review_file_id)
    if row is None or row.review_id != review.id or row.removed_at is not None:
        abort(404)
    return row


@bp.route("/<int:review_id>/underlag", methods=["POST"])
def upload(review_id):
    """Underlag from the unit: the existing upload checks and personnummer guard."""
    review = g.review
    if not BaseForm().validate_on_submit():
        abort(400)
    upload_file = request.files.get("file")
    try:
        if upload_file is None or not upload_file.filename:
            raise WorkflowError(_("Choose a file to upload."), guard="file")
        data = upload_file.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
        try:
            checked = check_upload(upload_file.filename, data)
        except EvidenceError as exc:
            raise WorkflowError(str(exc), guard="file") from None
        ops.add_review_file(get_db(), current_user, review, checked, data, _store())
    except REFUSED as exc:
        get_db().rollback()
        g.setdefault("field_errors", {}).setdefault("upload", {})["file"] = str(exc)
        return _page(
            get_db().get(InDepthReview, review.id),
            errors={"upload": str(exc)},
            posted=request.form,
            status=422,
        )
    flash(_("The file %(name)s has been uploaded.", name=checked.filename), "info")
    return redirect(url_for("reviews.show", review_id=review.id, _anchor="material-h"))


@bp.route("/<int:review_id>/underlag/<int:review_file_id>")
def download(review_id, review_file_id):
    return send_stored(_store(), _file_or_404(g.review, review_file_id))


@bp.route("/<int:review_id>/underlag/<int:review_file_id>/ta-bort", methods=["POST"])
def remove_file(review_id, review_file_id):
    review = g.review
    if not BaseForm().validate_on_submit():
        abort(400)
    row = _file_or_404(review, review_file_id)
    try:
        ops.remove_review_file(get_db(), current_user, row)
    except REFUSED as exc:
        get_db().rollback()
        flash(str(exc), "error")
    else:
        flash(_("The file %(name)s has been removed.", name=row.filename), "info")
    return redirect(url_for("reviews.show", review_id=review.id, _anchor="material-h"))
