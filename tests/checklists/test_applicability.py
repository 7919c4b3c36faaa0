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
    {"kinds": ["verksamhet"]},
    {"units": ["byske", "kompetenscentrum-mbhv"]},
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
    assert describe({"kinds": ["verksamhet"]}) == "Verksamheter med tilläggsuppdrag"


# --- every flag-dependent item of the 2025 catalog against a small register ----------------

# Who each kind of rule must reach in the register below. A filial never gets a checklist of its
# own (§3.9: it reports inside its main unit), so it is in none of them.
REGISTER_UNITS = {"egen", "privat", "utanfor", "utan-bvc-mvc", "huvud", "byske"}
REACHES = {
    "privat": {"privat"},
    "egenregi": REGISTER_UNITS - {"privat"},
    "has_bvc": REGISTER_UNITS - {"utan-bvc-mvc"},
    "has_mvc": REGISTER_UNITS - {"utan-bvc-mvc"},
    "has_filial": {"huvud"},
    "on_region_telephony": REGISTER_UNITS - {"utanfor"},
    "not on_region_telephony": {"utanfor"},
    "§2.12 units": {"byske"},
}
FLAG_DEPENDENT = {
    "bemotande.mvc-basprogram-foraldragrupper": "has_mvc",
    "bemotande.reproduktiv-halsa": "has_mvc",
    "bemotande.bvc-rikshandboken": "has_bvc",
    "bemotande.bvc-halsoundersokningar-foraldragrupper": "has_bvc",
    "vard.hembesok-barnhalsovard": "has_bvc",
    "kvalitet.lex-maria-egenregi": "egenregi",
    "kvalitet.lex-maria-privat-anmalan-utredning": "privat",
    "kvalitet.lex-maria-privat-kopia-till-regionen": "privat",
    "kvalitet.lex-maria-privat-ivo-beslut": "privat",
    "kvalitet.kvalitetsregister-modrahalsovard": "has_mvc",
    "samhallsansvar.sjukvardsgrupp": "§2.12 units",
    "kompetens.bvc-sjukskoterska-specialistutbildning": "has_bvc",
    "kompetens.mvc-barnmorska": "has_mvc",
    "kompetens.sekretess-yttrande-meddelarfrihet": "privat",
    "kompetens.kollektivavtal-eller-god-sed": "privat",
    "intyg.privat-extern-service-swedac": "privat",
    "verksamhet.filial-samma-verksamhetschef": "has_filial",
    "verksamhet.filial-samma-organisation": "has_filial",
    "verksamhet.filial-lokaler": "has_filial",
    "verksamhet.filial-vard-pa-huvudmottagningen": "has_filial",
    "verksamhet.filial-information-underavdelning": "has_filial",
    "verksamhet.filial-rapportering": "has_filial",
    "journal.personuppgiftsbitradesavtal": "privat",
    "journal.npo-fullmakt": "privat",
    "information.grafisk-profil-egenregi": "egenregi",
    "it.nya-behorighetslosningar": "privat",
    "telefoni.produkter-via-telesupport": "on_region_telephony",
    "telefoni.manadsrapport-telefontillganglighet": "not on_region_telephony",
}


@pytest.fixture
def register_round(db):
    """A private unit, an off-platform unit, a unit without BVC and MVC, a unit with a filial
    (and the filial), a §2.12 unit and a plain egenregi unit; one round of the whole catalog."""
    import datetime as dt

    from audit.models import Role, UnitKind
    from checklists import operations as ops
    from checklists.catalog import EDITIONS_DIR, load_edition
    from tests.factories import make_user

    edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
    make_unit(db, "egen")
    make_unit(db, "privat", operator="privat")
    make_unit(db, "utanfor", on_region_telephony=False)
    make_unit(db, "utan-bvc-mvc", has_bvc=False, has_mvc=False)
    huvud = make_unit(db, "huvud")
    make_unit(db, "huvud-filial", kind=UnitKind.FILIAL, main_unit_id=huvud.id)
    make_unit(db, "byske", sjukvardsgrupp_duty=True)
    round_ = ops.open_round(
        db,
        make_user(db, "bo", (Role.BESTALLARE, None)),
        edition=edition,
        title="Uppföljning 2025",
        year=2025,
        opens_on=dt.date(2026, 1, 15),
        deadline=dt.date(2026, 3, 31),
    )
    return edition, round_


def test_every_flag_dependent_item_is_in_the_table(db, register_round):
    from checklists.models import Requirement

    edition, _ = register_round
    rows = db.execute(
        sa.select(Requirement.code, Requirement.applies_to).where(
            Requirement.edition_id == edition.id
        )
    )
    dependent = {code for code, rule in rows if rule}
    assert dependent == set(FLAG_DEPENDENT)


@pytest.mark.parametrize("code, rule", sorted(FLAG_DEPENDENT.items()))
def test_flag_dependent_item_reaches_exactly_its_units(db, register_round, code, rule):
    from checklists.models import Requirement
    from checklists.rounds import Checklist, ChecklistItem

    edition, round_ = register_round
    requirement = db.scalar(
        sa.select(Requirement).where(Requirement.edition_id == edition.id, Requirement.code == code)
    )
    in_round = set(
        db.scalars(
            sa.select(Unit.code)
            .join(Checklist, Checklist.unit_id == Unit.id)
            .join(ChecklistItem, ChecklistItem.checklist_id == Checklist.id)
            .where(Checklist.round_id == round_.id, ChecklistItem.requirement_id == requirement.id)
        )
    )
    assert in_round == REACHES[rule]
    # The Python predicate (the unit page, a unit loaded afresh) agrees with the round's SQL.
    units = db.scalars(
        sa.select(Unit)
        .where(Unit.code.in_(REGISTER_UNITS))
        .execution_options(populate_existing=True)
    ).all()
    assert {u.code for u in units if applies(requirement.applies_to, u)} == REACHES[rule]


def test_a_unit_of_another_kind_is_reached_only_by_a_rule_that_names_it():
    """The 9 tilläggsuppdrag rows whose reporting body is not a health centre wait for a unit
    kind for such bodies; when it comes, the rulebook's "every unit" must not reach them."""
    from types import SimpleNamespace

    body = SimpleNamespace(
        code="kompetenscentrum-mbhv",
        kind="verksamhet",
        operator="egenregi",
        has_bvc=False,
        has_mvc=False,
        sjukvardsgrupp_duty=False,
        on_region_telephony=True,
        has_filial=False,
    )
    assert not applies({}, body)
    assert not applies({"operator": "egenregi"}, body)
    assert applies({"units": ["kompetenscentrum-mbhv"]}, body)
    assert applies({"kinds": ["verksamhet"]}, body)
