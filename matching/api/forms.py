"""The form for a new API token."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from matching.forms import StrictRadioField

EXPIRY_DAYS = {"30": 30, "90": 90, "365": 365, "never": None}


class TokenForm(FlaskForm):
    name = StringField(
        _l("Wofür ist der Schlüssel?"),
        description=_l("Zum Beispiel „Webseite des Vereins“. So erkennen Sie ihn später wieder."),
        validators=[
            DataRequired(message=_l("Bitte geben Sie dem Schlüssel einen Namen.")),
            Length(max=80, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
    expires = StrictRadioField(
        _l("Wie lange soll er gelten?"),
        choices=[
            SelectChoice("30", _l("30 Tage")),
            SelectChoice("90", _l("90 Tage")),
            SelectChoice("365", _l("1 Jahr")),
            SelectChoice("never", _l("Bis ich ihn widerrufe")),
        ],
        default="90",
        invalid_message=_l("Bitte wählen Sie nur aus der Liste."),
    )

    def expires_at(self, now: datetime) -> datetime | None:
        days = EXPIRY_DAYS[self.expires.data]
        return None if days is None else now + timedelta(days=days)
