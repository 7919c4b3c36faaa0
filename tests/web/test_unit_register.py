"""The unit register kept in the UI (issue 10): the administratör adds and edits units and
filialer with validation, every change in the trail; import and export in the units file's
format, the export loading back unchanged."""

import io

import pytest
import sqlalchemy as sa
import yaml

from audit import units as register
from audit.models import Area, Operator, Role, Unit, UnitKind
from audit.trail import AuditEvent
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, TEST_ACTOR, make_unit, make_user


@pytest.fixture
def world(db):
    make_unit(db, "backen", name="Backens hälsocentral")
    make_user(db, "admin", (Role.ADMIN, None))
    make_user(db, "bo", (Role.BESTALLARE, None))
    make_user(db, "vera", (Role.VERKSAMHETSCHEF, "backen"))
    db.commit()


def _client(app, username):
    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 302
    return client


FORM = {
    "code": "storuman",
    "name": "Storumans hälsocentral",
    "kind": "halsocentral",
    "main_unit": "",
    "operator": "privat",
    "provider": "Fjällvård AB",
    "area": "sodra_lappland",
    "has_bvc": "y",
    "on_region_telephony": "",
    "active": "y",
    "source": "Avtal 2025",
    "assumptions": "",
}


def _post(client, path, data, page=None):
    return client.post(path, data={"csrf_token": csrf_token(client, page or path), **data})


def test_admin_adds_a_private_off_platform_unit(app, db, world):
    admin = _client(app, "admin")
    response = _post(admin, "/enheter/ny", FORM)
    assert response.status_code == 302 and response.location == "/enheter/storuman"
    unit = db.scalar(sa.select(Unit).where(Unit.code == "storuman"))
    assert unit.operator is Operator.PRIVAT and unit.provider == "Fjällvård AB"
    assert unit.has_bvc and not unit.has_mvc and not unit.on_region_telephony
    assert unit.area is Area.SODRA_LAPPLAND
    page = admin.get("/enheter/storuman").get_data(as_text=True)
    assert "Privat (Fjällvård AB)" in page or "Fjällvård AB" in page


def test_bad_unit_gets_errors_beside_fields_and_keeps_what_was_typed(app, db, world):
    admin = _client(app, "admin")
    bad = dict(FORM, code="Stor Uman", kind="filial", main_unit="", provider="x" * 201)
    response = _post(admin, "/enheter/ny", bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="error-summary"' in page and 'href="#code"' in page
    assert 'value="Storumans hälsocentral"' in page
    fixed = dict(FORM, kind="filial", main_unit="")
    page = _post(admin, "/enheter/ny", fixed).get_data(as_text=True)
    assert "Huvudmottagning ska anges för filialer" in page
    egen = dict(FORM, code="backen")
    assert "Det finns redan en enhet med koden" in _post(admin, "/enheter/ny", egen).get_data(
        as_text=True
    )
    reserved = dict(FORM, code="ny")
    assert "reserverad" in _post(admin, "/enheter/ny", reserved).get_data(as_text=True)
    pnr = dict(FORM, source="Remiss 19121212-1212")
    assert _post(admin, "/enheter/ny", pnr).status_code == 422
    assert db.scalar(sa.select(sa.func.count()).select_from(Unit)) == 1


def test_a_filial_under_its_main_unit_and_the_has_filial_flag(app, db, world):
    admin = _client(app, "admin")
    filial = dict(FORM, code="backen-filial", name="Backens filial", kind="filial")
    filial.update(main_unit="backen", operator="egenregi", provider="Glöms bort")
    assert _post(admin, "/enheter/ny", filial).status_code == 302
    db.expire_all()
    branch = db.scalar(sa.select(Unit).where(Unit.code == "backen-filial"))
    main = db.scalar(sa.select(Unit).where(Unit.code == "backen"))
    assert branch.main_unit_id == main.id and branch.provider == ""  # egenregi: no provider
    assert main.has_filial and not branch.has_filial
    # A unit with a filial cannot become a filial itself.
    page = "/enheter/backen/redigera"
    edit = _post(
        admin, page, dict(FORM, name="Backens hälsocentral", kind="filial", main_unit="storuman")
    )
    assert edit.status_code == 422


def test_edit_records_the_changed_fields_in_the_trail(app, db, world):
    admin = _client(app, "admin")
    form = admin.get("/enheter/backen/redigera").get_data(as_text=True)
    assert 'value="Backens hälsocentral"' in form
    data = dict(FORM, code="ignored", name="Backens hälsocentral", operator="egenregi")
    data.update(provider="", area="umea", has_bvc="y", has_mvc="y", on_region_telephony="")
    data.update(source="test")
    response = _post(admin, "/enheter/backen/redigera", data)
    assert response.status_code == 302
    unit = db.scalar(sa.select(Unit).where(Unit.code == "backen"))
    db.refresh(unit)
    assert unit.code == "backen" and not unit.on_region_telephony
    event = db.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == "unit", AuditEvent.entity_id == str(unit.id))
        .order_by(AuditEvent.id.desc())
    )
    assert event.action == "update"
    assert event.before_data() == {"on_region_telephony": True}
    assert event.after_data() == {"on_region_telephony": False}
    history = admin.get("/enheter/backen").get_data(as_text=True)
    assert "Regionens växelplattform (§6.9)" in history or "växelplattform" in history
    # Saving again without a change writes no event.
    _post(admin, "/enheter/backen/redigera", data)
    count = db.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.entity_type == "unit", AuditEvent.entity_id == str(unit.id))
    )
    assert count == 2


