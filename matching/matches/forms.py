"""Forms for a match: declining with an optional reason, feedback with 1–5 stars."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from wtforms import (
    FieldList,
    Form,
    FormField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from matching import limits, wallclock
from matching.errors import InvalidInput
from matching.forms import BaseForm, ClockField, DayField, StrictRadioField, choices_from
from matching.matches import finishing, meetings
from matching.models import utcnow
from matching.reference import PHASES


class DeclineForm(BaseForm):
    reason = TextAreaField(
        _l("Möchten Sie uns sagen, warum? (freiwillig)"),
        validators=[Length(max=limits.REASON_MAX, message=_l("Bitte höchstens %(max)d Zeichen."))],
    )


class FeedbackForm(BaseForm):
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
        validators=[
            Length(max=limits.FEEDBACK_MAX, message=_l("Bitte höchstens %(max)d Zeichen."))
        ],
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


class PassForm(BaseForm):
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


class MessageForm(BaseForm):
    """A message in the thread; its rules (length, characters) are the service's."""

    body = TextAreaField(_l("Ihre Nachricht"))


class MessageMailForm(BaseForm):
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


class MeetingTimeForm(Form):
    """One proposed time: a day, a start and an end (local time in Stuttgart).

    A start or end in the hour the clocks skip in spring is refused at its field; one in the
    hour repeated in autumn is its first occurrence (matching.wallclock).
    """

    day = DayField(_l("Tag"), validators=[Optional()])
    start = ClockField(_l("Beginn"), validators=[Optional()])
    end = ClockField(_l("Ende"), validators=[Optional()])

    def filled(self) -> bool:
        return any(f.data for f in (self.day, self.start, self.end))

    def instants(self) -> tuple[datetime, datetime]:
        """Start and end as instants (UTC); raises InvalidInput for a time that does not exist."""
        return (
            wallclock.local_instant(self.day.data, self.start.data),
            wallclock.local_instant(self.day.data, self.end.data),
        )

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.filled():
            return True
        if not all(f.data for f in (self.day, self.start, self.end)):
            self.day.errors = [_l("Bitte geben Sie Tag, Beginn und Ende an.")]
            return False
        valid = True
        for clock in (self.start, self.end):
            try:
                wallclock.local_instant(self.day.data, clock.data)
            except InvalidInput as refused:
                clock.errors = [*clock.errors, refused.message]
                valid = False
        return valid and self._check_rules(utcnow())

    def _check_rules(self, now: datetime) -> bool:
        """The meeting service's rules for one time, each said at the field it is about.

        The service checks them again and stops at the first; here the page names every
        time and field that breaks one, so the person corrects all in one go.
        """
        starts_at, ends_at = self.instants()
        if starts_at <= now:
            # A past day is the day's fault; today at an hour already gone, the start's.
            today = now.astimezone(wallclock.service_zone()).date()
            at = self.day if self.day.data < today else self.start
            at.errors = [*at.errors, _l("Eine der Zeiten liegt in der Vergangenheit.")]
            return False
        if starts_at > now + meetings.HORIZON:
            self.day.errors = [
                *self.day.errors,
                _l("Eine der Zeiten liegt mehr als ein Jahr voraus. Bitte prüfen Sie das Jahr."),
            ]
            return False
        if ends_at <= starts_at:
            self.end.errors = [*self.end.errors, _l("Das Ende muss nach dem Beginn liegen.")]
            return False
        minutes = (ends_at - starts_at) / timedelta(minutes=1)
        if not meetings.MIN_MINUTES <= minutes <= meetings.MAX_MINUTES:
            self.end.errors = [
                *self.end.errors,
                _l("Ein Treffen dauert zwischen 15 Minuten und 8 Stunden."),
            ]
            return False
        return True


