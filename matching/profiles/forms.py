"""The volunteer profile form: a level per phase, places, languages, formats, capacity."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from matching import limits
from matching.forms import BaseForm, DayField, FutureDate, MultiCheckboxField, choices_from
from matching.i18n import current_locale
from matching.models.volunteers import MAX_CAPACITY
from matching.profiles.lifecycle import PAUSE_HORIZON, PAUSE_TOO_FAR, PHONE_MESSAGE
from matching.reference import DISTRICTS, FORMATS, LANGUAGES, LEVELS, PHASES
from matching.text import PHONE_PATTERN


class ProfileForm(BaseForm):
    # The profile's last change as the form was opened (see the need form's "seen").
    seen = HiddenField()
    districts = MultiCheckboxField(_l("Stadtbezirke, in denen Sie beraten"), choices=[])
    whole_city = BooleanField(_l("Ganz Stuttgart – ich komme überall hin"))
    languages = MultiCheckboxField(
        _l("Sprachen, in denen Sie beraten"),
        choices=[],
        validators=[InputRequired(message=_l("Bitte wählen Sie mindestens eine Sprache."))],
    )
    formats = MultiCheckboxField(
        _l("So können Sie beraten"),
        choices=[],
        validators=[
            InputRequired(message=_l("Bitte wählen Sie mindestens eine Art der Beratung."))
        ],
    )
    capacity = IntegerField(
        _l("Wie viele Initiativen möchten Sie gleichzeitig beraten?"),
        default=2,
        description=_l("Eine Zahl von 1 bis %(n)d. Die meisten wählen 1 oder 2.", n=MAX_CAPACITY),
        validators=[
            InputRequired(
                message=_l("Bitte geben Sie eine Zahl von 1 bis %(n)d an.", n=MAX_CAPACITY)
            ),
            NumberRange(
                1,
                MAX_CAPACITY,
                message=_l("Bitte geben Sie eine Zahl von 1 bis %(n)d an.", n=MAX_CAPACITY),
            ),
        ],
    )
    paused_until = DayField(
        _l("Pause bis (freiwillig)"),
        description=_l("Bis zu diesem Tag schlagen wir Ihnen keine Anfragen vor."),
        validators=[
            Optional(),
            FutureDate(
                _l("Das Datum muss in der Zukunft liegen."),
                within=PAUSE_HORIZON,
                too_far=PAUSE_TOO_FAR,
            ),
        ],
    )
    bio = TextAreaField(
        _l("Kurz über Sie (freiwillig)"),
        description=_l(
            "Zwei, drei Sätze: Was haben Sie schon gemacht? Initiativen sehen diesen Text."
        ),
        validators=[Length(max=limits.BIO_MAX, message=_l("Bitte höchstens %(max)d Zeichen."))],
    )
    phone = StringField(
        _l("Telefonnummer (freiwillig)"),
        description=_l(
            "Nur die Koordination sieht sie – und eine Initiative erst, wenn Sie zugesagt haben."
        ),
        validators=[
            Length(max=limits.PHONE_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
            Optional(),
            Regexp(PHONE_PATTERN, message=PHONE_MESSAGE),
        ],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        locale = current_locale()
        self.districts.choices = choices_from(DISTRICTS, locale)
        self.languages.choices = choices_from(LANGUAGES, locale)
        self.formats.choices = choices_from(FORMATS, locale)

    def level_fields(self):
        return [(phase, self[f"level_{phase.code}"]) for phase in PHASES]

    def levels(self) -> dict[str, int]:
        return {phase.code: int(self[f"level_{phase.code}"].data) for phase in PHASES}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.whole_city.data and not self.districts.data:
            self.districts.errors = [
                *self.districts.errors,
                _l("Bitte wählen Sie mindestens einen Stadtbezirk oder „ganz Stuttgart“."),
            ]
            ok = False
        if ok and not any(self.levels().values()):
            self.form_errors.append(
                _l("Bitte geben Sie mindestens ein Thema an, in dem Sie sich auskennen.")
            )
            ok = False
        return ok


def _level_field(phase) -> RadioField:
    return RadioField(
        phase.de,
        choices=[SelectChoice(level.code, level.de) for level in LEVELS],
        default="0",
        validators=[InputRequired(message=_l("Bitte wählen Sie eine Stufe."))],
    )


for _phase in PHASES:
    setattr(ProfileForm, f"level_{_phase.code}", _level_field(_phase))
