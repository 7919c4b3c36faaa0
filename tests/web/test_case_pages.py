"""Ärenden through their pages: filed from the unit page, completed, decided from the inbox;
who may see and do what; bad input refused in Swedish with everything typed kept; documents
checked for personnummer; the checklist item shows the case."""

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from audit.models import Role, Unit
from checklists import operations as ops
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.models import Requirement
from checklists.sections import section_of
from tests.case_factories import PARTNER_UNIT, make_units
from tests.checklists.test_rounds import synthetic_personnummer
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, TEST_ACTOR, make_unit, make_user
from workflows.cases.machine import S
from workflows.cases.models import Case, CaseDocument

TODAY = dt.date.today()


@pytest.fixture
def people(db, app, tmp_path):
    make_units(db, make_unit)
    make_user(db, "bo", (Role.BESTALLARE, None))
    make_user(db, "greta", (Role.GRANSKARE, None))
    make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske"))
    make_user(db, "staff", (Role.PERSONAL, "byske"))
    make_user(db, "other", (Role.VERKSAMHETSCHEF, PARTNER_UNIT))
    make_user(db, "reader", (Role.LASARE, None))
    app.config["EVIDENCE_DIR"] = str(tmp_path / "underlag")
    db.commit()


def client_for(app, name):
    client = app.test_client()
    assert login(client, name, PASSWORD).status_code == 302
    return client


