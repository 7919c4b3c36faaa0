"""Verksamheter med tilläggsuppdrag (issue 10): the reporting bodies of the tilläggsuppdrag that
are no health centre are units of their own kind. Every row of the tilläggsuppdrag reaches a
unit; a round gives such a body only its assignment's rows, and the rulebook never reaches it;
the register refuses what a verksamhet cannot have. On both databases."""

import datetime as dt

import pytest
import sqlalchemy as sa

from audit.models import Role, Unit, UnitKind
from audit.units import UnitError, load_units, save_unit
from checklists import operations as ops
from checklists.applicability import applies
from checklists.catalog import EDITIONS_DIR, load_edition, parse_edition
from checklists.models import Requirement
from checklists.rounds import Checklist, ChecklistItem
from tests.factories import TEST_ACTOR, make_unit, make_user

TILLAGG = EDITIONS_DIR / "tillagg-2023.yaml"
# The reporting body of each tilläggsuppdrag row that no health centre reports (seed 000).
BODY_ROWS = {
    "kompetenscentrum-mbhv": {
        "tu.kompetenscentrum-mbhv.verksamhetsrapport",
        "tu.kompetenscentrum-mbhv.verksamhetsrapport-kulturdoula",
    },
    "inkontinenssamordnare": {"tu.inkontinenssamordnare.utbildningar-narvaro"},
    "ungdomsmottagningar": {"tu.ungdomsmottagning.verksamhetsrapport"},
    "centrum-mot-vald": {"tu.centrum-mot-vald.verksamhetsrapport"},
    "alkohol-drogmottagning": {"tu.alkohol-drogmottagning.verksamhetsrapport"},
    "samhallsrum-sodra-lappland": {"tu.samhallsrum.verksamhetsrapport"},
    "operativa-processledare": {"tu.operativ-processledare.uppfoljning"},
    "me-cfs-mottagning": {"tu.me-cfs.verksamhetsrapport"},
}
BODY_ROW_CODES = set().union(*BODY_ROWS.values())


def test_every_tillagg_row_reaches_a_unit_and_nine_reach_a_verksamhet():
    import yaml

    from audit.units import DEFAULT_UNITS_FILE

    units = {u["code"]: u for u in yaml.safe_load(DEFAULT_UNITS_FILE.read_text("utf-8"))["units"]}
    items = parse_edition(TILLAGG).items
    assert all(item["applies_to"]["units"] for item in items), "no row may reach nobody"
    to_bodies = {
        item["code"]
        for item in items
        if any(units[code]["kind"] == "verksamhet" for code in item["applies_to"]["units"])
    }
    assert to_bodies == BODY_ROW_CODES and len(to_bodies) == 9
    for body in BODY_ROWS:
        unit = units[body]
        assert unit["kind"] == "verksamhet" and unit["source"] and unit["assumptions"]
        assert not (unit["has_bvc"] or unit["has_mvc"] or unit["sjukvardsgrupp_duty"])


@pytest.fixture
def register(db):
    load_units(db, TEST_ACTOR)
    rulebook = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
    tillagg = load_edition(db, TEST_ACTOR, TILLAGG).edition
    bo = make_user(db, "bo", (Role.BESTALLARE, None))
    return rulebook, tillagg, bo


def _open(db, bo, edition, unit_ids=None):
    return ops.open_round(
        db,
        bo,
        edition=edition,
        title=f"Uppföljning {edition.code}",
        year=2025,
        opens_on=dt.date(2026, 1, 15),
        deadline=dt.date(2026, 3, 31),
        selection=ops.RoundSelection(unit_ids=unit_ids),
    )


def _rows_per_unit(db, round_) -> dict[str, set[str]]:
    rows = db.execute(
        sa.select(Unit.code, Requirement.code)
        .join(Checklist, Checklist.unit_id == Unit.id)
        .join(ChecklistItem, ChecklistItem.checklist_id == Checklist.id)
        .join(Requirement, Requirement.id == ChecklistItem.requirement_id)
        .where(Checklist.round_id == round_.id)
    )
    per_unit: dict[str, set[str]] = {}
    for unit, requirement in rows:
        per_unit.setdefault(unit, set()).add(requirement)
    return per_unit


def test_a_tillagg_round_gives_each_body_only_its_rows_and_no_health_centre_gets_them(db, register):
    _, tillagg, bo = register
    per_unit = _rows_per_unit(db, _open(db, bo, tillagg))
    for body, rows in BODY_ROWS.items():
        assert per_unit[body] == rows
    for code, rows in per_unit.items():
        if code not in BODY_ROWS:
            assert not rows & BODY_ROW_CODES, code
    # The health centres' own tilläggsuppdrag still reach them.
    assert "tu.kum.verksamhetsrapport" in per_unit["backen"]


