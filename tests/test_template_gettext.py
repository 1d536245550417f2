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
