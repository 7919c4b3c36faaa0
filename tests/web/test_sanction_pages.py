"""The sanction case through its pages: opened from the unit page, the unit responds, the
reviewer assesses, the ladder suggests, Regionstyrelsen decides with a diarienummer."""

import datetime as dt

import pytest

from audit.models import Role
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_unit, make_user
from workflows.models import SanctionCase, SanctionState


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


def test_case_from_unit_page_to_decision(app, people, db):
    bo, vc, greta, other = (app.test_client() for _ in range(4))
    for client, name in ((bo, "bo"), (vc, "vc"), (greta, "greta"), (other, "other")):
        login(client, name, PASSWORD)
    response = post(
        bo,
        "/sanktioner/ny",
        "/enheter/byske",
        unit="byske",
        title="Läkarbemanning",
        grounds="Upprepad brist mot §3.1.2.",
    )
    case_id = int(response.location.rsplit("/", 1)[1])
    page = f"/sanktioner/{case_id}"
    # No earlier decisions on these requirements: the ladder starts with a remark.
    assert "Sanktionstrappan föreslår: påpekande." in bo.get(page).get_data(as_text=True)
    assert other.get(page).status_code == 404
    assert post(bo, f"{page}/atgard/inform_unit", page, response_days="10").status_code == 302
    assert "Lämna yttrande" in vc.get(page).get_data(as_text=True)
    assert (
        post(
            vc, f"{page}/atgard/respond", page, response="Vi rekryterar två specialister."
        ).status_code
        == 302
    )
    assert (
        post(
            greta, f"{page}/atgard/assess", page, assessment="Bristen kvarstår sedan två år."
        ).status_code
        == 302
    )
    refused = post(
        bo,
        f"{page}/atgard/decide",
        page,
        decision="penalty",
        rationale="Vite är proportionerligt mot bristens längd.",
        deciding_body="bestallarenheten",
        penalty_sek="50 000",
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "fattas av Regionstyrelsen" in html
    assert "Vite är proportionerligt mot bristens längd." in html  # nothing typed is lost
    assert (
        post(
            bo,
            f"{page}/atgard/decide",
            page,
            decision="penalty",
            rationale="Vite är proportionerligt mot bristens längd.",
            deciding_body="regionstyrelsen",
            diarienummer="RS 2025/123",
            penalty_sek="50 000",
        ).status_code
        == 302
    )
    case = db.get(SanctionCase, case_id)
    db.refresh(case)
    assert case.status == SanctionState.DECIDED and case.penalty_sek == 50000
    assert "RS 2025/123" in bo.get(page).get_data(as_text=True)
    assert post(vc, f"{page}/atgard/notify", page).status_code == 409  # not theirs to do


def test_ivo_referral_shown_on_the_unit_page(app, people, db):
    greta = app.test_client()
    login(greta, "greta", PASSWORD)
    response = post(
        greta,
        "/sanktioner/ivo",
        "/enheter/byske",
        unit="byske",
        referred_on=dt.date.today().isoformat(),
        reference="IVO 3.5.1-99/2025",
    )
    assert response.status_code == 302
    html = greta.get("/enheter/byske").get_data(as_text=True)
    assert "IVO 3.5.1-99/2025" in html
