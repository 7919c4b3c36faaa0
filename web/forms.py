"""The project's base form: CSRF from Flask-WTF; every field has a Swedish label via Babel."""

from flask_wtf import FlaskForm


class BaseForm(FlaskForm):
    """Base for every ``<Thing>Form``."""