def post(client, path, page, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


LIST_STOP = {
    "period_from": TODAY.isoformat(),
    "period_to": (TODAY + dt.timedelta(days=45)).isoformat(),
    "reasons": "Två läkare har slutat.",
    "information": "Telefonsvarare och 1177.se säger när listning åter är möjlig.",
}


def file_list_stop(client, **changes):
    return post(
        client,
        "/arenden/ny/byske/listningsstopp",
        "/arenden/ny/byske/listningsstopp",
        **(LIST_STOP | changes),
    )


def case_id(response) -> int:
    return int(re.search(r"/arenden/(\d+)", response.location).group(1))


def test_a_list_stop_filed_from_the_unit_page_is_granted_from_the_inbox(app, people, db):
    vc, bo = client_for(app, "vc"), client_for(app, "bo")
    unit_page = vc.get("/enheter/byske").get_data(as_text=True)
    assert 'href="/arenden/ny/byske/listningsstopp"' in unit_page
    assert "Lex Maria" not in unit_page  # a region-run unit files no Lex Maria cases here
    form = vc.get("/arenden/ny/byske/listningsstopp").get_data(as_text=True)
    assert "Listningsstopp är tidsbegränsat till maximalt 3 månader." in form
    response = file_list_stop(vc)
    assert response.status_code == 302
    page = f"/arenden/{case_id(response)}"
    assert post(vc, f"{page}/atgard/submit", page).status_code == 302
    inbox = bo.get("/arenden/").get_data(as_text=True)
    assert "Pröva ansökan" in inbox and "Byske hälsocentral" in inbox
    refused = post(bo, f"{page}/atgard/grant", page, rationale="Bemanningen är kritisk.")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Region Västerbottens beslut om listningsstopp behöver ett diarienummer." in html
    assert "Bemanningen är kritisk." in html  # what was typed is kept
    granted = post(bo, f"{page}/atgard/grant", page, diarienummer="RS 2026/40")
    assert granted.status_code == 302
    html = bo.get(page).get_data(as_text=True)
    assert "Beslutat – beviljat" in html and "RS 2026/40" in html
    assert "Bevilja" in html  # the timeline names the transition
    case = db.get(Case, case_id(response))
    db.refresh(case)
    assert case.status == S.GRANTED and case.decided_to == TODAY + dt.timedelta(days=45)


def test_the_unit_completes_what_the_purchaser_asks_for(app, people, db):
    vc, bo = client_for(app, "vc"), client_for(app, "bo")
    page = f"/arenden/{case_id(file_list_stop(vc))}"
    post(vc, f"{page}/atgard/submit", page)
    assert (
        post(
            bo,
            f"{page}/atgard/request_completion",
            page,
            completion_days="5",
            reason="Bifoga den undertecknade ansökan.",
        ).status_code
        == 302
    )
    html = vc.get(page).get_data(as_text=True)
    assert "Bifoga den undertecknade ansökan." in html and "Komplettera ärendet" in html
    assert 'name="reasons"' in html  # the unit may edit its details again
    saved = post(vc, f"{page}/uppgifter", page, **(LIST_STOP | {"reasons": "Tre har slutat."}))
    assert saved.status_code == 302
    assert post(vc, f"{page}/atgard/submit", page).status_code == 302
    case = db.get(Case, int(page.rsplit("/", 1)[1]))
    db.refresh(case)
    assert case.status == S.SUBMITTED and case.details["reasons"] == "Tre har slutat."


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"period_from": "2026-13-40"}, "Inte ett giltigt datum"),
        ({"period_to": "0001-01-01"}, "Ange ett datum mellan 2000-01-01 och 2099-12-31."),
        ({"reasons": "x" * 4001}, "Högst 4000 tecken."),
        (
            {"reasons": f"Gäller {synthetic_personnummer(dt.date(1961, 7, 14))}."},
            "liknar ett personnummer",
        ),
    ],
)
def test_bad_input_is_refused_in_swedish_and_what_was_typed_is_kept(
    app, people, db, changes, message
):
    vc = client_for(app, "vc")
    response = file_list_stop(vc, information="Min egen text om informationen.", **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error-summary"' in html and message in html
    assert "Min egen text om informationen." in html
    assert db.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def test_a_submission_missing_something_lists_it(app, people):
    vc = client_for(app, "vc")
    page = f"/arenden/{case_id(file_list_stop(vc, reasons=''))}"
    response = post(vc, f"{page}/atgard/submit", page)
    assert response.status_code == 409
    assert "Fyll i innan ärendet lämnas in: Skäl för ansökan." in response.get_data(as_text=True)


def test_every_post_needs_the_csrf_token(app, people):
    vc = client_for(app, "vc")
    page = f"/arenden/{case_id(file_list_stop(vc))}"
    for path in (
        "/arenden/ny/byske/listningsstopp",
        f"{page}/uppgifter",
        f"{page}/handlingar",
        f"{page}/atgard/submit",
        f"{page}/kapitering",
    ):
        assert vc.post(path, data=LIST_STOP).status_code == 400, path


def test_other_units_and_roles_see_nothing_of_the_case(app, people):
    vc = client_for(app, "vc")
    page = f"/arenden/{case_id(file_list_stop(vc))}"
    other = client_for(app, "other")
    assert other.get(page).status_code == 404
    assert other.get("/arenden/ny/byske/listningsstopp").status_code == 404
    assert "0 ärenden" in other.get("/arenden/").get_data(as_text=True)
    assert client_for(app, "reader").get(page).status_code == 403
    staff = client_for(app, "staff")
    assert staff.get(page).status_code == 200
    refused = post(staff, f"{page}/atgard/submit", page)  # the head submits
    assert refused.status_code == 409 and "behörighet" in refused.get_data(as_text=True)
    bo = client_for(app, "bo")
    assert bo.get("/arenden/ny/byske/listningsstopp").status_code == 403  # only the unit files


def test_documents_are_checked_and_can_be_downloaded(app, people, db):
    vc = client_for(app, "vc")
    page = f"/arenden/{case_id(file_list_stop(vc))}"
    token = csrf_token(vc, page)
    number = synthetic_personnummer(dt.date(1961, 7, 14))
    refused = vc.post(
        f"{page}/handlingar",
        data={
            "csrf_token": token,
            "document_kind": "application",
            "file": (io.BytesIO(f"Ansökan för {number}".encode()), "ansokan.txt"),
        },
    )
    assert refused.status_code == 422
    assert "liknar ett personnummer" in refused.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(CaseDocument)) == 0
    attached = vc.post(
        f"{page}/handlingar",
        data={
            "csrf_token": token,
            "document_kind": "application",
            "file": (io.BytesIO(b"Ansokan om listningsstopp."), "ansokan.txt"),
        },
    )
    assert attached.status_code == 302
    document = db.scalar(sa.select(CaseDocument))
    download = vc.get(f"{page}/handlingar/{document.id}")
    assert download.status_code == 200 and download.data == b"Ansokan om listningsstopp."
    assert client_for(app, "other").get(f"{page}/handlingar/{document.id}").status_code == 404
    removed = post(vc, f"{page}/handlingar/{document.id}/ta-bort", page)
    assert removed.status_code == 302
    assert vc.get(f"{page}/handlingar/{document.id}").status_code == 404