def test_only_the_administrator_keeps_the_register(app, world):
    for username in ("bo", "vera"):
        client = _client(app, username)
        assert client.get("/enheter/ny").status_code == 403
        assert client.get("/enheter/backen/redigera").status_code == 403
        assert client.get("/enheter/import").status_code == 403
        assert "Redigera enheten" not in client.get("/enheter/backen").get_data(as_text=True)
    assert _client(app, "bo").get("/enheter/export.yaml").status_code == 200
    assert _client(app, "vera").get("/enheter/export.yaml").status_code == 403


def test_export_loads_back_unchanged_and_import_previews_then_loads(app, db, world):
    make_unit(db, "priv", name="Privata vårdcentralen", operator=Operator.PRIVAT, provider="AB")
    make_unit(
        db,
        "priv-fil",
        name="Privata filialen",
        kind=UnitKind.FILIAL,
        main_unit_id=db.scalar(sa.select(Unit.id).where(Unit.code == "priv")),
    )
    db.commit()
    admin = _client(app, "admin")
    response = admin.get("/enheter/export.yaml")
    assert response.headers["Content-Disposition"] == 'attachment; filename="enheter.yaml"'
    text = response.get_data(as_text=True)
    data = yaml.safe_load(text)
    assert {u["code"] for u in data["units"]} == {"backen", "priv", "priv-fil"}
    report = register.load_parsed(db, TEST_ACTOR, register.parse_units_text(text, "x"), "x")
    assert report.created == [] and report.updated == [] and len(report.unchanged) == 3
    db.rollback()

    # Change one unit and add one in the file; the preview changes nothing.
    data["units"][0]["has_mvc"] = False
    data["units"].append(
        {
            "code": "nyenhet",
            "name": "Nya hälsocentralen",
            "kind": "halsocentral",
            "operator": "egenregi",
            "area": "umea",
        }
    )
    body = yaml.safe_dump(data, allow_unicode=True).encode("utf-8")
    token = csrf_token(admin, "/enheter/import")
    preview = admin.post(
        "/enheter/import",
        data={"csrf_token": token, "action": "preview", "file": (io.BytesIO(body), "enheter.yaml")},
        content_type="multipart/form-data",
    )
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "1 ny enhet: nyenhet" in page and "1 ändrad enhet: backen" in page
    assert db.scalar(sa.select(Unit.id).where(Unit.code == "nyenhet")) is None
    loaded = admin.post(
        "/enheter/import",
        data={"csrf_token": token, "action": "load", "content": body.decode("utf-8")},
    )
    assert loaded.status_code == 302
    assert db.scalar(sa.select(Unit.id).where(Unit.code == "nyenhet")) is not None


