"""The audit trail page: readers among the reviewers see events and can verify the chain."""

import pytest
import sqlalchemy as sa

from audit.models import Role
from tests.conftest import login
from tests.factories import PASSWORD, make_unit, make_user


@pytest.fixture
def auditor(db):
    unit = make_unit(db, "u1", name="Enhet Ett")
    make_user(db, "greta", (Role.GRANSKARE, None))
    db.commit()
    return unit


def test_events_are_listed_newest_first(client, auditor):
    login(client, "greta", PASSWORD)
    page = client.get("/granskningslogg/").get_data(as_text=True)
    assert "Användare" in page and "skapad" in page
    # PostgreSQL sequences survive rollbacks: use the unit's real id.
    assert page.index("roll tilldelad") < page.index(f"Enhet {auditor.id}")


def test_verify_reports_intact_chain(client, auditor):
    login(client, "greta", PASSWORD)
    page = client.get("/granskningslogg/?verifiera=1").get_data(as_text=True)
    assert "Kedjan är hel" in page


def test_verify_names_the_tampered_row(client, auditor, db):
    login(client, "greta", PASSWORD)
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    else:
        db.execute(sa.text("DROP TRIGGER audit_events_no_update"))
    db.execute(sa.text("UPDATE audit_events SET reason = 'i efterhand' WHERE id = 2"))  # chain ids

    db.commit()
    page = client.get("/granskningslogg/?verifiera=1").get_data(as_text=True)
    assert "Kedjan är bruten vid rad 2" in page


def test_filter_by_type(client, auditor):
    login(client, "greta", PASSWORD)
    page = client.get("/granskningslogg/?typ=unit").get_data(as_text=True)
    assert "1 händelse" in page


def test_logins_failures_logouts_and_role_changes_are_shown_in_swedish(client, auditor, db):
    from tests.conftest import csrf_token

    login(client, "greta", "fel lösenord igen")
    login(client, "ingen.alls", "fel lösenord igen")
    login(client, "greta", PASSWORD)
    client.post("/logga-ut", data={"csrf_token": csrf_token(client, "/")})
    login(client, "greta", PASSWORD)
    page = client.get("/granskningslogg/").get_data(as_text=True)
    for text in ("misslyckad inloggning", "inloggad", "utloggad", "Okänt användarnamn"):
        assert text in page, text
    assert "roll tilldelad: Granskare" in page
    assert "ingen.alls" not in page
    start = client.get("/").get_data(as_text=True)
    # The start page's recent changes are changes (the page's own "Fortsätt vara inloggad"
    # button, of the idle-timeout warning, is no event).
    recent = start[start.index('id="recent-h"') :]
    recent = recent[: recent.index("</section>")]
    assert "inloggad" not in recent
