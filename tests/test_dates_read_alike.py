"""Dates on one page read alike: English pages had "Dec 7, 2026" (Babel's American medium)
beside "7 December 2026", and a message's time showed its seconds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import render_template_string

MOMENT = datetime(2026, 12, 7, 0, 58, 17, tzinfo=UTC)  # 01:58:17 in Stuttgart


@pytest.mark.parametrize(
    ("language", "day", "moment", "short"),
    [
        ("de", "07.12.2026", "07.12.2026, 01:58", "07.12.26, 01:58"),
        ("en", "7 Dec 2026", "7 Dec 2026, 01:58", "07/12/2026, 01:58"),
    ],
)
def test_medium_and_short_dates_follow_the_readers_language(app, language, day, moment, short):
    with app.test_request_context(headers={"Accept-Language": language}):
        assert render_template_string("{{ d | date }}", d=date(2026, 12, 7)) == day
        assert render_template_string("{{ m | datetime }}", m=MOMENT) == moment
        assert render_template_string("{{ m | datetime('short') }}", m=MOMENT) == short
        long_form = render_template_string("{{ d | date('day') }}", d=date(2026, 12, 7))
        assert long_form == ("7. Dezember 2026" if language == "de" else "7 December 2026")
