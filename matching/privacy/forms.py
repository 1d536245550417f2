"""Forms for erasing an account and agreeing to a new privacy text."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, Length

from matching import limits
from matching.forms import BaseForm


class EraseForm(BaseForm):
    password = PasswordField(
        _l("Ihr Passwort"),
        validators=[
            DataRequired(message=_l("Bitte geben Sie Ihr Passwort ein.")),
            Length(max=limits.PASSWORD_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
    sure = BooleanField(
        _l("Ja, ich möchte mein Konto und meine Daten endgültig löschen."),
        validators=[
            DataRequired(message=_l("Bitte bestätigen Sie, dass Sie Ihr Konto löschen möchten."))
        ],
    )


class ConsentForm(BaseForm):
    agree = BooleanField(
        _l("Ich habe die neue Datenschutzerklärung gelesen und bin einverstanden."),
        validators=[DataRequired(message=_l("Bitte stimmen Sie der Datenschutzerklärung zu."))],
    )
