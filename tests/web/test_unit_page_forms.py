"""The forms on the unit page (plan a dialog, demand an action plan, open a sanction case,
record an IVO referral): a refusal shows the unit page again with the reason next to the form
and everything that was typed, and stores nothing."""

import datetime as dt

import pytest
import sqlalchemy as sa

from audit.models import Role
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_unit, make_user
from workflows.models import ActionPlan, FollowUpDialog, IvoReferral, SanctionCase


@pytest.fixture
def purchaser(app, db):
    make_unit(db, "byske", name="Byske hälsocentral")
    make_user(db, "bo", (Role.BESTALLARE, None))
    db.commit()
    client = app.test_client()
    login(client, "bo", PASSWORD)
    return client


def post(client, path, **data):
    return client.post(
        path, data={"csrf_token": csrf_token(client, "/enheter/byske"), "unit": "byske", **data}
    )


@pytest.mark.parametrize(
    "path, data, message, kept, model",
    [
        ("/dialoger/ny", {"title": "   "}, "Ange en rubrik", [], FollowUpDialog),
        (
            "/atgardsplaner/ny",
            {
                "title": "Läkarbemanning",
                "requirements": "Mer än hälften.",
                "plan_due": "",
                "measures_due": "",
            },
            "Ange sista dag för att lämna in planen.",
            ['value="Läkarbemanning"', ">Mer än hälften.</textarea>"],
            ActionPlan,
        ),
        (
            "/atgardsplaner/ny",
            {
                "title": "Läkarbemanning",
                "requirements": "Mer än hälften.",
                "plan_due": "2020-01-01",
                "measures_due": "2020-01-01",
            },
            "kan inte ha passerat",
            ['value="2020-01-01"'],
            ActionPlan,
        ),
        (
            "/atgardsplaner/ny",
            {
                "title": "Läkarbemanning",
                "requirements": "Mer än hälften.",
                "plan_due": "i vår",
                "measures_due": "i vår",
            },
            "ÅÅÅÅ-MM-DD",
            ['value="i vår"'],
            ActionPlan,
        ),
        (
            "/sanktioner/ny",
            {"title": "Ärende", "grounds": "", "diarienummer": "RS 2025/1"},
            "Ange rubrik och grunderna",
            ['value="Ärende"'],
            SanctionCase,
        ),
        (
            "/sanktioner/ivo",
            {"referred_on": "", "reference": "IVO 3.5.1-1/2025"},
            "Ange datum för anmälan till IVO.",
            ['value="IVO 3.5.1-1/2025"'],
            IvoReferral,
        ),
    ],
)
def test_refusal_keeps_what_was_typed(purchaser, db, path, data, message, kept, model):
    response = post(purchaser, path, **data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and "Byske hälsocentral" in html
    for fragment in kept:
        assert fragment in html
    assert db.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_accepted_forms_still_redirect(purchaser, db):
    due = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    assert (
        post(
            purchaser,
            "/atgardsplaner/ny",
            title="P",
            requirements="K",
            plan_due=due,
            measures_due=due,
        ).status_code
        == 302
    )
    assert (
        post(
            purchaser, "/sanktioner/ivo", referred_on=dt.date.today().isoformat(), reference="IVO 1"
        ).status_code
        == 302
    )
