"""Volunteer, Need and Weights check their fields and fail with a ValueError that says why."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest

from matching.engine import Need, Volunteer, Weights

NOW = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)


def test_volunteer_normalises_its_inputs():
    v = Volunteer(
        id=1,
        languages=["de", "tr"],
        districts=("mitte",),
        formats={"video"},
        levels={"start": 2},
        paused_until=datetime(2025, 3, 10, 12, 0),
        excluded_needs=[4, 4],
    )
    assert v.languages == frozenset({"de", "tr"})
    assert v.districts == frozenset({"mitte"})
    assert v.paused_until == date(2025, 3, 10)
    assert v.excluded_needs == frozenset({4})
    assert dict(v.levels) == {"start": 2}
    assert not v.confirmed and not v.approved  # unset flags fail closed
    assert hash(v) == hash(Volunteer(**{f: getattr(v, f) for f in v.__dataclass_fields__}))


def test_need_normalises_its_inputs():
    n = Need(id=1, initiative_id=2, phases=["start", "start", "planning"], district="ost")
    assert n.phases == ("start", "planning")
    assert n.formats == frozenset({"in_person"})
    assert n.language == "de" and n.urgency == "normal" and n.wanted == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": True}, "volunteer id"),
        ({"id": 1.0}, "volunteer id"),
        ({"id": 2**64}, "volunteer id"),
        ({"confirmed": 1}, "confirmed"),
        ({"capacity": -1}, "capacity"),
        ({"active": 1.5}, "active"),
        ({"languages": "de"}, "language"),
        ({"languages": {"xx"}}, "unknown language"),
        ({"districts": {"atlantis"}}, "unknown district"),
        ({"formats": {"telegram"}}, "unknown format"),
        ({"levels": {"start": 4}}, "level"),
        ({"levels": {"start": True}}, "level"),
        ({"levels": {"nope": 1}}, "unknown phase"),
        ({"levels": [("start", 1)]}, "levels"),
        ({"paused_until": "2025-01-01"}, "paused_until"),
        ({"excluded_needs": {"7"}}, "excluded_needs"),
        ({"initiatives": 3}, "initiatives"),
    ],
)
def test_bad_volunteer_fields(fields, message):
    with pytest.raises(ValueError, match=message):
        Volunteer(**{"id": 1, **fields})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": "1"}, "need id"),
        ({"initiative_id": None}, "initiative_id"),
        ({"phases": ()}, "at least one phase"),
        ({"phases": "start"}, "phases"),
        ({"phases": ("start", "later")}, "unknown phase"),
        ({"district": "atlantis"}, "unknown district"),
        ({"language": "xx"}, "unknown language"),
        ({"formats": frozenset()}, "at least one format"),
        ({"urgency": "yesterday"}, "unknown urgency"),
        ({"wanted": -1}, "wanted"),
        ({"opened_at": date(2025, 1, 1)}, "opened_at"),
    ],
)
def test_bad_need_fields(fields, message):
    base = {"id": 1, "initiative_id": 1, "phases": ("start",), "district": "mitte"}
    with pytest.raises(ValueError, match=message):
        Need(**{**base, **fields})


def test_weights_from_mapping_and_normalised():
    weights = Weights.from_mapping({"phase": 2, "place": 1, "format": 1, "load": 0, "urgency": 0})
    assert weights.normalised() == (0.5, 0.25, 0.25, 0.0, 0.0)
    assert weights.load_penalty == Weights().load_penalty
    assert math.isclose(sum(Weights().normalised()), 1.0)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"phase": -1}, "phase"),
        ({"place": math.nan}, "place"),
        ({"load_penalty": math.inf}, "load_penalty"),
        ({"urgency": "0.1"}, "urgency"),
        ({"format": True}, "format"),
        ({"phase": 0, "place": 0, "format": 0, "load": 0, "urgency": 0}, "positive"),
        ({"waiting_horizon_days": 0}, "waiting_horizon_days"),
        ({"phse": 0.5}, "unknown weight"),
    ],
)
def test_bad_weights(values, message):
    with pytest.raises(ValueError, match=message):
        Weights.from_mapping(values)


def test_weights_from_mapping_wants_a_mapping():
    with pytest.raises(ValueError, match="mapping"):
        Weights.from_mapping([("phase", 1)])
