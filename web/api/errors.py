"""The API's errors as JSON (never an HTML page): 400, 401, 403, 404, 405, 500 …"""

from __future__ import annotations

from flask import jsonify, request

from web.api import API_PREFIX

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    422: "unprocessable",
    429: "too_many_requests",
    500: "server_error",
}


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def error_response(status: int, error: str, message, fields: dict | None = None):
    body = {"error": error, "message": str(message)}
    if fields:
        body["fields"] = {k: v if isinstance(v, list) else [str(v)] for k, v in fields.items()}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="halsoval"'
    response.headers["Cache-Control"] = "no-store"
    return response


def api_error(status: int, message):
    """The JSON answer to an error in an API request (the app's error pages call this)."""
    return error_response(status, ERROR_CODES.get(status, "error"), message)
