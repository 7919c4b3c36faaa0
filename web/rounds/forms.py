"""The forms to open a round and to manage it once open."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from checklists.rounds import Round
from web.checklists.forms import MultiCheckboxField
from web.forms import BaseForm, choices
from web.validators import WholeNumberField, column_length, date_in_range


class OpenRoundForm(BaseForm):
    """Öppna uppföljningsomgång."""

    edition = SelectField(_l("Catalog edition"), validators=[DataRequired()])
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=_l("Give the round a title.")),
            column_length(Round.title),
        ],
        description=_l("For example “Uppföljning 2025, Uppdrag och regler”."),
    )
    year = WholeNumberField(
        _l("Follow-up year"),
        digits=4,
        validators=[
            InputRequired(message=_l("Enter the year followed up.")),
            NumberRange(min=2000, max=2100, message=_l("Enter a year such as 2025.")),
        ],
        description=_l("Annual deadlines (such as 1 March) are judged in this year."),
    )
    opens_on = DateField(
        _l("Opens"),
        validators=[InputRequired(message=_l("Enter a date as YYYY-MM-DD.")), date_in_range],
    )
    deadline = DateField(
        _l("Last day to answer"),
        validators=[InputRequired(message=_l("Enter a date as YYYY-MM-DD.")), date_in_range],
    )
    requirement_scope = RadioField(
        _l("Requirements"),
        default="all",
        validate_choice=True,
        choices=choices(
            [
                ("all", _l("All requirements of the edition")),
                ("areas", _l("The requirements of the chosen areas")),
                ("codes", _l("Hand-picked requirements (codes)")),
            ]
        ),
    )
    areas = MultiCheckboxField(_l("Areas"), validate_choice=False)
    codes = StringField(
        _l("Requirement codes"),
        description=_l(
            "Separate codes with spaces or commas, e.g. kvalitet.patientsakerhetsberattelse."
        ),
    )
    unit_scope = RadioField(
        _l("Units"),
        default="all",
        validate_choice=True,
        choices=choices(
            [
                ("all", _l("All units")),
                ("area", _l("The units of one area")),
                ("operator", _l("Units of one operator")),
                ("picked", _l("Hand-picked units")),
            ]
        ),
    )
    unit_area = SelectField(_l("Area"), validate_choice=False)
    unit_operator = SelectField(_l("Operator"), validate_choice=False)
    units = MultiCheckboxField(_l("Units"), validate_choice=False)

    # The unit choices matter only for the scope chosen; an unknown value there is refused
    # beside the field (it was a 500: Area("x")).
    def validate_unit_area(self, field):
        if self.unit_scope.data == "area":
            _one_of(field, [field.data], _l("Choose an area from the list."))

    def validate_unit_operator(self, field):
        if self.unit_scope.data == "operator":
            _one_of(field, [field.data], _l("Choose an operator from the list."))

    def validate_units(self, field):
        if self.unit_scope.data == "picked":
            _one_of(field, field.data or [], _l("Choose units from the list."))


def _one_of(field, values, message) -> None:
    known = {str(choice[0]) for choice in field.choices or []}
    if any(value not in known for value in values):
        raise ValidationError(message)


# --- managing an open round ------------------------------------------------------------------

ALL_UNITS = "all"
_REASON = [
    DataRequired(message=_l("Give a reason.")),
    Length(max=500, message=_l("At most %(max)d characters.", max=500)),
]


class ExtendDeadlineForm(BaseForm):
    """Förläng svarstiden: for every unit or one, with a reason (in the trail)."""

    scope = SelectField(_l("For"), default=ALL_UNITS, validate_choice=True)
    new_deadline = DateField(
        _l("New last day to answer"),
        validators=[InputRequired(message=_l("Enter a date as YYYY-MM-DD.")), date_in_range],
    )
    reason = StringField(_l("Reason"), validators=_REASON)


class AddUnitForm(BaseForm):
    """Lägg till en enhet som saknades i omgången."""

    unit = SelectField(_l("Unit"), validate_choice=True)
    reason = StringField(_l("Reason"), validators=_REASON)


class CloseRoundForm(BaseForm):
    """Stäng omgången."""

    confirm = BooleanField(
        _l("I understand that units that have not submitted are closed as not submitted."),
        validators=[DataRequired(message=_l("Confirm that the round is to be closed."))],
    )
    reason = StringField(
        _l("Comment (optional)"),
        validators=[Length(max=500, message=_l("At most %(max)d characters.", max=500))],
    )
