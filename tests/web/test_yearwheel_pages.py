"""The årshjul and the recurring reports through their pages: who sees which unit's year, the
filters (GET, no JavaScript), the month view and the list; the telephone form keeping what was
typed with Swedish messages, a unit reporting only its own; the patient-safety upload with the
personnummer guard; a tilläggsuppdrag's annual report."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from audit.models import Role
from checklists.catalog import EDITIONS_DIR, load_edition
from tests.conftest import count, csrf_token, login
from tests.factories import PASSWORD, TEST_ACTOR, make_unit, make_user
from workflows.reports.models import AssignmentReport, PatientSafetyReport, TelephoneReport

YEAR = dt.date.today().year
TELEPHONE = f"/arshjul/enhet/vilhelmina/telefoni/{YEAR}/3"


@pytest.fixture
def people(db, app, tmp_path):
    app.config["EVIDENCE_DIR"] = str(tmp_path / "underlag")
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml")
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "tillagg-2023.yaml")
    make_unit(db, "vilhelmina", name="Vilhelmina sjukstuga", on_region_telephony=False)
    make_unit(db, "backen", name="Backens hälsocentral", has_bvc=False)
    make_user(db, "bo", (Role.BESTALLARE, None))
    make_user(db, "vc", (Role.VERKSAMHETSCHEF, "vilhelmina"))
    make_user(db, "other", (Role.VERKSAMHETSCHEF, "backen"))
    db.commit()


def client_for(app, name):
    client = app.test_client()
    assert login(client, name, PASSWORD).status_code == 302
    return client


def post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_purchaser_sees_every_unit_and_its_own_duties(app, people):
    bo = client_for(app, "bo")
    page = text(bo.get("/arshjul/"))
    assert f"Årshjul {YEAR}" in page
    for month in ("Januari", "Juni", "December"):
        assert f"{month} {YEAR}" in page
    assert "Vilhelmina sjukstuga" in page and "Backens hälsocentral" in page
    assert "Gemensam dialog med utförarna (1 av minst 2, före sommaren)" in page
    assert "Samlad årlig analys" in page
    assert "<svg" in page and 'aria-labelledby="wheel-title"' in page
    # The list, filtered to one unit and one area, without JavaScript (GET parameters).
    listed = text(bo.get(f"/arshjul/?ar={YEAR}&enhet=vilhelmina&omrade=telefoni&visa=lista"))
    assert "<table" in listed
    assert listed.count("Telefontillgänglighet ") == 12
    assert "Backens hälsocentral</td>" not in listed
    assert "Gemensam dialog" not in listed  # one unit chosen: the purchaser's own are not it
    late = text(bo.get(f"/arshjul/?ar={YEAR - 1}&status=late&visa=lista"))  # a year gone by
    assert "Patientsäkerhetsberättelsen för" in late
    assert "Gemensam dialog med utförarna (1 av minst 2" in late
    assert "Klar</span>" not in late
    # Unknown values are ignored, never an error.
    assert bo.get("/arshjul/?ar=abc&omrade=x&status=y&visa=z&enhet=q").status_code == 200


def test_unit_staff_see_only_their_own_units_year(app, people):
    vc = client_for(app, "vc")
    page = text(vc.get("/arshjul/"))
    assert "Vilhelmina sjukstuga" in page and "Backens hälsocentral" not in page
    assert "Gemensam dialog" not in page
    assert vc.get("/arshjul/enhet/vilhelmina").status_code == 200
    assert vc.get("/arshjul/enhet/backen").status_code == 404
    assert vc.get("/arshjul/?enhet=backen").status_code == 200
    assert "Backens hälsocentral" not in text(vc.get("/arshjul/?enhet=backen&visa=lista"))
    # The unit page links to it.
    assert 'href="/arshjul/enhet/vilhelmina"' in text(vc.get("/enheter/vilhelmina"))
    assert 'href="/arshjul/"' in text(vc.get("/"))


def test_the_telephone_form_keeps_what_was_typed_and_says_what_is_wrong(app, people, db):
    vc = client_for(app, "vc")
    bad = post(
        vc,
        TELEPHONE,
        incoming_calls="1200",
        answered_calls="1300",
        callback_calls="många",
        mean_wait_minutes="4,5",
        comment="Ny växel i mars",
    )
    page = text(bad)
    assert bad.status_code == 422
    assert "Det finns ett problem" in page  # the error summary
    assert "”många” är inte ett tal." in page
    assert 'href="#callback_calls"' in page
    for typed in (
        'value="1200"',
        'value="1300"',
        'value="många"',
        'value="4,5"',
        "Ny växel i mars",
    ):
        assert typed in page
    assert count(db, TelephoneReport) == 0
    worse = post(
        vc,
        TELEPHONE,
        incoming_calls="1200",
        answered_calls="1300",
        callback_calls="2",
        mean_wait_minutes="4,5",
    )
    assert "Fler besvarade än inkommande samtal" in text(worse)
    good = post(
        vc,
        TELEPHONE,
        incoming_calls="1 200",
        answered_calls="1100",
        callback_calls="300",
        mean_wait_minutes="4,5",
    )
    assert good.status_code == 302
    report = db.scalar(sa.select(TelephoneReport))
    assert (report.incoming_calls, report.answered_calls, report.mean_wait_minutes) == (
        1200,
        1100,
        4.5,
    )
    # Shown again for correction, and done in the årshjul.
    again = text(vc.get(TELEPHONE))
    assert 'value="1200"' in again and "Spara rättelsen" in again
    wheel = text(vc.get(f"/arshjul/enhet/vilhelmina?ar={YEAR + 1}&omrade=telefoni&visa=lista"))
    assert "Telefontillgänglighet december" in wheel


def test_a_unit_reports_only_its_own_and_the_purchaser_only_reads(app, people, db):
    other, bo = client_for(app, "other"), client_for(app, "bo")
    assert other.get(TELEPHONE).status_code == 404
    token = csrf_token(other, "/arshjul/")
    assert (
        other.post(TELEPHONE, data={"csrf_token": token, "incoming_calls": "1"}).status_code == 404
    )
    assert bo.get(TELEPHONE).status_code == 200
    assert '<form method="post" class="panel"' not in text(bo.get(TELEPHONE))
    token = csrf_token(bo, "/arshjul/")
    assert bo.post(TELEPHONE, data={"csrf_token": token, "incoming_calls": "1"}).status_code == 403
    # On the platform: nothing to report.
    backen = f"/arshjul/enhet/backen/telefoni/{YEAR}/3"
    assert "ansluten till regionens växelplattform" in text(other.get(backen)).replace("’", "")
    assert count(db, TelephoneReport) == 0


def test_the_patient_safety_report_is_uploaded_with_its_date(app, people, db):
    vc = client_for(app, "vc")
    path = f"/arshjul/enhet/vilhelmina/patientsakerhet/{YEAR}"
    token = csrf_token(vc, path)
    pnr = vc.post(
        path,
        data={
            "csrf_token": token,
            "sent_on": f"{YEAR}-02-27",
            "file": (io.BytesIO(b"Patient 19121212-1212"), "psb.txt"),
        },
        content_type="multipart/form-data",
    )
    page = text(pnr)
    assert pnr.status_code == 422 and "personnummer" in page
    assert f'value="{YEAR}-02-27"' in page and 'href="#file"' in page
    wrong_year = vc.post(
        path,
        data={
            "csrf_token": token,
            "sent_on": f"{YEAR - 1}-02-27",
            "file": (io.BytesIO(b"Berattelse"), "psb.txt"),
        },
        content_type="multipart/form-data",
    )
    assert wrong_year.status_code == 422
    assert f"Datumet ska ligga i uppföljningsåret {YEAR}" in text(wrong_year)
    ok = vc.post(
        path,
        data={
            "csrf_token": token,
            "sent_on": f"{YEAR}-02-27",
            "file": (io.BytesIO(b"Berattelse"), "psb.txt"),
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    assert db.scalar(sa.select(PatientSafetyReport)).filename == "psb.txt"
    download = vc.get(f"{path}/fil")
    assert download.status_code == 200 and download.data == b"Berattelse"
    assert client_for(app, "other").get(f"{path}/fil").status_code == 404


def test_the_annual_report_of_a_tillaggsuppdrag(app, people, db):
    vc = client_for(app, "vc")
    path = f"/arshjul/enhet/vilhelmina/tillaggsuppdrag/{YEAR - 1}/tu.sjukstugor-vardplatser"
    page = text(vc.get(path))
    ids = [int(n) for n in re.findall(r'name="row(\d+)-numerator"', page)]
    assert len(ids) == 2
    doc = int(re.search(r'type="file" id="row(\d+)"', page).group(1))
    token = csrf_token(vc, path)
    bad = vc.post(
        path,
        data={
            "csrf_token": token,
            f"row{ids[0]}-numerator": "300",
            f"row{ids[0]}-denominator": "fyrahundra",
            f"row{ids[1]}-numerator": "3",
            f"row{ids[1]}-denominator": "60",
        },
        content_type="multipart/form-data",
    )
    body = text(bad)
    assert bad.status_code == 422
    assert "”fyrahundra” är inte ett tal." in body and 'value="fyrahundra"' in body
    assert f'href="#row{doc}"' in body and "Välj filen som raden efterfrågar." in body
    ok = vc.post(
        path,
        data={
            "csrf_token": token,
            f"row{ids[0]}-numerator": "300",
            f"row{ids[0]}-denominator": "400",
            f"row{ids[1]}-numerator": "3",
            f"row{ids[1]}-denominator": "60",
            f"row{doc}": (io.BytesIO(b"Rutin"), "rutin.txt"),
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    assert count(db, AssignmentReport) == 1
    assert client_for(app, "other").get(path).status_code == 404
    # Backen is not a sjukstuga: that assignment is no page of its.
    backen = f"/arshjul/enhet/backen/tillaggsuppdrag/{YEAR - 1}/tu.sjukstugor-vardplatser"
    assert client_for(app, "bo").get(backen).status_code == 404


def test_the_purchasers_page_makes_as_many_queries_for_few_units_as_for_many(
    app, people, db, connection
):
    bo = client_for(app, "bo")
    counts = []
    for extra in (0, 10):
        for n in range(extra):
            make_unit(db, f"fler{n}", on_region_telephony=bool(n % 2), has_bvc=bool(n % 3))
        db.commit()
        statements = []

        def counted(conn, cursor, statement, *args, statements=statements):
            statements.append(statement)

        sa.event.listen(connection, "before_cursor_execute", counted)
        try:
            assert bo.get(f"/arshjul/?ar={YEAR}").status_code == 200
        finally:
            sa.event.remove(connection, "before_cursor_execute", counted)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
