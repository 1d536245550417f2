"""Form building blocks shared by the feature packages."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from flask import request, session
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    DateField,
    FieldList,
    FormField,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields import FileField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from matching import limits
from matching.i18n import current_locale
from matching.text import has_forbidden_characters, looks_blank

ONE_LINE_MESSAGE = _l(
    "Bitte schreiben Sie alles in eine Zeile, ohne Zeilenumbruch oder Steuerzeichen."
)
NOT_A_FORM_MESSAGE = _l("Bitte füllen Sie das Formular auf der Seite aus und schicken Sie es ab.")
REQUIRED_MESSAGE = _l("Bitte geben Sie nicht nur Leerzeichen an.")
CONTROL_MESSAGE = _l("Der Text enthält ein unzulässiges Steuerzeichen. Bitte entfernen Sie es.")


def text_problem(value: str, *, multi_line: bool):
    """The message for a text with characters it may not hold, or None."""
    if has_forbidden_characters(value, multi_line=multi_line):
        return CONTROL_MESSAGE if multi_line else ONE_LINE_MESSAGE
    return None


class BaseForm(FlaskForm):
    """Every form of the service.

    Reads the posted form fields only: Flask-WTF would also feed uploaded files and JSON
    bodies into the fields, and a file or a number where text belongs then breaks the
    validators (a 500 instead of a message). Refuses control characters in every text
    field: one-line fields take none, multi-line fields (TextAreaField) line breaks and tabs.
    A required text field refuses text that only looks filled in (spaces and invisible
    characters such as a zero-width space), with the field's own "required" message.
    """

    class Meta:
        def wrap_formdata(self, form, formdata):
            wrapped = super().wrap_formdata(form, formdata)
            if wrapped is None or wrapped is formdata:  # nothing posted, or passed in
                return wrapped
            data = MultiDict(request.form)  # never a JSON body
            for field in form:  # files only where a file belongs
                if isinstance(field, FileField) and field.name in request.files:
                    data.setlist(field.name, request.files.getlist(field.name))
            return data or None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if request and request.is_json:  # a script's body, not a form: nothing is taken from it
            self.form_errors.append(NOT_A_FORM_MESSAGE)
            return False
        for field in self:
            if not isinstance(field, StringField) or not isinstance(field.data, str):
                continue
            problem = text_problem(field.data, multi_line=isinstance(field, TextAreaField))
            if problem is None and field.flags.required and looks_blank(field.data):
                problem = _required_message(field)  # a zero-width space is no answer either
            if problem is None:
                continue
            valid = False
            if isinstance(field, HiddenField):  # not shown: say it above the form
                self.form_errors.append(problem)
            else:  # the real cause, said first and alone
                field.errors = [problem]
        return valid


def _required_message(field) -> str:
    """What the field's own "required" check says, for text that only looks filled in."""
    for validator in field.validators:
        if isinstance(validator, DataRequired | InputRequired) and validator.message:
            return validator.message
    return REQUIRED_MESSAGE


class DayField(DateField):
    """A day from the date picker (2026-12-24) or typed as people write it (24.12.2026).

    A browser without a date picker shows a text box; WTForms' own message for a day it
    cannot read is English (and missing in its German catalogue for times).
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("format", ["%Y-%m-%d", "%d.%m.%Y"])
        kwargs.setdefault("invalid_value_message", _l("Bitte geben Sie den Tag so an: 24.12.2026."))
        super().__init__(*args, **kwargs)


class ClockField(TimeField):
    """A time of day from the time picker (14:30) or typed with a dot (14.30)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("format", ["%H:%M", "%H.%M"])
        kwargs.setdefault("invalid_value_message", _l("Bitte geben Sie die Uhrzeit so an: 14:30."))
        super().__init__(*args, **kwargs)


def asks_required(form) -> bool:
    """Whether the form has a visible field that must be filled in (its mark "*" is then
    explained above the form)."""
    return any(
        field.flags.required
        and not isinstance(field, HiddenField)
        and field.type != "CSRFTokenField"
        for field in form
    )


def fields_with_errors(form) -> list:
    """The fields to name in a form's error summary, those inside repeated groups too
    (a FieldList's or FormField's own errors are lists and dicts, not sentences)."""
    found = []
    for field in form:
        if field.type == "CSRFTokenField" or not field.errors:
            continue
        if isinstance(field, FieldList):
            for entry in field.entries:
                found += fields_with_errors(entry.form) if isinstance(entry, FormField) else [entry]
        elif isinstance(field, FormField):
            found += fields_with_errors(field.form)
        else:
            found.append(field)
    return found


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
    """A date that lies after today (or is empty); with ``within``, not further out than that."""

    def __init__(self, message, *, within: timedelta | None = None, too_far=None) -> None:
        self.message = message
        self.within = within
        self.too_far = too_far

    def __call__(self, form, field) -> None:
        if field.data is None:
            return
        today = date.today()
        if field.data <= today:
            raise ValidationError(self.message)
        if self.within is not None and field.data > today + self.within:
            raise ValidationError(self.too_far)


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


class ReasonForm(BaseForm):
    reason = TextAreaField(
        _l("Grund"),
        validators=[
            DataRequired(message=_l("Bitte geben Sie kurz einen Grund an.")),
            Length(max=limits.REASON_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
