"""Marshmallow schemas of the read API: what each resource answers and which query parameters
it takes. The OpenAPI document (web/api/spec.py) is generated from these by apispec, and the
routes dump and load through the same schemas, so the document cannot drift from the answers.

Free text someone typed is left out where it is not the point of the resource (comments,
answers naming persons, the reasons in a sanction case): the API is for figures and states.
A finding's statement and the titles are given; they are the region's own wording.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from audit.models import Area, Operator, UnitKind
from checklists.answers import Status
from checklists.models import AnswerType, Severity
from checklists.rounds import ChecklistStatus
from workflows.cases.models import CaseKind, CaseOutcome, CaseState
from workflows.models import (
    DecidingBody,
    Decision,
    Disposition,
    PlanState,
    SanctionState,
)

MAX_LIMIT = 1000
MAX_ID = 2**31 - 1


def _values(enum_cls) -> list[str]:
    return [member.value for member in enum_cls]


def _enum(enum_cls, **kwargs):
    return fields.String(validate=validate.OneOf(_values(enum_cls)), **kwargs)


def _nullable_enum(enum_cls, **kwargs):
    return fields.String(
        validate=validate.OneOf(_values(enum_cls)), allow_none=True, required=True, **kwargs
    )


# --- query parameters ------------------------------------------------------------------------


class PageArgs(Schema):
    """Sidindelning: at most ``limit`` rows from ``offset``, ordered by id."""

    class Meta:
        unknown = RAISE  # a misspelt filter is an error, not silently everything

    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(1, MAX_LIMIT),
        metadata={"description": f"Rows per page (1–{MAX_LIMIT})."},
    )
    offset = fields.Integer(
        load_default=0,
        validate=validate.Range(0, MAX_ID),
        metadata={"description": "Rows to skip; follow `next` instead of counting."},
    )


class YearArgs(PageArgs):
    year = fields.Integer(
        validate=validate.Range(2000, 2099), metadata={"description": "Follow-up year."}
    )


class UnitArgs(PageArgs):
    unit = fields.String(
        validate=validate.Length(1, 64),
        metadata={"description": "Unit code (a unit you cannot see is a 404)."},
    )
    area = fields.String(
        validate=validate.OneOf(_values(Area)),
        metadata={"description": "Närsjukvårdsområde of the unit."},
    )


class YearUnitArgs(UnitArgs, YearArgs):
    pass


class ResultArgs(YearUnitArgs):
    round = fields.Integer(
        validate=validate.Range(1, MAX_ID), metadata={"description": "Round id."}
    )
    requirement_area = fields.String(
        validate=validate.Length(1, 64),
        metadata={"description": "The catalog's area code of the requirement."},
    )


# --- resources -------------------------------------------------------------------------------


class UnitSchema(Schema):
    """Enhet: a health centre, sjukstuga or filial (§1, §3.9)."""

    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = _enum(UnitKind, required=True)
    operator = _enum(Operator, required=True)
    provider = fields.String(required=True)
    area = _enum(Area, required=True)
    main_unit = fields.String(allow_none=True, required=True)
    has_bvc = fields.Boolean(required=True)
    has_mvc = fields.Boolean(required=True)
    sjukvardsgrupp_duty = fields.Boolean(required=True)
    on_region_telephony = fields.Boolean(required=True)
    active = fields.Boolean(required=True)


class AreaSchema(Schema):
    code = fields.String(required=True)
    title = fields.String(required=True)


class EditionSchema(Schema):
    """Kravkatalogens utgåva: one year's rulebook or tilläggsuppdrag."""

    id = fields.Integer(required=True)
    code = fields.String(required=True)
    family = fields.String(required=True)
    title = fields.String(required=True)
    year = fields.Integer(required=True)
    areas = fields.List(fields.Nested(AreaSchema), required=True)
    requirements = fields.Integer(required=True, metadata={"description": "Number of items."})


