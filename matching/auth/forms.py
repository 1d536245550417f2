"""Forms for accounts. They check input; business rules live in accounts.py."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, ValidationError

from matching.auth.passwords import password_problem

EMAIL_MAX = 254

_email_validators = [
    DataRequired(message=_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")),
    Length(max=EMAIL_MAX, message=_l("Die E-Mail-Adresse ist zu lang.")),
    Email(
        message=_l(
            "Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@beispiel.de."
        )
    ),
]


class PolicyPassword:
    """Applies the password policy; reads the e-mail and name fields of the same form."""

    def __call__(self, form, field) -> None:
        email = getattr(form, "email", None)
        name = getattr(form, "first_name", None)
        problem = password_problem(
            field.data or "",
            email=(email.data or "") if email else "",
            name=(name.data or "") if name else "",
        )
        if problem:
            raise ValidationError(problem)


class SignupForm(FlaskForm):
    role = RadioField(
        _l("Ich melde mich an als"),
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
            Length(max=80, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
    last_name = StringField(
        _l("Nachname (freiwillig)"),
        validators=[Length(max=80, message=_l("Bitte höchstens %(max)d Zeichen."))],
    )
    email = EmailField(_l("E-Mail-Adresse"), validators=_email_validators)
    password = PasswordField(
        _l("Passwort"),
        description=_l("Mindestens 12 Zeichen. Ein kurzer Satz lässt sich gut merken."),
        validators=[DataRequired(message=_l("Bitte wählen Sie ein Passwort.")), PolicyPassword()],
    )
    privacy = BooleanField(
        _l("Ich habe die Datenschutzerklärung gelesen und bin einverstanden."),
        validators=[DataRequired(message=_l("Bitte stimmen Sie der Datenschutzerklärung zu."))],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=_email_validators)
    password = PasswordField(
        _l("Passwort"),
        validators=[
            DataRequired(message=_l("Bitte geben Sie Ihr Passwort ein.")),
            Length(max=256, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )


class EmailOnlyForm(FlaskForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=_email_validators)


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Neues Passwort"),
        description=_l("Mindestens 12 Zeichen. Ein kurzer Satz lässt sich gut merken."),
        validators=[DataRequired(message=_l("Bitte wählen Sie ein Passwort.")), PolicyPassword()],
    )
    password_repeat = PasswordField(
        _l("Neues Passwort wiederholen"),
        validators=[
            DataRequired(message=_l("Bitte wiederholen Sie das Passwort.")),
            EqualTo("password", message=_l("Die beiden Passwörter stimmen nicht überein.")),
        ],
    )


class ChangeEmailForm(FlaskForm):
    email = EmailField(_l("Neue E-Mail-Adresse"), validators=_email_validators)
    current_password = PasswordField(
        _l("Ihr aktuelles Passwort"),
        validators=[
            DataRequired(message=_l("Bitte geben Sie Ihr aktuelles Passwort ein.")),
            Length(max=256, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )


class ConfirmForm(FlaskForm):
    """A button that confirms what a mail link asked for (a GET never changes state)."""
