"""The Atom feeds of open needs: checked against the rules of RFC 4287 that can be
checked offline (well-formed XML, required elements, unique ids, RFC 3339 times)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest

from matching.models import NeedStatus, utcnow
from matching.needs import change_status

A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def parse(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    return ET.fromstring(response.data)  # raises on anything that is not well-formed


def check_atom(feed: ET.Element) -> list[ET.Element]:
    """The RFC 4287 rules for a feed and its entries; returns the entries."""
    assert feed.tag == A + "feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(A + name)) == 1, name
        assert feed.findtext(A + name).strip()
    assert RFC3339.match(feed.findtext(A + "updated"))
    self_links = [link for link in feed.findall(A + "link") if link.get("rel") == "self"]
    assert len(self_links) == 1 and self_links[0].get("href").startswith("http")
    entries = feed.findall(A + "entry")
    if not feed.findall(A + "author"):  # then every entry needs one
        assert all(entry.findall(A + "author") for entry in entries)
    assert feed.find(A + "author").findtext(A + "name")
    ids = []
    for entry in entries:
        for name in ("id", "title", "updated", "summary"):
            assert len(entry.findall(A + name)) == 1, name
        assert RFC3339.match(entry.findtext(A + "updated"))
        datetime.fromisoformat(entry.findtext(A + "updated"))
        alternates = [
            link
            for link in entry.findall(A + "link")
            if link.get("rel", "alternate") == "alternate"
        ]
        assert len(alternates) == 1 and alternates[0].get("href").startswith("http")
        ids.append(entry.findtext(A + "id"))
    assert len(ids) == len(set(ids))
    return entries


@pytest.fixture()
def needs(make_initiative, make_need):
    initiative, member = make_initiative("Nachbarschaft Ost")
    other, _ = make_initiative("Treff West", district="west")
    return {
        "start_ost": make_need(initiative, phases=("start",), title="Mitstreiter gesucht"),
        "conflicts_west": make_need(other, phases=("conflicts",), title="Streit im Treff"),
        "draft": make_need(initiative, status=NeedStatus.DRAFT, title="Geheimer Entwurf"),
        "closed": make_need(initiative, status=NeedStatus.CLOSED, title="Schon erledigt"),
        "member": member,
    }


def titles(entries) -> list[str]:
    return sorted(entry.findtext(A + "title") for entry in entries)


def test_all_open_needs(client, needs):
    response = client.get("/feeds/needs.atom")
    feed = parse(response)
    entries = check_atom(feed)
    assert titles(entries) == ["Mitstreiter gesucht", "Streit im Treff"]
    assert feed.findtext(A + "id") == "http://localhost/feeds/needs.atom"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "de"
    need = needs["start_ost"]
    [entry] = [e for e in entries if e.findtext(A + "title") == "Mitstreiter gesucht"]
    assert entry.findtext(A + "id") == f"http://localhost/anfragen/{need.id}"
    assert "Nachbarschaft Ost" in entry.findtext(A + "summary")
    assert {c.get("term") for c in entry.findall(A + "category")} == {"start", "ost"}


def test_no_personal_data(client, needs):
    text = client.get("/feeds/needs.atom").get_data(as_text=True)
    assert not EMAIL.search(text)
    assert needs["member"].email not in text
    assert "Muster" not in text  # members' names


def test_per_district_and_per_phase(client, needs):
    west = check_atom(parse(client.get("/feeds/needs/bezirk/west.atom")))
    assert titles(west) == ["Streit im Treff"]
    start = check_atom(parse(client.get("/feeds/needs/thema/start.atom")))
    assert titles(start) == ["Mitstreiter gesucht"]
    empty = parse(client.get("/feeds/needs/bezirk/vaihingen.atom"))
    assert check_atom(empty) == []
    assert "Vaihingen" in empty.findtext(A + "title")


@pytest.mark.parametrize(
    "path", ["/feeds/needs/bezirk/atlantis.atom", "/feeds/needs/thema/cooking.atom"]
)
def test_unknown_district_or_phase_is_404(client, path):
    assert client.get(path).status_code == 404


def test_text_is_escaped_and_control_characters_dropped(client, make_initiative, make_need):
    initiative, _ = make_initiative('Treff "<Ost>" & Co')
    make_need(initiative, title="<b>Fett</b> & \x07laut ]]> \U0001f600")
    response = client.get("/feeds/needs.atom")
    entries = check_atom(parse(response))
    assert titles(entries) == ["<b>Fett</b> & laut ]]> \U0001f600"]
    assert b"<b>" not in response.data


def test_updated_moves_when_a_need_leaves_the_feed(client, db, needs):
    first = parse(client.get("/feeds/needs.atom")).findtext(A + "updated")
    need = needs["start_ost"]
    member = needs["member"]
    later = utcnow().replace(year=utcnow().year + 1)
    change_status(db.session, member, need, "close", now=later)
    db.session.commit()
    feed = parse(client.get("/feeds/needs.atom"))
    assert titles(check_atom(feed)) == ["Streit im Treff"]
    assert feed.findtext(A + "updated") > first


def test_conditional_requests(client, needs):
    response = client.get("/feeds/needs.atom")
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    again = client.get("/feeds/needs.atom", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_feed_size_is_bounded(client, make_initiative, make_need):
    initiative, _ = make_initiative()
    for i in range(55):
        make_need(initiative, title=f"Anfrage {i}")
    assert len(check_atom(parse(client.get("/feeds/needs.atom")))) == 50


def test_a_feed_no_need_was_ever_in_keeps_its_etag(client, db):
    """No need in the phase yet: the feed's time is fixed, not the request's, so a reader
    polling it a second later gets 304 (and does not download the same feed again)."""
    first = client.get("/feeds/needs/thema/conflicts.atom")
    assert first.status_code == 200
    etag = first.headers["ETag"]
    later = datetime.now(UTC) + timedelta(seconds=5)
    with patch("matching.feeds.routes.utcnow", return_value=later):
        again = client.get("/feeds/needs/thema/conflicts.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304
