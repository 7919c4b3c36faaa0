"""The read API (/api/v1/): its OpenAPI document validates and every documented path answers
as documented (a schema-driven test over a fixture with data); personal tokens scope exactly
like a session, stop working when revoked or expired, and every use is logged."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

import pytest
import sqlalchemy as sa
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec

from audit.api_tokens import ApiToken, ApiTokenUse, create_token
from audit.trail import AuditEvent
from tests.conftest import csrf_token, login
from tests.export_world import build
from tests.factories import PASSWORD, make_user

LISTS = ["units", "editions", "rounds", "results", "findings", "plans", "cases", "sanctions"]
UNIT_LISTS = ["results", "findings", "plans", "cases", "sanctions"]


@pytest.fixture
def world(db):
    world = build(db)
    world["tokens"] = {
        name: create_token(db, world["people"][name], f"BI {name}", 90)[1]
        for name in ("bo", "vc", "lasare", "other_vc")
    }
    db.commit()
    return world


def get(client, path, token=None, **query):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, headers=headers, query_string=query)


def validator(spec, schema) -> OAS30Validator:
    """A validator of ``schema`` whose $refs resolve in the whole document."""
    return OAS30Validator({**schema, "components": spec["components"]})


def response_schema(spec, path, status):
    response = spec["paths"][path]["get"]["responses"][str(status)]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response["content"]["application/json"]["schema"]


def test_the_openapi_document_validates_and_is_served(client, world):
    response = get(client, "/api/v1/openapi.json", world["tokens"]["bo"])
    assert response.status_code == 200
    spec = response.get_json()
    validate_spec(spec)
    assert spec["openapi"].startswith("3.")
    assert {f"/api/v1/{name}" for name in LISTS} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize("who", ["bo", "vc"])
def test_every_documented_path_answers_as_documented(client, world, who):
    spec = get(client, "/api/v1/openapi.json", world["tokens"]["bo"]).get_json()
    token = world["tokens"][who]
    for path, operations in spec["paths"].items():
        response = get(client, path, token)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        body = response.get_json()
        errors = list(validator(spec, response_schema(spec, path, 200)).iter_errors(body))
        assert errors == [], (path, [e.message for e in errors][:3])
        if path.endswith("openapi.json"):
            continue
        assert body["items"], f"{path} has no rows in the fixture: the check would prove little"
        # Every documented parameter is accepted with a value of its type.
        for parameter in operations["get"].get("parameters", []):
            schema = parameter["schema"]
            value = (
                schema["enum"][0]
                if "enum" in schema
                else (schema.get("minimum", 1) if schema["type"] == "integer" else "byske")
            )
            if parameter["name"] == "year":
                value = 2025
            answer = get(client, path, token, **{parameter["name"]: value})
            assert answer.status_code in (200, 404), (path, parameter["name"], answer.status_code)
            schema = response_schema(spec, path, answer.status_code)
            assert list(validator(spec, schema).iter_errors(answer.get_json())) == []
        # The documented errors have the documented shape.
        for status, query, use_token in [(401, {}, None), (400, {"limit": "0"}, token)]:
            answer = get(client, path, use_token, **query)
            assert answer.status_code == status
            schema = response_schema(spec, path, status)
            assert list(validator(spec, schema).iter_errors(answer.get_json())) == []


def test_a_health_centre_token_reads_only_its_unit(client, world):
    token = world["tokens"]["vc"]
    units = get(client, "/api/v1/units", token).get_json()
    assert [u["code"] for u in units["items"]] == ["byske"]
    for name in UNIT_LISTS:
        body = get(client, f"/api/v1/{name}", token).get_json()
        assert body["items"] and {row["unit"] for row in body["items"]} == {"byske"}, name
    results = get(client, "/api/v1/results", token).get_json()
    assert results["total"] == len(world["checklist"].items)
    for name in ["units", *UNIT_LISTS]:
        refused = get(client, f"/api/v1/{name}", token, unit="backen")
        assert refused.status_code == 404 and refused.get_json()["error"] == "not_found"
    rounds = get(client, "/api/v1/rounds", token).get_json()["items"]
    assert [r["checklists"] for r in rounds] == [1]
    # The purchaser's token sees both units, as on the pages.
    everything = get(client, "/api/v1/results", world["tokens"]["bo"]).get_json()
    assert {row["unit"] for row in everything["items"]} == {"byske", "backen"}
    assert everything["total"] == len(world["checklist"].items) + len(
        world["other_checklist"].items
    )


def test_results_carry_typed_figures(client, world):
    body = get(
        client, "/api/v1/results", world["tokens"]["lasare"], unit="byske", limit=1000
    ).get_json()
    ratio = next(r for r in body["items"] if r["requirement"] == world["ratio"].requirement.code)
    assert (ratio["numerator"], ratio["denominator"]) == (3, 8)
    assert ratio["share"] == pytest.approx(0.375)
    assert ratio["status"] == "non_compliant" and ratio["year"] == 2025


def test_revoked_expired_and_unknown_tokens_get_401(client, world, db, app):
    token = world["tokens"]["vc"]
    assert get(client, "/api/v1/units", token).status_code == 200
    browser = app.test_client()
    assert login(browser, "vc", PASSWORD).status_code == 302
    row = db.scalar(sa.select(ApiToken).where(ApiToken.name == "BI vc"))
    answer = browser.post(
        f"/konto/api-nycklar/{row.id}/aterkalla",
        data={"csrf_token": csrf_token(browser, "/konto/api-nycklar")},
    )
    assert answer.status_code == 302
    refused = get(client, "/api/v1/units", token)
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    other = db.scalar(sa.select(ApiToken).where(ApiToken.name == "BI other_vc"))
    db.execute(
        sa.update(ApiToken)
        .where(ApiToken.id == other.id)
        .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    )
    db.commit()
    assert get(client, "/api/v1/units", world["tokens"]["other_vc"]).status_code == 401
    assert get(client, "/api/v1/units", "hvu_" + "x" * 43).status_code == 401
    assert get(client, "/api/v1/units").status_code == 401
    # A token never logs in a page, only the API.
    page = client.get("/enheter/", headers={"Authorization": f"Bearer {world['tokens']['bo']}"})
    assert page.status_code == 302 and page.location.startswith("/logga-in")


def test_a_user_without_a_role_gets_403_json(client, db, world):
    nobody = make_user(db, "nobody")
    _, secret = create_token(db, nobody, "Test", 30)
    db.commit()
    answer = get(client, "/api/v1/units", secret)
    assert answer.status_code == 403 and answer.get_json()["error"] == "forbidden"


def test_the_api_only_reads(client, world):
    answer = client.post(
        "/api/v1/units", headers={"Authorization": f"Bearer {world['tokens']['bo']}"}
    )
    assert answer.status_code == 405 and answer.get_json()["error"] == "method_not_allowed"
    missing = get(client, "/api/v1/nothing", world["tokens"]["bo"])
    assert missing.status_code == 404 and missing.is_json


def test_every_use_is_logged_without_the_secret(client, world, db, caplog):
    token = world["tokens"]["vc"]
    row = db.scalar(sa.select(ApiToken).where(ApiToken.name == "BI vc"))
    with caplog.at_level(logging.DEBUG):
        get(client, "/api/v1/results", token, year=2025)
        get(client, "/api/v1/findings", token, unit="backen")
        get(client, "/api/v1/units", token[:-2] + "zz")
    uses = db.execute(
        sa.select(ApiTokenUse.endpoint, ApiTokenUse.status, ApiTokenUse.method)
        .where(ApiTokenUse.token_id == row.id)
        .order_by(ApiTokenUse.id)
    ).all()
    assert uses == [("api.results", 200, "GET"), ("api.findings", 404, "GET")]
    db.refresh(row)
    assert row.last_used_at is not None
    assert token not in caplog.text and token[:-2] + "zz" not in caplog.text
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    trail = " ".join(
        f"{e.before} {e.after} {e.reason}"
        for e in db.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "api_token"))
    )
    assert token not in trail and row.token_hash not in trail and row.prefix in trail


def test_pages_follow_next_to_the_end(client, world):
    token = world["tokens"]["bo"]
    full = get(client, "/api/v1/results", token, limit=1000).get_json()
    seen, url, pages = [], "/api/v1/results?limit=5&year=2025", 0
    while url:
        body = client.get(url, headers={"Authorization": f"Bearer {token}"}).get_json()
        assert len(body["items"]) <= 5 and body["total"] == full["total"]
        seen += [row["id"] for row in body["items"]]
        url, pages = body["next"], pages + 1
    assert seen == [row["id"] for row in full["items"]]
    assert pages == -(-full["total"] // 5)


def test_filters(client, world):
    token = world["tokens"]["bo"]
    assert get(client, "/api/v1/results", token, year=2024).get_json()["total"] == 0
    umea = get(client, "/api/v1/units", token, area="umea").get_json()["items"]
    assert {u["code"] for u in umea} == {"byske", "backen"}  # both in Umeå in the fixture
    assert get(client, "/api/v1/units", token, area="skelleftea").get_json()["total"] == 0
    assert get(client, "/api/v1/sanctions", token, year=dt.date.today().year).get_json()["total"]
    bad = get(client, "/api/v1/results", token, year="²", sort="x")
    assert bad.status_code == 400
    assert set(bad.get_json()["fields"]) == {"year", "sort"}
    twice = client.get(
        "/api/v1/units?limit=1&limit=2", headers={"Authorization": f"Bearer {token}"}
    )
    assert twice.status_code == 400


def test_a_session_reads_the_api_too_with_the_same_scope(app, world):
    browser = app.test_client()
    assert login(browser, "vc", PASSWORD).status_code == 302
    body = browser.get("/api/v1/units").get_json()
    assert [u["code"] for u in body["items"]] == ["byske"]


def test_tokens_are_created_shown_once_and_revoked_in_the_ui(app, db, world):
    browser = app.test_client()
    assert login(browser, "lasare", PASSWORD).status_code == 302
    page = browser.get("/konto/api-nycklar").get_data(as_text=True)
    assert "BI lasare" in page and world["tokens"]["lasare"] not in page
    token = csrf_token(browser, "/konto/api-nycklar")
    refused = browser.post(
        "/konto/api-nycklar", data={"csrf_token": token, "name": " ", "days": "90"}
    )
    assert refused.status_code == 422
    assert "error-summary" in refused.get_data(as_text=True)
    refused = browser.post(
        "/konto/api-nycklar", data={"csrf_token": token, "name": "Power BI", "days": "7"}
    )
    assert refused.status_code == 422 and 'value="Power BI"' in refused.get_data(as_text=True)
    created = browser.post(
        "/konto/api-nycklar", data={"csrf_token": token, "name": "Power BI", "days": "30"}
    )
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    secret = html.split('id="secret" value="', 1)[1].split('"', 1)[0]
    assert secret.startswith("hvu_") and len(secret) > 40
    assert get(app.test_client(), "/api/v1/units", secret).status_code == 200
    assert secret not in browser.get("/konto/api-nycklar").get_data(as_text=True)
    row = db.scalar(sa.select(ApiToken).where(ApiToken.name == "Power BI"))
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    # Someone else's token cannot be revoked by me: it does not exist for me.
    theirs = db.scalar(sa.select(ApiToken).where(ApiToken.name == "BI bo"))
    answer = browser.post(f"/konto/api-nycklar/{theirs.id}/aterkalla", data={"csrf_token": token})
    assert answer.status_code == 404
    assert get(app.test_client(), "/api/v1/units", world["tokens"]["bo"]).status_code == 200
    # Revoking needs the CSRF token (a session's POST).
    assert browser.post(f"/konto/api-nycklar/{row.id}/aterkalla").status_code == 400
    answer = browser.post(f"/konto/api-nycklar/{row.id}/aterkalla", data={"csrf_token": token})
    assert answer.status_code == 302
    assert get(app.test_client(), "/api/v1/units", secret).status_code == 401
    events = db.scalars(
        sa.select(AuditEvent.action).where(
            AuditEvent.entity_type == "api_token", AuditEvent.entity_id == str(row.id)
        )
    ).all()
    assert events == ["create", "revoke"]


def test_the_api_page_lists_every_resource(app, world):
    browser = app.test_client()
    assert login(browser, "vc", PASSWORD).status_code == 302
    page = browser.get("/hjalp/api").get_data(as_text=True)
    for name in LISTS:
        assert f"GET /api/v1/{name}" in page
    assert "/api/v1/openapi.json" in page
