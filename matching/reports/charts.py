"""Charts for the "Wirkung" report, drawn on the server as SVG with matplotlib.

No JavaScript reaches the reader: each chart is a static picture beside a sentence and a table
that say the same, so the picture is hidden from screen readers (``aria-hidden``). Text stays
text in the SVG (``svg.fonttype = none``), which keeps it small, sharp in print and selectable.
The Figure API is used without pyplot: no global state shared between requests.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

GREEN = "#2f6b3a"
ORANGE = "#b35c00"
BLUE = "#1d4f91"
GREY = "#555555"
INK = "#222222"

_STYLE = {
    "svg.fonttype": "none",  # text as <text>, in the page's font
    "svg.hashsalt": "wirkung",  # the same picture for the same figures (stable ids)
    "font.family": "sans-serif",
    "font.size": 10,
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
    body = _STYLE_ATTRIBUTE.sub(_attributes, _STYLE_ELEMENT.sub("", body))
    return body.replace("<svg ", '<svg class="chart" aria-hidden="true" focusable="false" ', 1)


def _figure(height: float, left: float = 0.09) -> Figure:
    """Fixed margins: a layout engine would measure every label again (most of the time)."""
    figure = Figure(figsize=(7.0, height))
    figure.subplots_adjust(left=left, right=0.97, top=0.95, bottom=0.6 / height)
    return figure


def monthly_bars(
    months: Sequence[str], series: Sequence[tuple[str, Sequence[int], str]], ylabel: str
) -> str:
    """Grouped bars per month: ``series`` is (legend label, values, colour) each."""
    with matplotlib.rc_context(_STYLE):
        figure = _figure(3.0)
        axes = figure.add_subplot()
        width = 0.8 / max(len(series), 1)
        for index, (label, values, colour) in enumerate(series):
            offsets = [x + (index - (len(series) - 1) / 2) * width for x in range(len(months))]
            axes.bar(offsets, values, width, label=label, color=colour)
        axes.set_xticks(range(len(months)), months)
        axes.set_ylabel(ylabel)
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.legend(frameon=False, loc="upper left")
        return _svg(figure)


def monthly_line(months: Sequence[str], values: Sequence[float | None], ylabel: str) -> str:
    """A line through the months that have a value; gaps stay gaps."""
    with matplotlib.rc_context(_STYLE):
        figure = _figure(2.6)
        axes = figure.add_subplot()
        ys = [float("nan") if v is None else v for v in values]
        axes.plot(range(len(months)), ys, marker="o", color=BLUE)
        axes.set_xticks(range(len(months)), months)
        axes.set_ylabel(ylabel)
        axes.set_ylim(bottom=0)
        return _svg(figure)


def horizontal_bars(
    labels: Sequence[str], values: Sequence[int], colours: Sequence[str], xlabel: str
) -> str:
    """One bar per label, the first at the top, its value written beside it."""
    with matplotlib.rc_context(_STYLE):
        # Room on the left for the longest names ("Unterstützung / Ressourcen").
        figure = _figure(0.6 + 0.28 * len(labels), left=0.3)
        axes = figure.add_subplot()
        positions = list(range(len(labels)))[::-1]
        bars = axes.barh(positions, values, color=list(colours))
        axes.bar_label(bars, padding=3, color=INK)
        axes.set_yticks(positions, labels)
        axes.set_xlabel(xlabel)
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.margins(x=0.12)
        return _svg(figure)
