"""Templates translate through callables bound once per render (matching.i18n.render_gettext):
the same words, escaping and filling-in as Jinja's i18n extension with Flask-Babel's ones."""

from __future__ import annotations

import pytest
from flask import render_template_string
from flask_babel import force_locale

from matching import i18n

SOURCE = (
    "{{ _('Offene Anfragen') }}|"
    "{{ _('%(percent)d %% Übereinstimmung', percent=87) }}|"
    "{{ _('seit %(date)s', date='<b>heute</b>') }}|"
    "{{ ngettext('%(num)d Vorschlag wartet, der älteste zuerst.', "
    "'%(num)d Vorschläge warten, der älteste zuerst.', 1) }}|"
    "{{ ngettext('%(num)d Vorschlag wartet, der älteste zuerst.', "
    "'%(num)d Vorschläge warten, der älteste zuerst.', 3) }}|"
    "{% trans n=2 %}{{ n }} Punkt{% pluralize %}{{ n }} Punkte{% endtrans %}"
)


@pytest.mark.parametrize("locale", ["de", "en"])
def test_a_render_translates_as_the_global_callables_do(app, locale):
    with app.test_request_context("/"), force_locale(locale):
        bound = render_template_string(SOURCE)  # the context processor's callables
        plain = app.jinja_env.from_string(SOURCE).render()  # Flask-Babel's, from the globals
    assert bound == plain
    assert "&lt;b&gt;heute&lt;/b&gt;" in bound  # a value is escaped, the text is not
    if locale == "en":
        assert bound.startswith("Open requests|87% match|")
        assert "3 proposals are waiting" in bound
    else:
        assert bound.startswith("Offene Anfragen|87 % Übereinstimmung|")
        assert "1 Vorschlag wartet" in bound


def test_a_render_uses_the_bound_callables(app, monkeypatch):
    """The per-render callables are the ones a page's texts go through (not the global ones,
    which look the catalogue up again for every text)."""
    seen = []
    real = i18n.render_gettext

    def spying(translations):
        callables = real(translations)
        seen.append(callables["gettext"])
        return callables

    monkeypatch.setattr(i18n, "render_gettext", spying)
    with app.test_request_context("/"):
        assert render_template_string("{{ _('Offene Anfragen') }}") == "Offene Anfragen"
    assert len(seen) == 1


@pytest.mark.parametrize("locale", ["de", "en"])
@pytest.mark.parametrize("fmt", ["medium", "short", "long", "day", "weekday", "full", "MMM y"])
def test_the_date_filter_writes_what_flask_babel_writes(app, locale, fmt):
    """The ``date`` filter keeps each day's text; it must read as Flask-Babel's format_date
    with the same pattern, moments moved to Stuttgart's time first (around midnight and the
    clock changes, too)."""
    from datetime import date, datetime, timedelta

    from flask_babel import format_date

    moments = [
        datetime(2026, 3, 28, 22, 59),  # 23:59 in winter time
        datetime(2026, 3, 28, 23, 0),  # midnight: the next day in Stuttgart
        datetime(2026, 3, 29, 1, 30),  # after the change to summer time
        datetime(2026, 10, 24, 22, 30),  # 00:30 in summer time: the next day
        datetime(2026, 12, 31, 23, 30),  # a new year in Stuttgart
    ]
    days = [date(2026, 1, 1), date(2026, 12, 6)] + [m.date() + timedelta(days=1) for m in moments]
    with app.test_request_context("/"), force_locale(locale):
        for value in moments + days:
            expected = format_date(value, i18n.date_pattern(fmt))
            assert i18n.day_text(value, fmt) == expected, (value, fmt)
            assert i18n.day_text(value, fmt) == expected  # the kept text, too
        assert i18n.day_text(None, fmt) == ""
        rendered = render_template_string("{{ d | date('day') }}", d=datetime(2026, 3, 28, 23, 0))
    assert rendered == ("29. März 2026" if locale == "de" else "29 March 2026")
