"""Open a round; list rounds; a round's overview as a heat map of units × areas."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup, escape

from audit.models import Area, Operator, Unit, UnitKind
from audit.text import TextRefused
from checklists import operations as ops
from checklists import results
from checklists.answers import Status
from checklists.models import CatalogEdition, Requirement
from checklists.rounds import Checklist, ChecklistStatus, Round
from web.database import get_db
from web.forms import BaseForm, choices
from web.labels import label
from web.rounds import bp
from web.rounds.forms import (
    ALL_UNITS,
    AddUnitForm,
    CloseRoundForm,
    ExtendDeadlineForm,
    OpenRoundForm,
)


@bp.route("/")
def index():
    db = get_db()
    rounds = db.scalars(sa.select(Round).order_by(Round.created_at.desc())).all()
    counts = {}
    for round_id, status, n in db.execute(
        sa.select(Checklist.round_id, Checklist.status, sa.func.count()).group_by(
            Checklist.round_id, Checklist.status
        )
    ):
        counts.setdefault(round_id, {})[status] = n
    return render_template(
        "rounds/index.html", rounds=rounds, counts=counts, ChecklistStatus=ChecklistStatus
    )


def _choices(form: OpenRoundForm, db) -> dict[str, CatalogEdition]:
    editions = {
        e.code: e
        for e in db.scalars(
            sa.select(CatalogEdition).order_by(CatalogEdition.family, CatalogEdition.year.desc())
        )
    }
    form.edition.choices = choices((code, f"{code} – {e.title}") for code, e in editions.items())
    chosen = editions.get(form.edition.data) or next(iter(editions.values()), None)
    form.areas.choices = [(a["code"], a["title"]) for a in (chosen.areas if chosen else [])]
    form.unit_area.choices = [(a.value, label(a)) for a in Area]
    form.unit_operator.choices = [(o.value, label(o)) for o in Operator]
    form.units.choices = [
        (str(u.id), u.name)
        for u in db.scalars(
            sa.select(Unit)
            .where(Unit.active.is_(True), Unit.kind != UnitKind.FILIAL)
            .order_by(Unit.name)
        )
    ]
    return editions


@bp.route("/ny", methods=["GET", "POST"])
def new():
    db = get_db()
    form = OpenRoundForm()
    editions = _choices(form, db)
    if not editions:
        flash(_("Load a catalog edition before opening a round."), "error")
        return redirect(url_for("catalog.index"))
    if form.validate_on_submit():
        edition = editions.get(form.edition.data)
        selection, error = _selection(form, db, edition)
        if error:
            form.form_errors.append(error)
        else:
            try:
                round_ = ops.open_round(
                    db,
                    current_user,
                    edition=edition,
                    title=form.title.data,
                    year=form.year.data,
                    opens_on=form.opens_on.data,
                    deadline=form.deadline.data,
                    selection=selection,
                )
            except (ops.ChecklistError, TextRefused) as exc:
                form.form_errors.append(str(exc))
            else:
                flash(_("The round has been opened."), "info")
                return redirect(url_for("rounds.overview", round_id=round_.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("rounds/new.html", form=form), status


def _selection(form, db, edition):
    requirement_ids = unit_ids = None
    if form.requirement_scope.data == "areas":
        if not form.areas.data:
            return None, _("Choose at least one area.")
        requirement_ids = list(
            db.scalars(
                sa.select(Requirement.id).where(
                    Requirement.edition_id == edition.id, Requirement.area.in_(form.areas.data)
                )
            )
        )
    elif form.requirement_scope.data == "codes":
        codes = [c for c in re.split(r"[\s,;]+", form.codes.data or "") if c]
        found = dict(
            db.execute(
                sa.select(Requirement.code, Requirement.id).where(
                    Requirement.edition_id == edition.id, Requirement.code.in_(codes)
                )
            ).all()
        )
        unknown = [c for c in codes if c not in found]
        if not codes or unknown:
            return None, (
                _("Unknown requirement codes: %(codes)s", codes=", ".join(unknown))
                if unknown
                else _("Enter at least one requirement code.")
            )
        requirement_ids = list(found.values())
    unit_query = sa.select(Unit.id)
    if form.unit_scope.data == "area":
        unit_ids = list(db.scalars(unit_query.where(Unit.area == Area(form.unit_area.data))))
    elif form.unit_scope.data == "operator":
        unit_ids = list(
            db.scalars(unit_query.where(Unit.operator == Operator(form.unit_operator.data)))
        )
    elif form.unit_scope.data == "picked":
        if not form.units.data:
            return None, _("Choose at least one unit.")
        unit_ids = [int(u) for u in form.units.data]
    return ops.RoundSelection(requirement_ids=requirement_ids, unit_ids=unit_ids), None


def _heat(compliant: int, judged: int, to_review: int) -> str:
    if not judged:
        return "heat-review" if to_review else "heat-none"
    share = compliant / judged
    if share == 1:
        return "heat-4"
    if share >= 0.75:
        return "heat-3"
    if share >= 0.5:
        return "heat-2"
    return "heat-1"


def heat_class(cell: dict) -> str:
    """Colour class of a heat-map cell from the statuses of its items: the share of compliant
    among judged items; with nothing judged, "to review" if anything waits for a reviewer."""
    judged = sum(
        cell.get(s, 0) for s in (Status.COMPLIANT, Status.PARTLY_COMPLIANT, Status.NON_COMPLIANT)
    )
    return _heat(cell.get(Status.COMPLIANT, 0), judged, cell.get(Status.TO_REVIEW, 0))


# The overview's cells: the counts of a checklist's items in one area, by effective status.
# Positions in a cell's count list; the status comes from the query as a plain string.
_COUNTS = {
    Status.COMPLIANT.value: 0,
    Status.PARTLY_COMPLIANT.value: 1,
    Status.NON_COMPLIANT.value: 2,
    Status.TO_REVIEW.value: 3,
    Status.NOT_ANSWERED.value: 4,
    Status.NOT_APPLICABLE.value: 5,
}
_CHECKLISTS = results.CHECKLISTS
_UNITS = results.UNITS
_OVERVIEW_FILTERS = {
    "area": {a.value for a in Area},
    "operator": {o.value for o in Operator},
    "status": {s.value for s in ChecklistStatus},
}
_STATUS_ORDER = {s.value: n for n, s in enumerate(ChecklistStatus)}


@dataclasses.dataclass(slots=True)
class OverviewRow:
    """One unit's row: its checklist, progress, and the cells' HTML (built once, in Python)."""

    checklist_id: int
    name: str
    status: str
    answered: int
    total: int
    cells: Markup
    counts: dict  # area code -> the cell's counts (for sorting by an area)


def _cell_html(counts: list[int], texts: dict[str, str]) -> str:
    """``<td>`` of one cell: its colour class and a short visible text that makes sense with
    the row and column headers alone -- "5/8" (compliant of judged items), "granskas",
    "obesvarad" -- so that neither colour nor hidden text carries the meaning."""
    compliant, partly, non, review, unanswered, _not_applicable = counts
    judged = compliant + partly + non
    css = _heat(compliant, judged, review)
    if judged:
        text = f"{compliant}/{judged}"
    elif review:
        text = texts["review"]
    elif unanswered:
        text = texts["unanswered"]
    else:
        css, text = "heat-none na", texts["not_applicable"]
    return f'<td class="{css}">{escape(text)}</td>'


def _overview_rows(db, round_, filters: dict, q: str):
    """The rows (after the filters) and the areas used, from two set-based queries: the
    round's checklists, and the GROUP BY of their items' statuses per checklist and area."""
    c, u = _CHECKLISTS.c, _UNITS.c
    checklists = db.execute(
        sa.select(
            c.id,
            sa.type_coerce(c.status, sa.String),
            u.name,
            u.code,
            sa.type_coerce(u.area, sa.String),
            sa.type_coerce(u.operator, sa.String),
        )
        .join_from(_CHECKLISTS, _UNITS, u.id == c.unit_id)
        .where(c.round_id == round_.id)
        .order_by(u.name)
    ).all()
    cells_stmt = results.status_counts(c.round_id == round_.id)
    if filters.get("area") or filters.get("operator"):
        cells_stmt = cells_stmt.join(_UNITS, u.id == c.unit_id)
        if filters.get("area"):
            cells_stmt = cells_stmt.where(u.area == filters["area"])
        if filters.get("operator"):
            cells_stmt = cells_stmt.where(u.operator == filters["operator"])
    if filters.get("status"):
        cells_stmt = cells_stmt.where(c.status == filters["status"])
    counts: dict[int, dict[str, list[int]]] = {}
    index = _COUNTS
    for checklist_id, area, status, n in db.execute(cells_stmt):
        per = counts.get(checklist_id)
        if per is None:
            per = counts[checklist_id] = {}
        cell = per.get(area)
        if cell is None:
            cell = per[area] = [0, 0, 0, 0, 0, 0]
        cell[index[status]] += n

    used = set()
    for per in counts.values():
        used.update(per)
    areas = [a for a in round_.edition.areas if a["code"] in used]
    codes = [a["code"] for a in areas]
    texts = {
        "review": _("awaiting review"),
        "unanswered": _("unanswered"),
        "not_applicable": str(label(Status.NOT_APPLICABLE)),
    }
    cell_cache: dict = {}  # counts -> (html, items, unanswered): many cells are alike
    empty = "<td></td>"
    needle = q.casefold()
    rows = []
    for checklist_id, status, name, code, area, operator in checklists:
        if filters.get("area") and area != filters["area"]:
            continue
        if filters.get("operator") and operator != filters["operator"]:
            continue
        if filters.get("status") and status != filters["status"]:
            continue
        if needle and needle not in name.casefold() and needle not in code.casefold():
            continue
        per = counts.get(checklist_id) or {}
        html = []
        total = unanswered = 0
        for code_ in codes:
            cell = per.get(code_)
            if cell is None:
                html.append(empty)
                continue
            key = tuple(cell)
            hit = cell_cache.get(key)
            if hit is None:
                hit = cell_cache[key] = (_cell_html(cell, texts), sum(cell), cell[4])
            html.append(hit[0])
            total += hit[1]
            unanswered += hit[2]
        rows.append(
            OverviewRow(
                checklist_id=checklist_id,
                name=name,
                status=status,
                answered=total - unanswered,
                total=total,
                cells=Markup("".join(html)),  # noqa: S704 (built from escaped parts above)
                counts=per,
            )
        )
    return rows, areas, len(checklists)


def _sort(rows: list[OverviewRow], key: str, descending: bool) -> None:
    """Sort in place; what cannot be compared (nothing judged, nothing to answer) goes last."""
    if key == "name":
        if descending:
            rows.reverse()  # the query sorted by name
        return
    if key == "status":
        rows.sort(key=lambda r: _STATUS_ORDER.get(r.status, 0), reverse=descending)
        return
    if key == "progress":
        values = {r.checklist_id: r.answered / r.total if r.total else None for r in rows}
    else:
        values = {}
        for r in rows:
            cell = r.counts.get(key)
            judged = cell and cell[0] + cell[1] + cell[2]
            values[r.checklist_id] = cell[0] / judged if judged else None
    sign = -1 if descending else 1
    rows.sort(
        key=lambda r: (
            values[r.checklist_id] is None,
            sign * (values[r.checklist_id] or 0),
        )
    )


def _round(round_id: int) -> Round:
    round_ = get_db().get(Round, round_id)
    if round_ is None:
        abort(404)
    return round_


@bp.route("/<int:round_id>")
def overview(round_id):
    """The round's heat map: units × areas, filterable and sortable without JavaScript."""
    return _overview(_round(round_id))


