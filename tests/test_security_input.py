"""Odd input on every kind of form, in the URL and in the API: a message, never a 500.

One table per class of defect, run on SQLite and (with TEST_DATABASE_URL) on PostgreSQL,
where a NUL byte in any text used to be a 500:

- control characters: NUL in every text field; CR/LF in every one-line field (a title or
  a name ends up in a mail subject); multi-line fields keep their line breaks;
- non-text input: a JSON body, or a file where a text field belongs;
- ids in a form body that overflow the database's integer or are not ASCII digits ("²");
- API dates and cursors at the edge of the calendar.

Whatever the input, the answer is below 500, and every table is exactly as before.
"""

from __future__ import annotations

import base64
import io
import json
import re
from html import unescape

import pytest
from api_support import token_for
from db_state import changed_tables, snapshot
from support import NEED_FORM, PROFILE_FORM, csrf_token

from matching.models import Match, MatchStatus, Role
from matching.text import has_forbidden_characters

ONE_LINE = "Bitte schreiben Sie alles in eine Zeile, ohne Zeilenumbruch oder Steuerzeichen."
CONTROL = "Der Text enthält ein unzulässiges Steuerzeichen. Bitte entfernen Sie es."
PASSWORD = "ein langer Satz als Passwort"


def _barrier(ctx):
    return "/barrierefreiheit", {
        "page": "Startseite",
        "description": "Der Knopf ist zu klein.",
        "contact": "0711 123",
    }


def _new_need(ctx):
    _initiative, member = ctx.make_initiative()
    ctx.auth.login(member.email)
    return "/meine-anfragen/neu", dict(NEED_FORM)


def _profile(ctx):
    ctx.make_volunteer("vera@example.org", districts=("ost", "mitte"))
    ctx.auth.login("vera@example.org")
    return "/profil", dict(PROFILE_FORM)


def _initiative(ctx):
    _initiative, member = ctx.make_initiative()
    ctx.auth.login(member.email)
    return "/initiative", {
        "name": "Nachbarschaft Ost",
        "district": "ost",
        "sub_district": "Gablenberg",
        "description": "Wir treffen uns montags.",
        "website": "",
    }


def _decline(ctx):
    profile = ctx.make_volunteer("vera@example.org")
    initiative, _member = ctx.make_initiative()
    need = ctx.make_need(initiative)
    match = Match(need_id=need.id, volunteer_id=profile.id, status=MatchStatus.APPROVED)
    ctx.db.session.add(match)
    ctx.db.session.commit()
    ctx.auth.login("vera@example.org")
    return f"/vermittlungen/{match.id}/absagen", {"reason": "Keine Zeit im Moment."}


def _signup(ctx):
    return "/registrieren", {
        "role": "volunteer",
        "first_name": "Erika",
        "last_name": "Muster",
        "email": "neu@example.org",
        "password": PASSWORD,
        "privacy": "y",
    }


def _phone_need(ctx):
    ctx.make_user("koo@example.org", roles=(Role.COORDINATOR,))
    ctx.auth.login("koo@example.org")
    return "/koordination/anfrage-aufnehmen", {
        **NEED_FORM,
        "initiative_name": "Hallschlag hilft",
        "sub_district": "",
        "contact_name": "Frau Berger",
        "contact_phone": "0711 555",
        "contact_email": "",
    }


def _api_token(ctx):
    ctx.make_user("erika@example.org")
    ctx.auth.login("erika@example.org")
    return "/konto/api-zugang", {"name": "Webseite", "expires": "365"}


def _change_password(ctx):
    ctx.make_user("erika@example.org")
    ctx.auth.login("erika@example.org")
    return "/konto/passwort", {
        "current_password": PASSWORD,
        "password": "ein ganz neuer Satz zum Merken",
        "password_repeat": "ein ganz neuer Satz zum Merken",
    }