class MeetingTimes(FieldList):
    """The proposed times; after each checked itself, the rules across them, each said at
    the field it is about."""

    def validate(self, form, extra_validators=()) -> bool:
        valid = super().validate(form, extra_validators)
        times = [entry.form for entry in self.entries]
        filled = [time for time in times if time.filled()]
        if times and not filled and not any(f.errors for time in times for f in time):
            day = times[0].day
            day.errors = [*day.errors, _l("Bitte schlagen Sie mindestens eine Zeit vor.")]
        seen = set()
        for time in filled:
            if time.day.errors or time.start.errors or time.end.errors:
                continue
            starts_at = time.instants()[0]
            if starts_at in seen:
                message = _l("Bitte schlagen Sie verschiedene Zeiten vor.")
                time.start.errors = [*time.start.errors, message]
            seen.add(starts_at)
        # The list's errors were gathered before these checks: gather them again.
        found = [{f.name: f.errors for f in time if f.errors} for time in times]
        self.errors = found if any(found) else []
        return valid and not self.errors


class MeetingForm(BaseForm):
    """Up to three times and one place; the rules (future, end after start, at most three)
    are the meeting service's."""

    times = MeetingTimes(FormField(MeetingTimeForm), min_entries=3)
    place_kind = StrictRadioField(
        _l("Wie treffen Sie sich?"),
        choices=[
            SelectChoice("phone", _l("Telefon")),
            SelectChoice("video", _l("Video (Link angeben)")),
            SelectChoice("address", _l("Vor Ort (Adresse angeben)")),
        ],
        default="phone",
        validators=[
            InputRequired(message=_l("Bitte wählen Sie Telefon, Video oder eine Adresse."))
        ],
        invalid_message=_l("Bitte wählen Sie Telefon, Video oder eine Adresse."),
    )
    place = StringField(
        _l("Link oder Adresse"),
        description=_l("Nur bei Video oder vor Ort. Zum Beispiel: Stadtteilhaus, Hauptstr. 1"),
    )

    def validate(self, extra_validators=None) -> bool:
        """The place checked with the service's own rule, so that the page names it at its
        field together with any mistake in the times (not one after the other)."""
        valid = super().validate(extra_validators)
        if not self.place_kind.errors and not self.place.errors:
            try:  # the service's rule itself, so that the page and the API cannot drift apart
                meetings.check_place(self.place_kind.data, self.place.data or "")
            except InvalidInput as refused:
                self.place.errors = [*self.place.errors, refused.message]
                valid = False
        return valid


class MeetingOutcomeForm(BaseForm):
    outcome = StrictRadioField(
        _l("Hat das Treffen stattgefunden?"),
        choices=[
            SelectChoice("held", _l("Ja")),
            SelectChoice("moved", _l("Es wurde verschoben")),
            SelectChoice("not_held", _l("Nein")),
        ],
        validators=[InputRequired(message=_l("Bitte wählen Sie: ja, verschoben oder nein."))],
        invalid_message=_l("Bitte wählen Sie: ja, verschoben oder nein."),
    )


class LookBackForm(BaseForm):
    """The volunteer's look back on a completed match."""

    helped = TextAreaField(
        _l("Was hat geholfen? Was nehmen Sie mit? (freiwillig)"),
        validators=[
            Length(max=limits.LOOK_BACK_MAX, message=_l("Bitte höchstens %(max)d Zeichen."))
        ],
    )
    next_phase = StrictRadioField(
        _l("Steht für die Initiative als Nächstes ein Thema an? (freiwillig)"),
        description=_l(
            "Die Initiative sieht Ihren Vorschlag, wenn sie ihre nächste Anfrage stellt."
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

    def validate(self, extra_validators=None) -> bool:
        """Each question is optional, but a look back without any answer says nothing."""
        valid = super().validate(extra_validators)
        if valid and not (self.helped.data or "").strip() and not self.next_phase.data:
            self.helped.errors = [*self.helped.errors, finishing.NOTHING_SAID]
            valid = False
        return valid