def _manage_forms(db, round_, extend=None, add=None, close=None) -> dict:
    """The management forms of an open round, with their choices."""
    extend = extend or ExtendDeadlineForm(prefix="extend", formdata=None)
    add = add or AddUnitForm(prefix="add", formdata=None)
    close = close or CloseRoundForm(prefix="close", formdata=None)
    pending = ops.unsubmitted(db, round_) if round_.closed_at is None else []
    extend.scope.choices = [(ALL_UNITS, _("All units"))] + [
        (str(c.id), f"{c.unit.name} ({c.due_on.isoformat()})") for c in pending
    ]
    add.unit.choices = [("", _("Choose a unit"))] + [
        (u.code, f"{u.name} ({u.code})") for u in ops.addable_units(db, round_)
    ]
    return {"extend": extend, "add": add, "close": close, "pending": pending}


def _overview(round_, *, manage=None, error=None, status=200):
    db = get_db()
    filters = {
        name: request.args[name]
        for name, allowed in _OVERVIEW_FILTERS.items()
        if request.args.get(name) in allowed
    }
    q = (request.args.get("q") or "").strip()[:100]
    rows, areas, total = _overview_rows(db, round_, filters, q)
    sort_keys = {"name", "status", "progress", *(a["code"] for a in areas)}
    sort = request.args.get("sort") if request.args.get("sort") in sort_keys else "name"
    descending = request.args.get("dir") == "desc"
    _sort(rows, sort, descending)
    args = dict(filters, round_id=round_.id)
    if q:
        args["q"] = q
    link = url_for("checklists.answer", checklist_id=987654321).rsplit("987654321", 1)
    return render_template(
        "rounds/overview.html",
        round=round_,
        rows=rows,
        total=total,
        areas=areas,
        filters=filters,
        q=q,
        sort=sort,
        descending=descending,
        args=args,
        link=link,
        status_labels={s.value: str(label(s)) for s in ChecklistStatus},
        Area=Area,
        Operator=Operator,
        ChecklistStatus=ChecklistStatus,
        manage=manage or _manage_forms(db, round_),
        manage_error=error,
        can_manage=ops.can_review(current_user) and round_.closed_at is None,
    ), status


