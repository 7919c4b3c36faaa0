"""Open a round; list rounds; a round's overview as a heat map of units × areas."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import contains_eager

from audit.models import Area, Operator, Unit, UnitKind
from checklists import operations as ops
from checklists.answers import Status
from checklists.models import CatalogEdition, Requirement
from checklists.rounds import Checklist, ChecklistItem, ChecklistStatus, Round
from web.database import get_db
from web.forms import choices
from web.labels import label
from web.rounds import bp
from web.rounds.forms import OpenRoundForm


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
            except ops.ChecklistError as exc:
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


def heat_class(cell: dict) -> str:
    """Colour class of a heat-map cell from the statuses of its items."""
    judged = sum(
        cell.get(s, 0) for s in (Status.COMPLIANT, Status.PARTLY_COMPLIANT, Status.NON_COMPLIANT)
    )
    total = sum(cell.values())
    if not total or cell.get(Status.NOT_ANSWERED, 0) == total:
        return "heat-none"
    if not judged:
        return "heat-review"
    share = cell.get(Status.COMPLIANT, 0) / judged
    if share == 1:
        return "heat-4"
    if share >= 0.75:
        return "heat-3"
    if share >= 0.5:
        return "heat-2"
    return "heat-1"


@bp.route("/<int:round_id>")
def overview(round_id):
    db = get_db()
    round_ = db.get(Round, round_id)
    if round_ is None:
        abort(404)
    checklists = db.scalars(
        sa.select(Checklist)
        .join(Unit)
        .where(Checklist.round_id == round_.id)
        .options(contains_eager(Checklist.unit))
        .order_by(Unit.name)
    ).all()
    status = sa.func.coalesce(ChecklistItem.override_status, ChecklistItem.auto_status)
    cells: dict = {}
    totals: dict = {}
    for checklist_id, area, item_status, n in db.execute(
        sa.select(ChecklistItem.checklist_id, Requirement.area, status, sa.func.count())
        .join(Requirement)
        .join(Checklist)
        .where(Checklist.round_id == round_.id)
        .group_by(ChecklistItem.checklist_id, Requirement.area, status)
    ):
        item_status = Status(item_status)
        cells.setdefault((checklist_id, area), {})[item_status] = n
        per = totals.setdefault(checklist_id, {})
        per[item_status] = per.get(item_status, 0) + n
    areas_used = {area for _, area in cells}
    areas = [a for a in round_.edition.areas if a["code"] in areas_used]
    return render_template(
        "rounds/overview.html",
        round=round_,
        checklists=checklists,
        areas=areas,
        cells=cells,
        totals=totals,
        heat_class=heat_class,
        Status=Status,
        ChecklistStatus=ChecklistStatus,
    )
