"""Meeting times on the nights the clocks change in Stuttgart (Europe/Berlin).

Spring: 02:00–02:59 does not exist; such a time is refused, at its field, and nothing is
stored. Autumn: 02:00–02:59 happens twice; it is always the first occurrence (summer time),
and order and duration are measured on the instants (matching.wallclock).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from after_match import build_scene
from sqlalchemy import func, select
from support import post_form

from matching import wallclock
from matching.errors import InvalidInput
from matching.matches import meetings
from matching.models import Meeting, MeetingOption, OutboxMessage, utcnow

BERLIN = ZoneInfo("Europe/Berlin")
SKIPPED = "Diese Uhrzeit gibt es an diesem Tag nicht"


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 6) % 7)


def _next_change(month: int) -> date:
    """The next last Sunday of ``month`` after tomorrow: within a year, so a meeting may be."""
    today = utcnow().astimezone(BERLIN).date()
    for year in (today.year, today.year + 1):
        sunday = _last_sunday(year, month)
        if sunday > today + timedelta(days=1):
            return sunday
    raise AssertionError("unreachable")


SPRING = _next_change(3)  # clocks go forward 02:00 -> 03:00
AUTUMN = _next_change(10)  # clocks go back 03:00 -> 02:00


@pytest.fixture()
def scene(db, make_user, make_volunteer, make_initiative, make_need):
    return build_scene(db, make_user, make_volunteer, make_initiative, make_need, status="accepted")


def _propose(client, auth, scene, day: date, start: str, end: str):
    auth.login("vera@example.org")
    data = {
        "place_kind": "phone",
        "place": "",
        "times-0-day": day.isoformat(),
        "times-0-start": start,
        "times-0-end": end,
    }
    return post_form(client, f"/vermittlungen/{scene.match.id}/treffen", data)


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- The conversion itself ----------------------------------------------------------------


def test_the_clock_change_days_are_the_ones_in_germany():
    assert _last_sunday(2027, 3) == date(2027, 3, 28)
    assert _last_sunday(2027, 10) == date(2027, 10, 31)
    assert SPRING.weekday() == AUTUMN.weekday() == 6


@pytest.mark.parametrize("clock", [time(2, 0), time(2, 30), time(2, 59)])
def test_a_time_the_clocks_skip_is_refused_with_the_hour_named(app, clock):
    with app.app_context(), pytest.raises(InvalidInput) as refused:
        wallclock.local_instant(date(2027, 3, 28), clock)
    message = str(refused.value.message)
    assert message.startswith(SKIPPED)
    assert "von 02:00 auf 03:00 Uhr vorgestellt" in message
    assert "Bitte wählen Sie eine andere Uhrzeit." in message


def test_the_times_around_the_skipped_hour_are_kept(app):
    with app.app_context():
        assert wallclock.local_instant(date(2027, 3, 28), time(1, 59)) == datetime(
            2027, 3, 28, 0, 59, tzinfo=UTC
        )
        assert wallclock.local_instant(date(2027, 3, 28), time(3, 0)) == datetime(
            2027, 3, 28, 1, 0, tzinfo=UTC
        )


def test_a_repeated_time_is_its_first_occurrence_and_durations_are_real(app):
    with app.app_context():
        start = wallclock.local_instant(date(2027, 10, 31), time(2, 30))
        end = wallclock.local_instant(date(2027, 10, 31), time(3, 30))
    assert start == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 summer time
    assert start.astimezone(BERLIN).utcoffset() == timedelta(hours=2)
    assert end - start == timedelta(hours=2)  # the hour 02:00-03:00 is lived twice


def test_the_service_refuses_a_skipped_time_from_any_caller(db, scene):
    """Not only the form: an aware local time in the gap never reaches the database."""
    starts = datetime.combine(SPRING, time(2, 30), tzinfo=BERLIN)
    times = [meetings.ProposedTime(starts, starts + timedelta(hours=1))]
    with pytest.raises(InvalidInput, match=SKIPPED):
        meetings.propose(
            db.session, scene.volunteer.user, scene.match, times, "phone", "", now=utcnow()
        )
    assert _count(db, Meeting) == 0


def test_the_service_measures_the_duration_on_instants(db, scene):
    starts = datetime.combine(AUTUMN, time(2, 30), tzinfo=BERLIN)
    ends = datetime.combine(AUTUMN, time(3, 30), tzinfo=BERLIN)
    times = [meetings.ProposedTime(starts, ends)]
    meeting = meetings.propose(
        db.session, scene.volunteer.user, scene.match, times, "phone", "", now=utcnow()
    )
    [option] = meeting.options
    assert option.duration_minutes == 120


# --- Through the meeting form -------------------------------------------------------------


def test_the_form_refuses_the_skipped_hour_and_stores_nothing(client, db, auth, scene):
    response = _propose(client, auth, scene, SPRING, "02:30", "03:30")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert SKIPPED in page
    assert "von 02:00 auf 03:00 Uhr vorgestellt" in page
    assert _count(db, Meeting) == 0 and _count(db, MeetingOption) == 0
    proposed = select(OutboxMessage).where(OutboxMessage.kind == "meeting_proposed")
    assert db.session.scalars(proposed).all() == []


def test_the_form_refuses_an_end_in_the_skipped_hour(client, db, auth, scene):
    response = _propose(client, auth, scene, SPRING, "01:30", "02:15")
    assert response.status_code == 422
    assert SKIPPED in response.get_data(as_text=True)
    assert _count(db, Meeting) == 0


def test_the_form_reads_the_repeated_hour_as_its_first_occurrence(client, db, auth, scene):
    response = _propose(client, auth, scene, AUTUMN, "02:30", "03:30")
    assert response.status_code == 302
    [option] = db.session.scalars(select(MeetingOption)).all()
    expected = datetime.combine(AUTUMN, time(0, 30), tzinfo=UTC)  # 02:30 summer time
    assert option.starts_at == expected
    assert option.duration_minutes == 120  # 02:30 summer time to 03:30 winter time
    ends = option.starts_at + timedelta(minutes=option.duration_minutes)
    assert ends.astimezone(BERLIN).strftime("%H:%M") == "03:30"


def test_in_the_repeated_hour_an_end_before_the_start_is_refused(client, db, auth, scene):
    response = _propose(client, auth, scene, AUTUMN, "02:45", "02:15")
    assert response.status_code == 422
    assert "Das Ende muss nach dem Beginn liegen." in response.get_data(as_text=True)
    assert _count(db, Meeting) == 0


def test_an_ordinary_time_still_works(client, db, auth, scene):
    day = utcnow().astimezone(BERLIN).date() + timedelta(days=3)
    response = _propose(client, auth, scene, day, "10:00", "11:15")
    assert response.status_code == 302
    [option] = db.session.scalars(select(MeetingOption)).all()
    assert option.starts_at == datetime.combine(day, time(10, 0), tzinfo=BERLIN)
    assert option.duration_minutes == 75
