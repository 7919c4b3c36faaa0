"""Forms of user administration and the own password change."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from audit.outbox import valid_email
from web.forms import BaseForm

NO_UNIT = ""


class RoleFields:
    """Roll och enhet: a role, and for the unit roles the unit it is bound to."""

    role = SelectField(_l("Role"), validators=[DataRequired(message=_l("Choose a role."))])
    unit = SelectField(
        _l("Unit"),
        description=_l("Only for head of unit and unit staff: the unit the role is bound to."),
        default=NO_UNIT,
    )


class NewUserForm(RoleFields, BaseForm):
    """Ny användare: the account, its first role; the password is a one-time password."""

    username = StringField(
        _l("User name"),
        description=_l("Letters a–z, digits, . - and _, e.g. anna.andersson. Cannot be changed."),
        validators=[DataRequired(message=_l("Enter a user name.")), Length(max=64)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    display_name = StringField(
        _l("Name"),
        description=_l("First name and surname, as colleagues know the person."),
        validators=[DataRequired(message=_l("Enter the person's name.")), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )


class GrantRoleForm(RoleFields, BaseForm):
    """Tilldela roll."""


class OwnPasswordForm(BaseForm):
    """Byt lösenord: the present password, and the new one twice."""

    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        _l("New password"),
        description=_l(
            "At least 12 characters and not easy to guess. Three or four words that do not "
            "belong together make a good password; length protects better than special "
            "characters."
        ),
        validators=[DataRequired(message=_l("Enter a new password.")), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(message=_l("Repeat the new password.")),
            EqualTo("new", message=_l("The two new passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def _email_address(form, field):
    value = (field.data or "").strip()
    if value and not valid_email(value):
        raise ValidationError(_l("Enter an e-mail address such as name@example.se."))


class EmailForm(BaseForm):
    """E-postadress: where reminders and invitations go; empty for none."""

    email = StringField(
        _l("E-mail address"),
        description=_l(
            "Reminders and meeting invitations are sent here. Leave it empty for no e-mail."
        ),
        validators=[Length(max=254), _email_address],
        render_kw={"autocomplete": "email", "spellcheck": "false", "type": "email"},
    )


class NotificationsForm(BaseForm):
    """Aviseringar: which kinds of e-mail the user wants."""

    notify_due_soon = BooleanField(_l("Reminders before a deadline"))
    notify_overdue = BooleanField(_l("When a deadline has passed"))
    notify_rounds = BooleanField(_l("Reminders of follow-up rounds not submitted"))
    notify_invitations = BooleanField(_l("Meeting invitations"))

    @staticmethod
    def attributes() -> tuple[str, ...]:
        return ("notify_due_soon", "notify_overdue", "notify_rounds", "notify_invitations")
