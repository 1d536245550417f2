"""The form for a toolkit material: phase, title, description, link and/or PDF, language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField, URLField
from wtforms.validators import URL, DataRequired, InputRequired, Length, Optional

from matching import limits
from matching.forms import BaseForm, choices_from
from matching.i18n import current_locale
from matching.reference import LANGUAGES, PHASES


class MaterialForm(BaseForm):
    phase = SelectField(
        _l("Thema"),
        validators=[InputRequired(message=_l("Bitte wählen Sie ein Thema."))],
    )
    title = StringField(
        _l("Titel"),
        validators=[
            DataRequired(message=_l("Bitte geben Sie einen Titel an.")),
            Length(max=limits.MATERIAL_TITLE_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
    description = TextAreaField(
        _l("Worum geht es? (freiwillig)"),
        description=_l("Ein, zwei Sätze: Wobei hilft das Material?"),
        validators=[
            Length(
                max=limits.MATERIAL_DESCRIPTION_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")
            )
        ],
    )
    url = URLField(
        _l("Link (freiwillig, wenn Sie eine PDF-Datei hochladen)"),
        validators=[
            Optional(),
            Length(max=limits.MATERIAL_URL_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
            URL(
                message=_l(
                    "Bitte geben Sie eine vollständige Adresse an, zum Beispiel https://beispiel.de."
                )
            ),
        ],
    )
    file = FileField(_l("PDF-Datei (freiwillig, wenn Sie einen Link angeben)"))
    language = SelectField(_l("Sprache"), default="de")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        locale = current_locale()
        self.phase.choices = choices_from(PHASES, locale)
        self.language.choices = choices_from(LANGUAGES, locale)
