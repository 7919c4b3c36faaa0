"""The sanction case through its pages: opened from the unit page, the unit responds, the
reviewer assesses, the ladder suggests, Regionstyrelsen decides with a diarienummer."""

import datetime as dt

import pytest

from audit.models import Operator, Role
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_unit, make_user
from workflows.models import SanctionCase, SanctionState


@pytest.fixture
def people(db):
    make_unit(
        db, "byske", name="Byske hälsocentral", operator=Operator.PRIVAT, provider="Vårdbolaget AB"
    )
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
        diarienummer="RS 2025/1",
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
    decision = {
        "decision": "penalty",
        "deciding_body": "regionstyrelsen",
        "diarienummer": "RS 2025/123",
        "decided_on": dt.date.today().isoformat(),
        "protocol_paragraph": "§ 12",
        "prop_seriousness": "En tredjedel under kravet.",
        "prop_duration": "Sedan våren 2024.",
        "prop_repetition": "Påpekande 2025.",
        "prop_own_measures": "En rekrytering.",
        "prop_patient_safety": "Kontinuiteten försämrad.",
        "rationale": "Vite står i proportion till bristens längd.",
        "penalty_sek": "50 000",
    }
    refused = post(bo, f"{page}/atgard/decide", page, **decision)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "kommunicering" in html
    assert "Vite står i proportion till bristens längd." in html  # nothing typed is lost
    assert "Sedan våren 2024." in html
    assert (
        post(
            bo,
            f"{page}/atgard/demand_rectification",
            page,
            rectification_demand="Bemanna enligt §3.1.2.",
            rectification_days="10",
        ).status_code
        == 302
    )
    assert (
        post(
            greta,
            f"{page}/atgard/end_rectification",
            page,
            rectified="no",
            rectification_outcome="Ingen ny rekrytering.",
        ).status_code
        == 409
    )  # the period is still running
    assert (
        post(
            greta,
            f"{page}/atgard/end_rectification",
            page,
            rectified="yes",
            rectification_outcome="En specialist anställd, en saknas.",
        ).status_code
        == 302
    )
    assert (
        post(
            bo,
            f"{page}/atgard/communicate",
            page,
            intended_decision="penalty",
            intended_grounds="Bristen kvarstår delvis.",
            intended_penalty_sek="50 000",
            reply_days="10",
        ).status_code
        == 302
    )
    assert "Yttra dig över det avsedda beslutet" in vc.get(page).get_data(as_text=True)
    assert (
        post(vc, f"{page}/atgard/answer_communication", page, reply="Vi bestrider.").status_code
        == 302
    )
    assert post(bo, f"{page}/atgard/decide", page, **decision).status_code == 302
    case = db.get(SanctionCase, case_id)
    db.refresh(case)
    assert case.status == SanctionState.DECIDED and case.penalty_sek == 50000
    assert "RS 2025/123" in bo.get(page).get_data(as_text=True)
    assert post(vc, f"{page}/atgard/notify", page).status_code == 409  # not theirs to do
    letter = vc.get(f"{page}/beslut")
    text = letter.get_data(as_text=True)
    assert letter.status_code == 200 and "Beslut: vite" in text
    assert "allmän domstol" in text and "Vi bestrider." in text and "§ 12" in text


def test_the_assessor_cannot_also_record_the_decision_without_a_reason(app, people, db):
    bo, vc = app.test_client(), app.test_client()
    login(bo, "bo", PASSWORD)
    login(vc, "vc", PASSWORD)
    response = post(
        bo,
        "/sanktioner/ny",
        "/enheter/byske",
        unit="byske",
        title="T",
        grounds="G",
        diarienummer="RS 2025/2",
    )
    page = f"/sanktioner/{response.location.rsplit('/', 1)[1]}"
    post(bo, f"{page}/atgard/inform_unit", page, response_days="10")
    post(vc, f"{page}/atgard/respond", page, response="Svar.")
    post(bo, f"{page}/atgard/assess", page, assessment="Brist.")
    remark = {
        "decision": "remark",
        "deciding_body": "bestallarenheten",
        "diarienummer": "RS 2025/2",
        "decided_on": dt.date.today().isoformat(),
        "prop_seriousness": "Liten.",
        "prop_duration": "Kort.",
        "prop_repetition": "Första gången.",
        "prop_own_measures": "Rättat.",
        "prop_patient_safety": "Ingen.",
        "rationale": "Ett påpekande räcker.",
    }
    refused = post(bo, f"{page}/atgard/decide", page, **remark)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "en annan person" in html
    assert 'id="four_eyes_reason"' in html
    assert (
        post(
            bo, f"{page}/atgard/decide", page, four_eyes_reason="Ensam på enheten.", **remark
        ).status_code
        == 302
    )


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