# form → (set-up, one-line text fields, multi-line text fields)
FORMS = {
    "barrier": (_barrier, ["page", "contact"], ["description"]),
    "new_need": (_new_need, ["title"], ["description"]),
    "profile": (_profile, ["phone"], ["bio"]),
    "initiative": (_initiative, ["name", "sub_district"], ["description"]),
    "decline": (_decline, [], ["reason"]),
    "signup": (_signup, ["first_name", "last_name"], []),
    "phone_need": (_phone_need, ["initiative_name", "title", "contact_name"], ["description"]),
    "api_token": (_api_token, ["name"], []),
    "change_password": (_change_password, [], []),
}


class Context:
    def __init__(self, db, auth, make_user, make_volunteer, make_initiative, make_need):
        self.db = db
        self.auth = auth
        self.make_user = make_user
        self.make_volunteer = make_volunteer
        self.make_initiative = make_initiative
        self.make_need = make_need


@pytest.fixture()
def ctx(db, auth, make_user, make_volunteer, make_initiative, make_need):
    return Context(db, auth, make_user, make_volunteer, make_initiative, make_need)


def _post(client, path, data, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data}, **kwargs)


def _refused_without_change(db, before, response) -> str:
    assert response.status_code < 500
    assert changed_tables(before, snapshot(db.session)) == []
    return unescape(response.get_data(as_text=True))


def _cases(kind: str):
    for form, (_setup, one_line, multi_line) in FORMS.items():
        fields = one_line if kind == "one_line" else one_line + multi_line
        for field in fields:
            yield pytest.param(form, field, id=f"{form}-{field}")


@pytest.mark.parametrize(("form", "field"), list(_cases("any")))
def test_a_nul_byte_in_any_text_field_is_refused_with_a_message(client, ctx, form, field):
    setup, one_line, _multi = FORMS[form]
    path, data = setup(ctx)
    before = snapshot(ctx.db.session)
    data[field] = "Hallo\x00Welt"

    text = _refused_without_change(ctx.db, before, _post(client, path, data))

    assert (ONE_LINE if field in one_line else CONTROL) in text


# Bidirectional overrides and isolates reorder what a reader sees ("Trojan Source"): a
# message could show other words than it holds.
@pytest.mark.parametrize(("form", "field"), list(_cases("any")))
@pytest.mark.parametrize("bidi", ["\u202a", "\u202e", "\u2066", "\u2069"], ids=repr)
def test_a_bidi_control_in_any_text_field_is_refused(client, ctx, form, field, bidi):
    setup, one_line, _multi = FORMS[form]
    path, data = setup(ctx)
    before = snapshot(ctx.db.session)
    data[field] = f"Bitte{bidi}gnuthcA"

    text = _refused_without_change(ctx.db, before, _post(client, path, data))

    assert (ONE_LINE if field in one_line else CONTROL) in text


@pytest.mark.parametrize(
    "bidi", [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]], ids=repr
)
@pytest.mark.parametrize("multi_line", [True, False])
def test_every_bidi_control_is_forbidden_text(bidi, multi_line):
    assert has_forbidden_characters(f"Bitte{bidi}gnuthcA", multi_line=multi_line)
    # A right-to-left mark alone reorders nothing; Arabic and Hebrew text needs it.
    assert not has_forbidden_characters("Bitte Achtung \u200f", multi_line=multi_line)


@pytest.mark.parametrize(("form", "field"), list(_cases("one_line")))
# U+2028/U+2029 are line breaks to str.splitlines(): Python's mail policy refuses a subject
# holding one, so a need title with it would leave its meeting mails unsendable.
@pytest.mark.parametrize(
    "breaker", ["\r\n", "\n", "\r", "\t", "\x1b", "\u2028", "\u2029", "\x85"], ids=repr
)
def test_a_line_break_in_a_one_line_field_is_refused(client, ctx, form, field, breaker):
    setup, _one_line, _multi = FORMS[form]
    path, data = setup(ctx)
    before = snapshot(ctx.db.session)
    data[field] = f"Erste Zeile{breaker}Bcc: fremd@example.org"

    text = _refused_without_change(ctx.db, before, _post(client, path, data))

    assert ONE_LINE in text


