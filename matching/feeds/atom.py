"""Build an Atom feed (RFC 4287) with xml.etree: the library escapes, this module only
removes what XML 1.0 cannot carry at all (control characters)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"
# Characters outside XML 1.0's Char production; ElementTree would write them unescaped.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

ET.register_namespace("", ATOM_NS)


def xml_text(value: str) -> str:
    """Text that is allowed in XML 1.0."""
    return _NOT_XML.sub("", value)


def rfc3339(moment: datetime) -> str:
    """A timestamp in UTC as RFC 3339 (``2026-05-31T08:00:00Z``)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: datetime
    published: datetime | None
    link: str
    summary: str
    categories: tuple[tuple[str, str], ...] = ()  # (term, label)


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    subtitle: str
    updated: datetime
    self_link: str
    alternate_link: str
    author: str
    language: str
    entries: tuple[Entry, ...]


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(
        parent, f"{{{ATOM_NS}}}{tag}", {k: xml_text(v) for k, v in attributes.items()}
    )
    if text is not None:
        element.text = xml_text(text)
    return element


def render(feed: Feed) -> bytes:
    """The feed as UTF-8 XML with declaration."""
    root = ET.Element(
        f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": feed.language}
    )
    _add(root, "id", feed.id)
    _add(root, "title", feed.title)
    _add(root, "subtitle", feed.subtitle)
    _add(root, "updated", rfc3339(feed.updated))
    _add(root, "link", rel="self", type=ATOM_MEDIA_TYPE, href=feed.self_link)
    _add(root, "link", rel="alternate", type="text/html", href=feed.alternate_link)
    author = _add(root, "author")
    _add(author, "name", feed.author)
    _add(root, "generator", "Vernetzerbörse")
    for entry in feed.entries:
        item = _add(root, "entry")
        _add(item, "id", entry.id)
        _add(item, "title", entry.title)
        _add(item, "updated", rfc3339(entry.updated))
        if entry.published is not None:
            _add(item, "published", rfc3339(entry.published))
        _add(item, "link", rel="alternate", type="text/html", href=entry.link)
        for term, label in entry.categories:
            _add(item, "category", term=term, label=label)
        _add(item, "summary", entry.summary, type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
