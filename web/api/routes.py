"""The read API's resources: one table (:data:`RESOURCES`) from which both the routes and the
OpenAPI document are made. Every list is one page of a set-based query (plus, where a row has
related rows, one batched query per relationship for the page), scoped with
:func:`audit.access.restrict_to_visible` exactly like the pages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from flask import abort, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, ValidationError
from sqlalchemy.orm import aliased, selectinload

from audit.access import can_see_unit, restrict_to_visible
from audit.models import Unit
from checklists.answers import Status
from checklists.models import AnswerType, CatalogEdition, Requirement
from checklists.rounds import Checklist, ChecklistItem, Finding, Round
from web.api import bp, schemas
from web.api.errors import error_response
from web.database import get_db
from web.exports.auditcsv import period_bounds
from web.exports.spreadsheet import answer_figures, latest_dispositions
from workflows import action_plan as ap
from workflows.cases.models import Case
from workflows.models import ActionPlan, DialogFinding, SanctionCase

Rows = list
Query = Callable[[dict], sa.Select]
Serialize = Callable[[Rows], list[dict]]


@dataclasses.dataclass(frozen=True)
class Resource:
    """One list of the API: its path, summary, schemas, query and how a page is serialised."""

    name: str
    summary: str
    description: str
    schema: type[Schema]
    args: type[Schema]
    query: Query
    serialize: Serialize
    page: type[Schema] = dataclasses.field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "page", schemas.page_schema(self.schema))

    @property
    def endpoint(self) -> str:
        return f"api.{self.name}"


# --- filters ----------------------------------------------------------------------------------


def _unit_filter(stmt: sa.Select, args: dict, unit_id_column) -> sa.Select:
    """Scope to the units I may see, then the ``unit`` and ``area`` filters; a unit code I
    cannot see is a 404, as on the pages."""
    stmt = restrict_to_visible(stmt, current_user, unit_id_column)
    if code := args.get("unit"):
        unit = get_db().scalar(sa.select(Unit).where(Unit.code == code))
        if unit is None or not can_see_unit(get_db(), current_user, unit):
            abort(404)
        stmt = stmt.where(unit_id_column == unit.id)
    if area := args.get("area"):
        stmt = stmt.where(unit_id_column.in_(sa.select(Unit.id).where(Unit.area == area)))
    return stmt


def _year_of(column, args: dict, stmt: sa.Select) -> sa.Select:
    """Rows whose timestamp falls in the follow-up year (Swedish calendar days)."""
    if year := args.get("year"):
        start, end = period_bounds(dt.date(year, 1, 1), dt.date(year, 12, 31))
        stmt = stmt.where(column >= start, column < end)
    return stmt


# --- units ------------------------------------------------------------------------------------


def _units(args: dict) -> sa.Select:
    main = aliased(Unit)
    stmt = sa.select(Unit, main.code.label("main_code")).outerjoin(
        main, main.id == Unit.main_unit_id
    )
    return _unit_filter(stmt, args, Unit.id).order_by(Unit.id)


def _unit_rows(rows: Rows) -> list[dict]:
    return [
        {
            "id": u.id,
            "code": u.code,
            "name": u.name,
            "kind": u.kind.value,
            "operator": u.operator.value,
            "provider": u.provider,
            "area": u.area.value,
            "main_unit": main_code,
            "has_bvc": u.has_bvc,
            "has_mvc": u.has_mvc,
            "sjukvardsgrupp_duty": u.sjukvardsgrupp_duty,
            "on_region_telephony": u.on_region_telephony,
            "active": u.active,
        }
        for u, main_code in rows
    ]


# --- editions ---------------------------------------------------------------------------------


def _editions(args: dict) -> sa.Select:
    count = (
        sa.select(sa.func.count())
        .where(Requirement.edition_id == CatalogEdition.id)
        .correlate(CatalogEdition)
        .scalar_subquery()
    )
    stmt = sa.select(CatalogEdition, count.label("requirements"))
    if year := args.get("year"):
        stmt = stmt.where(CatalogEdition.year == year)
    return stmt.order_by(CatalogEdition.id)


def _edition_rows(rows: Rows) -> list[dict]:
    return [
        {
            "id": e.id,
            "code": e.code,
            "family": e.family,
            "title": e.title,
            "year": e.year,
            "areas": [{"code": a["code"], "title": a["title"]} for a in e.areas],
            "requirements": n,
        }
        for e, n in rows
    ]


# --- rounds -----------------------------------------------------------------------------------


def _rounds(args: dict) -> sa.Select:
    visible = restrict_to_visible(
        sa.select(Checklist.round_id, sa.func.count().label("n")), current_user, Checklist.unit_id
    )
    visible = visible.group_by(Checklist.round_id).subquery()
    stmt = (
        sa.select(Round, CatalogEdition.code, sa.func.coalesce(visible.c.n, 0))
        .join(CatalogEdition, CatalogEdition.id == Round.edition_id)
        .outerjoin(visible, visible.c.round_id == Round.id)
    )
    if not current_user.sees_all_units:  # a unit sees the rounds it has a checklist in
        stmt = stmt.where(visible.c.n > 0)
    if year := args.get("year"):
        stmt = stmt.where(Round.year == year)
    return stmt.order_by(Round.id)


def _round_rows(rows: Rows) -> list[dict]:
    return [
        {
            "id": r.id,
            "title": r.title,
            "year": r.year,
            "edition": code,
            "opens_on": r.opens_on,
            "deadline": r.deadline,
            "checklists": int(n),
        }
        for r, code, n in rows
    ]


# --- results ----------------------------------------------------------------------------------


def _results(args: dict) -> sa.Select:
    stmt = (
        sa.select(
            ChecklistItem.id,
            ChecklistItem.value,
            ChecklistItem.auto_status,
            ChecklistItem.override_status,
            ChecklistItem.needs_completion,
            ChecklistItem.answered_at,
            Checklist.round_id,
            Checklist.status.label("checklist_status"),
            Round.year,
            Unit.code.label("unit"),
            Requirement.code.label("requirement"),
            Requirement.section,
            Requirement.area,
            Requirement.severity,
            Requirement.answer_type,
        )
        .join(Checklist, Checklist.id == ChecklistItem.checklist_id)
        .join(Round, Round.id == Checklist.round_id)
        .join(Unit, Unit.id == Checklist.unit_id)
        .join(Requirement, Requirement.id == ChecklistItem.requirement_id)
    )
    stmt = _unit_filter(stmt, args, Checklist.unit_id)
    if year := args.get("year"):
        stmt = stmt.where(Round.year == year)
    if round_id := args.get("round"):
        stmt = stmt.where(Checklist.round_id == round_id)
    if area := args.get("requirement_area"):
        stmt = stmt.where(Requirement.area == area)
    return stmt.order_by(ChecklistItem.id)


def _number(value, kind):
    try:
        return kind(value) if value is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


def _result_rows(rows: Rows) -> list[dict]:
    out = []
    for row in rows:
        value = row.value or None
        figures = answer_figures(AnswerType(row.answer_type), value)
        out.append(
            {
                "id": row.id,
                "round": row.round_id,
                "year": row.year,
                "unit": row.unit,
                "checklist_status": str(row.checklist_status),
                "requirement": row.requirement,
                "section": row.section,
                "requirement_area": row.area,
                "severity": str(row.severity),
                "answer_type": str(row.answer_type),
                "answered": value is not None,
                "not_applicable": bool(value and value.get("not_applicable")),
                "yes": figures.get("yes"),
                "numerator": _number(figures.get("numerator"), int),
                "denominator": _number(figures.get("denominator"), int),
                "share": _number(figures.get("share"), float),
                "number": _number(figures.get("number"), float),
                "date": figures.get("date"),
                "persons": figures.get("persons"),
                "auto_status": str(row.auto_status),
                "override_status": str(row.override_status) if row.override_status else None,
                "status": str(Status(row.override_status or row.auto_status)),
                "needs_completion": bool(row.needs_completion),
                "answered_at": row.answered_at,
            }
        )
    return out


# --- findings ---------------------------------------------------------------------------------


def _findings(args: dict) -> sa.Select:
    latest = latest_dispositions()
    entry = aliased(DialogFinding)
    stmt = (
        sa.select(
            Finding,
            Round.year,
            Unit.code.label("unit"),
            Requirement.code.label("requirement"),
            Requirement.section,
            Requirement.area,
            entry.disposition,
        )
        .join(Round, Round.id == Finding.round_id)
        .join(Unit, Unit.id == Finding.unit_id)
        .join(Requirement, Requirement.id == Finding.requirement_id)
        .outerjoin(latest, latest.c.finding_id == Finding.id)
        .outerjoin(entry, entry.id == latest.c.entry_id)
    )
    stmt = _unit_filter(stmt, args, Finding.unit_id)
    if year := args.get("year"):
        stmt = stmt.where(Round.year == year)
    if round_id := args.get("round"):
        stmt = stmt.where(Finding.round_id == round_id)
    if area := args.get("requirement_area"):
        stmt = stmt.where(Requirement.area == area)
    return stmt.order_by(Finding.id)


def _finding_rows(rows: Rows) -> list[dict]:
    return [
        {
            "id": f.id,
            "round": f.round_id,
            "year": year,
            "unit": unit,
            "requirement": requirement,
            "section": section,
            "requirement_area": area,
            "status": f.status.value,
            "severity": f.severity.value,
            "statement": f.statement,
            "created_at": f.created_at,
            "disposition": disposition.value if disposition else None,
        }
        for f, year, unit, requirement, section, area, disposition in rows
    ]


# --- plans, cases, sanctions ------------------------------------------------------------------


def _plans(args: dict) -> sa.Select:
    stmt = (
        sa.select(ActionPlan, Unit.code)
        .join(Unit, Unit.id == ActionPlan.unit_id)
        .options(selectinload(ActionPlan.measures), selectinload(ActionPlan.findings))
    )
    stmt = _year_of(ActionPlan.created_at, args, _unit_filter(stmt, args, ActionPlan.unit_id))
    return stmt.order_by(ActionPlan.id)


def _plan_rows(rows: Rows) -> list[dict]:
    today = dt.date.today()
    return [
        {
            "id": p.id,
            "unit": code,
            "title": p.title,
            "status": p.status.value,
            "created_at": p.created_at,
            "plan_due": p.plan_due,
            "measures_due": p.measures_due,
            "measures": len(p.measures),
            "measures_done": sum(1 for m in p.measures if m.done_on is not None),
            "overdue": ap.is_overdue(p, today),
            "findings": [f.finding_id for f in p.findings],
        }
        for p, code in rows
    ]


def _cases(args: dict) -> sa.Select:
    stmt = sa.select(Case, Unit.code).join(Unit, Unit.id == Case.unit_id)
    stmt = _year_of(Case.created_at, args, _unit_filter(stmt, args, Case.unit_id))
    return stmt.order_by(Case.id)


def _case_rows(rows: Rows) -> list[dict]:
    return [
        {
            "id": c.id,
            "unit": code,
            "kind": c.kind.value,
            "status": c.status.value,
            "title": c.title,
            "period_from": c.period_from,
            "period_to": c.period_to,
            "created_at": c.created_at,
            "submitted_at": c.submitted_at,
            "decided_at": c.decided_at,
            "outcome": c.outcome.value if c.outcome else None,
            "decided_from": c.decided_from,
            "decided_to": c.decided_to,
            "diarienummer": c.diarienummer,
        }
        for c, code in rows
    ]


def _sanctions(args: dict) -> sa.Select:
    stmt = (
        sa.select(SanctionCase, Unit.code)
        .join(Unit, Unit.id == SanctionCase.unit_id)
        .options(selectinload(SanctionCase.ground_findings))
    )
    stmt = _year_of(SanctionCase.created_at, args, _unit_filter(stmt, args, SanctionCase.unit_id))
    return stmt.order_by(SanctionCase.id)


def _sanction_rows(rows: Rows) -> list[dict]:
    return [
        {
            "id": c.id,
            "unit": code,
            "title": c.title,
            "status": c.status.value,
            "created_at": c.created_at,
            "case_number": c.case_number,
            "decision": c.decision.value if c.decision else None,
            "deciding_body": c.deciding_body.value if c.deciding_body else None,
            "diarienummer": c.diarienummer,
            "decided_on": c.decided_on,
            "notified_on": c.notified_on,
            "penalty_sek": c.penalty_sek,
            "reduction_percent": c.reduction_percent,
            "findings": [g.finding_id for g in c.ground_findings if g.finding_id is not None],
        }
        for c, code in rows
    ]


RESOURCES = [
    Resource(
        "units",
        "Units",
        "Health centres, sjukstugor and filialer you may see, with the attributes the rules "
        "depend on.",
        schemas.UnitSchema,
        schemas.UnitArgs,
        _units,
        _unit_rows,
    ),
    Resource(
        "editions",
        "Catalog editions",
        "Editions of the rulebook and of the tilläggsuppdrag, with their areas.",
        schemas.EditionSchema,
        schemas.YearArgs,
        _editions,
        _edition_rows,
    ),
    Resource(
        "rounds",
        "Follow-up rounds",
        "Rounds and how many of their checklists belong to units you may see.",
        schemas.RoundSchema,
        schemas.YearArgs,
        _rounds,
        _round_rows,
    ),
    Resource(
        "results",
        "Results",
        "One row per requirement and unit checklist: the answer's figures and the automatic, "
        "the reviewer's and the effective assessment. No free text.",
        schemas.ResultSchema,
        schemas.ResultArgs,
        _results,
        _result_rows,
    ),
    Resource(
        "findings",
        "Findings",
        "Findings (iakttagelser) of accepted checklists and their latest handling in a dialog.",
        schemas.FindingSchema,
        schemas.ResultArgs,
        _findings,
        _finding_rows,
    ),
    Resource(
        "plans",
        "Action plans",
        "Action plans (§7.1.3) with their dates, measures and whether they are late; `year` "
        "is the year the plan was requested.",
        schemas.PlanSchema,
        schemas.YearUnitArgs,
        _plans,
        _plan_rows,
    ),
    Resource(
        "cases",
        "Cases",
        "Notices and applications (ärenden) filed by units and their decisions; `year` is "
        "the year the case was opened.",
        schemas.CaseSchema,
        schemas.YearUnitArgs,
        _cases,
        _case_rows,
    ),
    Resource(
        "sanctions",
        "Sanction cases",
        "Sanction cases, their decisions on the ladder and who decided; `year` is the year "
        "the case was opened.",
        schemas.SanctionSchema,
        schemas.YearUnitArgs,
        _sanctions,
        _sanction_rows,
    ),
]


def _list_view(resource: Resource):
    def view():
        try:
            args = resource.args().load(request.args.to_dict(flat=True))
        except ValidationError as exc:
            return error_response(
                400, "invalid_parameters", _("Some query parameters are wrong."), exc.messages
            )
        if any(len(values) > 1 for values in request.args.listvalues()):
            return error_response(
                400, "invalid_parameters", _("Give each query parameter at most once.")
            )
        db = get_db()
        stmt = resource.query(args)
        total = db.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
        limit, offset = args["limit"], args["offset"]
        rows = db.execute(stmt.limit(limit).offset(offset)).all()
        following = None
        if offset + limit < total:
            query = {k: v for k, v in args.items() if k not in ("offset",)}
            following = url_for(resource.endpoint, _external=True, **query, offset=offset + limit)
        body = resource.page().dump(
            {
                "items": resource.serialize(rows),
                "total": total,
                "limit": limit,
                "offset": offset,
                "next": following,
            }
        )
        return jsonify(body)

    view.__name__ = resource.name
    view.__doc__ = resource.description
    return view


for _resource in RESOURCES:
    bp.add_url_rule(f"/{_resource.name}", _resource.name, _list_view(_resource))


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3 document of this API, generated from the schemas (web/api/spec.py)."""
    from web.api.spec import api_spec

    response = jsonify(api_spec(current_app))
    response.headers["Cache-Control"] = "no-cache"
    return response
