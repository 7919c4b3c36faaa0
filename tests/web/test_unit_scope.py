"""A health-centre user sees only their own unit(s) and its branches, on every page."""

import re

import pytest

from audit.models import Role, UnitKind
from tests.conftest import login
from tests.factories import PASSWORD, make_unit, make_user


@pytest.fixture
def setup(db):
    own = make_unit(db, "backen", name="Backens hälsocentral")
    make_unit(db, "backen-filial", name="Backens filial", kind=UnitKind.FILIAL, main_unit_id=own.id)
    make_unit(db, "byske", name="Byske hälsocentral")
    make_user(db, "vc", (Role.VERKSAMHETSCHEF, "backen"))
    make_user(db, "staff", (Role.PERSONAL, "backen"))
    make_user(db, "auditor", (Role.GRANSKARE, None))
    db.commit()


@pytest.mark.parametrize("username", ["vc", "staff"])
def test_other_units_page_is_not_found(client, setup, username):
    login(client, username, PASSWORD)
    response = client.get("/enheter/byske")
    assert response.status_code == 404
    assert "Byske" not in response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["vc", "staff"])
def test_own_unit_and_branch_are_visible(client, setup, username):
    login(client, username, PASSWORD)
    assert client.get("/enheter/backen").status_code == 200
    assert client.get("/enheter/backen-filial").status_code == 200


def test_unit_list_and_start_page_hide_other_units(client, setup):
    login(client, "vc", PASSWORD)
    for path in ("/enheter/", "/enheter/?q=Byske", "/"):
        page = client.get(path).get_data(as_text=True)
        assert "Byske hälsocentral" not in page, path
    page = client.get("/enheter/").get_data(as_text=True)
    assert "Backens hälsocentral" in page and "Backens filial" in page


def test_nonexistent_and_forbidden_unit_look_alike(client, setup):
    login(client, "vc", PASSWORD)
    forbidden = client.get("/enheter/byske")
    missing = client.get("/enheter/finns-inte")
    assert forbidden.status_code == missing.status_code == 404

    # Identical apart from the page's own address (echoed in the language switch) and the
    # CSRF token (signed with the time in seconds: two requests may straddle a second).
    def page(response, address):
        body = response.get_data().replace(address, b"X")
        return re.sub(rb'name="csrf_token" value="[^"]+"', b"", body)

    assert page(forbidden, b"byske") == page(missing, b"finns-inte")


def test_auditor_sees_every_unit(client, setup):
    login(client, "auditor", PASSWORD)
    assert client.get("/enheter/byske").status_code == 200
    page = client.get("/enheter/").get_data(as_text=True)
    assert "Byske hälsocentral" in page and "Backens hälsocentral" in page


def test_unit_list_filters_and_sorts(client, setup):
    login(client, "auditor", PASSWORD)
    page = client.get("/enheter/?kind=filial").get_data(as_text=True)
    assert "Backens filial" in page and "Byske hälsocentral" not in page
    page = client.get("/enheter/?sort=name&dir=desc").get_data(as_text=True)
    assert page.index("Byske hälsocentral") < page.index("Backens hälsocentral")
    assert 'aria-sort="descending"' in page
    page = client.get("/enheter/?q=byske").get_data(as_text=True)
    assert "Byske hälsocentral" in page and "Backens hälsocentral" not in page
