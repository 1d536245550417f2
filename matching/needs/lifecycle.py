"""The life cycle of a need: draft → open → matched → closed, plus withdrawn and expired.

Every change of a need's status goes through ``change_status``: it locks the row,
checks the transition and the actor, applies it and writes the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching import audit, limits
from matching.database import lock_row
from matching.errors import ChangedMeanwhile, InvalidInput, PermissionDenied, TransitionError
from matching.matches import autorun
from matching.models import (
    EDITABLE_NEED_STATUSES,
    Initiative,
    Match,
    MatchStatus,
    Need,
    NeedPhase,
    NeedStatus,
    User,
)
from matching.permissions import can_manage_need, is_coordinator, is_member
from matching.reference import (
    DISTRICT_CODES,
    FORMAT_CODES,
    LANGUAGE_CODES,
    PHASE_CODES,
    URGENCY_CODES,
)
from matching.text import looks_blank
from matching.versions import content_version

S = NeedStatus
# A need in one of these has ended: nobody is searched or asked for it any more.
ENDED = frozenset({S.CLOSED, S.WITHDRAWN, S.EXPIRED})


@dataclass(frozen=True)
class NeedTransition:
    action: str
    sources: frozenset[str]
    target: str
    allowed: Callable[[Session, User | None, Need], bool]
    needs_reason: bool = False


def _system_only(session: Session, actor: User | None, need: Need) -> bool:
    return actor is None  # the scheduler acts without a user


def _manager_or_system(session: Session, actor: User | None, need: Need) -> bool:
    return actor is None or can_manage_need(session, actor, need)


TRANSITIONS: dict[str, NeedTransition] = {
    t.action: t
    for t in (
        NeedTransition("publish", frozenset({S.DRAFT}), S.OPEN, can_manage_need),
        NeedTransition(
            "withdraw",
            frozenset({S.DRAFT, S.OPEN, S.MATCHED}),
            S.WITHDRAWN,
            _manager_or_system,
            True,
        ),
        NeedTransition(
            "close", frozenset({S.OPEN, S.MATCHED, S.ADVISED}), S.CLOSED, can_manage_need
        ),
        NeedTransition("expire", frozenset({S.OPEN}), S.EXPIRED, _system_only),
        # Set by the match life cycle (coordination issue); listed here so it is the one way.
        NeedTransition("mark_matched", frozenset({S.OPEN}), S.MATCHED, _manager_or_system),
        NeedTransition("reopen", frozenset({S.MATCHED}), S.OPEN, _manager_or_system),
        # "Beraten": every expert's advice is done (the match life cycle sets it).
        NeedTransition("mark_advised", frozenset({S.MATCHED}), S.ADVISED, _manager_or_system),
    )
}

STATUS_LABELS = {
    S.DRAFT: _l("Entwurf"),
    S.OPEN: _l("Offen"),
    S.MATCHED: _l("Expert:in gefunden"),
    S.ADVISED: _l("Beraten"),
    S.CLOSED: _l("Abgeschlossen"),
    S.WITHDRAWN: _l("Zurückgezogen"),
    S.EXPIRED: _l("Abgelaufen"),
}

_REFUSED = {
    "publish": _l("Diese Anfrage ist schon veröffentlicht oder beendet."),
    "withdraw": _l("Diese Anfrage ist schon beendet und kann nicht mehr zurückgezogen werden."),
    "close": _l("Nur offene Anfragen oder Anfragen mit Expert:in können abgeschlossen werden."),
    "expire": _l("Nur offene Anfragen können ablaufen."),
    "mark_matched": _l("Diese Anfrage ist nicht mehr offen."),
    "reopen": _l("Diese Anfrage kann nicht wieder geöffnet werden."),
    "mark_advised": _l("Nur Anfragen mit Expert:in können als beraten gelten."),
}


def not_open(need: Need) -> TransitionError:
    """The refusal of a step that needs an open need: a draft is not open *yet*."""
    if need.status == S.DRAFT:
        return TransitionError(_l("Diese Anfrage ist noch nicht veröffentlicht."))
    return TransitionError(_l("Diese Anfrage ist nicht mehr offen."))


def refused_from(need: Need, action: str) -> str | None:
    """Why ``action`` cannot be taken from the need's state, or None when it can: for a page
    that would otherwise offer a form whose sending can only be refused."""
    if need.status in TRANSITIONS[action].sources:
        return None
    return str(_REFUSED[action])


def change_status(
    session: Session,
    actor: User | None,
    need: Need,
    action: str,
    *,
    now: datetime,
    reason: str = "",
) -> Need:
    """Apply one life-cycle step to a need, or raise without changing anything."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValueError(f"unknown need action {action!r}")
    # Read the current state under a row lock so two requests cannot both apply a step.
    lock_row(session, need)
    if not transition.allowed(session, actor, need):
        raise PermissionDenied(_l("Sie dürfen diese Anfrage nicht ändern."))
    if need.status not in transition.sources:
        raise TransitionError(_REFUSED[action])
    reason = reason.strip()
    if transition.needs_reason and looks_blank(reason):
        raise InvalidInput(_l("Bitte geben Sie einen Grund an."))
    if action == "close":
        # Closing with an expert still advising means the advice is done: it ends as
        # completed first, so the need is "Beraten" (and counted so) before it closes.
        from matching.matches import finish_running_advice  # (imported here: see below)

        finish_running_advice(session, actor, need, now)
    before = need.status
    need.status = transition.target
    if reason:
        need.status_reason = reason
    if transition.target == S.OPEN and need.published_at is None:
        need.published_at = now
    if transition.target in ENDED:
        need.closed_at = now
    need.updated_at = now
    audit.record(
        session,
        actor,
        f"need.{action}",
        "need",
        need.id,
        from_state=before,
        to_state=need.status,
        detail={"reason": reason} if reason else None,
        now=now,
    )
    if need.status == S.OPEN:
        autorun.want(session, f"need.{action}", now)
    if need.status in ENDED:
        # The need's live matches end with it (imported here: the match life cycle
        # imports this package for the steps a match's changes cause its need).
        from matching.matches import end_with_need

        end_with_need(session, need, now)
    return need