def test_bad_import_file_is_named_and_loads_nothing(app, db, world):
    admin = _client(app, "admin")
    token = csrf_token(admin, "/enheter/import")
    for body, message in [
        (b"units: [", "inte giltig YAML"),
        (
            b"units:\n- {code: x, name: X, kind: nej, operator: egenregi, area: umea}",
            "fältet &#39;kind&#39;",
        ),
        ("\udcff".encode("utf-8", "surrogateescape"), "UTF-8"),
        (b"", "Välj en enhetsfil"),
    ]:
        response = admin.post(
            "/enheter/import",
            data={"csrf_token": token, "file": (io.BytesIO(body), "e.yaml")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422, body
        assert message in response.get_data(as_text=True), body
    assert db.scalar(sa.select(sa.func.count()).select_from(Unit)) == 1


def test_admin_adds_a_verksamhet_and_a_purchaser_opens_its_round(app, db, world):
    """A verksamhet med tilläggsuppdrag through the register's form: refused with BVC (beside
    the field, everything typed kept), added without; never offered as a main unit; a round
    of the tilläggsuppdrag opened for it in the round form holds only its assignment's rows."""
    from checklists.catalog import EDITIONS_DIR, load_edition
    from checklists.models import Requirement
    from checklists.rounds import Checklist, ChecklistItem

    admin = _client(app, "admin")
    body = dict(FORM, code="centrum-mot-vald", name="Centrum mot våld, Umeå", kind="verksamhet")
    body.update(operator="egenregi", provider="", area="umea", on_region_telephony="y")
    form = admin.get("/enheter/ny").get_data(as_text=True)
    assert '<option value="verksamhet">Verksamhet med tilläggsuppdrag</option>' in form
    refused = _post(admin, "/enheter/ny", body)  # FORM ticks BVC
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'href="#has_bvc"' in page and 'id="has_bvc-error"' in page
    assert "ingen egen BVC" in page and 'value="Centrum mot våld, Umeå"' in page
    body.pop("has_bvc")
    assert _post(admin, "/enheter/ny", body).status_code == 302
    unit = db.scalar(sa.select(Unit).where(Unit.code == "centrum-mot-vald"))
    assert unit.kind is UnitKind.VERKSAMHET
    assert "Verksamhet med tilläggsuppdrag" in admin.get("/enheter/centrum-mot-vald").get_data(
        as_text=True
    )
    form = admin.get("/enheter/ny").get_data(as_text=True)
    assert 'value="backen"' in form and 'value="centrum-mot-vald"' not in form

    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "tillagg-2023.yaml")
    db.commit()
    bo = _client(app, "bo")
    new_round = bo.get("/omgangar/ny").get_data(as_text=True)
    assert f'value="{unit.id}"' in new_round  # offered among the units
    response = _post(
        bo,
        "/omgangar/ny",
        {
            "edition": "TU-2023",
            "title": "Tilläggsuppdrag 2025",
            "year": "2025",
            "opens_on": "2026-01-15",
            "deadline": "2026-03-31",
            "requirement_scope": "all",
            "unit_scope": "picked",
            "units": [str(unit.id)],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    round_id = int(response.location.rsplit("/", 1)[1])
    rows = db.scalars(
        sa.select(Requirement.code)
        .join(ChecklistItem, ChecklistItem.requirement_id == Requirement.id)
        .join(Checklist, Checklist.id == ChecklistItem.checklist_id)
        .where(Checklist.round_id == round_id, Checklist.unit_id == unit.id)
    ).all()
    assert rows == ["tu.centrum-mot-vald.verksamhetsrapport"]
