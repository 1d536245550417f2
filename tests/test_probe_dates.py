"""Days and times typed by hand: a browser without a date picker shows a text box.

A day written as people write it (24.12.2027) or a time with a dot (14.30) is read; anything
else gets a German sentence saying how to write it, never WTForms' English "Not a valid date
value.", and a repeated group (the meeting's three times) never shows its errors as a
Python dict in the summary. Nothing is stored.
"""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from after_match import build_scene
from db_state import changed_tables, snapshot
from support import NEED_FORM, PROFILE_FORM, csrf_token

from matching.models import Meeting, Role

NEXT_YEAR = date.today().year + 1
DAY_MESSAGE = "Bitte geben Sie den Tag so an: 24.12.2026."
TIME_MESSAGE = "Bitte geben Sie die Uhrzeit so an: 14:30."


def _meeting(ctx, day="", start="10:00", end="11:00"):
    scene = build_scene(*ctx.factories, status="accepted")
    ctx.auth.login("vera@example.org")
    data = {
        "times-0-day": day,
        "times-0-start": start,
        "times-0-end": end,
        "place_kind": "phone",
    }
    return f"/vermittlungen/{scene.match.id}/treffen", data


def _need(ctx):
    _initiative, member = ctx.make_initiative()
    ctx.auth.login(member.email)
    return "/meine-anfragen/neu", dict(NEED_FORM)


def _profile(ctx):
    ctx.make_volunteer("vera@example.org", districts=("ost", "mitte"))
    ctx.auth.login("vera@example.org")
    return "/profil", dict(PROFILE_FORM)


def _phone_need(ctx):
    ctx.make_user("koo@example.org", roles=(Role.COORDINATOR,))
    ctx.auth.login("koo@example.org")
    return "/koordination/anfrage-aufnehmen", {
        **NEED_FORM,
        "initiative_name": "Hallschlag hilft",
        "contact_name": "Frau Berger",
        "contact_phone": "0711 555",
        "consent": "y",
        "consent_on": "",
    }


# form → (set-up, the day field, its time fields)
FORMS = {
    "meeting": (_meeting, "times-0-day", ["times-0-start", "times-0-end"]),
    "need": (_need, "expires_on", []),
    "profile": (_profile, "paused_until", []),
    "phone_need": (_phone_need, "consent_on", []),
}


class Ctx:
    def __init__(self, db, auth, make_user, make_volunteer, make_initiative, make_need):
        self.db, self.auth = db, auth
        self.make_user, self.make_volunteer = make_user, make_volunteer
        self.make_initiative = make_initiative
        self.factories = (db, make_user, make_volunteer, make_initiative, make_need)


@pytest.fixture()
def ctx(db, auth, make_user, make_volunteer, make_initiative, make_need):
    return Ctx(db, auth, make_user, make_volunteer, make_initiative, make_need)


def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def _refused(ctx, client, path, data) -> str:
    before = snapshot(ctx.db.session)
    response = _post(client, path, data)
    assert response.status_code in (200, 422)
    assert changed_tables(before, snapshot(ctx.db.session)) == []
    text = unescape(response.get_data(as_text=True))
    assert "Not a valid" not in text
    assert "{'" not in text  # no Python dict in the error summary
    return text


@pytest.mark.parametrize("typed", ["morgen", "31.02.2027", "2027/01/10", "24.12.27x"])
@pytest.mark.parametrize("form", list(FORMS))
def test_a_day_that_cannot_be_read_says_how_to_write_it(client, ctx, form, typed):
    setup, day_field, _times = FORMS[form]
    path, data = setup(ctx)
    data[day_field] = typed

    text = _refused(ctx, client, path, data)

    assert DAY_MESSAGE in text


@pytest.mark.parametrize("field", ["times-0-start", "times-0-end"])
@pytest.mark.parametrize("typed", ["10 Uhr", "25:00", "halb elf"])
def test_a_time_that_cannot_be_read_says_how_to_write_it(client, ctx, field, typed):
    path, data = _meeting(ctx, day=f"{NEXT_YEAR}-01-10")
    data[field] = typed

    text = _refused(ctx, client, path, data)

    assert TIME_MESSAGE in text


def test_a_meeting_typed_the_german_way_is_proposed(client, ctx, db):
    path, data = _meeting(ctx, day=f"10.01.{NEXT_YEAR}", start="14.30", end="15.30")

    response = _post(client, path, data)

    assert response.status_code == 302
    meeting = db.session.query(Meeting).one()
    option = meeting.options[0]
    assert option.starts_at.date() == date(NEXT_YEAR, 1, 10)
    assert option.duration_minutes == 60


def test_an_expiry_day_typed_the_german_way_is_kept(client, ctx, db):
    path, data = _need(ctx)
    data["expires_on"] = f"31.12.{NEXT_YEAR}"

    response = _post(client, path, data)

    assert response.status_code == 302
    page = client.get(response.headers["Location"], follow_redirects=True)
    assert page.status_code == 200
