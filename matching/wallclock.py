"""A day and a time on the clocks in Stuttgart, as the instant (UTC) they stand for.

Twice a year a time on the wall clock is not exactly one instant (Europe/Berlin):

* Last Sunday of March the clocks jump from 02:00 to 03:00: 02:00–02:59 does not exist that
  night. ``datetime.combine`` would quietly read 02:30 with the winter offset, which is 03:30
  summer time; here such a time is refused with a sentence for the person (``InvalidInput``).
* Last Sunday of October the clocks go back from 03:00 to 02:00: 02:00–02:59 happens twice.
  It is always read as its **first** occurrence (still summer time, ``fold=0``), for a start
  and an end alike. "02:30 to 03:30" that night therefore lasts two hours; whether the end
  comes after the start, and how long a meeting is, are measured on the instants.

Every local day and time that becomes an instant goes through ``local_instant`` (the meeting
form); an aware datetime from elsewhere is checked and turned into UTC by ``as_instant`` (the
meeting service), so no caller stores a time that never happens or gets a wrong duration.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l

from matching.errors import InvalidInput


def service_zone() -> ZoneInfo:
    """The time zone of the clocks the people use (BABEL_DEFAULT_TIMEZONE, Europe/Berlin)."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_instant(
    day: date, clock: time, *, zone: tzinfo | None = None, field: str | None = None
) -> datetime:
    """The instant (UTC) of ``clock`` on ``day`` in ``zone`` (the service's by default).

    A time in the hour skipped in spring raises ``InvalidInput`` (naming ``field``); a time
    in the hour repeated in autumn is its first occurrence.
    """
    wall = datetime.combine(day, clock.replace(tzinfo=None, fold=0), tzinfo=zone or service_zone())
    return as_instant(wall, field=field)


def as_instant(moment: datetime, *, field: str | None = None) -> datetime:
    """An aware datetime as UTC, refused if its wall time does not exist in its time zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime given; give the time zone of the wall clock")
    instant = moment.astimezone(UTC)
    if _wall(instant.astimezone(moment.tzinfo)) != _wall(moment):
        raise InvalidInput(_skipped_message(moment), field=field)
    return instant


def _wall(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None, fold=0)


def _skipped_message(moment: datetime):
    """The refusal of a time the clocks skip, naming the hour they jump over."""
    zone = moment.tzinfo
    before, after = moment.replace(fold=0).utcoffset(), moment.replace(fold=1).utcoffset()
    assert zone is not None and before is not None and after is not None  # aware, checked above
    # In the gap, fold=1 reads the time with the later offset (the earlier instant) and fold=0
    # with the earlier offset: the change lies between the two. Narrow it down to the minute.
    low, high = moment.replace(fold=1).astimezone(UTC), moment.replace(fold=0).astimezone(UTC)
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    change = high.replace(second=0, microsecond=0)
    return _l(
        "Diese Uhrzeit gibt es an diesem Tag nicht: In der Nacht wird die Uhr von %(skipped)s "
        "auf %(shown)s Uhr vorgestellt (Sommerzeit). Bitte wählen Sie eine andere Uhrzeit.",
        skipped=(change + before).strftime("%H:%M"),
        shown=(change + after).strftime("%H:%M"),
    )
