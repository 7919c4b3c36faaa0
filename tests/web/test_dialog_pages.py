"""The follow-up dialog in the browser's terms: plan it from the unit page, drive it with the
buttons allowed for each person, see guard failures with everything typed kept."""

import datetime as dt

import pytest
import sqlalchemy as sa

from audit.models import Role
from audit.trail import AuditEvent
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_unit, make_user
from workflows.models import DialogState, FollowUpDialog


@pytest.fixture
def people(db):
    make_unit(db, "byske", name="Byske hälsocentral")
    make_unit(db, "backen", name="Backens hälsocentral")
    make_user(db, "bo", (Role.BESTALLARE, None))
    make_user(db, "greta", (Role.GRANSKARE, None))
    make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske"))
    make_user(db, "other", (Role.VERKSAMHETSCHEF, "backen"))
    db.commit()


def act(client, dialog_id, trigger, **data):
    token = csrf_token(client, f"/dialoger/{dialog_id}")
    return client.post(
        f"/dialoger/{dialog_id}/atgard/{trigger}", data={"csrf_token": token, **data}
    )


def test_dialog_from_plan_to_closed(app, people, db):
    bo, vc = app.test_client(), app.test_client()
    login(bo, "bo", PASSWORD)
    login(vc, "vc", PASSWORD)
    token = csrf_token(bo, "/enheter/byske")
    response = bo.post(
        "/dialoger/ny",
        data={"csrf_token": token, "unit": "byske", "title": "Uppföljning Byske 2025"},
    )
    assert response.status_code == 302
    dialog_id = int(response.location.rsplit("/", 1)[1])
    due = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    assert (
        act(
            bo,
            dialog_id,
            "request_material",
            material_request="Checklistan 2025.",
            material_deadline=due,
        ).status_code
        == 302
    )
    page = vc.get(f"/dialoger/{dialog_id}").get_data(as_text=True)
    assert "Lämna underlag" in page and "Boka möte" not in page
    assert act(vc, dialog_id, "submit_material", comment="Se checklistan.").status_code == 302
    assert act(bo, dialog_id, "start_review").status_code == 302
    refused = act(
        bo,
        dialog_id,
        "book_meeting",
        meeting_at="2030-05-20T09:00",
        meeting_place="Byske",
        name_1="Vera Vik",
        role_1="verksamhetschef",
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "saknas: medicinskt ansvarig" in html
    assert 'value="Vera Vik"' in html and 'value="Byske"' in html  # nothing typed is lost
    assert (
        act(
            bo,
            dialog_id,
            "book_meeting",
            meeting_at="2030-05-20T09:00",
            meeting_place="Byske",
            name_1="Vera Vik",
            role_1="verksamhetschef",
            name_2="Mats Mo",
            role_2="medicinskt ansvarig",
        ).status_code
        == 302
    )
    assert act(bo, dialog_id, "hold_meeting", minutes="Inga iakttagelser.").status_code == 302
    assert act(bo, dialog_id, "close").status_code == 302
    dialog = db.get(FollowUpDialog, dialog_id)
    db.refresh(dialog)
    assert dialog.status == DialogState.CLOSED
    assert dialog.meeting_at == dt.datetime(2030, 5, 20, 7, 0, tzinfo=dt.UTC)  # 09:00 CEST
    timeline = bo.get(f"/dialoger/{dialog_id}").get_data(as_text=True)
    for label in ("Begär underlag", "Lämna underlag", "Boka möte", "Avsluta dialogen"):
        assert label in timeline
    events = db.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.entity_type == "follow_up_dialog", AuditEvent.entity_id == str(dialog_id))
        .order_by(AuditEvent.id)  # PostgreSQL returns rows in no promised order
    ).all()
    assert events == [
        "create",
        "request_material",
        "submit_material",
        "start_review",
        "book_meeting",
        "hold_meeting",
        "close",
    ]


def test_other_units_dialog_is_not_found_and_staff_cannot_act(app, people, db):
    bo, other, vc = app.test_client(), app.test_client(), app.test_client()
    login(bo, "bo", PASSWORD)
    token = csrf_token(bo, "/enheter/byske")
    dialog_id = int(
        bo.post(
            "/dialoger/ny", data={"csrf_token": token, "unit": "byske", "title": "D"}
        ).location.rsplit("/", 1)[1]
    )
    login(other, "other", PASSWORD)
    assert other.get(f"/dialoger/{dialog_id}").status_code == 404
    assert "D</a>" not in other.get("/dialoger/").get_data(as_text=True)
    login(vc, "vc", PASSWORD)
    refused = act(
        vc, dialog_id, "request_material", material_request="x", material_deadline="2030-01-01"
    )
    assert refused.status_code == 409 and "behörighet" in refused.get_data(as_text=True)


def test_start_pages_show_whose_turn_it_is_and_reminders(app, people, db):
    from workflows.deadlines import scan

    bo, vc = app.test_client(), app.test_client()
    login(bo, "bo", PASSWORD)
    login(vc, "vc", PASSWORD)
    token = csrf_token(bo, "/enheter/byske")
    dialog_id = int(
        bo.post(
            "/dialoger/ny", data={"csrf_token": token, "unit": "byske", "title": "Vårens dialog"}
        ).location.rsplit("/", 1)[1]
    )
    due = dt.date.today() + dt.timedelta(days=1)
    act(
        bo,
        dialog_id,
        "request_material",
        material_request="Checklistan.",
        material_deadline=due.isoformat(),
    )
    page = vc.get("/").get_data(as_text=True)
    assert "Lämna underlag</a>: Vårens dialog – Byske hälsocentral" in page
    assert "Lämna underlag" not in bo.get("/").get_data(as_text=True)
    scan(db, dt.date.today())
    db.commit()
    page = vc.get("/").get_data(as_text=True)
    assert "Påminnelser" in page and f"ska vara klar senast {due}" in page


def test_an_unreadable_date_is_refused_with_a_message(app, people, db):
    bo = app.test_client()
    login(bo, "bo", PASSWORD)
    token = csrf_token(bo, "/enheter/byske")
    dialog_id = int(
        bo.post(
            "/dialoger/ny", data={"csrf_token": token, "unit": "byske", "title": "D"}
        ).location.rsplit("/", 1)[1]
    )
    response = act(
        bo,
        dialog_id,
        "request_material",
        material_request="Underlag.",
        material_deadline="nästa fredag",
    )
    assert response.status_code == 409
    assert "ÅÅÅÅ-MM-DD" in response.get_data(as_text=True)
