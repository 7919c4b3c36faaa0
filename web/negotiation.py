"""Who asked: a page's script (JSON) or the browser itself (HTML)."""

from __future__ import annotations

from flask import request


def wants_json() -> bool:
    """A script asked (``Accept: application/json``, as ``static/*.js`` send), not a browser
    form post or page load."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes["application/json"] > 0