def test_the_inbox_filters_and_sorts(app, people):
    vc, bo = client_for(app, "vc"), client_for(app, "bo")
    submitted = f"/arenden/{case_id(file_list_stop(vc))}"
    post(vc, f"{submitted}/atgard/submit", submitted)
    file_list_stop(
        vc,
        period_from=(TODAY + dt.timedelta(days=60)).isoformat(),
        period_to=(TODAY + dt.timedelta(days=70)).isoformat(),
    )  # a draft
    waiting_for_us = bo.get("/arenden/?vantar=bestallarenheten").get_data(as_text=True)
    assert waiting_for_us.count("Pröva ansökan") == 1 and "Lämna in ärendet" not in waiting_for_us
    waiting_for_unit = bo.get("/arenden/?vantar=enheten").get_data(as_text=True)
    assert "Lämna in ärendet" in waiting_for_unit and "Pröva ansökan" not in waiting_for_unit
    assert "2 ärenden" in bo.get("/arenden/?sort=submitted&dir=desc").get_data(as_text=True)
    assert "0 ärenden" in bo.get("/arenden/?arendetyp=filial").get_data(as_text=True)
    assert "0 ärenden" in bo.get("/arenden/?status=closed").get_data(as_text=True)
    assert bo.get("/arenden/?sort=okänd&status=x&vantar=y&arendetyp=z").status_code == 200


def test_a_granted_list_stop_shows_on_its_checklist_item(app, people, db):
    vc, bo = client_for(app, "vc"), client_for(app, "bo")
    page = f"/arenden/{case_id(file_list_stop(vc))}"
    post(vc, f"{page}/atgard/submit", page)
    post(bo, f"{page}/atgard/grant", page, diarienummer="RS 2026/40")
    edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
    requirement = db.scalar(
        sa.select(Requirement).where(
            Requirement.edition_id == edition.id,
            Requirement.code == "listning.listningsstopp-skriftlig-ansokan",
        )
    )
    quiet = db.scalar(
        sa.select(Requirement).where(
            Requirement.edition_id == edition.id,
            Requirement.code == "listning.listningstak-skriftlig-ansokan",
        )
    )
    from audit.models import User

    round_ = ops.open_round(
        db,
        db.scalar(sa.select(User).where(User.username == "bo")),
        edition=edition,
        title="Listning",
        year=TODAY.year,
        opens_on=TODAY,
        deadline=TODAY + dt.timedelta(days=30),
        selection=ops.RoundSelection(
            requirement_ids=[requirement.id, quiet.id],
            unit_ids=[db.scalar(sa.select(Unit.id).where(Unit.code == "byske"))],
        ),
    )
    db.commit()
    checklist = round_.checklists[0]
    section = section_of(requirement.section)
    html = vc.get(f"/checklistor/{checklist.id}/avsnitt/{section}").get_data(as_text=True)
    assert f"Anmälningar och ansökningar {TODAY.year}" in html
    assert f'href="{page}"' in html and "RS 2026/40" in html
    assert "inga inlämnade" in html  # the list cap item: nothing filed


def test_a_private_unit_files_lex_maria_with_its_documents(app, people, db):
    make_user(db, "vc.privat", (Role.VERKSAMHETSCHEF, "privat"))
    db.commit()
    vc = client_for(app, "vc.privat")
    assert 'href="/arenden/ny/privat/lex_maria"' in vc.get("/enheter/privat").get_data(as_text=True)
    response = post(
        vc,
        "/arenden/ny/privat/lex_maria",
        "/arenden/ny/privat/lex_maria",
        period_from=TODAY.isoformat(),
        summary="Fördröjd diagnos.",
        measures="Ny rutin för provsvar.",
        only_private="y",
        deidentified="y",
    )
    assert response.status_code == 302
    page = f"/arenden/{case_id(response)}"
    html = post(vc, f"{page}/atgard/submit", page).get_data(as_text=True)
    assert "Kopia av anmälan till IVO; Utredningsmaterial" in html

    def attach(kind, name):
        return vc.post(
            f"{page}/handlingar",
            data={
                "csrf_token": csrf_token(vc, page),
                "document_kind": kind,
                "file": (io.BytesIO(b"Avidentifierad handling."), name),
            },
        )

    assert attach("report", "anmalan.txt").status_code == 302
    assert attach("investigation", "utredning.txt").status_code == 302
    assert post(vc, f"{page}/atgard/submit", page).status_code == 302
    bo = client_for(app, "bo")
    assert post(bo, f"{page}/atgard/note", page).status_code == 302
    assert post(bo, f"{page}/atgard/take_effect", page).status_code == 302
    html = vc.get(page).get_data(as_text=True)
    assert "Efter beslutet" in html and "Väntar på enheten" in html
    assert attach("report", "sen.txt").status_code == 422  # only IVO's decision comes later
    assert attach("ivo_decision", "ivo-beslut.txt").status_code == 302
    saved = post(vc, f"{page}/uppgifter", page, part="later", ivo_decided_on=TODAY.isoformat())
    assert saved.status_code == 302
    assert post(bo, f"{page}/atgard/close", page).status_code == 302
    case = db.get(Case, case_id(response))
    db.refresh(case)
    assert case.status == S.CLOSED and case.details["ivo_decided_on"] == TODAY.isoformat()


