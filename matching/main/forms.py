"""The form to report a barrier, on the accessibility statement."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from matching import limits
from matching.forms import BaseForm


class BarrierForm(BaseForm):
    page = StringField(
        _l("Auf welcher Seite? (freiwillig)"),
        description=_l("Zum Beispiel „Meine Übersicht“ oder die Adresse der Seite."),
        validators=[
            Length(max=limits.BARRIER_PAGE_MAX, message=_l("Bitte höchstens %(max)d Zeichen."))
        ],
    )
    description = TextAreaField(
        _l("Was hat nicht funktioniert?"),
        description=_l("Zum Beispiel: Ein Knopf lässt sich mit der Tastatur nicht erreichen."),
        validators=[
            DataRequired(message=_l("Bitte beschreiben Sie kurz, was nicht funktioniert hat.")),
            Length(
                max=limits.BARRIER_DESCRIPTION_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")
            ),
        ],
    )
    contact = StringField(
        _l("Wie erreichen wir Sie für eine Antwort? (freiwillig)"),
        description=_l(
            "E-Mail-Adresse oder Telefonnummer. Ohne Angabe können wir nicht antworten."
        ),
        validators=[Length(max=limits.EMAIL_MAX, message=_l("Bitte höchstens %(max)d Zeichen."))],
    )
