"""The form for a need taken down by phone: the initiative, its contact and the need."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from matching import limits
from matching.forms import DayField, ReasonForm
from matching.initiatives.forms import NeedForm


class PhoneNeedForm(NeedForm):
    """A need with everything about the initiative that called (it has no account)."""

    initiative_name = StringField(
        _l("Name der Initiative"),
        validators=[
            DataRequired(message=_l("Bitte geben Sie den Namen der Initiative an.")),
            Length(max=limits.INITIATIVE_NAME_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
    sub_district = StringField(
        _l("Stadtteil (freiwillig)"),
        validators=[
            Length(max=limits.SUB_DISTRICT_MAX, message=_l("Bitte höchstens %(max)d Zeichen."))
        ],
    )
    contact_name = StringField(
        _l("Name der Kontaktperson"),
        validators=[
            DataRequired(message=_l("Bitte geben Sie den Namen der Kontaktperson an.")),
            Length(max=limits.CONTACT_NAME_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
    contact_phone = StringField(
        _l("Telefon"),
        description=_l("Telefon oder E-Mail-Adresse: mindestens eins von beiden."),
        validators=[Length(max=limits.PHONE_MAX, message=_l("Bitte höchstens %(max)d Zeichen."))],
    )
    contact_email = EmailField(
        _l("E-Mail-Adresse (freiwillig)"),
        description=_l(
            "Damit können Sie die Person später einladen, die Anfrage selbst zu verwalten."
        ),
        validators=[
            Optional(),
            Length(max=limits.EMAIL_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
            Email(
                message=_l("Bitte prüfen Sie die E-Mail-Adresse, zum Beispiel name@beispiel.de.")
            ),
        ],
    )
    consent = BooleanField(
        _l("Die Person ist einverstanden, dass wir ihre Kontaktdaten für diese Anfrage speichern."),
        validators=[
            InputRequired(
                message=_l("Ohne Einwilligung können wir die Kontaktdaten nicht speichern.")
            )
        ],
    )
    consent_on = DayField(
        _l("Einwilligung am"),
        default=date.today,
        validators=[InputRequired(message=_l("Bitte geben Sie das Datum der Einwilligung an."))],
    )
    # Offered only when the name is already known: the one we have, or a new one after all.
    initiative_choice = RadioField(
        _l("Diese Initiative kennen wir schon. Welche ist es?"),
        choices=[],
        validate_choice=False,
        validators=[Optional()],
    )


class RejectForm(ReasonForm):
    """Rejecting a proposal; for a volunteer's offer, the reason may be passed on."""

    share = BooleanField(_l("Den Grund an die Expert:in weitergeben"))


class ReturnProfileForm(ReasonForm):
    """Sending a volunteer's profile back: the reason is the message the person gets."""

    reason = TextAreaField(
        _l("Grund"),
        validators=[
            DataRequired(message=_l("Bitte schreiben Sie kurz, was im Profil noch fehlt.")),
            Length(max=limits.REASON_MAX, message=_l("Bitte höchstens %(max)d Zeichen.")),
        ],
    )
