"""Forms for an initiative's profile and its needs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from matching import limits, needs
from matching.forms import (
    BaseForm,
    DayField,
    FutureDate,
    MultiCheckboxField,
    SubmissionField,
    choices_from,
)
from matching.i18n import current_locale
from matching.reference import DISTRICTS, FORMATS, LANGUAGES, PHASES, URGENCIES


class InitiativeForm(BaseForm):
    name = StringField(
        _l("Name der Initiative"),
        validators=[
            DataRequired(message=_l("Bitte geben Sie den Namen Ihrer Initiative an.")),
            Length(max=limits.INITIATIVE_NAME_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
    district = SelectField(
        _l("Stadtbezirk"),
        validators=[InputRequired(message=_l("Bitte wählen Sie einen Stadtbezirk."))],
    )
    sub_district = StringField(
        _l("Stadtteil (freiwillig)"),
        description=_l("Zum Beispiel Hallschlag, Heslach oder Fasanenhof."),
        validators=[
            Length(max=limits.SUB_DISTRICT_MAX, message=_l("Bitte höchstens %(max)d Zeichen."))
        ],
    )
    description = TextAreaField(
        _l("Was macht Ihre Initiative? (freiwillig)"),
        validators=[
            Length(
                max=limits.INITIATIVE_DESCRIPTION_MAX,
                message=_l("Bitte höchstens %(max)d Zeichen."),
            )
        ],
    )
    website = URLField(
        _l("Webseite (freiwillig)"),
        validators=[
            Optional(),
            Length(max=limits.WEBSITE_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
            URL(
                message=_l(
                    "Bitte geben Sie eine vollständige Adresse an, zum Beispiel https://beispiel.de."
                )
            ),
        ],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # No district chosen for the initiative: the first one in the list would be saved
        # for whoever skips the field, so the list starts with a request to choose.
        self.district.choices = [
            SelectChoice("", _l("Bitte wählen Sie Ihren Stadtbezirk")),
            *choices_from(DISTRICTS, current_locale()),
        ]


class NeedForm(BaseForm):
    submission = SubmissionField()
    # The need's last change as the form was opened: a save from an older form (another
    # window, another member) would silently undo what was saved in between.
    seen = HiddenField()
    title = StringField(
        _l("Worum geht es? (kurzer Titel)"),
        description=_l(
            "Zum Beispiel: „Wie finden wir Mitstreiter:innen für unser Nachbarschaftscafé?“"
        ),
        validators=[
            DataRequired(message=_l("Bitte geben Sie einen kurzen Titel an.")),
            Length(max=limits.NEED_TITLE_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
    description = TextAreaField(
        _l("Beschreibung"),
        description=_l("Was haben Sie schon versucht? Wobei hakt es? Ein paar Sätze genügen."),
        validators=[
            DataRequired(message=_l("Bitte beschreiben Sie kurz, wobei Sie Rat brauchen.")),
            Length(max=limits.NEED_DESCRIPTION_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
    phases = MultiCheckboxField(
        _l("Zu welchem Thema suchen Sie Rat?"),
        choices=[],
        validators=[InputRequired(message=_l("Bitte wählen Sie mindestens ein Thema."))],
    )
    district = SelectField(
        _l("Stadtbezirk"),
        validators=[InputRequired(message=_l("Bitte wählen Sie einen Stadtbezirk."))],
    )
    language = SelectField(_l("Sprache der Beratung"), default="de")
    formats = MultiCheckboxField(
        _l("Wie möchten Sie beraten werden?"),
        choices=[],
        validators=[
            InputRequired(message=_l("Bitte wählen Sie mindestens eine Art der Beratung."))
        ],
    )
    urgency = RadioField(
        _l("Wie dringend ist es?"),
        default="normal",
        validators=[InputRequired(message=_l("Bitte wählen Sie, wie dringend es ist."))],
    )
    experts_wanted = IntegerField(
        _l("Wie viele Expert:innen brauchen Sie?"),
        default=1,
        description=_l("Meistens reicht eine Person."),
        validators=[
            InputRequired(message=_l("Bitte geben Sie eine Zahl von 1 bis 5 an.")),
            NumberRange(1, 5, message=_l("Bitte geben Sie eine Zahl von 1 bis 5 an.")),
        ],
    )
    expires_on = DayField(
        _l("Gültig bis (freiwillig)"),
        description=_l("Danach verschwindet die Anfrage von selbst."),
        validators=[
            Optional(),
            FutureDate(
                _l("Das Datum muss in der Zukunft liegen."),
                within=needs.EXPIRY_HORIZON,
                too_far=needs.EXPIRY_TOO_FAR,
            ),
        ],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        locale = current_locale()
        self.phases.choices = choices_from(PHASES, locale)
        self.district.choices = choices_from(DISTRICTS, locale)
        self.language.choices = choices_from(LANGUAGES, locale)
        self.formats.choices = choices_from(FORMATS, locale)
        self.urgency.choices = choices_from(URGENCIES, locale)


def need_input(form: NeedForm) -> needs.NeedInput:
    """What the form says, as the service's input."""
    return needs.NeedInput(
        title=form.title.data,
        description=form.description.data or "",
        phases=form.phases.data or [],
        district=form.district.data,
        language=form.language.data,
        formats=form.formats.data or [],
        urgency=form.urgency.data,
        experts_wanted=form.experts_wanted.data,
        expires_on=form.expires_on.data,
    )
