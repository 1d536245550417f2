"""The form for a new API token."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from matching import limits
from matching.forms import BaseForm, StrictRadioField

# Every token runs out: a forgotten one does not stay a way in for ever.
EXPIRY_DAYS = {"30": 30, "90": 90, "365": 365}


class TokenForm(BaseForm):
    name = StringField(
        _l("Wofür ist der Schlüssel?"),
        description=_l("Zum Beispiel „Webseite des Vereins“. So erkennen Sie ihn später wieder."),
        validators=[
            DataRequired(message=_l("Bitte geben Sie dem Schlüssel einen Namen.")),
            Length(max=limits.TOKEN_NAME_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
    expires = StrictRadioField(
        _l("Wie lange soll er gelten?"),
        choices=[
            SelectChoice("30", _l("30 Tage")),
            SelectChoice("90", _l("90 Tage")),
            SelectChoice("365", _l("1 Jahr")),
        ],
        default="365",
        invalid_message=_l("Bitte wählen Sie nur aus der Liste."),
    )

    read_only = BooleanField(
        _l("Nur lesen"),
        description=_l("Der Schlüssel kann Daten abrufen, aber nichts ändern."),
    )

    def expires_at(self, now: datetime) -> datetime:
        return now + timedelta(days=EXPIRY_DAYS[self.expires.data])
