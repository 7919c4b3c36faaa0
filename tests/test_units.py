"""Loading the region's units: the seed file, idempotence, audit, and clear errors."""

import pytest
import sqlalchemy as sa

from audit.models import Operator, Unit, UnitKind
from audit.trail import AuditEvent
from audit.units import DEFAULT_UNITS_FILE, UnitFileError, load_units
from tests.conftest import count
from tests.factories import TEST_ACTOR

SJUKVARDSGRUPP_212 = {
    "byske",
    "boliden",
    "norsjo",
    "ursviken",
    "burtrask",
    "lovanger",
    "robertsfors",
    "vindeln",
    "vannas",
    "bjurholm",
    "nordmaling",
    "tarnaby",
    "sorsele",
    "mala",
    "storuman",
    "vilhelmina",
    "dorotea",
    "asele",
}


def test_seed_units_load_and_match_the_rulebook(db):
    report = load_units(db, TEST_ACTOR)
    assert len(report.created) == 34
    units = {u.code: u for u in db.scalars(sa.select(Unit))}
    sjukstugor = {c for c, u in units.items() if u.kind is UnitKind.SJUKSTUGA}
    assert sjukstugor == {
        "vilhelmina",
        "asele",
        "dorotea",
        "mala",
        "sorsele",
        "storuman",
        "tarnaby",
    }
    assert {c for c, u in units.items() if u.sjukvardsgrupp_duty} == SJUKVARDSGRUPP_212
    # Every health centre's operator is an assumption, and says so.
    for unit in units.values():
        if unit.kind is UnitKind.HALSOCENTRAL:
            assert "driftform" in unit.assumptions
        assert unit.source


def test_loading_twice_changes_nothing_and_writes_no_events(db):
    load_units(db, TEST_ACTOR)
    events = count(db, AuditEvent)
    report = load_units(db, TEST_ACTOR)
    assert report.created == [] and report.updated == [] and len(report.unchanged) == 34
    assert count(db, AuditEvent) == events


def test_changed_unit_is_updated_with_one_event(db, tmp_path):
    load_units(db, TEST_ACTOR)
    text = DEFAULT_UNITS_FILE.read_text(encoding="utf-8")
    changed = text.replace(
        "name: Byske hälsocentral\n  kind: halsocentral\n  operator: egenregi",
        "name: Byske hälsocentral\n  kind: halsocentral\n  operator: privat",
    )
    assert changed != text
    path = tmp_path / "units.yaml"
    path.write_text(changed, encoding="utf-8")
    events = count(db, AuditEvent)
    report = load_units(db, TEST_ACTOR, path)
    assert report.updated == ["byske"]
    assert count(db, AuditEvent) == events + 1
    event = db.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert event.before_data() == {"operator": "egenregi"}
    assert event.after_data() == {"operator": "privat"}
    assert db.scalar(sa.select(Unit.operator).where(Unit.code == "byske")) is Operator.PRIVAT


def test_filial_is_loaded_with_its_main_unit(db, tmp_path):
    path = tmp_path / "units.yaml"
    path.write_text(
        "units:\n"
        "- {code: f1, name: Filial Ett, kind: filial, main_unit: h1, operator: privat,"
        " area: umea}\n"
        "- {code: h1, name: Huvud Ett, kind: halsocentral, operator: privat, area: umea}\n",
        encoding="utf-8",
    )
    load_units(db, TEST_ACTOR, path)
    filial = db.scalar(sa.select(Unit).where(Unit.code == "f1"))
    assert filial.main_unit.code == "h1"


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "units:\n- {name: X, kind: halsocentral, operator: privat, area: umea}\n",
            "enhet 1: fältet 'code' saknas",
        ),
        (
            "units:\n- {code: x1, name: X, kind: klinik, operator: privat, area: umea}\n",
            "enhet 'x1': fältet 'kind' har värdet 'klinik'",
        ),
        (
            "units:\n- {code: x1, name: X, kind: halsocentral, operator: privat, area: umea,"
            " has_bvc: kanske}\n",
            "enhet 'x1': fältet 'has_bvc' ska vara true eller false",
        ),
        (
            "units:\n- {code: x1, name: X, kind: filial, operator: privat, area: umea}\n",
            "enhet 'x1': fältet 'main_unit': Huvudmottagning ska anges för filialer",
        ),
        (
            "units:\n- {code: x1, name: X, kind: halsocentral, operator: privat, area: umea,"
            " färg: blå}\n",
            "enhet 'x1': okänt fält 'färg'",
        ),
        ("units: [\n", "ogiltig YAML"),
    ],
)
def test_bad_file_names_file_unit_and_field(db, tmp_path, body, message):
    path = tmp_path / "enheter.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(UnitFileError) as excinfo:
        load_units(db, TEST_ACTOR, path)
    assert str(path) in str(excinfo.value)
    assert message in str(excinfo.value)
