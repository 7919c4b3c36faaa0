"""The action plan through its pages: demanded from the unit page, written by the unit,
approved, carried out, reported, verified by the auditor, closed; lateness shown."""

import datetime as dt

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
        due_date=DUE,
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
            due_date=DUE,
        ).location.rsplit("/", 1)[1]
    )
    login(other, "other", PASSWORD)
    assert other.get(f"/atgardsplaner/{plan_id}").status_code == 404
    plan = db.get(ActionPlan, plan_id)
    plan.due_date = dt.date.today() - dt.timedelta(days=1)  # as if time had passed
    db.commit()
    listing = bo.get("/atgardsplaner/").get_data(as_text=True)
    assert "(försenad)" in listing