def _refused(round_, manage, exc):
    get_db().rollback()
    return _overview(get_db().get(Round, round_.id), manage=manage, error=str(exc), status=409)


@bp.route("/<int:round_id>/forlang", methods=["POST"])
def extend(round_id):
    """Förläng svarstiden för alla enheter eller en, med skäl."""
    db = get_db()
    round_ = _round(round_id)
    form = ExtendDeadlineForm(prefix="extend")
    manage = _manage_forms(db, round_, extend=form)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _overview(round_, manage=manage, status=422)
    checklist = None
    if form.scope.data != ALL_UNITS:
        checklist = db.get(Checklist, int(form.scope.data))
    try:
        ops.extend_deadline(
            db, current_user, round_, form.new_deadline.data, form.reason.data, checklist
        )
    except (ops.ChecklistError, TextRefused) as exc:
        return _refused(round_, manage, exc)
    flash(_("The deadline has been extended."), "info")
    return redirect(url_for("rounds.overview", round_id=round_.id, _anchor="manage-h"))


@bp.route("/<int:round_id>/paminn", methods=["POST"])
def remind(round_id):
    """Påminn enheterna som inte har skickat in (e-post via utkorgen)."""
    db = get_db()
    round_ = _round(round_id)
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        queued = ops.remind_unsubmitted(db, current_user, round_, dt.date.today())
    except ops.ChecklistError as exc:
        return _refused(round_, _manage_forms(db, round_), exc)
    flash(
        ngettext(
            "%(num)s reminder has been queued for e-mail.",
            "%(num)s reminders have been queued for e-mail.",
            queued,
        )
        if queued
        else _(
            "No new reminders: the units were reminded today already, or nobody there has "
            "an e-mail address that wants them."
        ),
        "info",
    )
    return redirect(url_for("rounds.overview", round_id=round_.id, _anchor="manage-h"))


