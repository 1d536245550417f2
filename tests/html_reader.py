"""A small HTML reader for tests, on the standard library's html.parser.

It builds a tree of elements, so a test can ask for "the error message of the e-mail
field" or "every input outside a label" instead of matching raw markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID_ELEMENTS = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    ]
)
CSRF_VALUE = re.compile(r'(name="csrf_token"(?: type="hidden")? value=")[^"]*(")')


@dataclass(eq=False)
class Element:
    """One element: tag, attributes, children (elements and text) and its parent."""

    tag: str
    attrs: dict[str, str | None]
    parent: Element | None = None
    children: list[Element | str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"

    @property
    def text(self) -> str:
        """The visible text inside, whitespace collapsed."""
        parts = [c if isinstance(c, str) else c.text for c in self.children]
        return " ".join(" ".join(parts).split())

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def get(self, name: str) -> str | None:
        return self.attrs.get(name)

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def iter(self) -> Iterator[Element]:
        """This element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, *, class_: str | None = None, **attrs) -> list:
        """Elements inside (and including) this one matching tag, class and attributes."""
        return [
            el
            for el in self.iter()
            if (tag is None or el.tag == tag)
            and (class_ is None or class_ in el.classes)
            and all(el.attrs.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())
        ]

    def find(self, tag: str | None = None, **kwargs) -> Element | None:
        found = self.find_all(tag, **kwargs)
        return found[0] if found else None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), parent=self.current)
        self.current.children.append(element)
        if tag not in VOID_ELEMENTS:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, dict(attrs), parent=self.current))

    def handle_endtag(self, tag):
        # Close up to the matching open element; stray end tags are ignored.
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


class Page:
    """A parsed HTML page."""

    def __init__(self, html: str) -> None:
        self.html = html
        builder = _TreeBuilder()
        builder.feed(html)
        builder.close()
        self.root = builder.root

    @classmethod
    def of(cls, response) -> Page:
        return cls(response.get_data(as_text=True))

    def find_all(self, tag: str | None = None, **kwargs) -> list[Element]:
        return self.root.find_all(tag, **kwargs)

    def find(self, tag: str | None = None, **kwargs) -> Element | None:
        return self.root.find(tag, **kwargs)

    def by_id(self, element_id: str) -> Element | None:
        return self.root.find(id=element_id)

    @property
    def lang(self) -> str | None:
        html = self.find("html")
        return html.get("lang") if html else None

    @property
    def h1(self) -> str:
        headings = self.find_all("h1")
        assert len(headings) == 1, headings
        return headings[0].text

    @property
    def error_summary(self) -> str:
        """The text of the error summary at the top of a form ("" when there is none)."""
        summary = self.find("div", class_="error-summary")
        return summary.text if summary else ""

    def field_error(self, field_id: str) -> str:
        """The error message printed next to a field ("" when there is none)."""
        message = self.by_id(f"{field_id}-error")
        return message.text.removeprefix("Fehler:").strip() if message else ""

    def flashes(self) -> list[str]:
        return [p.text for p in self.find_all("p", class_="flash")]


def without_csrf_tokens(html: str) -> str:
    """The page with every CSRF token blanked, to compare two pages."""
    return CSRF_VALUE.sub(r"\1\2", html)
