"""The unit form of the unit register (enhetsregistret), kept by the administratör."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from audit.units import UnitError, check_code
from web.forms import BaseForm

NO_MAIN = ""


def _valid_code(form, field) -> None:
    try:
        check_code(field.data or "")
    except UnitError as exc:
        raise ValidationError(str(exc)) from None


class UnitForm(BaseForm):
    """Enhet: what the register says of a unit; the flags decide which requirements apply."""

    code = StringField(
        _l("Code"),
        description=_l("A stable key: a–z, digits, - and _, e.g. storuman. Cannot be changed."),
        validators=[DataRequired(message=_l("Enter a code.")), _valid_code],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    name = StringField(
        _l("Name"),
        validators=[DataRequired(message=_l("Enter the unit's name.")), Length(max=200)],
    )
    kind = SelectField(
        _l("Kind"),
        description=_l(
            "A service with an additional assignment (tilläggsuppdrag) that is not a health "
            "centre gets only its assignment's reporting rows; it has no BVC, MVC, §2.12 duty "
            "or branch."
        ),
    )
    main_unit = SelectField(
        _l("Main unit"),
        description=_l("Only for a branch (filial, §3.9): the health centre it belongs to."),
        default=NO_MAIN,
    )
    operator = RadioField(_l("Operator"), default="egenregi")
    provider = StringField(
        _l("Provider"),
        description=_l("Only for a private unit: the care provider (vårdgivare) that runs it."),
        validators=[Length(max=200)],
    )
    area = SelectField(_l("Area"))
    has_bvc = BooleanField(_l("Has child health care (BVC)"))
    has_mvc = BooleanField(_l("Has maternity care (MVC)"))
    sjukvardsgrupp_duty = BooleanField(_l("Must provide a medical team (§2.12)"))
    on_region_telephony = BooleanField(
        _l("On the region's telephone platform (§6.9)"),
        description=_l("A unit outside the platform reports its telephone accessibility monthly."),
        default=True,
    )
    active = BooleanField(
        _l("Active"),
        description=_l("An inactive unit is kept with its history but gets no new checklists."),
        default=True,
    )
    source = TextAreaField(
        _l("Source"),
        description=_l("Where the unit and its values come from (document, decision)."),
        validators=[Length(max=5000)],
    )
    assumptions = TextAreaField(
        _l("Assumptions"),
        description=_l("Every value the sources do not state."),
        validators=[Length(max=5000)],
    )


class ImportForm(BaseForm):
    """Importera enheter: a units file (YAML, the format of the export)."""

    file = FileField(_l("Units file (YAML)"))
