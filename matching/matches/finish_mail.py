"""Mail at the end of a match: feedback after the advice, kind words when it does not happen.

Called by the match life cycle after each transition, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from matching import mail
from matching.mail_links import offer_url
from matching.matches.participants import initiative_people, need_people
from matching.models import (
    ENGAGED_MATCH_STATUSES,
    Match,
    MatchOrigin,
    MatchStatus,
    Need,
    NeedStatus,
    User,
)

OTHER_NEEDS = 2


# Key in ``session.info``: the need whose closing completes its running advice just now.
CLOSING = "finish_mail_closing_need"


def after_transition(
    session: Session, action: str, match: Match, before: str, actor: User | None, *, now: datetime
) -> None:
    """The mails a step of the match life cycle owes the people in it."""
    if action == "complete":
        feedback_requests(session, match)
    elif (action in ("release", "decline") and before != MatchStatus.PROPOSED) or (
        action == "cancel" and actor is not None and before in ENGAGED_MATCH_STATUSES
    ):
        # (An offer taken back before the coordinators decided: the initiative never knew.)
        # A coordinator's cancel, a volunteer's "no", a release by the system; the system's
        # own cancel of other proposals once a need is matched needs no word to anyone.
        initiative_told(session, match, before)
    elif action == "reject" and match.origin == MatchOrigin.OFFER:
        offer_rejected(session, match, now)


def feedback_requests(session: Session, match: Match) -> None:
    """Both sides are asked how it went: the initiative 1–5 and a sentence, the volunteer
    what helped and whether a next phase is due."""
    need = match.need
    for person in initiative_people(match):
        mail.queue_for_user(
            session,
            person,
            "match_done_initiative",
            _l("Wie war die Beratung zu „%(title)s“?", title=need.title),
            key=f"done:{match.id}:{person.id}",
            need=need,
            volunteer_name=match.volunteer.user.first_name,
            advised=need.status == NeedStatus.ADVISED,
            closing=session.info.get(CLOSING) == need.id,
            feedback_url=mail.absolute_url("matches.feedback", match_id=match.id),
        )
    volunteer = match.volunteer.user
    if volunteer.disabled_at is None:
        mail.queue_for_user(
            session,
            volunteer,
            "match_done_volunteer",
            _l("Danke für Ihre Beratung von %(name)s", name=need.initiative.name),
            key=f"done:{match.id}:{volunteer.id}",
            need=need,
            look_back_url=mail.absolute_url("finishing.look_back", match_id=match.id),
        )


def initiative_told(session: Session, match: Match, before: str) -> None:
    """The initiative learns, kindly, that this expert will not advise it, and what follows."""
    need = match.need
    for person in initiative_people(match):
        mail.queue_for_user(
            session,
            person,
            "match_ended_initiative",
            _l("Neuigkeiten zu „%(title)s“", title=need.title),
            key=f"ended:{match.id}:{person.id}",
            need=need,
            was_accepted=before == MatchStatus.ACCEPTED,
            searching=need.status == NeedStatus.OPEN,
            need_url=mail.absolute_url("needs.detail", need_id=need.id),
        )


def need_expired(session: Session, need: Need, advisors: list[str]) -> None:
    """The initiative learns on the day its need expired, not from the next weekly digest:
    with ``advisors`` (the first names of experts still advising) that their advice goes on
    and only the search ended; without, how to ask again."""
    for person in need_people(need):
        mail.queue_for_user(
            session,
            person,
            "need_expired",
            _l("Ihre Anfrage ist abgelaufen: „%(title)s“", title=need.title),
            key=f"expired:{need.id}:{person.id}",
            need=need,
            advisors=advisors,
            need_url=mail.absolute_url("needs.detail", need_id=need.id),
            new_need_url=mail.absolute_url("initiatives.new_need"),
        )


def offer_rejected(session: Session, match: Match, now: datetime) -> None:
    """A volunteer whose offer was not taken hears so kindly, with two other needs that fit."""
    from matching.matches.proposals import ranked_needs_for  # it imports the match services

    volunteer = match.volunteer.user
    if volunteer.disabled_at is not None:
        return
    others = [
        need
        for need, _score in ranked_needs_for(session, match.volunteer, now, k=OTHER_NEEDS + 1)
        if need.id != match.need_id
    ][:OTHER_NEEDS]
    mail.queue_for_user(
        session,
        volunteer,
        "offer_rejected",
        _l("Ihr Angebot für „%(title)s“", title=match.need.title),
        key=f"offer-rejected:{match.id}",
        need=match.need,
        reason=match.reason if match.reason_shared else "",
        others=[
            (n, mail.absolute_url("needs.detail", need_id=n.id), offer_url(volunteer.id, n.id))
            for n in others
        ],
        overview_url=mail.absolute_url("profiles.overview"),
    )
