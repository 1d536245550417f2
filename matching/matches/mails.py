"""Mails that follow a match's changes, in each recipient's language, sent after commit."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from matching import mail, mail_links
from matching.mail.recipients import coordinators
from matching.models import Match, MatchOrigin, utcnow
from matching.needs import clocks, queries
from matching.toolkit import materials


def material_links(found) -> list[tuple]:
    """(material, absolute link) for mail: its own link, else its PDF here."""
    return [(m, m.url or mail.absolute_url("toolkit.download", material_id=m.id)) for m in found]


def _match_url(match: Match) -> str:
    return mail.absolute_url("matches.detail", match_id=match.id)


def match_approved(session: Session, match: Match) -> None:
    """The volunteer is asked to accept: one button accepts, the match page has the rest.

    An approved offer ("Ich kann helfen") is the answer to the volunteer's own offer, so
    the mail says so instead of asking as if the idea came from the coordination.
    """
    volunteer = match.volunteer.user
    offer = match.origin == MatchOrigin.OFFER
    mail.queue_for_user(
        session,
        volunteer,
        "match_approved",
        _l("Ihr Angebot für „%(title)s“ wurde angenommen", title=match.need.title)
        if offer
        else _l("Eine Initiative braucht Ihren Rat"),
        offer=offer,
        match=match,
        need=match.need,
        accept_url=mail_links.accept_url(volunteer.id, match.id),
        match_url=_match_url(match),
    )


def match_reminder(session: Session, match: Match) -> None:
    """The volunteer is reminded, once, that an approved match waits for their answer."""
    volunteer = match.volunteer.user
    clock = clocks.match_clock(match, utcnow())
    mail.queue_for_user(
        session,
        volunteer,
        "match_reminder",
        _l("Erinnerung: „%(name)s“ wartet auf Ihre Antwort", name=match.need.initiative.name),
        key=f"remind:{match.id}",
        match=match,
        need=match.need,
        accept_url=mail_links.accept_url(volunteer.id, match.id),
        match_url=_match_url(match),
        release_on=(match.decided_at or match.updated_at) + clocks.after("RELEASE_AFTER_DAYS"),
        ends_on=clock.ends_on if clock else None,  # the need ends before the release
        open_question=_open_question(session, match),
        thread_url=mail.absolute_url("thread.show", match_id=match.id),
    )


def _open_question(session: Session, match: Match):
    from matching.matches.messages import open_question  # the thread lives in matches/

    return open_question(session, match) if session is not None else None


def match_accepted(session: Session, match: Match) -> None:
    """Introduction mail to both sides, each with the other's contact."""
    need = match.need
    volunteer = match.volunteer.user
    members = [row.user for row in need.initiative.member_rows if row.user.disabled_at is None]
    mail.queue_for_user(
        session,
        volunteer,
        "match_introduction_volunteer",
        _l("Sie beraten jetzt: %(name)s", name=need.initiative.name),
        need=need,
        contacts=members,
        phone_contact=need.initiative if not members and need.initiative.contact_name else None,
        match_url=_match_url(match),
        materials=material_links(materials.materials_for(session, need.phases)),
        toolkit_url=mail.absolute_url("toolkit.index"),
    )
    for member in members:
        mail.queue_for_user(
            session,
            member,
            "match_introduction_initiative",
            _l("Ihre Expert:in für „%(title)s“", title=need.title),
            need=need,
            volunteer=volunteer,
            match_url=_match_url(match),
        )


def match_declined(session: Session, match: Match) -> None:
    """Coordinators learn that a volunteer declined, so they can find someone else."""
    for coordinator in coordinators(session):
        mail.queue_for_user(
            session,
            coordinator,
            "match_declined",
            _l("Absage für „%(title)s“", title=match.need.title),
            match=match,
            need=match.need,
            volunteer=match.volunteer.user,
            need_url=mail.absolute_url("needs.detail", need_id=match.need_id),
        )


def new_offer(session: Session, match: Match) -> None:
    """Coordinators learn that a volunteer offered help."""
    for coordinator in coordinators(session):
        mail.queue_for_user(
            session,
            coordinator,
            "new_offer",
            _l("Neues Hilfsangebot für „%(title)s“", title=match.need.title),
            need=match.need,
            volunteer=match.volunteer.user,
            queue_url=mail.absolute_url("coordination.queue"),
            need_url=mail.absolute_url("needs.detail", need_id=match.need_id),
        )


def match_released(session: Session, match: Match) -> None:
    """The volunteer is told kindly that an unanswered match went back to matching."""
    volunteer = match.volunteer.user
    mail.queue_for_user(
        session,
        volunteer,
        "match_released",
        _l("„%(title)s“: Wir fragen jemand anderen", title=match.need.title),
        key=f"release:{match.id}",
        match=match,
        need=match.need,
        profile_url=mail.absolute_url("profiles.profile"),
        overview_url=mail.absolute_url("profiles.overview"),
        # A pause already set: the mail does not suggest setting one.
        paused=not queries.is_available(match.volunteer, utcnow().date()),
    )


def need_ended(session: Session, match: Match, before: str) -> None:
    """A volunteer who was asked, was advising or had offered help hears that the need
    ended (withdrawn, closed or expired), so the match is over and nothing is left to do."""
    volunteer = match.volunteer.user
    if volunteer.disabled_at is not None:
        return
    mail.queue_for_user(
        session,
        volunteer,
        "need_ended",
        _l("„%(title)s“ braucht keine Beratung mehr", title=match.need.title),
        key=f"need-ended:{match.id}",
        match=match,
        need=match.need,
        was_accepted=before == "accepted",
        overview_url=mail.absolute_url("profiles.overview"),
    )


def proposals_waiting(session: Session, waiting: list[Match], key: str, days: int) -> int:
    """Coordinators are reminded of proposals undecided for ``days``; one mail each per set."""
    sent = 0
    for coordinator in coordinators(session):
        row = mail.queue_for_user(
            session,
            coordinator,
            "proposals_waiting",
            _l("Erinnerung: Vorschläge warten auf Ihre Entscheidung"),
            key=f"{key}:{coordinator.id}",
            waiting=waiting,
            days=days,
            queue_url=mail.absolute_url("coordination.queue"),
        )
        sent += row is not None
    return sent


def needs_uncovered(session: Session, needs: list, key: str, days: int) -> int:
    """Coordinators learn of needs nobody could take for ``days``, with their coverage boxes."""
    sent = 0
    for coordinator in coordinators(session):
        row = mail.queue_for_user(
            session,
            coordinator,
            "needs_uncovered",
            _l("Anfragen ohne passende Expert:in: Bitte helfen Sie beim Suchen"),
            key=f"{key}:{coordinator.id}",
            needs=needs,
            days=days,
            need_urls={n.id: mail.absolute_url("needs.detail", need_id=n.id) for n in needs},
            box_urls={
                n.id: [
                    (
                        phase,
                        mail.absolute_url("reports.coverage_box", district=n.district, phase=phase),
                    )
                    for phase in n.phases
                ]
                for n in needs
            },
            coverage_url=mail.absolute_url("reports.coverage"),
        )
        sent += row is not None
    return sent