# A need runs for weeks or months; a day further out than this is a typing slip (9999 for
# 2026) and would keep the need open for good, as the meeting times' horizon does.
EXPIRY_HORIZON = timedelta(days=730)
EXPIRY_TOO_FAR = _l("Das Ablaufdatum liegt mehr als zwei Jahre voraus. Bitte prüfen Sie das Jahr.")


@dataclass
class NeedInput:
    """What an initiative writes into a need; validated here as well as in the form."""

    title: str
    description: str
    phases: list[str]
    district: str
    language: str
    formats: list[str]
    urgency: str
    experts_wanted: int
    expires_on: date | None


def _validate(data: NeedInput, today: date) -> None:
    if looks_blank(data.title) or len(data.title) > limits.NEED_TITLE_MAX:
        raise InvalidInput(
            _l(
                "Bitte geben Sie einen Titel mit höchstens %(max)d Zeichen an.",
                max=limits.NEED_TITLE_MAX,
            )
        )
    if looks_blank(data.description):  # as the form: a need says what the advice is for
        raise InvalidInput(
            _l("Bitte beschreiben Sie kurz, wobei Sie Rat brauchen."), field="description"
        )
    if len(data.description) > limits.NEED_DESCRIPTION_MAX:
        raise InvalidInput(
            _l(
                "Die Beschreibung darf höchstens %(max)d Zeichen lang sein.",
                max=limits.NEED_DESCRIPTION_MAX,
            )
        )
    if not data.phases or not set(data.phases) <= set(PHASE_CODES):
        raise InvalidInput(_l("Bitte wählen Sie mindestens ein Thema aus der Liste."))
    if data.district not in DISTRICT_CODES:
        raise InvalidInput(_l("Bitte wählen Sie einen Stadtbezirk aus der Liste."))
    if data.language not in LANGUAGE_CODES:
        raise InvalidInput(_l("Bitte wählen Sie eine Sprache aus der Liste."))
    if not data.formats or not set(data.formats) <= set(FORMAT_CODES):
        raise InvalidInput(_l("Bitte wählen Sie mindestens eine Art der Beratung."))
    if data.urgency not in URGENCY_CODES:
        raise InvalidInput(_l("Bitte wählen Sie, wie dringend es ist."))
    if not 1 <= data.experts_wanted <= 5:
        raise InvalidInput(_l("Bitte wählen Sie 1 bis 5 Expert:innen."))
    if data.expires_on is not None and data.expires_on <= today:
        raise InvalidInput(_l("Das Ablaufdatum muss in der Zukunft liegen."), field="expires_on")
    if data.expires_on is not None and data.expires_on > today + EXPIRY_HORIZON:
        raise InvalidInput(EXPIRY_TOO_FAR, field="expires_on")