@pytest.mark.parametrize("form", ["new_need", "profile", "barrier"])
def test_multi_line_fields_keep_their_line_breaks(client, ctx, form):
    setup, _one_line, multi_line = FORMS[form]
    path, data = setup(ctx)
    data[multi_line[0]] = "Erste Zeile\r\nZweite Zeile\tmit Tab"

    response = _post(client, path, data)

    assert response.status_code in (200, 302)
    assert ONE_LINE not in unescape(response.get_data(as_text=True))
    assert CONTROL not in unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("form", list(FORMS))
def test_a_json_body_is_no_500(client, ctx, form):
    setup, _one_line, _multi = FORMS[form]
    path, data = setup(ctx)
    token = csrf_token(client, path)
    before = snapshot(ctx.db.session)
    body = {"csrf_token": token, **dict.fromkeys(data, 12345)}

    # The token also in the header, as a script would send it: the body reaches the form.
    response = client.post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )

    _refused_without_change(ctx.db, before, response)


@pytest.mark.parametrize(("form", "field"), list(_cases("any")))
def test_a_file_in_a_text_field_is_no_500(client, ctx, form, field):
    """The file is not read as text: the field counts as empty (required ones say so)."""
    setup, _one_line, _multi = FORMS[form]
    path, data = setup(ctx)
    token = csrf_token(client, path)
    data = {**data, "csrf_token": token, field: (io.BytesIO(b"%PDF-1.4 x"), "a.pdf")}

    response = client.post(path, data=data, content_type="multipart/form-data")

    assert response.status_code < 500
    stored = repr(snapshot(ctx.db.session))
    assert "PDF-1.4" not in stored and "a.pdf" not in stored


# --- Ids in form bodies -----------------------------------------------------------------

ODD_IDS = ["99999999999999999999999", "²", "-1", "0", "1e3", " 1", "1\x00", "٣"]


@pytest.mark.parametrize("raw", ODD_IDS, ids=repr)
def test_odd_volunteer_ids_in_the_assign_action(client, ctx, raw):
    ctx.make_user("koo@example.org", roles=(Role.COORDINATOR,))
    initiative, _member = ctx.make_initiative()
    need = ctx.make_need(initiative)
    ctx.auth.login("koo@example.org")
    path = f"/koordination/anfragen/{need.id}/zuordnen"
    before = snapshot(ctx.db.session)

    response = _post(client, path, {"volunteer_id": raw})

    _refused_without_change(ctx.db, before, response)
    assert response.status_code in (302, 400, 404)


@pytest.mark.parametrize("raw", ODD_IDS, ids=repr)
def test_odd_need_ids_in_the_invite_action(client, ctx, raw):
    ctx.make_user("koo@example.org", roles=(Role.COORDINATOR,))
    initiative, _member = ctx.make_initiative()
    ctx.auth.login("koo@example.org")
    token = csrf_token(client, "/koordination/anfrage-aufnehmen")

    response = client.post(
        f"/koordination/initiativen/{initiative.id}/einladen",
        data={"csrf_token": token, "need_id": raw},
    )

    assert response.status_code in (302, 400, 404)


@pytest.mark.parametrize(
    "query", ["?name=a%00b", "?seite=%00", "?x%00=1"], ids=["name", "page", "key"]
)
def test_a_nul_byte_in_the_query_string_is_a_400_with_a_message(client, ctx, query):
    ctx.make_user("koo@example.org", roles=(Role.COORDINATOR,))
    initiative, _member = ctx.make_initiative()
    need = ctx.make_need(initiative)
    ctx.auth.login("koo@example.org")

    response = client.get(f"/koordination/anfragen/{need.id}/zuordnen{query}")

    assert response.status_code == 400
    assert "Die Adresse enthält ein unzulässiges Zeichen." in unescape(
        response.get_data(as_text=True)
    )


# --- The API ----------------------------------------------------------------------------