def test_the_rulebook_never_reaches_a_verksamhet(db, register):
    rulebook, _, bo = register
    bodies = db.scalars(sa.select(Unit).where(Unit.kind == UnitKind.VERKSAMHET)).all()
    assert {u.code for u in bodies} == set(BODY_ROWS)
    per_unit = _rows_per_unit(db, _open(db, bo, rulebook))
    assert not set(per_unit) & set(BODY_ROWS) and "byske" in per_unit
    # Every rule of the rulebook, in Python as in the round's SQL: none reaches a body.
    rules = db.scalars(
        sa.select(Requirement.applies_to).where(Requirement.edition_id == rulebook.id)
    ).all()
    assert not any(applies(rule, body) for rule in rules for body in bodies)
    # Asked for the bodies alone, the rulebook has nothing to put to them.
    with pytest.raises(ops.ChecklistError, match="Inget av de valda kraven"):
        _open(db, bo, rulebook, unit_ids=[u.id for u in bodies])


def test_a_body_answers_and_submits_its_round(db, register):
    _, tillagg, bo = register
    opl = db.scalar(sa.select(Unit).where(Unit.code == "operativa-processledare"))
    head = make_user(db, "opl", (Role.VERKSAMHETSCHEF, "operativa-processledare"))
    round_ = _open(db, bo, tillagg, unit_ids=[opl.id])
    checklist = db.scalar(sa.select(Checklist).where(Checklist.round_id == round_.id))
    (item,) = checklist.items
    assert item.requirement.code == "tu.operativ-processledare.uppfoljning"
    text = "Två processledare i Umeå, en i Skellefteå och en i Södra Lappland har stött teamen."
    raws = {item.id: (item.version, None, {"text": text})}
    outcomes = ops.save_answers(db, head, checklist, raws)
    assert all(o.ok for o in outcomes.values())
    ops.submit(db, head, checklist)
    assert str(checklist.status) == "submitted"


def _values(**fields):
    values = dict(
        code="kansli",
        name="Kansli för tilläggsuppdrag",
        kind=UnitKind.VERKSAMHET,
        operator="egenregi",
        area="umea",
        main_unit=None,
        has_bvc=False,
        has_mvc=False,
        sjukvardsgrupp_duty=False,
        on_region_telephony=True,
        active=True,
        provider="",
        source="test",
        assumptions="",
    )
    values.update(fields)
    from audit.models import Area, Operator

    values["operator"], values["area"] = Operator(values["operator"]), Area(values["area"])
    return values


@pytest.mark.parametrize("flag", ["has_bvc", "has_mvc", "sjukvardsgrupp_duty"])
def test_a_verksamhet_has_no_bvc_mvc_or_212_duty(db, flag):
    with pytest.raises(UnitError) as excinfo:
        save_unit(db, TEST_ACTOR, None, _values(**{flag: True}))
    assert excinfo.value.field == flag and "verksamhet med tilläggsuppdrag" in str(excinfo.value)
    assert save_unit(db, TEST_ACTOR, None, _values()).kind is UnitKind.VERKSAMHET


def test_a_verksamhet_has_no_filial(db):
    body = save_unit(db, TEST_ACTOR, None, _values())
    with pytest.raises(UnitError) as excinfo:
        save_unit(
            db,
            TEST_ACTOR,
            None,
            _values(code="kansli-filial", kind=UnitKind.FILIAL, main_unit=body.code),
        )
    assert excinfo.value.field == "main_unit"
    # A health centre that has a filial cannot become a verksamhet.
    main = make_unit(db, "huvud")
    make_unit(db, "huvud-filial", kind=UnitKind.FILIAL, main_unit_id=main.id)
    with pytest.raises(UnitError) as excinfo:
        save_unit(db, TEST_ACTOR, main, _values(code="huvud", name=main.name))
    assert excinfo.value.field == "kind"


def test_a_verksamhet_files_no_arenden(db):
    from workflows.cases import operations as co
    from workflows.cases.models import CaseKind
    from workflows.engine import WorkflowError

    body = save_unit(db, TEST_ACTOR, None, _values())
    head = make_user(db, "kansli-vc", (Role.VERKSAMHETSCHEF, "kansli"))
    with pytest.raises(WorkflowError, match="verksamhet med tilläggsuppdrag"):
        co.open_case(db, head, body, CaseKind.SUBCONTRACTOR, co.Entry(values={}))
