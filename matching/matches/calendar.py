"""The meeting as an RFC 5545 invitation, built with the icalendar library.

One UID per meeting for its whole life: a calendar program replaces the entry when a
message with the same UID and a higher SEQUENCE arrives (a move), and removes it on
METHOD:CANCEL. The organizer is the service's own address, so nobody's contact is
handed out by the invitation itself.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from matching.matches.participants import sides
from matching.models import Meeting, MeetingStatus, PlaceKind


def place_text(meeting: Meeting) -> str:
    """Where the meeting happens, in words."""
    if meeting.place_kind == PlaceKind.PHONE:
        return _("Telefon")
    return meeting.place


def _address(email: str, name: str, **params) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name)
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


def _uid(meeting: Meeting) -> str:
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "vernetzerboerse.invalid"
    return f"{meeting.uid}@{host}"


def invitation(meeting: Meeting, *, now: datetime, locale: str = "de") -> str:
    """The .ics text: METHOD:REQUEST for a confirmed meeting, METHOD:CANCEL for a cancelled one."""
    cancelled = meeting.status == MeetingStatus.CANCELLED
    need = meeting.match.need
    with force_locale(locale):
        summary = _("Treffen: %(title)s", title=need.title)
        description = _(
            "Erstes Treffen zur Beratung von %(initiative)s, vereinbart über die Vernetzerbörse.",
            initiative=need.initiative.name,
        )
        location = place_text(meeting)
    calendar = Calendar()
    calendar.add("prodid", "-//Stadtteilvernetzer Stuttgart//Vernetzerboerse//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", _uid(meeting))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("summary", summary)
    event.add("description", description)
    event.add("location", location)
    if meeting.place_kind == PlaceKind.VIDEO:
        event.add("url", meeting.place)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    name, email = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    event.add("organizer", _address(email, name or current_app.config["SITE_NAME"]))
    for person in sides(meeting.match):
        event.add(
            "attendee",
            _address(
                person.email,
                person.display_name,
                role="REQ-PARTICIPANT",
                partstat="NEEDS-ACTION",
                rsvp="FALSE",
            ),
            encode=0,
        )
    calendar.add_component(event)
    return calendar.to_ical().decode()