def _apply(need: Need, data: NeedInput) -> None:
    need.title = data.title.strip()
    need.description = data.description.strip()
    need.district = data.district
    need.language = data.language
    need.accepts_in_person = "in_person" in data.formats
    need.accepts_phone = "phone" in data.formats
    need.accepts_video = "video" in data.formats
    need.urgency = data.urgency
    need.experts_wanted = data.experts_wanted
    need.expires_on = data.expires_on
    wanted = [p for p in PHASE_CODES if p in set(data.phases)]
    need.phase_rows = [row for row in need.phase_rows if row.phase in wanted]
    have = {row.phase for row in need.phase_rows}
    need.phase_rows.extend(NeedPhase(phase=p) for p in wanted if p not in have)


def create_need(
    session: Session,
    actor: User,
    initiative: Initiative,
    data: NeedInput,
    *,
    now: datetime,
    publish: bool,
) -> Need:
    """A new need of an initiative, saved as draft or published at once.

    Its members post it; coordinators may record it for an initiative that called by phone.
    """
    if not (is_member(session, actor, initiative.id) or is_coordinator(actor)):
        raise PermissionDenied(_l("Sie gehören nicht zu dieser Initiative."))
    _validate(data, now.date())
    need = Need(initiative=initiative, created_by_id=actor.id, status=S.DRAFT, created_at=now)
    _apply(need, data)
    session.add(need)
    session.flush()
    audit.record(session, actor, "need.create", "need", need.id, to_state=S.DRAFT, now=now)
    if publish:
        change_status(session, actor, need, "publish", now=now)
    return need


def need_version(need: Need) -> str:
    """A fingerprint of what an edit changes: the edit form carries it as it was opened, and
    the API hands it out as the ETag, so a save from an older copy is noticed."""
    return content_version(
        need.title,
        need.description,
        sorted(need.phases),
        need.district,
        need.language,
        sorted(need.formats),
        need.urgency,
        need.experts_wanted,
        need.expires_on,
    )


NEED_CHANGED_MEANWHILE = _l(
    "Diese Anfrage wurde inzwischen geändert. Bitte laden Sie sie neu und ändern Sie sie dann."
)


def update_need(
    session: Session,
    actor: User,
    need: Need,
    data: NeedInput,
    *,
    now: datetime,
    expected_version: str | None = None,
) -> Need:
    """Change a draft or open need's content; with ``expected_version`` (see
    ``need_version``) only if nobody changed it since that version was read."""
    lock_row(session, need)
    if not can_manage_need(session, actor, need):
        raise PermissionDenied(_l("Sie dürfen diese Anfrage nicht ändern."))
    if need.status not in EDITABLE_NEED_STATUSES:
        raise TransitionError(_l("Nur Entwürfe und offene Anfragen können bearbeitet werden."))
    if expected_version is not None and expected_version != need_version(need):
        raise ChangedMeanwhile(NEED_CHANGED_MEANWHILE)
    _validate(data, now.date())
    asked = _asked_or_advising(session, need)
    if data.experts_wanted < asked:
        raise InvalidInput(
            _l(
                "Schon vergeben: %(num)d (gefragt oder in Beratung). Weniger Expert:innen "
                "können Sie hier nicht eintragen; sagen Sie es sonst der Koordination.",
                num=asked,
            ),
            field="experts_wanted",
        )
    _apply(need, data)
    need.updated_at = now
    audit.record(session, actor, "need.update", "need", need.id, now=now)
    if need.status == S.OPEN:
        # Fewer places: the need may have its experts now, or no place left for a waiting
        # proposal; the match life cycle settles both. Waiting proposals take the need as it
        # is now (imported here, see change_status).
        from matching.matches import follow_need_edit
        from matching.matches.proposals import rescore_waiting

        session.flush()  # the phases as edited, for the scores
        rescore_waiting(session, need, now)
        follow_need_edit(session, need, now)
    if need.status == S.OPEN:
        autorun.want(session, "need.update", now)
    return need


def _asked_or_advising(session: Session, need: Need) -> int:
    """The need's matches that hold a place or held one: asked, advising or done advising."""
    return session.execute(
        select(func.count())
        .select_from(Match)
        .where(
            Match.need_id == need.id,
            Match.status.in_((MatchStatus.APPROVED, MatchStatus.ACCEPTED, MatchStatus.COMPLETED)),
        )
    ).scalar_one()
