"""Locale choice and template helpers: German first, English second."""

from __future__ import annotations

import functools
from datetime import date, datetime

from babel import Locale, dates
from flask import Flask, g, has_request_context, request, session
from flask_babel import (
    format_datetime,
    get_locale,
    get_translations,
    refresh,
    to_user_timezone,
)
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from matching import sentences
from matching.reference import (
    DISTRICT_BY_CODE,
    FORMATS,
    LANGUAGES,
    PHASE_BY_CODE,
    UI_LOCALES,
    URGENCIES,
)

FORMAT_BY_CODE = {c.code: c for c in FORMATS}
LANGUAGE_BY_CODE = {c.code: c for c in LANGUAGES}
URGENCY_BY_CODE = {c.code: c for c in URGENCIES}

# Named date patterns for the places that spell a day out ("Dienstag, 15. Dezember 2026"):
# Babel's own "long"/"full" give the German as wanted but an American English
# ("December 15, 2026"), so each locale gets its pattern here; other locales fall back to
# the English one. Use the names in the ``date``/``datetime`` filters or ``format_moment``.
DATE_PATTERNS: dict[str, dict[str, str]] = {
    "day": {"de": "d. MMMM y", "en": "d MMMM y"},
    "day_time": {"de": "d. MMMM y, HH:mm", "en": "d MMMM y, HH:mm"},
    "weekday": {"de": "EEEE, d. MMMM y", "en": "EEEE, d MMMM y"},
    "weekday_time": {"de": "EEEE, d. MMMM y, HH:mm", "en": "EEEE, d MMMM y, HH:mm"},
    # Babel's own "medium" and "short" are American in English ("Dec 7, 2026", "12/7/26"),
    # beside the "7 December 2026" above on the same page.
    "long": {"de": "d. MMMM y", "en": "d MMMM y"},
    "medium": {"de": "dd.MM.y", "en": "d MMM y"},
    "short": {"de": "dd.MM.yy", "en": "dd/MM/y"},
}
# The same names for a moment (a date with its time): minutes, never seconds.
MOMENT_PATTERNS: dict[str, dict[str, str]] = {
    "medium": {"de": "dd.MM.y, HH:mm", "en": "d MMM y, HH:mm"},
    "short": {"de": "dd.MM.yy, HH:mm", "en": "dd/MM/y, HH:mm"},
}


def current_locale() -> str:
    """The locale code of the current request ("de" or "en")."""
    locale = get_locale()
    return locale.language if locale else "de"


# Quotation marks around a title or a quoted text: „…“ in German, “…” in English.
QUOTES: dict[str, tuple[str, str]] = {"de": ("„", "“"), "en": ("“", "”")}


def quoted(value) -> str:
    """``value`` in the reader's quotation marks; Markup stays Markup (escaped once)."""
    opening, closing = QUOTES.get(current_locale(), QUOTES["en"])
    if isinstance(value, Markup):
        return Markup(opening) + value + Markup(closing)
    return f"{opening}{value}{closing}"


def date_pattern(fmt: str) -> str:
    """The current locale's pattern for a name in DATE_PATTERNS; any other ``fmt`` as is."""
    patterns = DATE_PATTERNS.get(fmt)
    if patterns is None:
        return fmt
    return patterns.get(current_locale(), patterns["en"])