class RoundSchema(Schema):
    """Uppföljningsomgång: an edition's requirements sent to units for a year."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    year = fields.Integer(required=True)
    edition = fields.String(required=True)
    opens_on = fields.Date(required=True)
    deadline = fields.Date(required=True)
    checklists = fields.Integer(
        required=True, metadata={"description": "Checklists of units you can see."}
    )


class ResultSchema(Schema):
    """Resultat: one requirement in one unit's checklist — answer figures and assessments."""

    id = fields.Integer(required=True)
    round = fields.Integer(required=True)
    year = fields.Integer(required=True)
    unit = fields.String(required=True)
    checklist_status = _enum(ChecklistStatus, required=True)
    requirement = fields.String(required=True)
    section = fields.String(required=True)
    requirement_area = fields.String(required=True)
    severity = _enum(Severity, required=True)
    answer_type = _enum(AnswerType, required=True)
    answered = fields.Boolean(required=True)
    not_applicable = fields.Boolean(required=True)
    yes = fields.Boolean(allow_none=True, required=True)
    numerator = fields.Integer(allow_none=True, required=True)
    denominator = fields.Integer(allow_none=True, required=True)
    share = fields.Float(allow_none=True, required=True)
    number = fields.Float(allow_none=True, required=True)
    date = fields.Date(allow_none=True, required=True)
    persons = fields.Integer(allow_none=True, required=True)
    auto_status = _enum(Status, required=True)
    override_status = _nullable_enum(Status)
    status = _enum(Status, required=True)
    needs_completion = fields.Boolean(required=True)
    answered_at = fields.DateTime(allow_none=True, required=True)


class FindingSchema(Schema):
    """Iakttagelse: a partly or non-compliant item of an accepted checklist."""

    id = fields.Integer(required=True)
    round = fields.Integer(required=True)
    year = fields.Integer(required=True)
    unit = fields.String(required=True)
    requirement = fields.String(required=True)
    section = fields.String(required=True)
    requirement_area = fields.String(required=True)
    status = _enum(Status, required=True)
    severity = _enum(Severity, required=True)
    statement = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    disposition = _nullable_enum(Disposition)


class PlanSchema(Schema):
    """Åtgärdsplan (§7.1.3)."""

    id = fields.Integer(required=True)
    unit = fields.String(required=True)
    title = fields.String(required=True)
    status = _enum(PlanState, required=True)
    created_at = fields.DateTime(required=True)
    plan_due = fields.Date(required=True)
    measures_due = fields.Date(required=True)
    measures = fields.Integer(required=True)
    measures_done = fields.Integer(required=True)
    overdue = fields.Boolean(required=True)
    findings = fields.List(fields.Integer(), required=True)


class CaseSchema(Schema):
    """Ärende: a notice or application filed by a unit (workflows/cases)."""

    id = fields.Integer(required=True)
    unit = fields.String(required=True)
    kind = _enum(CaseKind, required=True)
    status = _enum(CaseState, required=True)
    title = fields.String(required=True)
    period_from = fields.Date(allow_none=True, required=True)
    period_to = fields.Date(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    submitted_at = fields.DateTime(allow_none=True, required=True)
    decided_at = fields.DateTime(allow_none=True, required=True)
    outcome = _nullable_enum(CaseOutcome)
    decided_from = fields.Date(allow_none=True, required=True)
    decided_to = fields.Date(allow_none=True, required=True)
    diarienummer = fields.String(allow_none=True, required=True)


class SanctionSchema(Schema):
    """Sanktionsärende: its state, the decision on the ladder, who decided and when."""

    id = fields.Integer(required=True)
    unit = fields.String(required=True)
    title = fields.String(required=True)
    status = _enum(SanctionState, required=True)
    created_at = fields.DateTime(required=True)
    case_number = fields.String(allow_none=True, required=True)
    decision = _nullable_enum(Decision)
    deciding_body = _nullable_enum(DecidingBody)
    diarienummer = fields.String(allow_none=True, required=True)
    decided_on = fields.Date(allow_none=True, required=True)
    notified_on = fields.Date(allow_none=True, required=True)
    penalty_sek = fields.Integer(allow_none=True, required=True)
    reduction_percent = fields.Float(allow_none=True, required=True)
    findings = fields.List(fields.Integer(), required=True)


class ErrorSchema(Schema):
    """Fel: what went wrong, in Swedish, and a stable code to act on."""

    error = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        data_key="fields",
        metadata={"description": "Per query parameter, what is wrong with it."},
    )


def page_schema(item: type[Schema]) -> type[Schema]:
    """A page of ``item``: the rows, the paging and the link to the next page."""
    name = item.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "total": fields.Integer(required=True),
            "limit": fields.Integer(required=True),
            "offset": fields.Integer(required=True),
            "next": fields.Url(allow_none=True, required=True),
        },
        name=name,
    )
