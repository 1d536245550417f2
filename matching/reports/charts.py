"""Charts for the "Wirkung" report, drawn on the server as SVG with matplotlib.

No JavaScript reaches the reader: each chart is a static picture beside a sentence and a table
that say the same, so the picture is hidden from screen readers (``aria-hidden``). Text stays
text in the SVG (``svg.fonttype = none``), which keeps it small, sharp in print and selectable.
The Figure API is used without pyplot: no global state shared between requests.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch
from matplotlib.textpath import text_to_path

GREEN = "#2f6b3a"
ORANGE = "#b35c00"
BLUE = "#1d4f91"
GREY = "#555555"
INK = "#222222"

_STYLE = {
    "svg.fonttype": "none",  # text as <text>, in the page's font
    "svg.hashsalt": "wirkung",  # the same picture for the same figures (stable ids)
    "font.family": "sans-serif",
    "font.size": 13,
    "axes.edgecolor": GREY,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
_STYLE_ATTRIBUTE = re.compile(r'style="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"<defs>\s*<style[^>]*>.*?</style>\s*</defs>", re.S)


def _attributes(match: re.Match) -> str:
    """``style="fill: #fff; font: 10px 'sans-serif'"`` as presentation attributes.

    The site's Content-Security-Policy blocks inline styles, which would leave every shape
    filled black; SVG's own attributes say the same and are not styles."""
    found = []
    for declaration in match.group(1).split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip().replace('"', "'")
        if not name:
            continue
        if name == "font":
            size, _, family = value.partition(" ")
            found += [f'font-size="{size}"', f'font-family="{family.strip()}"']
        else:
            found.append(f'{name}="{value}"')
    return " ".join(found)


def _svg(figure: Figure) -> str:
    """The figure as an inline <svg> element, hidden from assistive technology."""
    buffer = io.StringIO()
    FigureCanvasSVG(figure)
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    body = _PROLOGUE.sub("", buffer.getvalue(), count=1)
    body = _own_ids(_STYLE_ATTRIBUTE.sub(_attributes, _STYLE_ELEMENT.sub("", body)))
    return body.replace("<svg ", '<svg class="chart" aria-hidden="true" focusable="false" ', 1)


_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(href="#|url\(#)([^")]+)')


def _own_ids(body: str) -> str:
    """Every id of the drawing (and every reference to one) prefixed by a digest of it.

    matplotlib names the parts of every figure alike (``figure_1``, ``patch_1``, markers by
    their shape), so a page with several charts repeated ids, which HTML forbids and which
    lets a ``<use>`` in one chart draw another's marker. The digest keeps the same picture's
    ids the same from one answer to the next."""
    prefix = "chart-" + hashlib.sha1(body.encode()).hexdigest()[:10] + "-"
    own = set(_ID.findall(body))
    body = _ID.sub(lambda found: f'id="{prefix}{found.group(1)}"', body)
    return _REFERENCE.sub(
        lambda found: found.group(1) + (prefix if found.group(2) in own else "") + found.group(2),
        body,
    )


# Drawn narrow with large type, so a phone shows the whole chart at a readable size (scaled to
# about three quarters) and a wide screen or A4 only a little larger (see svg.chart in the CSS).
WIDTH = 4.6  # inches
MONTH_LABELS = 6  # at most this many months are named under a time axis


def _figure(height: float, left: float = 0.13, top: float = 0.1) -> Figure:
    """Fixed margins (in inches at the top and bottom): a layout engine would measure every
    label again (most of the time)."""
    figure = Figure(figsize=(WIDTH, height))
    figure.subplots_adjust(left=left, right=0.97, top=1 - top / height, bottom=0.45 / height)
    return figure


def _inches(text: str) -> float:
    """How wide ``text`` is in the chart's font, measured without drawing (one font lookup)."""
    width, _, _ = text_to_path.get_text_width_height_descent(text, FontProperties(), ismath=False)
    return width / 72


def _months_axis(axes, months: Sequence[str]) -> None:
    """Every month a place on the axis, a name only under every few of them (evenly), so the
    names never run into each other however long the period."""
    step = max(1, -(-len(months) // MONTH_LABELS))
    axes.set_xticks(range(0, len(months), step), months[::step])
    axes.set_xlim(-0.6, len(months) - 0.4)


def monthly_bars(
    months: Sequence[str], series: Sequence[tuple[str, Sequence[int], str]], ylabel: str
) -> str:
    """Grouped bars per month: ``series`` is (legend label, values, colour) each; the legend
    stands above the bars, never on them."""
    with matplotlib.rc_context(_STYLE):
        figure = _figure(2.8, top=0.4)
        axes = figure.add_subplot()
        width = 0.8 / max(len(series), 1)
        for index, (label, values, colour) in enumerate(series):
            offsets = [x + (index - (len(series) - 1) / 2) * width for x in range(len(months))]
            axes.bar(offsets, values, width, label=label, color=colour)
        _months_axis(axes, months)
        axes.set_ylabel(ylabel)
        axes.yaxis.get_major_locator().set_params(integer=True, nbins=4)
        axes.legend(
            frameon=False,
            loc="lower left",
            bbox_to_anchor=(0, 1),
            ncols=len(series),
            borderaxespad=0.2,
            handlelength=1,
        )
        return _svg(figure)


def monthly_line(months: Sequence[str], values: Sequence[float | None], ylabel: str) -> str:
    """A line through the months that have a value; gaps stay gaps."""
    with matplotlib.rc_context(_STYLE):
        figure = _figure(2.4)
        axes = figure.add_subplot()
        ys = [float("nan") if v is None else v for v in values]
        axes.plot(range(len(months)), ys, marker="o", color=BLUE, clip_on=False)
        _months_axis(axes, months)
        axes.set_ylabel(ylabel)
        highest = max((v for v in values if v is not None), default=0)
        axes.set_ylim(0, highest * 1.1 or 1)
        axes.yaxis.get_major_locator().set_params(nbins=4)
        return _svg(figure)


def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[int],
    colours: Sequence[str],
    xlabel: str,
    key: Sequence[tuple[str, str]] = (),
) -> str:
    """One bar per label, the first at the top, its value written beside it (so the value
    axis has no scale of its own); ``key`` names the colours, (label, colour) each, above."""
    with matplotlib.rc_context(_STYLE):
        # Room on the left for the longest name ("Ergebnisse / Verantwortlichkeiten").
        names = max((_inches(label) for label in labels), default=0.0)
        left = min(0.6, (1.1 * names + 0.15) / WIDTH)
        top = 0.35 if key else 0.05
        figure = _figure(0.7 + top + 0.25 * len(labels), left=left, top=top)
        axes = figure.add_subplot()
        positions = list(range(len(labels)))[::-1]
        bars = axes.barh(positions, values, color=list(colours))
        axes.bar_label(bars, padding=3, color=INK)
        # The names as plain text beside the axis: a tick each would cost five artists.
        axes.set_yticks([])
        axes.set_xticks([])
        beside = axes.get_yaxis_transform()  # x across the axes, y in bars
        for position, label in zip(positions, labels, strict=True):
            axes.text(-0.02, position, label, transform=beside, ha="right", va="center")
        axes.set_xlabel(xlabel)
        axes.set_ylim(-0.6, len(labels) - 0.4)
        axes.margins(x=0.15)
        if key:  # from the left edge of the picture: the names' column leaves too little room
            figure.legend(
                [Patch(color=colour) for _, colour in key],
                [label for label, _ in key],
                frameon=False,
                loc="upper left",
                bbox_to_anchor=(0, 1),
                ncols=len(key),
                handlelength=1,
            )
        return _svg(figure)
