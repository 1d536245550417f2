"""The cycle collector is paused while many short-lived records are built (matching.collector)."""

from __future__ import annotations

import gc

import pytest

from matching import collector
from matching.models import utcnow
from matching.reports import boxes


def test_paused_turns_the_collector_off_and_back_on():
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("a failing page")
    assert gc.isenabled(), "on again after an error"


def test_paused_leaves_a_collector_that_was_off_off():
    gc.disable()
    try:
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_coverage_picture_is_built_with_the_collector_paused(db, monkeypatch):
    seen = []
    real = boxes._coverage

    def watching(session, now):
        seen.append(gc.isenabled())
        return real(session, now)

    monkeypatch.setattr(boxes, "_coverage", watching)
    picture = boxes.coverage(db.session, utcnow())
    assert seen == [False]
    assert gc.isenabled()
    assert picture.report is not None
