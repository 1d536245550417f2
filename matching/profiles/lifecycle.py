"""Volunteer profiles: saving, submitting for approval, approving, sending back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from matching import audit, limits
from matching.database import lock_row
from matching.errors import ChangedMeanwhile, InvalidInput, PermissionDenied, TransitionError
from matching.matches import autorun
from matching.models import (
    ProfileStatus,
    Role,
    User,
    VolunteerDistrict,
    VolunteerLanguage,
    VolunteerPhaseLevel,
    VolunteerProfile,
)
from matching.models.volunteers import MAX_CAPACITY
from matching.permissions import is_coordinator
from matching.profiles import mails
from matching.reference import (
    DISTRICT_CODES,
    FORMAT_CODES,
    LANGUAGE_CODES,
    MAX_LEVEL,
    MIN_LEVEL,
    PHASE_CODES,
)
from matching.text import is_phone_number, looks_blank
from matching.versions import content_version

PHONE_MESSAGE = _l("Bitte nur Ziffern, Leerzeichen und + ( ) / -.")
P = ProfileStatus
# A pause further out than this is a mistyped year (2062 for 2026), not a plan.
PAUSE_HORIZON = timedelta(days=365)
PAUSE_TOO_FAR = _l("Eine Pause dauert höchstens ein Jahr. Bitte prüfen Sie das Jahr.")


@dataclass
class ProfileInput:
    """What a volunteer enters; checked here as well as in the form."""

    levels: dict[str, int]
    districts: list[str]
    whole_city: bool
    languages: list[str]
    formats: list[str]
    capacity: int
    paused_until: date | None
    bio: str
    phone: str


def _validate(data: ProfileInput, today: date) -> None:
    if set(data.levels) != set(PHASE_CODES):
        raise InvalidInput(_l("Bitte geben Sie für jedes Thema Ihre Erfahrung an."))
    if any(not MIN_LEVEL <= level <= MAX_LEVEL for level in data.levels.values()):
        raise InvalidInput(_l("Bitte wählen Sie für jedes Thema aus, wie gut Sie sich auskennen."))
    if not any(data.levels.values()):
        raise InvalidInput(
            _l("Bitte geben Sie mindestens ein Thema an, in dem Sie sich auskennen.")
        )
    if not set(data.districts) <= set(DISTRICT_CODES):
        raise InvalidInput(_l("Bitte wählen Sie Stadtbezirke aus der Liste."))
    if not data.whole_city and not data.districts:
        raise InvalidInput(
            _l("Bitte wählen Sie mindestens einen Stadtbezirk oder „ganz Stuttgart“.")
        )
    if not data.languages or not set(data.languages) <= set(LANGUAGE_CODES):
        raise InvalidInput(_l("Bitte wählen Sie mindestens eine Sprache."))
    if not data.formats or not set(data.formats) <= set(FORMAT_CODES):
        raise InvalidInput(_l("Bitte wählen Sie mindestens eine Art der Beratung."))
    if not 1 <= data.capacity <= MAX_CAPACITY:
        raise InvalidInput(
            _l("Bitte wählen Sie 1 bis %(n)d Beratungen gleichzeitig.", n=MAX_CAPACITY)
        )
    if data.paused_until is not None and data.paused_until <= today:
        raise InvalidInput(
            _l("Das Datum der Pause muss in der Zukunft liegen."), field="paused_until"
        )
    if data.paused_until is not None and data.paused_until > today + PAUSE_HORIZON:
        raise InvalidInput(PAUSE_TOO_FAR, field="paused_until")
    if len(data.bio) > limits.BIO_MAX or len(data.phone) > limits.PHONE_MAX:
        raise InvalidInput(_l("Ein Text ist zu lang."))
    phone = data.phone.strip()
    if phone and not is_phone_number(phone):  # as the form: initiatives will call it
        raise InvalidInput(PHONE_MESSAGE, field="phone")


def _fingerprint(profile: VolunteerProfile) -> tuple:
    """What a coordinator approves: expertise, places, languages and the public text."""
    return (
        tuple(sorted(profile.level_by_phase.items())),
        tuple(sorted(profile.districts)),
        profile.whole_city,
        tuple(sorted(profile.languages)),
        profile.bio,
    )


def profile_version(profile: VolunteerProfile) -> str:
    """A fingerprint of what the profile form edits (see ``matching.versions``)."""
    return content_version(
        sorted(profile.level_by_phase.items()),
        sorted(profile.districts),
        profile.whole_city,
        sorted(profile.languages),
        sorted(profile.formats),
        profile.capacity,
        profile.paused_until,
        profile.bio,
        profile.user.phone,
    )


PROFILE_CHANGED_MEANWHILE = _l(
    "Ihr Profil wurde inzwischen geändert. Bitte laden Sie es neu und ändern Sie es dann."
)


def save_profile(
    session: Session,
    actor: User,
    data: ProfileInput,
    *,
    now: datetime,
    expected_version: str | None = None,
) -> tuple[VolunteerProfile, bool]:
    """Create or update the actor's own profile; returns it and whether it now waits for approval.

    A new profile, or an approved one whose expertise, districts, languages or text changed,
    goes (back) to the coordinators. Capacity, pause, formats and phone change at once. With
    ``expected_version`` (see ``profile_version``) only if the profile exists and nobody
    changed it since that version was read.
    """
    if not actor.has_role(Role.VOLUNTEER):
        raise PermissionDenied(_l("Nur Expert:innen haben ein Profil."))
    profile = actor.volunteer_profile
    if profile is not None:
        lock_row(session, profile)
    if expected_version is not None and (
        profile is None or expected_version != profile_version(profile)
    ):
        raise ChangedMeanwhile(PROFILE_CHANGED_MEANWHILE)
    _validate(data, now.date())
    created = profile is None
    if profile is None:
        profile = VolunteerProfile(user=actor, created_at=now)
        session.add(profile)
    before = None if created else _fingerprint(profile)
    old_levels = {row.phase: row for row in profile.levels}
    for phase in PHASE_CODES:
        row = old_levels.get(phase)
        if row is None:
            profile.levels.append(VolunteerPhaseLevel(phase=phase, level=data.levels[phase]))
        else:
            row.level = data.levels[phase]
    profile.district_rows = [VolunteerDistrict(district=d) for d in sorted(set(data.districts))]
    profile.language_rows = [
        VolunteerLanguage(language=lang) for lang in sorted(set(data.languages))
    ]
    profile.whole_city = data.whole_city
    profile.offers_in_person = "in_person" in data.formats
    profile.offers_phone = "phone" in data.formats
    profile.offers_video = "video" in data.formats
    profile.capacity = data.capacity
    profile.paused_until = data.paused_until
    profile.bio = data.bio.strip()
    actor.phone = data.phone.strip()
    profile.updated_at = now
    session.flush()
    changed = created or _fingerprint(profile) != before
    old_status = profile.status
    if changed or profile.status in (P.DRAFT, P.RETURNED):
        profile.status = P.PENDING
        profile.submitted_at = now
        profile.review_reason = ""
    audit.record(
        session,
        actor,
        "profile.save",
        "volunteer_profile",
        profile.id,
        from_state=None if created else old_status,
        to_state=profile.status,
        now=now,
    )
    if profile.status == P.APPROVED:  # capacity, pause or formats changed at once
        # (The run this wants also ends the engine's waiting proposals of a paused volunteer.)
        autorun.want(session, "profile.change", now)
    return profile, profile.status == P.PENDING


def _review(
    session: Session,
    actor: User,
    profile: VolunteerProfile,
    target: str,
    *,
    now: datetime,
    reason: str = "",
) -> VolunteerProfile:
    if not is_coordinator(actor):
        raise PermissionDenied(_l("Nur die Koordination kann Profile freigeben."))
    lock_row(session, profile)
    if profile.status != P.PENDING:
        raise TransitionError(_l("Dieses Profil wartet nicht (mehr) auf eine Freigabe."))
    if profile.user_id == actor.id:
        raise PermissionDenied(
            _l("Das eigene Profil gibt jemand anderes aus der Koordination frei.")
        )
    before = profile.status
    profile.status = target
    profile.review_reason = reason.strip()
    profile.reviewed_at = now
    profile.reviewed_by_id = actor.id
    audit.record(
        session,
        actor,
        f"profile.{'approve' if target == P.APPROVED else 'return'}",
        "volunteer_profile",
        profile.id,
        from_state=before,
        to_state=target,
        detail={"reason": profile.review_reason} if profile.review_reason else None,
        now=now,
    )
    if target == P.APPROVED:
        mails.profile_approved(session, profile)
        autorun.want(session, "profile.approve", now)
    else:
        mails.profile_returned(session, profile)
    return profile


def approve_profile(session: Session, actor: User, profile: VolunteerProfile, *, now: datetime):
    """A coordinator approves a waiting profile."""
    return _review(session, actor, profile, P.APPROVED, now=now)


def return_profile(
    session: Session, actor: User, profile: VolunteerProfile, reason: str, *, now: datetime
):
    """A coordinator sends a waiting profile back with a reason."""
    if looks_blank(reason):
        raise InvalidInput(_l("Bitte schreiben Sie kurz, was noch fehlt."))
    return _review(session, actor, profile, P.RETURNED, now=now, reason=reason)
