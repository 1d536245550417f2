"""Helpers for the browser tests: screenshots, axe-core, page weight and mail."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from smtp import body

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}

# WCAG 2.1 levels A and AA, as axe-core tags its rules.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# No page may ship more than this many bytes of CSS and JavaScript together.
ASSET_BUDGET = 100 * 1024


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/screenshots (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page, exceptions: dict[str, str] | None = None) -> list[dict]:
    """axe-core's WCAG 2.1 A and AA violations on the page, less the rules in ``exceptions``.

    ``exceptions`` maps a rule id to the reason it is wrong for this page; a reason is required.
    """
    from axe_playwright_python.sync_playwright import Axe

    exceptions = exceptions or {}
    assert all(reason.strip() for reason in exceptions.values()), "say why a rule is wrong here"
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    response = Axe().run(page, options=options).response
    return [v for v in response["violations"] if v["id"] not in exceptions]


def describe(violations: list[dict]) -> str:
    """The violations as lines a person can act on: rule, impact, elements."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['failureSummary']}")
    return "\n".join(lines)


# Every visible piece of text, with its computed size; visually hidden texts (1 px boxes) skipped.
_SMALL_TEXT = """(minimum) => {
  const found = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const element = node.parentElement;
    if (!node.textContent.trim() || !element) continue;
    const box = element.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1) continue;
    const size = parseFloat(getComputedStyle(element).fontSize);
    if (size < minimum) {
      found.add(`${size}px <${element.localName} class="${element.className}">`
        + ` “${node.textContent.trim().slice(0, 40)}”`);
    }
  }
  return [...found];
}"""


def small_text(page, minimum: float = 16) -> list[str]:
    """Visible texts set smaller than ``minimum`` CSS pixels."""
    return page.evaluate(_SMALL_TEXT, minimum)


@dataclass
class PageWeight:
    """Bytes of CSS and JavaScript each page pulls in, and every request to another origin.

    Routing every request through Playwright switches the browser cache off, so each page
    pays for its own assets, as on a first visit from a phone.
    """

    origin: str
    pages: dict[str, int] = field(default_factory=dict)
    foreign: list[str] = field(default_factory=list)
    unmeasured: list[str] = field(default_factory=list)

    def watch(self, context) -> None:
        context.route("**/*", self._route)
        context.on("page", self._attach)

    def _route(self, route) -> None:
        url = route.request.url
        if url == self.origin or url.startswith(self.origin + "/"):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def _attach(self, page) -> None:
        current: list[str | None] = [None]

        def on_response(response) -> None:
            request = response.request
            kind = request.resource_type
            if kind == "document" and request.frame == page.main_frame:
                if 300 <= response.status < 400:
                    return  # a redirect is not a page
                current[0] = f"{request.method} {response.url}"
                self.pages[current[0]] = 0
            elif kind in ("stylesheet", "script") and current[0] is not None:
                length = response.headers.get("content-length")
                if length is None:
                    self.unmeasured.append(response.url)
                else:
                    self.pages[current[0]] += int(length)

        page.on("response", on_response)


def mail_to(smtp, address: str, subject: str, timeout: float = 10) -> str:
    """The text of the newest mail to ``address`` whose subject contains ``subject``."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in smtp.to(address) if subject in str(m["Subject"])]
        if found:
            return body(found[-1])
        if time.monotonic() > deadline:
            subjects = [str(m["Subject"]) for m in smtp.to(address)]
            raise AssertionError(f"no mail “{subject}” to {address}; there are: {subjects}")
        time.sleep(0.05)


def link_after(text: str, anchor: str, path_prefix: str) -> str:
    """The first link to ``path_prefix`` after ``anchor`` in a mail's text."""
    start = text.index(anchor)
    match = re.search(rf"https?://\S+?{re.escape(path_prefix)}\S*", text[start:])
    assert match, f"no link to {path_prefix} after “{anchor}” in:\n{text}"
    return match.group(0)
