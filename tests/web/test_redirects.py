"""After login and a language switch the user goes only to a path of this application: the
attack's open redirects (a tab or newline dropped by the browser, a backslash) land on the
start page, and a newline is never a 500."""

import pytest

from audit.models import Role
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_unit, make_user

HOSTILE = [
    "//evil.example",
    "/\t/evil.example",
    "/%09/evil.example",  # as the query string decodes it: a tab
    "/\n/evil.example",
    "/\r\nSet-Cookie: x=1",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "/\u00a0/evil.example",
    "/\u2028/evil.example",
    "javascript:alert(1)",
    "",
]


@pytest.fixture
def user(db):
    make_unit(db, "backen")
    return make_user(db, "vera", (Role.VERKSAMHETSCHEF, "backen"))


@pytest.mark.parametrize("target", HOSTILE)
def test_login_never_redirects_off_site(client, user, target):
    token = csrf_token(client)
    response = client.post(
        "/logga-in",
        query_string={"next": target.replace("%09", "\t")},
        data={"csrf_token": token, "username": "vera", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.location == "/"


def test_login_keeps_a_local_next(client, user):
    token = csrf_token(client)
    response = client.post(
        "/logga-in",
        query_string={"next": "/enheter/backen?flik=1"},
        data={"csrf_token": token, "username": "vera", "password": PASSWORD},
    )
    assert response.location == "/enheter/backen?flik=1"


@pytest.mark.parametrize("target", HOSTILE)
def test_language_switch_never_redirects_off_site(client, user, target):
    token = csrf_token(client)
    response = client.post("/sprak", data={"csrf_token": token, "lang": "en", "next": target})
    assert response.status_code == 302
    assert response.location == "/"