def _cursor(at: str, item_id=1) -> str:
    raw = json.dumps([at, item_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        "updated_since=0001-01-01T00:00:00%2B14:00",
        "updated_since=9999-12-31T23:59:59-14:00",
        "updated_since=0001-01-01T00:00:00Z",
        "updated_since=99999-01-01T00:00:00Z",
        "updated_since=%00",
        f"cursor={_cursor('0001-01-01T00:00:00+14:00')}",
        f"cursor={_cursor('9999-12-31T23:59:59-14:00')}",
        f"cursor={_cursor('2026-01-01T00:00:00+00:00', 99999999999999999999999)}",
        f"cursor={_cursor('2026-01-01T00:00:00+00:00', '²')}",
        "phase=%00",
    ],
)
def test_api_edge_dates_and_cursors_are_422_problems(client, db, query):
    response = client.get(f"/api/v1/needs?{query}")

    if "0001-01-01T00:00:00Z" in query:  # a real, if early, instant: answered
        assert response.status_code == 200
        return
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("title", "Titel\x00", "text_one_line"),
        ("title", "Titel\r\nBcc: x@example.org", "text_one_line"),
        ("title", "Titel\u2028Bcc: x@example.org", "text_one_line"),
        ("title", "Titel\u202eBcc", "text_one_line"),
        ("description", "Text\x00", "text_control"),
        ("description", "Text \u2067gnuthcA\u2069", "text_control"),
        ("description", "Zeile eins\nZeile zwei", None),
    ],
    ids=[
        "title-nul",
        "title-crlf",
        "title-u2028",
        "title-rlo",
        "description-nul",
        "description-rli",
        "description-newline",
    ],
)
def test_api_text_fields_refuse_control_characters(client, db, make_initiative, field, value, code):
    _initiative, member = make_initiative()
    secret = token_for(member)
    body = {
        "title": "Wie finden wir Mitstreiter?",
        "description": "Wir sind zu dritt.",
        "phases": ["start"],
        "district": "ost",
        "formats": ["in_person"],
        field: value,
    }
    before = snapshot(db.session)

    response = client.post(
        "/api/v1/initiative/needs", json=body, headers={"Authorization": f"Bearer {secret}"}
    )

    if code is None:
        assert response.status_code == 201
        return
    assert response.status_code == 422
    assert [e["code"] for e in response.get_json()["errors"]] == [code]
    after = snapshot(db.session)
    after["api_tokens"] = before["api_tokens"]  # the token's last use is noted
    assert changed_tables(before, after) == []


def test_nginx_lets_the_largest_toolkit_upload_through(app):
    """deploy/nginx.conf must not refuse a PDF the toolkit accepts (with the form around it)."""
    from pathlib import Path

    conf = (Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf").read_text()
    size = re.search(r"client_max_body_size\s+(\d+)m;", conf)
    assert size, "client_max_body_size in megabytes"
    assert int(size.group(1)) * 1024 * 1024 >= app.config["TOOLKIT_MAX_UPLOAD_BYTES"] + 256 * 1024


@pytest.mark.parametrize("body", [b"abc%FFdef", b"abc\xffdef", b"%C3%28", b"\xe4"])
def test_a_form_whose_text_is_not_utf8_changes_nothing_and_says_why(
    client, db, auth, make_initiative, body
):
    _initiative, member = make_initiative()
    auth.login(member.email)
    token = csrf_token(client, "/meine-anfragen/neu").encode()
    before = snapshot(db.session)
    answer = client.post(
        "/meine-anfragen/neu",
        data=b"csrf_token=" + token + b"&action=publish&phases=start&district=ost&title=" + body,
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "Zeichen, die wir nicht lesen können" in text
    assert "zu lange geöffnet" not in text  # not mistaken for an old form
    assert changed_tables(before, snapshot(db.session)) == []
    # A form in good UTF-8 still goes through the same door.
    fine = client.post(
        "/meine-anfragen/neu",
        data=b"csrf_token=" + token + "&title=Grüße".encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert fine.status_code == 422  # the rest of the form is missing, said at the fields
