"""Forms for a match: declining with an optional reason, feedback with 1–5 stars."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from matching.forms import StrictRadioField, choices_from
from matching.reference import PHASES


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Möchten Sie uns sagen, warum? (freiwillig)"),
        validators=[Length(max=1000, message=_l("Bitte höchstens %(max)d Zeichen."))],
    )


class FeedbackForm(FlaskForm):
    rating = StrictRadioField(
        _l("Wie hilfreich war die Beratung?"),
        choices=[
            SelectChoice("5", _l("5 – sehr hilfreich")),
            SelectChoice("4", _l("4 – hilfreich")),
            SelectChoice("3", _l("3 – teils, teils")),
            SelectChoice("2", _l("2 – wenig hilfreich")),
            SelectChoice("1", _l("1 – nicht hilfreich")),
        ],
        validators=[InputRequired(message=_l("Bitte wählen Sie eine Bewertung von 1 bis 5."))],
        invalid_message=_l("Bitte wählen Sie eine Bewertung von 1 bis 5."),
    )
    comment = TextAreaField(
        _l("Was möchten Sie uns noch sagen? (freiwillig)"),
        validators=[Length(max=2000, message=_l("Bitte höchstens %(max)d Zeichen."))],
    )
    next_phase = StrictRadioField(
        _l("Was steht als Nächstes an? (freiwillig)"),
        description=_l(
            "Wählen Sie ein Thema, dann bereiten wir dazu eine neue Anfrage als Entwurf vor."
        ),
        choices=[],
        default="",
        invalid_message=_l("Bitte wählen Sie ein Thema aus der Liste oder „Noch nichts“."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.next_phase.choices = [
            SelectChoice("", _l("Noch nichts / weiß ich noch nicht")),
            *choices_from(PHASES),
        ]


class PassForm(FlaskForm):
    """ "Diesmal nicht" for a need, with an optional reason."""

    reason = StrictRadioField(
        _l("Möchten Sie uns sagen, warum? (freiwillig)"),
        choices=[
            SelectChoice("", _l("Ohne Angabe")),
            SelectChoice("no_time", _l("Keine Zeit")),
            SelectChoice("not_my_field", _l("Passt fachlich nicht")),
            SelectChoice("too_far", _l("Zu weit weg")),
        ],
        default="",
        invalid_message=_l("Bitte wählen Sie einen Grund aus der Liste oder „Ohne Angabe“."),
    )


class MessageForm(FlaskForm):
    """A message in the thread; its rules (length, characters) are the service's."""

    body = TextAreaField(_l("Ihre Nachricht"))


class MessageMailForm(FlaskForm):
    frequency = StrictRadioField(
        _l("E-Mails zu neuen Nachrichten"),
        choices=[
            SelectChoice("each", _l("Zu jeder neuen Nachricht (höchstens alle 15 Minuten)")),
            SelectChoice("daily", _l("Einmal am Tag eine Zusammenfassung")),
            SelectChoice("off", _l("Keine E-Mails, ich schaue selbst nach")),
        ],
        validators=[InputRequired(message=_l("Bitte wählen Sie eine Möglichkeit."))],
        invalid_message=_l("Bitte wählen Sie eine der angebotenen Möglichkeiten."),
    )
