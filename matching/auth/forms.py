"""Forms for accounts. They check input; business rules live in accounts.py."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, ValidationError

from matching import limits
from matching.auth.passwords import password_hint, password_problem
from matching.forms import BaseForm

_email_validators = [
    DataRequired(message=_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")),
    Length(max=limits.EMAIL_MAX, message=_l("Die E-Mail-Adresse ist zu lang.")),
    Email(
        message=_l(
            "Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@beispiel.de."
        )
    ),
]


# Every account form reads posted text only and refuses control characters (matching.forms).
TextForm = BaseForm


class PolicyPassword:
    """Applies the password policy against the name and address in the same form.

    A form without those fields (a new password from a reset link) sets ``form.account``.
    """

    def __call__(self, form, field) -> None:
        account = getattr(form, "account", None)
        problem = password_problem(
            field.data or "",
            email=_text(form, "email", getattr(account, "email", "")),
            name=_text(form, "first_name", getattr(account, "first_name", "")),
        )
        if problem:
            raise ValidationError(problem)


def _text(form, name: str, default: str) -> str:
    return (form[name].data or "") if name in form else default


class SignupForm(TextForm):
    role = RadioField(
        _l("Ich mache mit als"),
        choices=[
            SelectChoice("volunteer", _l("Expert:in – ich möchte Initiativen beraten")),
            SelectChoice("initiative", _l("Initiative – wir suchen Rat")),
        ],
        validators=[InputRequired(message=_l("Bitte wählen Sie aus, wie Sie mitmachen möchten."))],
    )
    first_name = StringField(
        _l("Vorname"),
        validators=[
            DataRequired(message=_l("Bitte geben Sie Ihren Vornamen ein.")),
            Length(max=limits.NAME_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
    last_name = StringField(
        _l("Nachname (freiwillig)"),
        validators=[Length(max=limits.NAME_MAX, message=_l("Bitte höchstens %(max)d Zeichen."))],
    )
    email = EmailField(_l("E-Mail-Adresse"), validators=_email_validators)
    password = PasswordField(
        _l("Passwort"),
        description=password_hint,
        validators=[DataRequired(message=_l("Bitte wählen Sie ein Passwort.")), PolicyPassword()],
    )
    privacy = BooleanField(
        _l("Ich habe die Datenschutzerklärung gelesen und bin einverstanden."),
        validators=[DataRequired(message=_l("Bitte stimmen Sie der Datenschutzerklärung zu."))],
    )


class LoginForm(TextForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=_email_validators)
    password = PasswordField(
        _l("Passwort"),
        validators=[
            DataRequired(message=_l("Bitte geben Sie Ihr Passwort ein.")),
            Length(max=limits.PASSWORD_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )


class EmailOnlyForm(TextForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=_email_validators)


class NewPasswordForm(TextForm):
    password = PasswordField(
        _l("Neues Passwort"),
        description=password_hint,
        validators=[DataRequired(message=_l("Bitte wählen Sie ein Passwort.")), PolicyPassword()],
    )
    password_repeat = PasswordField(
        _l("Neues Passwort wiederholen"),
        validators=[
            DataRequired(message=_l("Bitte wiederholen Sie das Passwort.")),
            EqualTo("password", message=_l("Die beiden Passwörter stimmen nicht überein.")),
        ],
    )


class ChangeEmailForm(TextForm):
    email = EmailField(_l("Neue E-Mail-Adresse"), validators=_email_validators)
    current_password = PasswordField(
        _l("Ihr aktuelles Passwort"),
        validators=[
            DataRequired(message=_l("Bitte geben Sie Ihr aktuelles Passwort ein.")),
            Length(max=limits.PASSWORD_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )


class ConfirmForm(TextForm):
    """A button that confirms what a mail link asked for (a GET never changes state)."""


class ChangePasswordForm(NewPasswordForm):
    """A new password while logged in: the current one proves it is the account's owner."""

    current_password = PasswordField(
        _l("Ihr aktuelles Passwort"),
        validators=[
            DataRequired(message=_l("Bitte geben Sie Ihr aktuelles Passwort ein.")),
            Length(max=limits.PASSWORD_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
