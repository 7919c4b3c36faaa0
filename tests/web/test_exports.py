"""Exports read back: the PDFs' text with pypdf, the workbook's typed cells with openpyxl,
the audit trail's CSV with the csv module; and each export scoped like its page."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from audit.trail import Actor, AuditEvent, record
from tests.conftest import login
from tests.export_world import MINUTES, OVERRIDE_REASON, RATIO_CODE, build
from tests.factories import PASSWORD
from web.exports.auditcsv import safe_cell


@pytest.fixture
def world(db):
    return build(db)


def as_user(app, username):
    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 302
    return client


def pdf_text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged
    assert reader.trailer["/Root"]["/Lang"] == "sv"
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_checklist_pdf_holds_answers_evaluations_and_the_reviewers_judgement(app, world):
    client = as_user(app, "vc")
    page = client.get(f"/checklistor/{world['checklist'].id}").get_data(as_text=True)
    link = f"/checklistor/{world['checklist'].id}/utskrift.pdf"
    assert link in page
    text = pdf_text(client.get(link))
    flat = " ".join(text.split())
    assert "Checklista: Byske hälsocentral" in flat
    assert "Uppföljning 2025" in flat
    assert "3 / 8" in flat  # the ratio answer
    assert "Ej uppfyllt" in flat  # its evaluation
    assert "Rekryteringsplanen efterfrågas i dialogen." in flat  # the reviewer's comment
    assert OVERRIDE_REASON in flat  # the reviewer's override and its reason
    assert "Delvis uppfyllt" in flat
    total = len(world["checklist"].items)
    assert f"Totalt {total}" in flat  # the summary's figure
    assert "Iakttagelser" in flat and "Sida 1 av" in flat


def test_another_units_checklist_pdf_is_not_found(app, world):
    client = as_user(app, "other_vc")
    assert client.get(f"/checklistor/{world['checklist'].id}/utskrift.pdf").status_code == 404
    own = client.get(f"/checklistor/{world['other_checklist'].id}/utskrift.pdf")
    assert "Backens hälsocentral" in pdf_text(own)


def test_the_minutes_pdf(app, world):
    client = as_user(app, "vc")
    dialog = world["dialog"]
    page = client.get(f"/dialoger/{dialog.id}").get_data(as_text=True)
    assert f"/dialoger/{dialog.id}/minnesanteckningar.pdf" in page
    flat = " ".join(pdf_text(client.get(f"/dialoger/{dialog.id}/minnesanteckningar.pdf")).split())
    assert "Minnesanteckningar: Uppföljning Byske 2025" in flat
    assert " ".join(MINUTES.split()) in flat
    assert "Mats Mo" in flat and "medicinskt ansvarig" in flat
    assert "Påpekande" in flat  # the disposition of each finding
    assert (
        as_user(app, "other_vc").get(f"/dialoger/{dialog.id}/minnesanteckningar.pdf").status_code
        == 404
    )


def test_no_minutes_pdf_before_the_meeting(app, world, db):
    from workflows import dialog as wf

    dialog = wf.open_dialog(db, world["people"]["bo"], world["byske"], "Ny dialog")
    db.commit()
    response = as_user(app, "bo").get(f"/dialoger/{dialog.id}/minnesanteckningar.pdf")
    assert response.status_code == 404


def test_the_decision_letter_pdf_has_the_pages_text(app, world):
    client = as_user(app, "vc")
    case = world["case"]
    page = client.get(f"/sanktioner/{case.id}/beslut").get_data(as_text=True)
    assert f"/sanktioner/{case.id}/beslut.pdf" in page
    flat = " ".join(pdf_text(client.get(f"/sanktioner/{case.id}/beslut.pdf")).split())
    assert "Beslut: påpekande" in flat
    assert "RS 2025/1" in flat
    assert "Ett påpekande räcker vid första bristen." in flat
    assert "Hur beslutet kan omprövas" in flat and "tingsrätt" in flat  # a private unit's route
    assert as_user(app, "other_vc").get(f"/sanktioner/{case.id}/beslut.pdf").status_code == 404


def _sheet_rows(sheet):
    rows = list(sheet.iter_rows(values_only=True))
    return rows[0], rows[1:]


def test_the_round_workbook_has_typed_cells_filters_and_frozen_headers(app, world):
    client = as_user(app, "greta")
    round_ = world["round"]
    page = client.get(f"/omgangar/{round_.id}").get_data(as_text=True)
    assert f"/omgangar/{round_.id}/resultat.xlsx" in page
    response = client.get(f"/omgangar/{round_.id}/resultat.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Resultat", "Iakttagelser", "Åtgärdsplaner"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref.startswith("A1:")
        assert sheet.auto_filter.ref.endswith(str(sheet.max_row))
    header, rows = _sheet_rows(book["Resultat"])
    col = {name: n for n, name in enumerate(header)}
    assert {"Enhet", "Kravkod", "Täljare", "Nämnare", "Andel", "Besvarad"} <= set(col)
    units = {r[col["Enhetskod"]] for r in rows}
    assert units == {"byske", "backen"}
    expected = len(world["checklist"].items) + len(world["other_checklist"].items)
    assert len(rows) == expected
    ratio = next(
        r for r in rows if r[col["Enhetskod"]] == "byske" and r[col["Kravkod"]] == RATIO_CODE
    )
    assert ratio[col["Täljare"]] == 3 and isinstance(ratio[col["Täljare"]], int)
    assert ratio[col["Nämnare"]] == 8
    assert ratio[col["Andel"]] == pytest.approx(0.375) and isinstance(ratio[col["Andel"]], float)
    assert ratio[col["År"]] == 2025
    assert ratio[col["Besvarad"]] is True
    assert ratio[col["Bedömning"]] == "Ej uppfyllt"
    assert isinstance(ratio[col["Besvarad den"]], dt.datetime)
    assert ratio[col["Enhetens kommentar (tecken)"]] == len("Två under rekrytering.")
    assert ratio[col["Granskarens kommentar (tecken)"]] == len(
        "Rekryteringsplanen efterfrågas i dialogen."
    )
    # No free text someone typed: neither the comment nor the names of persons.
    cells = {str(v) for r in rows for v in r if isinstance(v, str)}
    assert "Två under rekrytering." not in cells
    assert not any("Person 1" in v for v in cells)

    header, rows = _sheet_rows(book["Iakttagelser"])
    col = {name: n for n, name in enumerate(header)}
    assert len(rows) == len(world["findings"])
    assert isinstance(rows[0][col["Skapad"]], dt.datetime)
    assert rows[0][col["Hantering i dialogen"]] == "Påpekande"
    assert rows[0][col["Åtgärdsplaner"]] == 1 and rows[0][col["Sanktionsärenden"]] in (0, 1)

    header, rows = _sheet_rows(book["Åtgärdsplaner"])
    col = {name: n for n, name in enumerate(header)}
    assert len(rows) == 1
    plan = rows[0]
    assert plan[col["Titel"]] == "Läkarbemanning"
    assert isinstance(plan[col["Planen senast"]], dt.datetime)
    assert plan[col["Planen senast"]].date() == world["plan"].plan_due
    assert plan[col["Åtgärder"]] == 1 and plan[col["Genomförda åtgärder"]] == 0
    assert plan[col["Försenad"]] is False and plan[col["Dagar försenad"]] == 0
    assert plan[col["Iakttagelser"]] == len(world["findings"])


def test_a_health_centre_exports_only_its_own_unit(app, world):
    response = as_user(app, "other_vc").get(f"/omgangar/{world['round'].id}/resultat.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    for sheet in book.worksheets:
        header, rows = _sheet_rows(sheet)
        codes = {r[header.index("Enhetskod")] for r in rows}
        assert codes <= {"backen"}
    header, rows = _sheet_rows(book["Resultat"])
    assert len(rows) == len(world["other_checklist"].items)
    assert not list(_sheet_rows(book["Iakttagelser"])[1])  # Byske's findings are not there


def test_a_unit_outside_the_round_gets_no_workbook(app, db, world):
    from audit.models import Role
    from tests.factories import make_unit, make_user

    make_unit(db, "norsjo")
    make_user(db, "norsjo_vc", (Role.VERKSAMHETSCHEF, "norsjo"))
    db.commit()
    response = as_user(app, "norsjo_vc").get(f"/omgangar/{world['round'].id}/resultat.xlsx")
    assert response.status_code == 404


def test_a_text_that_looks_like_a_formula_stays_text_in_the_workbook(db, app, world):
    from checklists.rounds import Finding

    finding = db.get(Finding, world["findings"][0].id)
    db.execute(sa.update(Finding).where(Finding.id == finding.id).values(statement="=HYPERLINK(1)"))
    db.commit()
    response = as_user(app, "bo").get(f"/omgangar/{world['round'].id}/resultat.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    header, rows = _sheet_rows(book["Iakttagelser"])
    column = header.index("Iakttagelse") + 1
    sheet = book["Iakttagelser"]
    cells = [sheet.cell(row=n, column=column) for n in range(2, sheet.max_row + 1)]
    (cell,) = [c for c in cells if c.value == "=HYPERLINK(1)"]
    assert cell.data_type == "s"


def test_the_audit_csv_parses_and_is_injection_safe(app, world, db):
    record(db, Actor(label="=cmd|' /C calc'!A0"), "unit", "-2+3", "update", reason="@SUM(1)")
    db.commit()
    client = as_user(app, "greta")
    page = client.get("/granskningslogg/").get_data(as_text=True)
    assert 'action="/granskningslogg/export.csv"' in page
    today = dt.date.today().isoformat()
    response = client.get(f"/granskningslogg/export.csv?fran={today}&till={today}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM for Swedish Excel
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Händelse-id", "Tidpunkt", "Användare"]
    events = db.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert len(rows) - 1 == events  # every event of today, each on one row
    assert [int(r[0]) for r in rows[1:]] == sorted(int(r[0]) for r in rows[1:])
    last = next(r for r in rows if r[4] == "'-2+3")
    assert last[2] == "'=cmd|' /C calc'!A0" and last[4] == "'-2+3" and last[6] == "'@SUM(1)"
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_the_audit_csv_of_a_period_without_events_is_only_its_header(app, world):
    response = as_user(app, "bo").get("/granskningslogg/export.csv?fran=2001-01-01&till=2001-12-31")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1


def test_a_bad_period_is_shown_beside_its_field(app, world):
    response = as_user(app, "bo").get("/granskningslogg/export.csv?fran=2025-13-01&till=2025-01-01")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "error-summary" in page and 'value="2025-13-01"' in page
    response = as_user(app, "bo").get("/granskningslogg/export.csv?fran=2025-02-01&till=2025-01-01")
    assert "Sista dagen kan inte vara före den första." in response.get_data(as_text=True)


def test_the_audit_csv_is_for_reviewers_only(app, world):
    assert as_user(app, "vc").get("/granskningslogg/export.csv").status_code == 403


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+46", "'+46"),
        ("-1", "'-1"),
        ("@a", "'@a"),
        ("\tx", "'\tx"),
        ("ok", "ok"),
        (None, ""),
        ("a=b", "a=b"),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected
