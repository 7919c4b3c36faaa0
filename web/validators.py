"""Form validators shared by the WTForms forms: lengths taken from the columns, dates in a
sane range, whole numbers that fit the database -- each refusal a Swedish field error."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import Length, ValidationError

from audit.text import max_length

MIN_DATE, MAX_DATE = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


def column_length(column) -> Length:
    """``Length(max=...)`` of the column the field is stored in: one number, in the model."""
    limit = max_length(column)
    return Length(max=limit, message=_l("At most %(max)d characters.", max=limit))


def date_in_range(form, field) -> None:
    """A date of this century (year 1 or 9999 is a typing error that overflows deadlines)."""
    if field.data is not None and not MIN_DATE <= field.data <= MAX_DATE:
        raise ValidationError(_l("Enter a date between 2000-01-01 and 2099-12-31."))


class WholeNumberField(IntegerField):
    """An integer typed in ASCII digits, at most ``digits`` of them: "²" (which ``isdigit``
    accepts) and 400 nines are refused as not a number instead of overflowing a comparison."""

    def __init__(self, *args, digits: int = 9, **kwargs):
        super().__init__(*args, **kwargs)
        self.digits = digits

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].strip().replace(" ", "")
        unsigned = text.removeprefix("-")
        if not (unsigned.isascii() and unsigned.isdigit() and len(unsigned) <= self.digits):
            self.data = None
            raise ValueError(_l("Enter a whole number."))
        self.data = int(text)
