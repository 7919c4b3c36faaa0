"""Factories for test objects, through the same operations the app uses."""

from __future__ import annotations

import itertools

from audit import accounts
from audit.models import Area, Operator, Role, Unit, UnitKind
from audit.trail import Actor, record

TEST_ACTOR = Actor(label="test")
PASSWORD = "rätt häst batteri häftklammer"
_counter = itertools.count(1)


def make_unit(db, code: str | None = None, **fields) -> Unit:
    """A unit (defaults: an egenregi health centre in Umeå), recorded in the trail."""
    code = code or f"enhet{next(_counter)}"
    values = dict(
        code=code,
        name=fields.pop("name", f"Testenhet {code}"),
        kind=UnitKind.HALSOCENTRAL,
        operator=Operator.EGENREGI,
        area=Area.UMEA,
        has_bvc=True,
        has_mvc=True,
        sjukvardsgrupp_duty=False,
        on_region_telephony=True,
        source="test",
        assumptions="",
    )
    values.update(fields)
    unit = Unit(**values)
    db.add(unit)
    db.flush()
    record(db, TEST_ACTOR, "unit", unit.id, "create", after=unit.snapshot())
    return unit


def make_user(
    db,
    username: str | None = None,
    *roles: tuple[Role, str | None],
    password: str = PASSWORD,
    display_name: str | None = None,
):
    """A user with the given (role, unit code) pairs."""
    username = username or f"user{next(_counter)}"
    user = accounts.create_user(
        db, TEST_ACTOR, username, display_name or username.title(), password
    )
    for role, unit_code in roles:
        accounts.grant_role(db, TEST_ACTOR, user, role, unit_code)
    return user


def sample_answer(requirement, compliant: bool = True) -> dict:
    """A raw form answer of the requirement's type that is (or is not) compliant."""
    params = requirement.answer_params
    kind = str(requirement.answer_type)
    if kind == "yes_no":
        expected = params.get("expected", "yes")
        return {
            "answer": expected if compliant else ("no" if expected == "yes" else "yes"),
            "comment": "",
        }
    if kind == "named_person":
        count = params.get("min_persons", 1) if compliant else 0
        persons = [
            {"name": f"Person {n}", "title": "Titel", "hsa_id": ""} for n in range(1, count + 1)
        ]
        return {"persons": persons or [{"name": "", "title": "x", "hsa_id": ""}]}
    if kind == "count_ratio":
        return {"numerator": "8" if compliant else "1", "denominator": "8"}
    if kind == "date_deadline":
        return {"date": "2025-01-15" if compliant else "2025-12-01"}
    if kind == "weekly_schedule":
        hours = {"open": "08:00", "close": "17:00" if compliant else "12:00"}
        return {"days": {d: dict(hours) for d in params["required"]["days"]}, "exceptions": ""}
    if kind == "selection":
        required = params.get("required", params["options"])
        return {"selected": list(required) if compliant else []}
    if kind == "document":
        return {"files": [{"sha256": "a" * 64, "filename": "rutin.pdf", "size": 10}]}
    if kind in ("service_level", "number"):
        if "max" in params:
            return {"value": str(params["max"] if compliant else params["max"] + 1)}
        if "min" in params:
            return {"value": str(params["min"] if compliant else max(params["min"] - 1, 0))}
        return {"value": "5"}
    return {"text": "Beskrivning av arbetet."}


def judge_unassessed(db, reviewer, checklist) -> None:
    """The reviewer's judgement on every item no rule can judge (documents, free text)."""
    from checklists import operations as ops
    from checklists.answers import Status

    for item in checklist.items:
        if item.status == Status.TO_REVIEW:
            ops.override(db, reviewer, item, Status.COMPLIANT, "Underlaget uppfyller kravet.")
