"""The bad inputs of the attack (issue 9, finding 4), one by one: each is a 4xx with a Swedish
message and what was typed kept, never a 500, on both databases. The fuzzer
(test_fuzz_routes.py) looks for more; these pin the ones that were found."""

import datetime as dt

import pytest
import sqlalchemy as sa

from audit.models import Role
from checklists.rounds import Round
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_unit, make_user
from workflows.models import ActionPlan, DialogState, FollowUpDialog, SanctionCase

DUE = (dt.date.today() + dt.timedelta(days=30)).isoformat()


@pytest.fixture
def purchaser(app, db):
    make_unit(db, "byske", name="Byske hälsocentral")
    make_user(db, "bo", (Role.BESTALLARE, None))
    make_user(db, "greta", (Role.GRANSKARE, None))
    db.commit()
    client = app.test_client()
    login(client, "bo", PASSWORD)
    return client


def post(client, path, page="/enheter/byske", **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def rows(db, model) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize(
    "path, data, model",
    [
        (
            "/atgardsplaner/ny",
            {"title": "P", "requirements": "K", "plan_due": DUE, "measures_due": DUE},
            ActionPlan,
        ),
        (
            "/sanktioner/ny",
            {"title": "S", "grounds": "G", "diarienummer": "RS 2025/1"},
            SanctionCase,
        ),
    ],
)
@pytest.mark.parametrize("finding", ["²", "³", str(2**70), "٣"])
def test_odd_finding_ids_are_ignored(purchaser, db, path, data, model, finding):
    """``"²".isdigit()`` is true and int("²") fails; 2^70 overflows the id column."""
    response = post(purchaser, path, unit="byske", finding=finding, **data)
    assert response.status_code == 302
    assert rows(db, model) == 1


@pytest.mark.parametrize(
    "title, message",
    [
        ("x" * 201, "högst 200 tecken"),
        ("Uppföljning\x00", "NUL"),
    ],
)
def test_title_that_cannot_be_stored_is_refused_beside_the_form(purchaser, db, title, message):
    """On PostgreSQL a title over VARCHAR(200) or holding a NUL was a 500; on SQLite it was
    stored (the over-long one) -- now a refusal on both, with what was typed kept."""
    response = post(purchaser, "/dialoger/ny", unit="byske", title=title)
    html = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500
    assert message in html
    assert title.replace("\x00", "")[:50] in html  # shown back (the NUL left out)
    assert rows(db, FollowUpDialog) == 0


def test_over_long_plan_title_keeps_the_other_fields(purchaser, db):
    response = post(
        purchaser,
        "/atgardsplaner/ny",
        unit="byske",
        title="p" * 201,
        requirements="Mer än hälften.",
        plan_due=DUE,
        measures_due=DUE,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "högst 200 tecken" in html and ">Mer än hälften.</textarea>" in html
    assert rows(db, ActionPlan) == 0


@pytest.mark.parametrize("path", ["/enheter/%00", "/enheter/?q=%00", "/granskningslogg/?typ=%00"])
def test_nul_in_the_address_is_a_bad_request(purchaser, path):
    """A NUL reached PostgreSQL's driver from a search or a unit code: a 500 there."""
    response = purchaser.get(path)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


@pytest.mark.parametrize("meeting_at", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_meeting_in_year_1_or_9999_is_refused(purchaser, db, meeting_at):
    """Year 1 in Stockholm time is before datetime.min in UTC: an OverflowError."""
    response = post(purchaser, "/dialoger/ny", unit="byske", title="Dialog")
    dialog_id = int(response.location.rsplit("/", 1)[1])
    dialog = db.get(FollowUpDialog, dialog_id)
    dialog.status = DialogState.UNDER_REVIEW
    db.commit()
    response = post(
        purchaser,
        f"/dialoger/{dialog_id}/atgard/book_meeting",
        page=f"/dialoger/{dialog_id}",
        meeting_at=meeting_at,
        meeting_place="Byske",
        name_1="Vera Vik",
        role_1="verksamhetschef",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "2000-01-01 och 2099-12-31" in html and 'value="Byske"' in html


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31"])
def test_plan_due_date_outside_the_century_is_refused(purchaser, db, date):
    response = post(
        purchaser,
        "/atgardsplaner/ny",
        unit="byske",
        title="P",
        requirements="K",
        plan_due=date,
        measures_due=date,
    )
    assert response.status_code == 422
    assert "2000-01-01 och 2099-12-31" in response.get_data(as_text=True)


ROUND = {
    "edition": "UOR-2025",
    "title": "Omgång",
    "year": "2025",
    "opens_on": "2025-01-01",
    "deadline": "2025-03-01",
    "requirement_scope": "all",
    "unit_scope": "all",
}


@pytest.fixture
def round_form(purchaser, db):
    from checklists.catalog import EDITIONS_DIR, load_edition
    from tests.factories import TEST_ACTOR

    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml")
    db.commit()
    return lambda **changes: post(
        purchaser, "/omgangar/ny", page="/omgangar/ny", **(ROUND | changes)
    )


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"unit_scope": "area", "unit_area": "atlantis"}, "Välj ett område i listan."),
        ({"unit_scope": "operator", "unit_operator": "x"}, "Välj en driftform i listan."),
        ({"unit_scope": "picked", "units": ["x"]}, "Välj enheter i listan."),
        ({"unit_scope": "picked", "units": [str(2**70)]}, "Välj enheter i listan."),
        ({"year": "9" * 400}, "Ange ett heltal."),
        ({"year": "²⁰²⁵"}, "Ange ett heltal."),
        ({"opens_on": "0001-01-01"}, "Ange ett datum mellan 2000-01-01 och 2099-12-31."),
        ({"title": "t" * 201}, "Högst 200 tecken."),
    ],
)
def test_open_round_refuses_unknown_choices_and_absurd_values(round_form, db, changes, message):
    response = round_form(**changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert rows(db, Round) == 0


def test_round_title_limit_is_the_columns():
    from audit.text import max_length
    from web.rounds.forms import OpenRoundForm

    limits = [v.max for v in OpenRoundForm.title.kwargs["validators"] if hasattr(v, "max")]
    assert limits == [max_length(Round.title)] == [200]


def test_models_refuse_what_the_column_cannot_hold(db):
    """The backstop for writes outside a request (CLI, jobs): assignment raises at once."""
    from audit.text import TextRefused

    with pytest.raises(TextRefused, match="högst 200"):
        FollowUpDialog(title="x" * 201)
    with pytest.raises(TextRefused, match="NUL"):
        SanctionCase(title="ok", grounds="a\x00b")
