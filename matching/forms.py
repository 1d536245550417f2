"""Form building blocks shared by the feature packages."""

from __future__ import annotations

import secrets
from datetime import date

from flask import session
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from matching.i18n import current_locale


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes for one question; unknown values are refused by pre_validate."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs) -> None:
        # WTForms' German catalogue lacks this message, so it appeared in English.
        kwargs.setdefault("invalid_choice_message", _l("Bitte wählen Sie nur aus der Liste."))
        super().__init__(*args, **kwargs)


def choices_from(reference, locale: str | None = None) -> list[SelectChoice]:
    """WTForms choices from reference data, labelled in the reader's language."""
    locale = locale or current_locale()
    return [SelectChoice(item.code, item.label(locale)) for item in reference]


class StrictRadioField(RadioField):
    """Radio buttons whose message for a value outside the choices says what to do."""

    def __init__(self, *args, invalid_message=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form) -> None:
        try:
            super().pre_validate(form)
        except ValidationError as exc:
            raise ValidationError(self.invalid_message or str(exc)) from exc


class FutureDate:
    """A date that lies after today (or is empty)."""

    def __init__(self, message) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if field.data is not None and field.data <= date.today():
            raise ValidationError(self.message)


class SubmissionField(HiddenField):
    """A one-time id per rendered form, so a double submit creates nothing twice."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "")[:64]

    def _value(self):
        return self.data or secrets.token_urlsafe(16)


_SEEN_KEY = "done_submissions"


def already_submitted(submission_id: str) -> bool:
    """True when this form was already processed in this session."""
    return bool(submission_id) and submission_id in session.get(_SEEN_KEY, [])


def remember_submission(submission_id: str) -> None:
    if submission_id:
        seen = [*session.get(_SEEN_KEY, []), submission_id][-20:]
        session[_SEEN_KEY] = seen


REQUIRED = _l("Bitte füllen Sie dieses Feld aus.")


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Grund"),
        validators=[
            DataRequired(message=_l("Bitte geben Sie kurz einen Grund an.")),
            Length(max=1000, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
