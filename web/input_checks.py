"""Input no database can take, refused before any view runs.

PostgreSQL refuses a NUL character in every text parameter, so a ``%00`` in a URL, a query
parameter or a form field reached the driver as a 500 on PostgreSQL (a search, a unit code, a
title). A browser never sends one from what a person types; it comes from a crafted request or
pasted binary. It is refused here, for every route at once: a 400 page that says why and shows
back what was typed (without the NUL), so nothing is lost. The models refuse it too
(:mod:`audit.text`), for writes that do not come through a request.
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest

from web.database import SAFE_METHODS


class UnstorableInput(BadRequest):
    """A request holding a character that cannot be stored."""

    shown = _l(
        "The form or address contained an invisible character (NUL) that cannot be saved. "
        "Nothing was saved; what you typed is below without it."
    )


def _has_nul(pairs) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in pairs)


def refuse_unstorable() -> None:
    """before_request: a NUL in the path, the query or a posted form is a 400."""
    if "\x00" in request.path or _has_nul(request.args.items(multi=True)):
        raise UnstorableInput()
    if request.method not in SAFE_METHODS:
        try:
            form = list(request.form.items(multi=True))
        except Exception:  # a body that cannot be parsed: the view answers for it
            return
        if _has_nul(form):
            raise UnstorableInput()


def init_app(app: Flask) -> None:
    app.before_request(refuse_unstorable)
