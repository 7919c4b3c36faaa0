"""Security headers on every response, generic error pages, and GET changes nothing."""

import pytest
import sqlalchemy as sa

from audit.models import LoginThrottle, Role, RoleAssignment, Unit, User
from audit.trail import AuditEvent
from checklists.catalog import EDITIONS_DIR, load_edition
from tests.conftest import login
from tests.factories import PASSWORD, TEST_ACTOR, make_unit, make_user

EXPECTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@pytest.fixture
def admin(db):
    make_unit(db, "u1")
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "tillagg-2023.yaml")
    make_user(db, "admin", (Role.ADMIN, None))
    db.commit()


@pytest.mark.parametrize(
    "path",
    [
        "/logga-in",
        "/",
        "/enheter/",
        "/enheter/u1",
        "/finns-inte",
        "/static/app.css",
        "/granskningslogg/?verifiera=1",
    ],
)
def test_security_headers_on_every_response(client, admin, path):
    login(client, "admin", PASSWORD)
    response = client.get(path)
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value, (path, name)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert "unsafe-inline" not in csp


def test_pages_are_not_cached(client, admin):
    login(client, "admin", PASSWORD)
    assert client.get("/enheter/").headers["Cache-Control"] == "no-store"


def test_error_pages_are_generic_and_swedish(client, admin, app):
    @app.route("/boom")
    def boom():  # pragma: no cover - reached through the client
        raise RuntimeError("hemlig detalj i undantaget")

    from web.access import PUBLIC, ROUTE_ACCESS

    ROUTE_ACCESS["boom"] = PUBLIC
    try:
        app.testing = False
        app.config["PROPAGATE_EXCEPTIONS"] = False
        response = client.get("/boom")
    finally:
        del ROUTE_ACCESS["boom"]
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Något gick fel" in text
    assert "hemlig detalj" not in text and "Traceback" not in text


def _state(db):
    return [
        db.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (AuditEvent, Unit, User, RoleAssignment, LoginThrottle)
    ]


def test_get_requests_change_nothing(client, admin, app, db):
    login(client, "admin", PASSWORD)
    before = _state(db)
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        path = (
            rule.rule.replace("<unit_code>", "u1")
            .replace("<path:filename>", "app.css")
            .replace("<edition_code>", "TU-2023")
        )
        client.get(path)
        client.get(path + "?verifiera=1")
    assert _state(db) == before
