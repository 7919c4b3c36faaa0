"""A refused personnummer as a field error beside the field, in every form, by one mechanism.

The guard itself is in the data layer (:mod:`audit.personal_data`): whatever the form, a
column marked ``personal_text`` refuses the number when the row is flushed. This module turns
that refusal into what a person needs to correct it:

* WTForms forms inherit :class:`web.forms.BaseForm`, whose ``validate`` scans every text
  field (all ``StringField`` kinds but passwords) -- no field needs a validator of its own;
* the hand-written workflow forms (dialogs, plans, sanctions, the unit page) catch
  :class:`~audit.personal_data.PersonalDataError` where they already catch a refused
  transition (``web.workflow_views``) and call :func:`refuse`, which finds the posted
  field(s) holding the number and records a Swedish error for each; templates show it with
  ``field_error(form, name, id)`` beside the field and mark the input with
  ``invalid(form, name, id)``. The page is rendered again with everything typed, status 422.

Nothing here logs, and no message repeats the number.
"""

from __future__ import annotations

from flask import Flask, g, request
from markupsafe import Markup, escape

from audit import pii
from audit.db import Base
from audit.personal_data import PERSONAL_TEXT, PersonalDataError, describe

NOT_SCANNED = frozenset({"csrf_token"})


def _label(table_name: str, field: str, fallback: str) -> str:
    """The Swedish name of a posted field: the label of the column of the same name in the
    refused row's table, else the label of the refused column itself."""
    table = Base.metadata.tables.get(table_name)
    column = table.columns.get(field) if table is not None else None
    if column is not None and column.info.get(PERSONAL_TEXT):
        return column.info.get("label") or fallback
    return fallback


def refuse(exc: PersonalDataError, form: str) -> str:
    """Record a field error for every field of the posted ``form`` that holds an identity
    number and return the message for the top of the form."""
    errors: dict[str, str] = {}
    for name, value in request.form.items(multi=True):
        if name in NOT_SCANNED or name in errors:
            continue
        hits = pii.find_identity_numbers(value)
        if hits:
            errors[name] = describe(_label(exc.table, name, exc.label), hits)
    g.setdefault("field_errors", {})[form] = errors
    if not errors:  # the number was not typed here as such (e.g. split over fields)
        return str(exc)
    return (
        "Inget har sparats: "
        + (
            "ett fält innehåller"
            if len(errors) == 1
            else f"{pii.count_word(len(errors))} fält innehåller"
        )
        + " något som liknar ett personnummer eller samordningsnummer. Rätta det som är "
        "markerat nedan."
    )


def _errors(form: str) -> dict[str, str]:
    return g.get("field_errors", {}).get(form, {})


def field_error(form: str, name: str, element_id: str) -> Markup:
    """The field's error (``<p class="error" id="…-error">``), or nothing."""
    message = _errors(form).get(name)
    if not message:
        return Markup("")
    return Markup('<p class="error" id="{}-error">{}</p>').format(element_id, message)


def invalid(form: str, name: str, element_id: str) -> Markup:
    """``aria-invalid`` and ``aria-describedby`` for an input whose field has an error."""
    if name not in _errors(form):
        return Markup("")
    return Markup(' aria-invalid="true" aria-describedby="{}-error"').format(escape(element_id))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(field_error=field_error, invalid=invalid)
