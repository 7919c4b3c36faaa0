"""The project's base form: CSRF from Flask-WTF; every field has a Swedish label via Babel;
every text field refuses a personnummer without a validator of its own."""

from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, StringField
from wtforms.fields.choices import SelectChoice

from audit import pii
from audit.personal_data import describe


class BaseForm(FlaskForm):
    """Base for every ``<Thing>Form``.

    ``validate`` also scans every text field (``StringField`` and its kinds -- text areas,
    search, hidden -- but not passwords or the CSRF token) for a personnummer or
    samordningsnummer: a hit is a normal field error, "Fältet ”Titel” innehåller något som
    liknar ett personnummer …", beside the field with what was typed kept. The data layer
    refuses such a value anyway (``audit.personal_data``); this makes the refusal a good one.
    """

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if _scanned(field) and isinstance(field.data, str):
                hits = pii.find_identity_numbers(field.data)
                if hits:
                    field.errors = [*field.errors, describe(str(field.label.text), hits)]
                    valid = False
        return valid


def _scanned(field: Field) -> bool:
    return (
        isinstance(field, StringField)
        and not isinstance(field, PasswordField)
        and field.short_name != "csrf_token"
    )


def choices(pairs) -> list[SelectChoice]:
    """Choices for select, radio and checkbox fields from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]
