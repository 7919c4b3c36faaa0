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