def day_text(value, fmt: str = "medium") -> str:
    """A day in the reader's language (``fmt`` a name in DATE_PATTERNS or Babel's), as
    Flask-Babel's ``format_date`` writes it: a moment is first moved to the association's time
    zone. Lists show the same few days on every card, so each day's text is kept."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = to_user_timezone(value).date()
    locale = get_locale() or Locale("de")
    patterns = DATE_PATTERNS.get(fmt)
    pattern = fmt if patterns is None else patterns.get(locale.language, patterns["en"])
    return _formatted_day(value, pattern, locale)


@functools.lru_cache(maxsize=4096)
def _formatted_day(day: date, pattern: str, locale: Locale) -> str:
    return dates.format_date(day, pattern, locale=locale)


def format_moment(value, fmt: str = "weekday_time") -> str:
    """A date and time in the reader's language, ``fmt`` a name in MOMENT_PATTERNS or
    DATE_PATTERNS (or Babel's)."""
    if not value:
        return ""
    patterns = MOMENT_PATTERNS.get(fmt)
    if patterns is not None:
        return format_datetime(value, patterns.get(current_locale(), patterns["en"]))
    return format_datetime(value, date_pattern(fmt))


def select_locale() -> str:
    """The session's choice, then the person a mail link is for, then the user's setting,
    then the browser's, then German."""
    if not has_request_context():  # CLI and jobs: mails choose their locale explicitly
        return "de"
    chosen = session.get("lang")
    if chosen in UI_LOCALES:
        return chosen
    if g.get("link_locale") in UI_LOCALES:
        return g.link_locale
    if current_user and current_user.is_authenticated and current_user.locale in UI_LOCALES:
        return current_user.locale
    return request.accept_languages.best_match(UI_LOCALES) or "de"


def speak_as(person) -> None:
    """A page opened from a mail link speaks the language of the person the mail went to
    (their mail was in it), unless this browser chose one; the choice is read anew."""
    g.link_locale = getattr(person, "locale", None)
    refresh()


def select_timezone() -> str:
    return "Europe/Berlin"


def register_template_helpers(app: Flask) -> None:
    """Filters that show reference data and dates in the reader's language."""

    @app.template_filter("label")
    def label(choice) -> str:
        return choice.label(current_locale())

    @app.template_filter("explain")
    def explain(choice) -> str:
        return choice.explain(current_locale())

    app.add_template_filter(quoted, "quoted")
    app.add_template_filter(sentences.shown, "reason_text")

    app.add_template_filter(day_text, "date")

    @app.template_filter("datetime")
    def datetime_filter(value, fmt: str = "medium") -> str:
        return format_moment(value, fmt)

    @app.context_processor
    def inject_locale() -> dict:
        return {
            "current_locale": current_locale(),
            "ui_locales": UI_LOCALES,
            **render_gettext(get_translations()),
        }

    app.jinja_env.globals.update(
        district_name=lambda code: _label(DISTRICT_BY_CODE, code),
        phase_label=lambda code: _label(PHASE_BY_CODE, code),
        format_label=lambda code: _label(FORMAT_BY_CODE, code),
        language_label=lambda code: _label(LANGUAGE_BY_CODE, code),
        urgency_label=lambda code: _label(URGENCY_BY_CODE, code),
    )


def render_gettext(translations) -> dict:
    """``gettext`` and ``ngettext`` for one template render, bound to the catalogue the render
    speaks, with the semantics of Jinja's i18n extension (``newstyle``: the text is escaped
    like any value, then filled in with ``%``).

    Flask-Babel's callables look the catalogue up again for every text, through the request
    context: about 10 µs per text, a tenth of the CPU of a page with a few hundred texts (the
    proposal queue). The extension's ``_`` and ``{% trans %}`` look these names up in the
    template's context first, so a render uses these; macros imported without context keep
    the global ones, which give the same words.
    """
    text, plural = translations.ugettext, translations.ungettext

    @pass_context
    def gettext(context, string: str, **variables):
        found = text(string)
        if context.eval_ctx.autoescape:
            found = Markup(found)
        return found % variables

    @pass_context
    def ngettext(context, singular: str, plural_form: str, num: int, **variables):
        variables.setdefault("num", num)
        found = plural(singular, plural_form, num)
        if context.eval_ctx.autoescape:
            found = Markup(found)
        return found % variables

    return {"gettext": gettext, "ngettext": ngettext}


def _label(table, code: str) -> str:
    """The reader's label for a reference code; the code itself if it is unknown."""
    item = table.get(code)
    return item.label(current_locale()) if item else code
