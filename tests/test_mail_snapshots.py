"""Rendered mails compared with reviewed snapshots in tests/snapshots/ (text and HTML part).

The data, the time and the tokens' timestamps are fixed, so a snapshot changes only
when a template, a translation or the wording does. A missing or changed snapshot
fails; run with UPDATE_SNAPSHOTS=1 to write the files, then review them in the diff.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from itsdangerous.timed import TimestampSigner

from matching import digests, engine, mail, reports
from matching.digests import (
    CoordinatorDigest,
    InitiativeDigest,
    InitiativeSection,
    NeedState,
    Recipient,
    SuggestedNeed,
    VolunteerDigest,
)
from matching.matches import mails as match_mails
from matching.matches.proposals import explanation_record

SNAPSHOTS = Path(__file__).parent / "snapshots"
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday, 07:00 in Stuttgart


def assert_snapshot(name: str, content: str) -> None:
    """Compare with tests/snapshots/<name>; write it instead when UPDATE_SNAPSHOTS=1."""
    path = SNAPSHOTS / name
    content += "\n"  # files end with a newline, as editors keep them
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path}: run with UPDATE_SNAPSHOTS=1 and review the new file")
    assert content == path.read_text(encoding="utf-8"), (
        f"{name} differs from its snapshot; if the change is intended, "
        "run with UPDATE_SNAPSHOTS=1 and review the diff"
    )


def assert_mail_snapshot(name: str, message: mail.Mail) -> None:
    assert_snapshot(f"{name}.txt", f"Subject: {message.subject}\n\n{message.text}")
    assert_snapshot(f"{name}.html", message.html)


@pytest.fixture(autouse=True)
def fixed_time(app, monkeypatch):
    """An app context, and tokens signed at NOW."""
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(NOW.timestamp()))
    with app.app_context():
        yield


def _suggestions() -> list[SuggestedNeed]:
    vera = engine.Volunteer(
        id=3,
        confirmed=True,
        approved=True,
        districts=frozenset({"ost"}),
        formats=frozenset({"in_person", "phone"}),
        levels={"start": 3, "cooperation": 2},
    )
    needs = [
        (
            engine.Need(
                id=11,
                initiative_id=5,
                phases=("start",),
                district="ost",
                urgency="soon",
                opened_at=NOW - timedelta(days=10),
            ),
            "Wie finden wir Mitstreiter:innen?",
            "Nachbarschaft Gablenberg",
        ),
        (
            engine.Need(
                id=12,
                initiative_id=6,
                phases=("cooperation", "resources"),
                district="mitte",
                formats=frozenset({"in_person", "phone"}),
                opened_at=NOW - timedelta(days=3),
            ),
            "Mit dem Sportverein zusammenarbeiten",
            "Leonhardsviertel miteinander",
        ),
    ]
    return [
        SuggestedNeed(
            id=need.id,
            title=title,
            initiative=initiative,
            district=need.district,
            phases=need.phases,
            score=engine.score(vera, need, engine.Weights(), NOW),
        )
        for need, title, initiative in needs
    ]


@pytest.mark.parametrize("locale", ["de", "en"])
def test_volunteer_digest(locale):
    vera = Recipient(id=7, email="vera@example.org", first_name="Vera", locale=locale)
    message = digests.render_digest("volunteer", vera, VolunteerDigest(_suggestions()))
    suffix = "" if locale == "de" else f".{locale}"
    assert_mail_snapshot(f"digest_volunteer{suffix}", message)
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_coordinator_digest():
    kora = Recipient(id=8, email="kora@example.org", first_name="Kora", locale="de")
    content = CoordinatorDigest(
        waiting_proposals=3,
        oldest_proposal_at=NOW - timedelta(days=5),
        stale_needs=[
            reports.StaleNeed(
                id=21,
                title="Ein Fest für die Straße",
                initiative="Nachbarschaft Gablenberg",
                district="ost",
                opened_at=NOW - timedelta(days=18),
                days_open=18,
            )
        ],
        waiting_profiles=2,
        unanswered_matches=[
            reports.UnansweredMatch(
                id=31,
                volunteer_name="Walter Muster",
                need_id=22,
                need_title="Streit im Vorstand",
                decided_at=NOW - timedelta(days=9),
                days_waiting=9,
            )
        ],
    )
    assert_mail_snapshot("digest_coordinator", digests.render_digest("coordinator", kora, content))


def test_initiative_digest():
    ines = Recipient(id=9, email="ines@example.org", first_name="Ines", locale="de")
    content = InitiativeDigest(
        [
            InitiativeSection(
                name="Nachbarschaft Gablenberg",
                needs=[
                    NeedState(41, "Ein Name für unsere Gruppe", "draft", "draft"),
                    NeedState(42, "Wie finden wir Mitstreiter:innen?", "open", "asked", 8),
                    NeedState(43, "Geld für das Straßenfest", "open", "searching", 1),
                    NeedState(46, "Ein Raum für unsere Treffen", "open", "searching", 0),
                    NeedState(44, "Streit im Vorstand", "matched", "matched"),
                    NeedState(45, "Ein Fest für die Straße", "closed", "closed"),
                ],
            )
        ]
    )
    assert_mail_snapshot("digest_initiative", digests.render_digest("initiative", ines, content))


def test_confirm_mail():
    message = mail.build(
        "erika@example.org",
        "confirm",
        "de",
        "Bitte bestätigen Sie Ihre E-Mail-Adresse",
        user=SimpleNamespace(first_name="Erika"),
        confirm_url="http://localhost/bestaetigen/TOKEN",
        valid_days=3,
    )
    assert_mail_snapshot("confirm", message)


def _need():
    return SimpleNamespace(
        title="Wie finden wir Mitstreiter:innen?",
        district="ost",
        initiative=SimpleNamespace(name="Nachbarschaft Gablenberg"),
    )


def test_match_introduction_mails():
    ines = SimpleNamespace(
        first_name="Ines", display_name="Ines Muster", email="ines@example.org", phone=""
    )
    vera = SimpleNamespace(
        first_name="Vera", display_name="Vera Muster", email="vera@example.org", phone="0711 123456"
    )
    to_volunteer = mail.build(
        vera.email,
        "match_introduction_volunteer",
        "de",
        "Sie beraten jetzt: Nachbarschaft Gablenberg",
        user=vera,
        need=_need(),
        contacts=[ines],
        match_url="http://localhost/vermittlungen/31",
    )
    to_initiative = mail.build(
        ines.email,
        "match_introduction_initiative",
        "de",
        "Ihre Expert:in für „Wie finden wir Mitstreiter:innen?“",
        user=ines,
        need=_need(),
        volunteer=vera,
        match_url="http://localhost/vermittlungen/31",
    )
    assert_mail_snapshot("match_introduction_volunteer", to_volunteer)
    assert_mail_snapshot("match_introduction_initiative", to_initiative)


@pytest.mark.parametrize("origin", ["engine", "offer"])
def test_match_approved_mail(monkeypatch, origin):
    sent = []
    monkeypatch.setattr(
        match_mails.mail, "queue_for_user", lambda *args, **kwargs: sent.append((args, kwargs))
    )
    vera = SimpleNamespace(id=7, first_name="Vera", email="vera@example.org", locale="de")
    # The reasons the engine kept on the match, as written for the volunteer.
    fit = engine.score(
        engine.Volunteer(
            id=7, confirmed=True, approved=True, districts={"ost"}, levels={"start": 3}
        ),
        engine.Need(id=11, initiative_id=3, phases=("start",), district="ost", urgency="soon"),
        engine.Weights(),
        datetime(2026, 3, 2, 7, 0, tzinfo=UTC),
    )
    match = SimpleNamespace(
        id=31,
        volunteer=SimpleNamespace(user=vera),
        need=_need(),
        score=fit.value,
        explanation=explanation_record(fit),
        origin=origin,
    )
    match_mails.match_approved(None, match)
    [((_session, user, kind, subject), context)] = sent
    message = mail.build(user.email, kind, "de", subject, user=user, **context)
    if origin == "engine":
        assert_mail_snapshot("match_approved", message)
        return
    # The expert offered ("Ich kann helfen"): the mail answers the offer, and still asks
    # for the one click that accepts.
    assert_mail_snapshot("match_approved_offer", message)
    assert message.subject == "Ihr Angebot für „Wie finden wir Mitstreiter:innen?“ wurde angenommen"
    assert "die Koordination hat Ihr Angebot angenommen" in message.text
    for generic in ("braucht Ihren Rat", "sucht Rat", "Sie passen gut dazu", "Warum Sie?"):
        assert generic not in message.subject + message.text + message.html
    accept = context["accept_url"]
    assert accept in message.text and f'href="{accept}"' in message.html
    english = mail.build(user.email, kind, "en", subject, user=user, **context)
    assert english.subject == "Your offer for “Wie finden wir Mitstreiter:innen?” has been accepted"
    assert "The coordinators have accepted your offer" in english.text
    assert accept in english.text


# ---------------------------------------------------------------- English after "Hello Name,"

_STRING = r"'((?:[^'\\]|\\.)*)'"
_CALL = re.compile(r"(?<![\w.])(ngettext|_)\(\s*" + _STRING + r"(?:\s*,\s*" + _STRING + r")?")
_GREETING = re.compile(r"_\('Hallo %\(name\)s,'[^}]*\}\}(?:</p>)?")
EMAILS = Path(__file__).parent.parent / "templates" / "emails"


def _after_greeting(template: Path) -> str | None:
    """The template source of the first paragraph after "Hallo %(name)s," (None: no greeting)."""
    source = template.read_text(encoding="utf-8")
    found = _GREETING.search(source)
    if found is None:
        return None
    rest = source[found.end() :]
    if template.suffix == ".txt":
        return rest.lstrip("\n").split("\n", 1)[0]
    start = rest.index("<p")
    return rest[start : rest.index("</p>", start)]


def test_english_mails_go_on_with_a_capital_after_the_greeting():
    """German goes on in lower case after "Hallo Werner," ("leider …"); English must not
    ("Unfortunately …"). Every sentence the first paragraph after the greeting can start
    with, in every mail template, in each plural form of its English translation."""
    from flask_babel import force_locale, get_translations

    checked, lower = 0, []
    with force_locale("en"):
        translations = get_translations()
        for template in sorted(EMAILS.glob("*.*")):
            paragraph = _after_greeting(template)
            if paragraph is None:
                continue
            for kind, singular, plural in _CALL.findall(paragraph):
                if kind == "ngettext":
                    english = [translations.ungettext(singular, plural, n) for n in (1, 2)]
                else:
                    english = [translations.ugettext(singular)]
                for text in english:
                    assert text != singular, f"{template.name}: no English for {singular!r}"
                    checked += 1
                    first = text.lstrip()[:1]
                    if first.isalpha() and not first.isupper():
                        lower.append(f"{template.name}: {text}")
    assert checked > 60  # every mail with a greeting was looked at
    assert lower == []


def _first_line_after_greeting(text: str) -> str:
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(("Hello ", "Hallo ")))
    return next(line for line in lines[start + 1 :] if line.strip())


def test_an_english_mail_as_rendered_goes_on_with_a_capital():
    vera = SimpleNamespace(first_name="Vera", email="vera@example.org")
    message = mail.build(
        vera.email,
        "offer_rejected",
        "en",
        "Your offer",
        user=vera,
        need=_need(),
        reason="Die Initiative wünscht sich jemand aus dem Stadtteil.",
        others=[],
        overview_url="http://localhost/meine-uebersicht",
    )
    assert _first_line_after_greeting(message.text).startswith("Thank you for offering")
    # The coordinators' words in English quotation marks, not German ones.
    assert "The coordinators write:\n“Die Initiative wünscht sich jemand aus dem Stadtteil.”" in (
        message.text
    )
    assert "„" not in message.text and "„" not in message.html


def test_quoted_titles_follow_the_language():
    content = InitiativeDigest(
        [
            InitiativeSection(
                name="Nachbarschaft Gablenberg",
                needs=[NeedState(42, "Wie finden wir Mitstreiter:innen?", "open", "asked", 8)],
            )
        ]
    )
    for locale, title in [
        ("de", "- „Wie finden wir Mitstreiter:innen?“:"),
        ("en", "- “Wie finden wir Mitstreiter:innen?”:"),
    ]:
        ines = Recipient(id=9, email="ines@example.org", first_name="Ines", locale=locale)
        message = digests.render_digest("initiative", ines, content)
        assert title in message.text
    assert "„" not in message.text  # the English one
