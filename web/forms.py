"""The project's base form: CSRF from Flask-WTF; every field has a Swedish label via Babel."""

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice


class BaseForm(FlaskForm):
    """Base for every ``<Thing>Form``."""


def choices(pairs) -> list[SelectChoice]:
    """Choices for select, radio and checkbox fields from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]