def test_a_restricted_service_opens_its_capitation_case_from_the_case_page(app, people, db):
    vc, bo = client_for(app, "vc"), client_for(app, "bo")
    start, end = TODAY, TODAY + dt.timedelta(days=20)
    response = post(
        vc,
        "/arenden/ny/byske/begransat_utbud",
        "/arenden/ny/byske/begransat_utbud",
        period_from=start.isoformat(),
        period_to=end.isoformat(),
        provider_decided_on=TODAY.isoformat(),
        restricted_part="Mottagningen stängd eftermiddagar.",
        measures="Akuta besök hos Backen.",
        gp_access="Distansbedömning av specialist i allmänmedicin.",
        travel_time="Upp till 40 minuter längre.",
        patient_information="1177.se och telefonsvarare.",
        opening_hours_reduced="y",
    )
    page = f"/arenden/{case_id(response)}"
    html = post(vc, f"{page}/atgard/submit", page).get_data(as_text=True)
    assert "Risk- och konsekvensanalys kring patientsäkerheten" in html  # still missing
    vc.post(
        f"{page}/handlingar",
        data={
            "csrf_token": csrf_token(vc, page),
            "document_kind": "risk_analysis",
            "file": (io.BytesIO(b"Riskanalys utan personuppgifter."), "riskanalys.txt"),
        },
    )
    assert post(vc, f"{page}/atgard/submit", page).status_code == 302
    assert post(bo, f"{page}/atgard/note", page).status_code == 302
    opened = post(bo, f"{page}/kapitering", page, diarienummer="RS 2026/90")
    assert opened.status_code == 302 and opened.location.startswith("/sanktioner/")
    sanction = bo.get(opened.location).get_data(as_text=True)
    assert f'href="{page}"' in sanction  # the sanction case names the restricted service
    again = post(bo, f"{page}/kapitering", page, diarienummer="RS 2026/91")
    assert again.status_code == 409 and "redan" in again.get_data(as_text=True)
    assert "Ärende om neddragning av kapiteringsersättningen" in bo.get(page).get_data(as_text=True)


def test_the_start_page_asks_to_mark_a_decided_case_in_effect_from_its_first_day(app, people, db):
    """Before its first day the machine refuses "Markera att ärendet gäller"; the purchaser's
    start page does not offer it as a task until then."""
    vc, bo = client_for(app, "vc"), client_for(app, "bo")
    titles = {}
    for start in (TODAY, TODAY + dt.timedelta(days=10)):
        end = start + dt.timedelta(days=30)
        filed = file_list_stop(vc, period_from=start.isoformat(), period_to=end.isoformat())
        page = f"/arenden/{case_id(filed)}"
        assert post(vc, f"{page}/atgard/submit", page).status_code == 302
        granted = post(bo, f"{page}/atgard/grant", page, diarienummer="RS 2026/41")
        assert granted.status_code == 302
        titles[start] = db.get(Case, case_id(filed)).title
    tasks = bo.get("/").get_data(as_text=True)
    assert f"{titles[TODAY]} – Byske hälsocentral" in tasks
    assert titles[TODAY + dt.timedelta(days=10)] not in tasks
    later = f"/arenden/{case_id(filed)}"
    refused = post(bo, f"{later}/atgard/take_effect", later)
    assert refused.status_code == 409 and "det kan markeras som gällande då" in refused.get_data(
        as_text=True
    )
