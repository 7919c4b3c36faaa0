"""Läs-API för BI (``/api/v1/``): JSON over units, editions, rounds, results, findings, plans,
ärenden and sanction cases, paginated and filtered, described by an OpenAPI 3 document
generated from the marshmallow schemas (``/api/v1/openapi.json``). Read with a personal API
token (``Authorization: Bearer …``) or a login session; either way with exactly the user's
roles and units (web/access.py, audit/access.py)."""

from flask import Blueprint

API_PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)

from web.api import routes  # noqa: E402,F401
