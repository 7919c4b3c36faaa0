"""Applicability: the Python predicate and the SQL condition agree on every seed unit."""

import pytest
import sqlalchemy as sa

from audit.models import Unit
from audit.units import load_units
from checklists.applicability import (
    ApplicabilityError,
    applies,
    category,
    check,
    condition,
    describe,
)
from tests.factories import TEST_ACTOR, make_unit

RULES = [
    {},
    {"operator": "privat"},
    {"operator": "egenregi"},
    {"kinds": ["sjukstuga"]},
    {"units": ["byske", "tarnaby"]},
    {"units": []},
    {"flags": ["has_bvc"]},
    {"flags": ["has_mvc", "sjukvardsgrupp_duty"]},
    {"not_flags": ["on_region_telephony"]},
    {"operator": "privat", "flags": ["has_bvc"]},
]


@pytest.mark.parametrize("rule", RULES, ids=str)
def test_python_and_sql_agree(db, rule):
    load_units(db, TEST_ACTOR)
    make_unit(db, "privat1", operator="privat", on_region_telephony=False, has_bvc=False)
    units = db.scalars(sa.select(Unit)).all()
    expected = {u.code for u in units if applies(rule, u)}
    assert set(db.scalars(sa.select(Unit.code).where(condition(rule)))) == expected


def test_named_units_and_flags(db):
    load_units(db, TEST_ACTOR)
    private = make_unit(db, "p", operator="privat", on_region_telephony=False)
    byske = db.scalar(sa.select(Unit).where(Unit.code == "byske"))
    assert applies({"units": ["byske"]}, byske) and not applies({"units": ["byske"]}, private)
    assert applies({"not_flags": ["on_region_telephony"]}, private)
    assert not applies({"not_flags": ["on_region_telephony"]}, byske)
    assert applies({"operator": "privat"}, private) and not applies({"operator": "privat"}, byske)


@pytest.mark.parametrize(
    "rule, field",
    [
        ({"operator": "kommunal"}, "operator"),
        ({"flags": ["har_bvc"]}, "flags"),
        ({"kinds": "sjukstuga"}, "kinds"),
        ({"color": "red"}, "color"),
        ([], "applies_to"),
    ],
)
def test_invalid_rules_name_the_key(rule, field):
    with pytest.raises(ApplicabilityError) as excinfo:
        check(rule)
    assert excinfo.value.field == field


def test_descriptions_in_swedish():
    assert describe({}) == "Alla enheter"
    assert describe({"operator": "privat"}) == "Privat drivna enheter"
    assert describe({"units": ["byske"]}, {"byske": "Byske hälsocentral"}) == (
        "Namngivna enheter: Byske hälsocentral"
    )
    assert describe({"not_flags": ["on_region_telephony"]}) == (
        "Enheter som ligger utanför regionens växelplattform (§6.9)"
    )
    assert category({"flags": ["has_bvc"]}) == "flags"
