"""Forms for the digest settings; the pages behind mail links only need a button."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from matching.digests import KIND_LABELS
from matching.forms import BaseForm, StrictRadioField
from matching.models import DigestKind

WEEKLY, OFF = "weekly", "off"


def _choice_field(kind: DigestKind) -> StrictRadioField:
    return StrictRadioField(
        KIND_LABELS[kind],
        choices=[
            SelectChoice(WEEKLY, _l("Einmal pro Woche")),
            SelectChoice(OFF, _l("Nicht mehr schicken")),
        ],
        validators=[
            InputRequired(
                message=_l("Bitte wählen Sie „Einmal pro Woche“ oder „Nicht mehr schicken“.")
            )
        ],
        invalid_message=_l("Bitte wählen Sie „Einmal pro Woche“ oder „Nicht mehr schicken“."),
    )


class DigestSettingsForm(BaseForm):
    """Weekly or off, for each digest kind; the view removes the kinds a person cannot get."""

    volunteer = _choice_field(DigestKind.VOLUNTEER)
    coordinator = _choice_field(DigestKind.COORDINATOR)
    initiative = _choice_field(DigestKind.INITIATIVE)

    def keep_only(self, kinds: list[str]) -> None:
        for kind in DigestKind:
            if kind.value not in kinds:
                delattr(self, kind.value)

    def choices(self) -> dict[str, bool]:
        """Kind → enabled, for the kinds on the form."""
        return {
            kind.value: self[kind.value].data == WEEKLY for kind in DigestKind if kind.value in self
        }
