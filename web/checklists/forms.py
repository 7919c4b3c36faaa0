"""The checklist item form, built from the catalog once per requirement and reused.

One form class per requirement (and, for named persons, per number of rows), cached: a page
instantiates one small form per item with the prefix ``i<item id>_``, so the field names are
``i<item id>_<part>`` and one item can be posted, validated and saved on its own. Each answer
type maps its fields to the raw answer :func:`checklists.answers.clean_answer` validates, and a
stored value back to field data. Every item also carries its ``version`` (the optimistic lock)
and ``orig`` (a hash of the value the page was loaded with, so a whole-section post touches only
the items the user changed), a comment, and — for items that only bite when something happens —
"ej aktuellt under perioden" with a reason.

CSRF is checked once per request by ``CSRFProtect``; the item forms carry none of their own.
"""

from __future__ import annotations

import functools
import json

from wtforms import (
    BooleanField,
    Form,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)

from checklists.answers import DAYS, is_quiet_period
from checklists.models import AnswerType, Recurrence
from checklists.operations import value_hash
from web.forms import choices
from web.i18n import lazy_gettext as _l


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a selection from a fixed list."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ItemForm(Form):
    """Base of every item form: the lock, the loaded value's hash, and the comment."""

    version = HiddenField()
    orig = HiddenField()
    comment = TextAreaField(_l("Comment (optional)"), render_kw={"rows": 2})


def person_rows(item) -> int:
    """Rows for named persons: what is stored, one empty row more, at least two."""
    stored = len((item.value or {}).get("persons", []))
    return max(item.requirement.answer_params.get("min_persons", 1), stored + 1, 2)


def _answer_fields(kind: AnswerType, params: dict, rows: int) -> dict:
    """The answer type's own fields, keyed by part name."""
    if kind == AnswerType.YES_NO:
        return {
            "answer": RadioField(
                _l("Answer"),
                choices=choices([("yes", _l("Yes")), ("no", _l("No"))]),
                validate_choice=False,
            )
        }
    if kind == AnswerType.NAMED_PERSON:
        fields = {}
        for n in range(1, rows + 1):
            fields[f"persons-{n}-name"] = StringField(_l("Name"))
            fields[f"persons-{n}-title"] = StringField(_l("Title"))
            fields[f"persons-{n}-hsa_id"] = StringField(
                _l("HSA-id"), render_kw={"placeholder": "SE2321000222-…"}
            )
        return fields
    if kind == AnswerType.COUNT_RATIO:
        numeric = {"inputmode": "numeric", "class": "short", "autocomplete": "off"}
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
            "value": StringField(
                _l("Value"),
                render_kw={"inputmode": "decimal", "class": "short", "autocomplete": "off"},
            )
        }
    if kind == AnswerType.FREE_TEXT:
        return {"text": TextAreaField(_l("Answer"), render_kw={"rows": 4})}
    return {}  # document: the files are the answer, uploaded with their own form


@functools.lru_cache(maxsize=4096)
def _form_class(kind: str, params_json: str, on_event: bool, rows: int) -> type[ItemForm]:
    params = json.loads(params_json)
    attrs = dict(_answer_fields(AnswerType(kind), params, rows))
    if on_event:
        attrs["not_applicable"] = BooleanField(_l("Not applicable during the period"))
        attrs["reason"] = StringField(
            _l("Why it has not been applicable (briefly)"), render_kw={"maxlength": 500}
        )
    return type(f"ItemForm_{kind}", (ItemForm,), attrs)


def form_class(item) -> type[ItemForm]:
    """The (cached) form class for an item's requirement."""
    requirement = item.requirement
    rows = person_rows(item) if requirement.answer_type == AnswerType.NAMED_PERSON else 0
    return _form_class(
        str(requirement.answer_type),
        json.dumps(requirement.answer_params, sort_keys=True),
        requirement.recurrence == Recurrence.ON_EVENT,
        rows,
    )


def prefix(item_id: int) -> str:
    return f"i{item_id}_"


def field_name(item_id: int, part: str) -> str:
    return f"i{item_id}_{part}"


def item_form(item, formdata=None) -> ItemForm:
    """The form of one item: bound to ``formdata`` (a post), else filled from the stored
    value, the item's version and the hash of what was loaded."""
    cls = form_class(item)
    if formdata is not None:
        return cls(formdata=formdata, prefix=prefix(item.id))
    return cls(data=field_data(item), prefix=prefix(item.id))


def field_data(item) -> dict:
    """Field data (unprefixed) for an item's stored value: the inverse of :func:`raw_answer`."""
    value = item.value or {}
    kind = item.requirement.answer_type
    data = {"version": str(item.version), "orig": value_hash(item.value)}
    if not value:
        return data
    data["comment"] = value.get("comment", "")
    if is_quiet_period(value):
        data["not_applicable"] = True
        data["reason"] = value.get("reason", "")
        return data
    if kind == AnswerType.YES_NO:
        data["answer"] = value["answer"]
    elif kind == AnswerType.NAMED_PERSON:
        for n, person in enumerate(value["persons"], start=1):
            for key in ("name", "title", "hsa_id"):
                data[f"persons-{n}-{key}"] = person.get(key, "")
    elif kind == AnswerType.COUNT_RATIO:
        data["numerator"] = str(value["numerator"])
        data["denominator"] = str(value["denominator"])
    elif kind == AnswerType.DATE_DEADLINE:
        data["date"] = value["date"]
    elif kind == AnswerType.WEEKLY_SCHEDULE:
        for day, hours in value["days"].items():
            if hours:
                data[f"{day}-open"] = hours["open"]
                data[f"{day}-close"] = hours["close"]
        data["exceptions"] = value.get("exceptions", "")
    elif kind == AnswerType.SELECTION:
        data["selected"] = value["selected"]
    elif kind in (AnswerType.SERVICE_LEVEL, AnswerType.NUMBER):
        data["value"] = _plain_number(value["value"])
    elif kind == AnswerType.FREE_TEXT:
        data["text"] = value["text"]
    return data


def _plain_number(number: float) -> str:
    text = f"{number:g}" if abs(number) < 1e15 else str(number)
    return text.replace(".", ",")


def raw_answer(form: ItemForm, item) -> dict:
    """The raw answer typed in an item's form (comment and quiet-period fields included)."""
    kind = item.requirement.answer_type

    def get(part):
        return getattr(form, part).data

    raw: dict = {"comment": get("comment") or ""}
    if hasattr(form, "not_applicable"):
        raw["not_applicable"] = bool(get("not_applicable"))
        raw["reason"] = get("reason") or ""
        if not raw["not_applicable"]:
            del raw["not_applicable"]
            if not raw["reason"].strip():
                del raw["reason"]
    if kind == AnswerType.NAMED_PERSON:
        raw["persons"] = [
            {key: get(f"persons-{n}-{key}") or "" for key in ("name", "title", "hsa_id")}
            for n in range(1, person_rows(item) + 1)
        ]
    elif kind == AnswerType.WEEKLY_SCHEDULE:
        raw["days"] = {
            day: {"open": get(f"{day}-open") or "", "close": get(f"{day}-close") or ""}
            for day in DAYS
        }
        raw["exceptions"] = get("exceptions") or ""
    elif kind == AnswerType.SELECTION:
        raw["selected"] = get("selected") or []
    else:
        for part in _answer_fields(kind, item.requirement.answer_params, 0):
            raw[part] = get(part) or ""
    return raw


def loaded_version(form: ItemForm) -> int | None:
    """The version the item was loaded at, or None when the post does not say (bad input)."""
    text = (form.version.data or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        return None
    return int(text)
