"""Meine Daten as a page a person can read and print: the same facts as the JSON download.

Built from ``privacy.export`` so that the page and the file never tell different stories;
codes become the words the pages use, times Stuttgart's local time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matching.audit import ACTION_LABELS, OBJECT_LABELS
from matching.digests import KIND_LABELS as DIGEST_LABELS
from matching.i18n import current_locale, date_pattern, format_moment
from matching.matches import STATUS_LABELS as MATCH_LABELS
from matching.matches.meetings import OUTCOME_LABELS
from matching.matches.participants import ROLE_LABELS as THREAD_ROLE_LABELS
from matching.matches.passes import REASON_LABELS as PASS_LABELS
from matching.models import MaterialStatus, MeetingStatus, OutboxStatus, ProfileStatus, Role
from matching.needs import STATUS_LABELS as NEED_LABELS
from matching.reference import (
    DISTRICT_BY_CODE,
    FORMATS,
    LANGUAGES,
    LEVELS,
    PHASE_BY_CODE,
)

CONSENT_LABELS = {"privacy": _l("Datenschutzerklärung")}
ROLE_LABELS = {
    Role.VOLUNTEER: _l("Vernetzungs-Expert:in"),
    Role.INITIATIVE: _l("Initiative"),
    Role.COORDINATOR: _l("Koordination"),
    Role.ADMIN: _l("Verwaltung"),
}
PROFILE_LABELS = {
    ProfileStatus.DRAFT: _l("Entwurf"),
    ProfileStatus.PENDING: _l("Wartet auf Freigabe"),
    ProfileStatus.APPROVED: _l("Freigegeben"),
    ProfileStatus.RETURNED: _l("Zurückgegeben"),
}
MAIL_LABELS = {
    OutboxStatus.PENDING: _l("Wartet auf Versand"),
    OutboxStatus.SENDING: _l("Wird gesendet"),
    OutboxStatus.SENT: _l("Gesendet"),
    OutboxStatus.FAILED: _l("Nicht zustellbar"),
    OutboxStatus.DROPPED: _l("Nicht gesendet"),
}
MEETING_LABELS = {
    MeetingStatus.PROPOSED: _l("Zeiten vorgeschlagen"),
    MeetingStatus.CONFIRMED: _l("Vereinbart"),
    MeetingStatus.CANCELLED: _l("Abgesagt"),
}
MESSAGE_MAIL_LABELS = {
    "each": _l("Zu jeder neuen Nachricht"),
    "daily": _l("Einmal am Tag eine Zusammenfassung"),
    "off": _l("Keine E-Mails"),
}
MATERIAL_LABELS = {
    MaterialStatus.SUGGESTED: _l("Vorgeschlagen"),
    MaterialStatus.APPROVED: _l("Veröffentlicht"),
    MaterialStatus.REJECTED: _l("Nicht aufgenommen"),
}
_FORMATS = {c.code: c for c in FORMATS}
_LANGUAGES = {c.code: c for c in LANGUAGES}
_LEVELS = {int(c.code): c for c in LEVELS}


@dataclass
class Section:
    """One part of the page: facts (label and value), or a table, or neither (then ``empty``)."""

    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    empty: str = ""


def when(value: str | None) -> str:
    """An ISO time from the export as local date and time ("" when unset), in the
    patterns of every other page."""
    if not value:
        return ""
    if len(value) == 10:  # a day, like the end of a pause
        return format_date(date.fromisoformat(value), date_pattern("medium"))
    return format_moment(datetime.fromisoformat(value), "medium")


def _said(labels: dict, code) -> str:
    return "" if code is None else str(labels.get(code, code))


def _named(reference: dict, code) -> str:
    choice = reference.get(code)
    return str(code) if choice is None else choice.label(current_locale())


def _yes_no(value: bool) -> str:
    return _("ja") if value else _("nein")


def sections(data: dict) -> list[Section]:
    """The export, in the order and words of the page."""
    account = data["account"]
    result = [
        Section(
            _("Ihr Konto"),
            facts=[
                (_("E-Mail-Adresse"), account["email"]),
                (_("Vorname"), account["first_name"]),
                (_("Nachname"), account["last_name"] or "–"),
                (_("Telefon"), account["phone"] or "–"),
                (_("Sprache"), _named(_LANGUAGES, account["locale"])),
                (_("Rollen"), ", ".join(_said(ROLE_LABELS, r) for r in account["roles"])),
                (_("Konto angelegt"), when(account["created_at"])),
                (_("E-Mail-Adresse bestätigt"), when(account["confirmed_at"]) or "–"),
                (_("Zuletzt angemeldet"), when(account["last_login_at"]) or "–"),
                (_("Datenschutzerklärung zugestimmt (Fassung)"), account["privacy_version"]),
            ],
        ),
        Section(
            _("Ihre Einwilligungen"),
            headers=[_("Wozu"), _("Fassung"), _("Am")],
            rows=[
                [_said(CONSENT_LABELS, c["kind"]), c["version"], when(c["given_at"])]
                for c in data["consents"]
            ],
            empty=_("Keine Einwilligungen gespeichert."),
        ),
        Section(
            _("Ihre E-Mail-Benachrichtigungen"),
            facts=[
                (_said(DIGEST_LABELS, kind), _yes_no(on))
                for kind, on in sorted(data["digest_settings"].items())
            ],
            empty=_("Sie haben nichts eingestellt; es gelten die Voreinstellungen."),
        ),
    ]
    profile = data["volunteer_profile"]
    if profile is not None:
        levels = profile["levels"]
        result.append(
            Section(
                _("Ihr Profil als Expert:in"),
                facts=[
                    (_("Stand"), _said(PROFILE_LABELS, profile["status"])),
                    *(
                        (_named(PHASE_BY_CODE, phase), _named(_LEVELS, level))
                        for phase, level in levels.items()
                    ),
                    (
                        _("Stadtbezirke"),
                        _("ganz Stuttgart")
                        if profile["whole_city"]
                        else ", ".join(_named(DISTRICT_BY_CODE, d) for d in profile["districts"]),
                    ),
                    (
                        _("Sprachen"),
                        ", ".join(_named(_LANGUAGES, c) for c in profile["languages"]),
                    ),
                    (
                        _("Art der Beratung"),
                        ", ".join(_named(_FORMATS, c) for c in profile["formats"]),
                    ),
                    (_("Gleichzeitig höchstens"), str(profile["capacity"])),
                    (_("Pause bis"), when(profile["paused_until"]) or "–"),
                    (_("Über Sie"), profile["bio"] or "–"),
                ],
            )
        )
        result.append(
            Section(
                _("Ihre Vermittlungen"),
                headers=[
                    _("Anfrage"),
                    _("Stand"),
                    _("Vorgeschlagen"),
                    _("Zugesagt"),
                    _("Beendet"),
                    _("Was Sie geschrieben haben"),
                ],
                rows=[
                    [
                        m["need"],
                        _said(MATCH_LABELS, m["status"]),
                        when(m["created_at"]),
                        when(m["accepted_at"]),
                        when(m["completed_at"]),
                        " ".join(t for t in (m.get("declined_reason"), m.get("look_back")) if t),
                    ]
                    for m in data["matches"]
                ],
                empty=_("Noch keine Vermittlungen."),
            )
        )
    result.append(
        Section(
            _("Initiativen, für die Sie handeln"),
            headers=[_("Name"), _("Stadtbezirk"), _("Stadtteil"), _("Beschreibung"), _("Webseite")],
            rows=[
                [
                    i["name"],
                    _named(DISTRICT_BY_CODE, i["district"]),
                    i["sub_district"],
                    i.get("description", ""),
                    i["website"],
                ]
                for i in data["initiatives"]
            ],
            empty=_("Sie handeln für keine Initiative."),
        )
    )
    result.append(
        Section(
            _("Anfragen, die Sie angelegt haben"),
            headers=[_("Nr."), _("Titel"), _("Beschreibung"), _("Stand"), _("Angelegt")],
            rows=[
                [
                    str(n["id"]),
                    n["title"],
                    n.get("description", ""),
                    _said(NEED_LABELS, n["status"]),
                    when(n["created_at"]),
                ]
                for n in data["needs_created"]
            ],
            empty=_("Keine Anfragen."),
        )
    )
    result.append(
        Section(
            _("Ihre Rückmeldungen zu Beratungen"),
            headers=[_("Anfrage"), _("Bewertung"), _("Ihr Kommentar"), _("Am")],
            rows=[
                [f["need"], str(f["rating"]), f["comment"], when(f["at"])]
                for f in data["feedback_given"]
            ],
            empty=_("Keine Rückmeldungen."),
        )
    )
    result.append(
        Section(
            _("E-Mails an Sie"),
            headers=[_("Betreff"), _("Stand"), _("Angelegt")],
            rows=[
                [m["subject"], _said(MAIL_LABELS, m["status"]), when(m["created_at"])]
                for m in data["mails"]
            ],
            empty=_("Keine E-Mails."),
        )
    )
    result.append(
        Section(
            _("Anfragen, zu denen Sie „Diesmal nicht“ gesagt haben"),
            headers=[_("Anfrage-Nr."), _("Grund"), _("Am")],
            rows=[
                [str(p["need"]), _said(PASS_LABELS, p["reason"]), when(p["at"])]
                for p in data.get("not_this_time", [])
            ],
            empty=_("Keine."),
        )
    )
    result.append(
        Section(
            _("Materialien, die Sie vorgeschlagen haben"),
            headers=[_("Titel"), _("Thema"), _("Stand"), _("Am")],
            rows=[
                [
                    m["title"],
                    _named(PHASE_BY_CODE, m["phase"]),
                    _said(MATERIAL_LABELS, m["status"]),
                    when(m["at"]),
                ]
                for m in data["materials_suggested"]
            ],
            empty=_("Keine."),
        )
    )
    result.append(
        Section(
            _("Barrieren, die Sie gemeldet haben"),
            headers=[_("Seite"), _("Beschreibung"), _("Am")],
            rows=[[b["page"], b["description"], when(b["at"])] for b in data["barriers_reported"]],
            empty=_("Keine."),
        )
    )
    result.append(
        Section(
            _("Ihre Nachrichten"),
            headers=[_("Vermittlung Nr."), _("Als"), _("Text"), _("Am")],
            rows=[
                [str(m["match"]), _said(THREAD_ROLE_LABELS, m["as"]), m["text"], when(m["at"])]
                for m in data.get("messages_written", [])
            ],
            empty=_("Keine Nachrichten."),
        )
    )
    result.append(
        Section(
            _("E-Mails zu neuen Nachrichten"),
            facts=[
                (_("Einstellung"), _said(MESSAGE_MAIL_LABELS, data.get("message_mail", "each")))
            ],
        )
    )
    result.append(
        Section(
            _("Treffen Ihrer Vermittlungen"),
            headers=[_("Vermittlung Nr."), _("Stand"), _("Ort"), _("Beginn"), _("Ergebnis")],
            rows=[
                [
                    str(m["match"]),
                    _said(MEETING_LABELS, m["status"]),
                    m["place"] or "–",
                    when(m["starts_at"]) or "–",
                    _said(OUTCOME_LABELS, m["outcome"]) if m["outcome"] else "–",
                ]
                for m in data.get("meetings", [])
            ],
            empty=_("Keine Treffen."),
        )
    )
    result.append(
        Section(
            _("Was Sie getan haben (Verlauf)"),
            headers=[_("Wann"), _("Was"), _("Betrifft")],
            rows=[
                [
                    when(e["at"]),
                    _said(ACTION_LABELS, e["action"]),
                    f"{_said(OBJECT_LABELS, e['object'])} {e['id'] or ''}".strip(),
                ]
                for e in data["activity"]
            ],
            empty=_("Noch nichts."),
        )
    )
    return result
