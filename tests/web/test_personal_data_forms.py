"""A personnummer in any workflow form is a Swedish field error beside the field (issue 9,
finding 2): the 11 free-text fields the attack got a number through, each by a real POST.

Each is refused with 422, the message names the field and never the number, what was typed is
shown again, nothing is stored -- not in the row, not in the audit trail -- and nothing of the
number is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
import sqlalchemy as sa

from audit.models import Role, Unit, User
from audit.trail import AuditEvent
from tests.checklists.test_rounds import synthetic_personnummer
from tests.conftest import count, csrf_token, login
from tests.factories import PASSWORD, make_unit, make_user
from workflows import action_plan as ap
from workflows import dialog as wf
from workflows import sanction as sc
from workflows.models import (
    ActionPlan,
    DialogParticipant,
    DialogState,
    FollowUpDialog,
    IvoReferral,
    SanctionCase,
)

NUMBER = synthetic_personnummer(dt.date(1961, 7, 14))
DISGUISED = NUMBER.replace("-", "\u2013")  # en dash, as the attack did
DUE = dt.date.today() + dt.timedelta(days=30)


@pytest.fixture
def people(db):
    make_unit(db, "byske", name="Byske hälsocentral")
    users = {
        "bo": make_user(db, "bo", (Role.BESTALLARE, None)),
        "greta": make_user(db, "greta", (Role.GRANSKARE, None)),
        "vc": make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske")),
    }
    db.commit()
    return users


def client_for(app, name):
    client = app.test_client()
    login(client, name, PASSWORD)
    return client


def _unit(db):
    return db.scalar(sa.select(Unit).where(Unit.code == "byske"))


def _user(db, name):
    return db.scalar(sa.select(User).where(User.username == name))


def dialog_in(db, state: DialogState) -> FollowUpDialog:
    bo = _user(db, "bo")
    dialog = wf.open_dialog(db, bo, _unit(db), "Uppföljning Byske")
    steps = {
        DialogState.MATERIAL_REQUESTED: [
            (
                "bo",
                "request_material",
                {"material_request": "Checklistan", "material_deadline": DUE},
            )
        ],
    }
    steps[DialogState.UNDER_REVIEW] = steps[DialogState.MATERIAL_REQUESTED] + [
        ("vc", "submit_material", {"comment": "Se checklistan."}),
        ("greta", "start_review", {}),
    ]
    for who, trigger, data in steps.get(state, []):
        wf.DIALOG.fire(db, _user(db, who), dialog, trigger, data=data)
    db.commit()
    return dialog


def submitted_plan(db) -> ActionPlan:
    bo, vc = _user(db, "bo"), _user(db, "vc")
    plan = ap.request_action_plan(
        db,
        bo,
        _unit(db),
        title="Läkarbemanning",
        requirements="Mer än hälften.",
        plan_due=DUE,
        measures_due=DUE,
    )
    ap.add_measure(db, vc, plan, description="Rekrytera", responsible="Vera", due_date=DUE)
    ap.ACTION_PLAN.fire(db, vc, plan, "submit_plan")
    db.commit()
    return plan


def open_case(db) -> SanctionCase:
    case = sc.open_case(
        db,
        _user(db, "bo"),
        _unit(db),
        title="Ärende",
        grounds="Brist §3.1.2.",
        diarienummer="RS 2025/1",
    )
    db.commit()
    return case


def post(client, path, page, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def assert_refused(response, label, field_id, typed, caplog):
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', html)
    assert error, "no field error beside the field"
    assert error.group(1).startswith(
        f"Fältet ”{label}” innehåller något som liknar ett personnummer."
    )
    assert re.search(rf'aria-describedby="[^"]*\b{re.escape(field_id)}-error"', html)
    assert typed in html  # what was typed is shown again, to be corrected
    assert NUMBER not in error.group(1) and NUMBER[-4:] not in error.group(1)
    for record in caplog.records:
        assert NUMBER[-4:] not in record.getMessage()


def assert_not_in_trail(db):
    events = db.scalars(sa.select(AuditEvent)).all()
    digits = NUMBER.replace("-", "")
    for event in events:
        for text in (event.before, event.after, event.reason):
            assert digits[-4:] not in re.sub(r"\D", "", text or "")


# --- the 11 fields of the finding -------------------------------------------------------------


def test_dialog_title(app, people, db, caplog):
    caplog.set_level(logging.DEBUG)
    before = count(db, FollowUpDialog)
    typed = f"Uppföljning {DISGUISED}"
    response = post(
        client_for(app, "bo"), "/dialoger/ny", "/enheter/byske", unit="byske", title=typed
    )
    assert_refused(response, "Titel", "dialog-title", typed, caplog)
    assert count(db, FollowUpDialog) == before
    assert_not_in_trail(db)


def test_dialog_material_comment(app, people, db, caplog):
    caplog.set_level(logging.DEBUG)
    dialog = dialog_in(db, DialogState.MATERIAL_REQUESTED)
    page = f"/dialoger/{dialog.id}"
    typed = f"Gäller patient {NUMBER}"
    response = post(client_for(app, "vc"), f"{page}/atgard/submit_material", page, comment=typed)
    assert_refused(response, "Kommentar", "comment", typed, caplog)
    db.refresh(dialog)
    assert dialog.status == DialogState.MATERIAL_REQUESTED and dialog.material_comment is None
    assert_not_in_trail(db)


def test_dialog_return_reason(app, people, db, caplog):
    """The reason for asking for completion is stored only in the audit trail: the trail's
    own column refuses it."""
    caplog.set_level(logging.DEBUG)
    dialog = dialog_in(db, DialogState.UNDER_REVIEW)
    page = f"/dialoger/{dialog.id}"
    typed = f"Ta bort {NUMBER} ur underlaget"
    response = post(client_for(app, "greta"), f"{page}/atgard/return_material", page, reason=typed)
    assert_refused(response, "Skäl", "reason-return_material", typed, caplog)
    db.refresh(dialog)
    assert dialog.status == DialogState.UNDER_REVIEW
    assert_not_in_trail(db)


def test_dialog_cancel_reason(app, people, db, caplog):
    caplog.set_level(logging.DEBUG)
    dialog = dialog_in(db, DialogState.PLANNED)
    page = f"/dialoger/{dialog.id}"
    typed = f"Patienten {NUMBER} har klagat"
    response = post(client_for(app, "bo"), f"{page}/atgard/cancel", page, reason=typed)
    assert_refused(response, "Skäl", "reason-cancel", typed, caplog)
    db.refresh(dialog)
    assert dialog.status == DialogState.PLANNED and dialog.cancel_reason is None
    assert_not_in_trail(db)


def _meeting(**overrides):
    data = dict(
        meeting_at="2030-05-20T09:00",
        meeting_place="Byske",
        name_1="Vera Vik",
        role_1="verksamhetschef",
        name_2="Mats Mo",
        role_2="medicinskt ansvarig",
    )
    return data | overrides


def test_dialog_participant_name(app, people, db, caplog):
    caplog.set_level(logging.DEBUG)
    dialog = dialog_in(db, DialogState.UNDER_REVIEW)
    page = f"/dialoger/{dialog.id}"
    typed = f"Mats Mo {NUMBER}"
    response = post(
        client_for(app, "bo"), f"{page}/atgard/book_meeting", page, **_meeting(name_2=typed)
    )
    assert_refused(response, "Namn", "name_2", typed, caplog)
    assert 'value="Vera Vik"' in response.get_data(as_text=True)
    assert count(db, DialogParticipant) == 0
    assert_not_in_trail(db)


def test_dialog_meeting_place(app, people, db, caplog):
    caplog.set_level(logging.DEBUG)
    dialog = dialog_in(db, DialogState.UNDER_REVIEW)
    page = f"/dialoger/{dialog.id}"
    typed = f"Hemma hos {NUMBER.replace('-', '')}"
    response = post(
        client_for(app, "bo"), f"{page}/atgard/book_meeting", page, **_meeting(meeting_place=typed)
    )
    assert_refused(response, "Plats eller länk", "meeting_place", typed, caplog)
    db.refresh(dialog)
    assert dialog.meeting_place is None
    assert_not_in_trail(db)


def test_plan_title(app, people, db, caplog):
    caplog.set_level(logging.DEBUG)
    typed = f"Plan för {NUMBER}"
    response = post(
        client_for(app, "bo"),
        "/atgardsplaner/ny",
        "/enheter/byske",
        unit="byske",
        title=typed,
        requirements="Mer än hälften.",
        plan_due=DUE.isoformat(),
        measures_due=DUE.isoformat(),
    )
    assert_refused(response, "Titel", "plan-title", typed, caplog)
    assert ">Mer än hälften.</textarea>" in response.get_data(as_text=True)
    assert count(db, ActionPlan) == 0
    assert_not_in_trail(db)


def test_plan_return_reason(app, people, db, caplog):
    caplog.set_level(logging.DEBUG)
    plan = submitted_plan(db)
    page = f"/atgardsplaner/{plan.id}"
    typed = f"Se journalen för {NUMBER}"
    response = post(client_for(app, "greta"), f"{page}/atgard/return_plan", page, reason=typed)
    assert_refused(response, "Skäl", "reason-return_plan", typed, caplog)
    db.refresh(plan)
    assert plan.status == ap.P.SUBMITTED and plan.review_comment is None
    assert_not_in_trail(db)


def test_case_title(app, people, db, caplog):
    caplog.set_level(logging.DEBUG)
    typed = f"Ärende {NUMBER}"
    response = post(
        client_for(app, "bo"),
        "/sanktioner/ny",
        "/enheter/byske",
        unit="byske",
        title=typed,
        grounds="Brist mot §3.1.2.",
        diarienummer="RS 2025/1",
    )
    assert_refused(response, "Titel", "case-title", typed, caplog)
    assert count(db, SanctionCase) == 0
    assert_not_in_trail(db)


def test_case_withdraw_reason(app, people, db, caplog):
    caplog.set_level(logging.DEBUG)
    case = open_case(db)
    page = f"/sanktioner/{case.id}"
    typed = f"Gällde {NUMBER}"
    response = post(client_for(app, "bo"), f"{page}/atgard/withdraw", page, reason=typed)
    assert_refused(response, "Skäl", "reason-withdraw", typed, caplog)
    db.refresh(case)
    assert case.withdraw_reason is None
    assert_not_in_trail(db)


def test_ivo_reference(app, people, db, caplog):
    caplog.set_level(logging.DEBUG)
    typed = NUMBER
    response = post(
        client_for(app, "bo"),
        "/sanktioner/ivo",
        "/enheter/byske",
        unit="byske",
        referred_on=dt.date.today().isoformat(),
        reference=typed,
    )
    assert_refused(response, "IVO:s diarienummer eller referens", "reference", typed, caplog)
    assert count(db, IvoReferral) == 0
    assert_not_in_trail(db)


def test_round_title(app, people, db, caplog):
    """The round form is a WTForms form: its base form refuses the number as a field error."""
    from checklists.catalog import EDITIONS_DIR, load_edition
    from checklists.rounds import Round
    from tests.factories import TEST_ACTOR

    caplog.set_level(logging.DEBUG)
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml")
    db.commit()
    typed = f"Omgång {NUMBER}"
    response = post(
        client_for(app, "bo"),
        "/omgangar/ny",
        "/omgangar/ny",
        edition="UOR-2025",
        title=typed,
        year="2025",
        opens_on="2025-04-01",
        deadline="2025-05-01",
        requirement_scope="all",
        unit_scope="all",
    )
    assert_refused(response, "Titel", "title", typed, caplog)
    assert count(db, Round) == 0
    assert_not_in_trail(db)


# --- the other text fields of the same forms ---------------------------------------------------


def test_two_fields_each_get_their_own_error(app, people, db, caplog):
    response = post(
        client_for(app, "bo"),
        "/sanktioner/ny",
        "/enheter/byske",
        unit="byske",
        title=f"Ärende {NUMBER}",
        grounds=f"Brist, se {DISGUISED}",
        diarienummer="RS 2025/1",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="case-title-error">Fältet ”Titel”' in html
    assert 'id="case-grounds-error">Fältet ”Grunder”' in html
    assert "två fält innehåller" in html


def test_ordinary_text_is_not_refused(app, people, db):
    response = post(
        client_for(app, "bo"),
        "/sanktioner/ivo",
        "/enheter/byske",
        unit="byske",
        referred_on=dt.date.today().isoformat(),
        reference="IVO 3.5.1-12345/2025, möte 2025-03-01, tel 090-785 00 00",
    )
    assert response.status_code == 302
