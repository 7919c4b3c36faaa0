"""The checklist form, built at runtime from the catalog (one set of fields per item).

Field names are ``i<item id>_<part>``. Each answer type maps its fields to the raw answer that
:func:`checklists.answers.clean_answer` validates, and a stored value back to field data. A
hidden ``i<id>_orig`` carries a hash of the value the page was loaded with, so that saving
only touches the items the user changed and a version conflict never reverts someone else's
answer.
"""

from __future__ import annotations

import hashlib
import json

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)

from checklists.answers import DAYS
from checklists.models import AnswerType
from web.forms import BaseForm, choices


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a selection from a fixed list."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def value_hash(value) -> str:
    """A short fingerprint of a stored value (``-`` for no answer)."""
    if value is None:
        return "-"
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def person_rows(item) -> int:
    stored = len((item.value or {}).get("persons", []))
    return max(item.requirement.answer_params.get("min_persons", 1), stored + 1, 2)


def _fields(item) -> dict:
    """WTForms fields for one checklist item, keyed by part name."""
    requirement = item.requirement
    kind = requirement.answer_type
    params = requirement.answer_params
    if kind == AnswerType.YES_NO:
        return {
            "answer": RadioField(
                _l("Answer"),
                choices=choices([("yes", _l("Yes")), ("no", _l("No"))]),
                validate_choice=False,
            ),
            "comment": TextAreaField(_l("Comment"), render_kw={"rows": 2}),
        }
    if kind == AnswerType.NAMED_PERSON:
        fields = {}
        for n in range(1, person_rows(item) + 1):
            fields[f"persons-{n}-name"] = StringField(_l("Name"))
            fields[f"persons-{n}-title"] = StringField(_l("Title"))
            fields[f"persons-{n}-hsa_id"] = StringField(
                _l("HSA-id"), render_kw={"placeholder": "SE2321000222-…"}
            )
        return fields
    if kind == AnswerType.COUNT_RATIO:
        numeric = {"inputmode": "numeric", "class": "short"}
        return {
            "numerator": StringField(params["numerator_label"], render_kw=numeric),
            "denominator": StringField(params["denominator_label"], render_kw=numeric),
        }
    if kind == AnswerType.DATE_DEADLINE:
        return {"date": StringField(_l("Date"), render_kw={"type": "date", "class": "short"})}
    if kind == AnswerType.WEEKLY_SCHEDULE:
        fields = {}
        for day in DAYS:
            fields[f"{day}-open"] = StringField(_l("Opens"), render_kw={"type": "time"})
            fields[f"{day}-close"] = StringField(_l("Closes"), render_kw={"type": "time"})
        fields["exceptions"] = TextAreaField(
            _l("Exceptions (e.g. closed days)"), render_kw={"rows": 2}
        )
        return fields
    if kind == AnswerType.SELECTION:
        return {
            "selected": MultiCheckboxField(
                _l("Choose all that apply"),
                choices=choices((o, o) for o in params["options"]),
                validate_choice=False,
            )
        }
    if kind in (AnswerType.SERVICE_LEVEL, AnswerType.NUMBER):
        return {
            "value": StringField(_l("Value"), render_kw={"inputmode": "decimal", "class": "short"})
        }
    if kind == AnswerType.FREE_TEXT:
        return {"text": TextAreaField(_l("Answer"), render_kw={"rows": 3})}
    return {}  # document: evidence is uploaded with its own form


def field_name(item_id: int, part: str) -> str:
    return f"i{item_id}_{part}"


def make_checklist_form(items):
    """A form class for these items, plus the hidden version of the checklist."""

    class ChecklistForm(BaseForm):
        version = HiddenField()

    for item in items:
        for part, field in _fields(item).items():
            setattr(ChecklistForm, field_name(item.id, part), field)
        setattr(ChecklistForm, field_name(item.id, "orig"), HiddenField())
    return ChecklistForm


def field_data(item) -> dict:
    """Field data for an item's stored value (the inverse of :func:`raw_answer`)."""
    value = item.value or {}
    kind = item.requirement.answer_type
    data = {field_name(item.id, "orig"): value_hash(item.value)}

    def put(part, v):
        data[field_name(item.id, part)] = v

    if not value:
        return data
    if kind == AnswerType.YES_NO:
        put("answer", value["answer"])
        put("comment", value.get("comment", ""))
    elif kind == AnswerType.NAMED_PERSON:
        for n, person in enumerate(value["persons"], start=1):
            for key in ("name", "title", "hsa_id"):
                put(f"persons-{n}-{key}", person.get(key, ""))
    elif kind == AnswerType.COUNT_RATIO:
        put("numerator", str(value["numerator"]))
        put("denominator", str(value["denominator"]))
    elif kind == AnswerType.DATE_DEADLINE:
        put("date", value["date"])
    elif kind == AnswerType.WEEKLY_SCHEDULE:
        for day, hours in value["days"].items():
            if hours:
                put(f"{day}-open", hours["open"])
                put(f"{day}-close", hours["close"])
        put("exceptions", value.get("exceptions", ""))
    elif kind == AnswerType.SELECTION:
        put("selected", value["selected"])
    elif kind in (AnswerType.SERVICE_LEVEL, AnswerType.NUMBER):
        put("value", _plain_number(value["value"]))
    elif kind == AnswerType.FREE_TEXT:
        put("text", value["text"])
    return data


def _plain_number(number: float) -> str:
    text = f"{number:g}" if abs(number) < 1e15 else str(number)
    return text.replace(".", ",")


def raw_answer(form, item) -> dict | None:
    """The raw answer typed for ``item`` (None for document items, answered by upload)."""
    kind = item.requirement.answer_type
    parts = _fields(item)
    if not parts:
        return None

    def get(part):
        field = getattr(form, field_name(item.id, part))
        return field.data

    if kind == AnswerType.NAMED_PERSON:
        return {
            "persons": [
                {key: get(f"persons-{n}-{key}") or "" for key in ("name", "title", "hsa_id")}
                for n in range(1, person_rows(item) + 1)
            ]
        }
    if kind == AnswerType.WEEKLY_SCHEDULE:
        return {
            "days": {
                day: {"open": get(f"{day}-open") or "", "close": get(f"{day}-close") or ""}
                for day in DAYS
            },
            "exceptions": get("exceptions") or "",
        }
    if kind == AnswerType.SELECTION:
        return {"selected": get("selected") or []}
    return {part: get(part) or "" for part in parts}


def error_field(item_id: int, field: str | None) -> str:
    """The form field an answer error belongs to (``persons-1-name`` → ``i7_persons-1-name``)."""
    return field_name(item_id, field) if field else field_name(item_id, "orig")
