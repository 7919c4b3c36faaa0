"""The action plan through its pages: demanded from the unit page, written by the unit,
approved, carried out, reported, verified by the auditor, closed; lateness shown."""

import datetime as dt
import io

import pytest

from audit.models import Role
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_unit, make_user
from workflows.models import ActionPlan, PlanState

DUE = (dt.date.today() + dt.timedelta(days=45)).isoformat()


@pytest.fixture
def people(db):
    make_unit(db, "byske", name="Byske hälsocentral")
    make_unit(db, "backen", name="Backens hälsocentral")
    make_user(db, "bo", (Role.BESTALLARE, None))
    make_user(db, "greta", (Role.GRANSKARE, None))
    make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske"))
    make_user(db, "other", (Role.VERKSAMHETSCHEF, "backen"))
    db.commit()


def post(client, path, page, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def test_plan_lifecycle_through_the_pages(app, people, db):
    bo, vc, greta = app.test_client(), app.test_client(), app.test_client()
    for client, name in ((bo, "bo"), (vc, "vc"), (greta, "greta")):
        login(client, name, PASSWORD)
    response = post(
        bo,
        "/atgardsplaner/ny",
        "/enheter/byske",
        unit="byske",
        title="Läkarbemanning",
        requirements="Mer än hälften specialister.",
        plan_due=DUE,
        measures_due=DUE,
    )
    assert response.status_code == 302
    plan_id = int(response.location.rsplit("/", 1)[1])
    page = f"/atgardsplaner/{plan_id}"
    refused = post(vc, f"{page}/atgard/submit_plan", page)
    assert refused.status_code == 409 and "minst en åtgärd" in refused.get_data(as_text=True)
    bad = post(
        vc, f"{page}/atgarder", page, description="Rekrytera", responsible="", measure_due=DUE
    )
    assert bad.status_code == 422 and 'value="Rekrytera"' in bad.get_data(as_text=True)
    assert (
        post(
            vc,
            f"{page}/atgarder",
            page,
            description="Rekrytera två specialister",
            responsible="Vera Vik",
            measure_due=DUE,
        ).status_code
        == 302
    )
    assert post(vc, f"{page}/atgard/submit_plan", page).status_code == 302
    assert post(vc, f"{page}/atgard/approve", page).status_code == 409  # not their plan to approve
    assert post(bo, f"{page}/atgard/approve", page).status_code == 302
    plan = db.get(ActionPlan, plan_id)
    db.refresh(plan)
    measure_id = plan.measures[0].id
    assert (
        post(
            vc, f"{page}/atgarder/{measure_id}/genomford", page, done_on=dt.date.today().isoformat()
        ).status_code
        == 302
    )
    assert (
        post(
            vc, f"{page}/atgard/report_done", page, report="Två specialister anställda."
        ).status_code
        == 302
    )
    assert post(bo, f"{page}/atgard/verify", page).status_code == 409  # the auditor verifies
    assert post(greta, f"{page}/atgard/verify", page).status_code == 302
    assert post(bo, f"{page}/atgard/close", page).status_code == 302
    db.refresh(plan)
    assert plan.status == PlanState.CLOSED
    timeline = bo.get(page).get_data(as_text=True)
    assert "Verifiera att åtgärderna fått effekt" in timeline and "åtgärd tillagd" in timeline


def test_other_unit_cannot_see_the_plan_and_lateness_is_shown(app, people, db):
    bo, other = app.test_client(), app.test_client()
    login(bo, "bo", PASSWORD)
    plan_id = int(
        post(
            bo,
            "/atgardsplaner/ny",
            "/enheter/byske",
            unit="byske",
            title="P",
            requirements="R",
            plan_due=DUE,
            measures_due=DUE,
        ).location.rsplit("/", 1)[1]
    )
    login(other, "other", PASSWORD)
    assert other.get(f"/atgardsplaner/{plan_id}").status_code == 404
    plan = db.get(ActionPlan, plan_id)
    plan.plan_due = dt.date.today() - dt.timedelta(days=1)  # as if time had passed
    db.commit()
    listing = bo.get("/atgardsplaner/").get_data(as_text=True)
    assert "(försenad)" in listing


def _requested_plan(bo, measures_due):
    response = post(
        bo,
        "/atgardsplaner/ny",
        "/enheter/byske",
        unit="byske",
        title="Läkarbemanning",
        requirements="Mer än hälften specialister.",
        plan_due=(dt.date.today() + dt.timedelta(days=10)).isoformat(),
        measures_due=measures_due,
    )
    assert response.status_code == 302
    return f"/atgardsplaner/{response.location.rsplit('/', 1)[1]}"


def test_a_late_measure_date_is_refused_beside_the_field_and_the_plan_is_never_stuck(
    app, people, db
):
    bo, vc = app.test_client(), app.test_client()
    login(bo, "bo", PASSWORD)
    login(vc, "vc", PASSWORD)
    page = _requested_plan(bo, DUE)
    too_late = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    refused = post(
        vc,
        f"{page}/atgarder",
        page,
        description="Rekrytera två specialister",
        responsible="Vera Vik",
        measure_due=too_late,
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="measure_due-error">Åtgärden måste vara genomförd senast' in html
    assert 'aria-invalid="true" aria-describedby="measure_due-error"' in html
    assert f'value="{too_late}"' in html and 'value="Rekrytera två specialister"' in html
    assert (
        post(
            vc,
            f"{page}/atgarder",
            page,
            description="Rekrytera",
            responsible="Vera",
            measure_due=DUE,
        ).status_code
        == 302
    )
    plan_id = int(page.rsplit("/", 1)[1])
    measure_id = db.get(ActionPlan, plan_id).measures[0].id
    changed = post(
        vc,
        f"{page}/atgarder/{measure_id}",
        page,
        description="Rekrytera en specialist",
        responsible="Vera Vik",
        measure_due=DUE,
    )
    assert changed.status_code == 302
    assert post(vc, f"{page}/atgard/submit_plan", page).status_code == 302
    html = bo.get(page).get_data(as_text=True)
    assert "Rekrytera en specialist" in html and "åtgärd ändrad" in html


def test_dates_are_moved_with_a_reason_and_the_plan_withdrawn(app, people, db):
    bo = app.test_client()
    login(bo, "bo", PASSWORD)
    page = _requested_plan(bo, DUE)
    refused = post(bo, f"{page}/datum", page, plan_due=DUE, measures_due=DUE, reason="")
    assert refused.status_code == 422 and 'value="' + DUE + '"' in refused.get_data(as_text=True)
    later = (dt.date.today() + dt.timedelta(days=80)).isoformat()
    assert (
        post(
            bo, f"{page}/datum", page, plan_due=DUE, measures_due=later, reason="Semester."
        ).status_code
        == 302
    )
    html = bo.get(page).get_data(as_text=True)
    assert "datum ändrade" in html and "Semester." in html
    assert post(bo, f"{page}/atgard/withdraw", page, reason="Fel enhet.").status_code == 302
    assert "Återkallad" in bo.get(page).get_data(as_text=True)


def test_report_evidence_is_uploaded_and_a_personnummer_refused(app, people, db, tmp_path):
    from tests.checklists.test_rounds import synthetic_personnummer

    app.config["EVIDENCE_DIR"] = str(tmp_path / "underlag")
    bo, vc = app.test_client(), app.test_client()
    login(bo, "bo", PASSWORD)
    login(vc, "vc", PASSWORD)
    page = _requested_plan(bo, DUE)
    post(vc, f"{page}/atgarder", page, description="Rutin", responsible="Vera", measure_due=DUE)
    post(vc, f"{page}/atgard/submit_plan", page)
    post(bo, f"{page}/atgard/approve", page)

    def upload(name, content):
        return vc.post(
            f"{page}/underlag",
            data={"csrf_token": csrf_token(vc, page), "file": (io.BytesIO(content), name)},
            content_type="multipart/form-data",
        )

    number = synthetic_personnummer(dt.date(1985, 3, 15))
    refused = upload("lista.txt", f"Patient {number}".encode())
    assert refused.status_code == 422 and "personnummer" in refused.get_data(as_text=True)
    assert upload("schema.txt", b"Schema med tva specialister").status_code == 302
    plan = db.get(ActionPlan, int(page.rsplit("/", 1)[1]))
    db.refresh(plan)
    (evidence,) = [f for f in plan.files if f.removed_at is None]
    download = vc.get(f"{page}/underlag/{evidence.id}")
    assert download.status_code == 200 and download.data == b"Schema med tva specialister"
