"""Factories for ärenden: a complete entry of every kind, its documents, and a case walked to
any state it can reach through the machine's own transitions."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from audit.models import Operator, Unit
from checklists.evidence import check_upload
from workflows.cases import operations as co
from workflows.cases.machine import CASE, S, today
from workflows.cases.models import CaseKind
from workflows.cases.types import (
    CHOICE,
    CHOICES,
    CONFIRM,
    DATE,
    FLAG,
    LINE,
    NUMBER,
    TEXT,
    UNITS,
    case_type,
)

PRIVATE_UNIT = "privat"
PARTNER_UNIT = "backen"


def filing_unit(kind) -> str:
    """Lex Maria cases come from a private unit (§2.6); the rest from Byske."""
    return PRIVATE_UNIT if case_type(kind).private_only else "byske"


def field_values(kind, partner_id: int | None = None) -> dict:
    """A value for every field of the type, as a form hands them over."""
    values = {}
    for field in case_type(kind).fields:
        if field.later:
            continue
        if field.kind in (LINE, TEXT):
            values[field.name] = f"{field.label} – uppgift i test."
        elif field.kind == NUMBER:
            values[field.name] = 5000
        elif field.kind == DATE:
            values[field.name] = today() - dt.timedelta(days=3)
        elif field.kind in (CONFIRM, FLAG):
            values[field.name] = True
        elif field.kind == CHOICE:
            values[field.name] = field.choices[0][0]
        elif field.kind == CHOICES:
            values[field.name] = [c for c, _label in field.choices]
        elif field.kind == UNITS:
            pass
    return values


def complete_entry(db, kind, *, start: dt.date | None = None) -> co.Entry:
    """Everything the type asks for, with a period starting ``start`` (today) and a month long
    where the type has an end."""
    kind_ = case_type(kind)
    start = start or today()
    partner = db.scalar(sa.select(Unit.id).where(Unit.code == PARTNER_UNIT))
    return co.Entry(
        values=field_values(kind),
        period_from=start,
        period_to=start + dt.timedelta(days=30) if kind_.period_to_label else None,
        partner_ids=[partner] if kind_.partner_field else [],
    )


def text_file(name: str = "handling.txt", text: str = "Avidentifierad handling i test."):
    data = text.encode()
    return check_upload(name, data), data


def attach_required(db, user, case, store, *, later: bool = False) -> None:
    for document in case_type(case.kind).documents:
        if document.required and document.later == later:
            checked, data = text_file()
            co.add_document(db, user, case, document.kind, checked, data, store)


def decision_data(case) -> dict:
    """What a beställare enters to grant or note the case (a diarienummer always fits)."""
    return {"diarienummer": "RS 2026/12"}


def walk(db, people, kind, state, store):
    """A case of ``kind`` in ``state``, reached through the machine's own transitions."""
    unit = db.scalar(sa.select(Unit).where(Unit.code == filing_unit(kind)))
    head = people[f"vc.{unit.code}"]
    bo = people["bo"]
    kind_ = case_type(kind)
    case = co.open_case(db, head, unit, kind, complete_entry(db, kind))
    attach_required(db, head, case, store)
    if state == S.DRAFT:
        return case
    if state == S.WITHDRAWN:
        CASE.fire(db, head, case, "withdraw", reason="Behövs inte längre.")
        return case
    CASE.fire(db, head, case, "submit")
    if state == S.SUBMITTED:
        return case
    if state == S.COMPLETION_REQUESTED:
        CASE.fire(
            db, bo, case, "request_completion", data={"completion_days": 5}, reason="Mer underlag."
        )
        return case
    if state == S.REFUSED:
        CASE.fire(db, bo, case, "refuse", data=decision_data(case), reason="Särskilda skäl.")
        return case
    decision = "grant" if kind_.application else "note"
    CASE.fire(db, bo, case, decision, data=decision_data(case))
    if state in (S.GRANTED, S.NOTED):
        return case
    CASE.fire(db, bo, case, "take_effect")
    if kind_.missing_later(case):
        co.update_later(db, head, case, {"ivo_decided_on": today()})
        attach_required(db, head, case, store, later=True)
    if state == S.IN_EFFECT:
        return case
    CASE.fire(db, bo, case, "close")
    assert state == S.CLOSED
    return case


def reachable(kind) -> list:
    """The states a case of ``kind`` can be in: a notice is never granted or refused, an
    application never noted."""
    application = case_type(kind).application
    return [
        s
        for s in S
        if not (application and s == S.NOTED)
        and not (not application and s in (S.GRANTED, S.REFUSED))
    ]


def make_units(db, make_unit) -> None:
    make_unit(db, "byske", name="Byske hälsocentral")
    make_unit(db, PARTNER_UNIT, name="Backens hälsocentral")
    make_unit(db, PRIVATE_UNIT, name="Privata hälsocentralen", operator=Operator.PRIVAT)


ALL_KINDS = list(CaseKind)
