"""The case forms, built from the case type (like the checklist's from the catalog): the
type's period and fields, each with its Swedish label and help; every text field scanned for a
personnummer by :class:`web.forms.BaseForm`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional

from web.checklists.forms import MultiCheckboxField
from web.forms import BaseForm, choices
from web.validators import WholeNumberField, date_in_range
from workflows.cases import types as ct
from workflows.cases.operations import Entry

DATE_MESSAGE = _l("Enter a date as YYYY-MM-DD.")


def _length(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(max)d characters.", max=limit))


def _date(label: str, help: str = "") -> DateField:
    return DateField(
        label,
        validators=[Optional(), date_in_range],
        description=help,
        render_kw={"class": "short"},
    )


def _field(spec: ct.Field, unit_choices):
    if spec.kind == ct.LINE:
        return StringField(spec.label, [_length(spec.max_length)], description=spec.help)
    if spec.kind == ct.TEXT:
        return TextAreaField(
            spec.label, [_length(spec.max_length)], description=spec.help, render_kw={"rows": 3}
        )
    if spec.kind == ct.NUMBER:
        return WholeNumberField(
            spec.label,
            digits=7,
            validators=[
                Optional(),
                NumberRange(min=0, max=ct.NUMBER_MAX, message=_l("Enter a whole number.")),
            ],
            description=spec.help,
            render_kw={"class": "short", "inputmode": "numeric"},
        )
    if spec.kind == ct.DATE:
        return _date(spec.label, spec.help)
    if spec.kind in (ct.CONFIRM, ct.FLAG):
        return BooleanField(spec.label, description=spec.help)
    if spec.kind == ct.CHOICE:
        return RadioField(
            spec.label,
            choices=choices(spec.choices),
            validators=[Optional()],
            validate_choice=True,
            description=spec.help,
        )
    if spec.kind == ct.CHOICES:
        return MultiCheckboxField(
            spec.label, choices=choices(spec.choices), validate_choice=True, description=spec.help
        )
    if spec.kind == ct.UNITS:
        return MultiCheckboxField(
            spec.label, choices=unit_choices, validate_choice=True, description=spec.help
        )
    raise ValueError(spec.kind)


def details_form(kind: ct.CaseType, unit_choices, *, later: bool = False, **kwargs) -> BaseForm:
    """The form of a case type: its period and fields (``later``: the ones filled in after the
    decision). ``unit_choices`` are (id, name) of the units the case may name."""
    attrs = {}
    if not later:
        attrs["period_from"] = _date(kind.period_from_label, kind.period_help)
        if kind.period_to_label:
            attrs["period_to"] = _date(kind.period_to_label)
    for spec in kind.fields:
        if spec.later == later:
            attrs[spec.name] = _field(spec, unit_choices)
    form_class = type(f"{kind.kind.name.title().replace('_', '')}Form", (BaseForm,), attrs)
    return form_class(**kwargs)


def entry_from(form: BaseForm, kind: ct.CaseType) -> Entry:
    """What the operations take from a validated form."""
    values = {}
    partners: list[int] = []
    for spec in kind.fields:
        if spec.name not in form:
            continue
        data = form[spec.name].data
        if spec.kind == ct.UNITS:
            partners = [int(v) for v in data or [] if str(v).isdigit()]
        else:
            values[spec.name] = data
    return Entry(
        values=values,
        period_from=form.period_from.data if "period_from" in form else None,
        period_to=form.period_to.data if "period_to" in form else None,
        partner_ids=partners,
    )


def form_data(case, kind: ct.CaseType, *, later: bool = False) -> dict:
    """A stored case as the form's initial data."""
    import datetime as dt

    data = {}
    if not later:
        data = {"period_from": case.period_from, "period_to": case.period_to}
    details = case.details or {}
    for spec in kind.fields:
        if spec.later != later:
            continue
        if spec.kind == ct.UNITS:
            data[spec.name] = [str(p.unit_id) for p in case.partners]
        elif spec.kind == ct.DATE and details.get(spec.name):
            data[spec.name] = dt.date.fromisoformat(details[spec.name])
        else:
            data[spec.name] = details.get(spec.name)
    return data


class DocumentForm(BaseForm):
    """Bifoga handling: which of the type's documents the file is, and the file."""

    document_kind = SelectField(_l("Document"), validate_choice=True)
    file = FileField(_l("File (PDF, Word, Excel, text or image, at most 20 MB)"))


def document_form(kind: ct.CaseType, *, later: bool, **kwargs) -> DocumentForm:
    form = DocumentForm(**kwargs)
    form.document_kind.choices = choices(
        (d.kind.value, d.label + (" *" if d.required else ""))
        for d in kind.documents
        if d.later == later
    )
    return form