@bp.route("/<int:round_id>/stang", methods=["POST"])
def close(round_id):
    """Stäng omgången: units that have not submitted are closed as not submitted."""
    db = get_db()
    round_ = _round(round_id)
    form = CloseRoundForm(prefix="close")
    manage = _manage_forms(db, round_, close=form)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _overview(round_, manage=manage, status=422)
    try:
        count = ops.close_round(db, current_user, round_, form.reason.data)
    except (ops.ChecklistError, TextRefused) as exc:
        return _refused(round_, manage, exc)
    flash(
        _("The round is closed; %(n)s units had not submitted.", n=count)
        if count
        else _("The round is closed."),
        "info",
    )
    return redirect(url_for("rounds.overview", round_id=round_.id))


@bp.route("/<int:round_id>/enheter", methods=["POST"])
def add_unit(round_id):
    """Lägg till en enhet som saknades."""
    db = get_db()
    round_ = _round(round_id)
    form = AddUnitForm(prefix="add")
    manage = _manage_forms(db, round_, add=form)
    if not form.validate_on_submit() or not form.unit.data:
        if form.csrf_token.errors:
            abort(400)
        if not form.unit.data and not form.unit.errors:
            form.unit.errors = [_("Choose a unit.")]
        return _overview(round_, manage=manage, status=422)
    unit = db.scalar(sa.select(Unit).where(Unit.code == form.unit.data))
    try:
        ops.add_unit(db, current_user, round_, unit, form.reason.data)
    except (ops.ChecklistError, TextRefused) as exc:
        return _refused(round_, manage, exc)
    flash(_("The unit has been added to the round."), "info")
    return redirect(url_for("rounds.overview", round_id=round_.id, _anchor="manage-h"))
