"""Advice follows the phases: "passt fachlich nicht" lowers a phase, continuity is rewarded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from matching.engine import PART_NAMES, Need, Pool, Volunteer, Weights, propose, rank, score
from matching.engine.pool import NeedTable

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
WEIGHTS = Weights()


def volunteer(**fields) -> Volunteer:
    base = {
        "id": 1,
        "confirmed": True,
        "approved": True,
        "districts": {"ost"},
        "levels": {"start": 3, "planning": 2},
    }
    return Volunteer(**{**base, **fields})


def need(**fields) -> Need:
    base = {"id": 10, "initiative_id": 100, "phases": ("planning",), "district": "ost"}
    return Need(**{**base, **fields, "opened_at": NOW})


def test_a_lowered_phase_lowers_the_phase_part_and_says_why():
    plain = score(volunteer(), need(), WEIGHTS, NOW)
    lowered = score(volunteer(phase_factors={"planning": 0.5}), need(), WEIGHTS, NOW)
    assert lowered.part("phase").value == pytest.approx(plain.part("phase").value * 0.5)
    assert lowered.value < plain.value
    assert "passt fachlich nicht" in lowered.part("phase").text("de")
    assert "not my field" in lowered.part("phase").text("en")
    assert "passt fachlich nicht" not in plain.part("phase").text("de")


def test_a_lowered_phase_counts_only_for_needs_in_that_phase():
    other = need(phases=("start",))
    assert (
        score(volunteer(phase_factors={"planning": 0.5}), other, WEIGHTS, NOW).value
        == score(volunteer(), other, WEIGHTS, NOW).value
    )


def test_the_lowest_factor_of_the_needs_phases_counts():
    v = volunteer(phase_factors={"planning": 0.5, "start": 0.8})
    assert v.phase_factor(("start", "planning")) == 0.5
    assert v.phase_factor(("exchange",)) == 1.0


def test_continuity_adds_a_part_with_a_sentence_in_both_locales():
    first = score(volunteer(), need(), WEIGHTS, NOW)
    again = score(volunteer(advised_initiatives={100}), need(), WEIGHTS, NOW)
    assert [p.name for p in first.parts] == list(PART_NAMES)
    assert [p.name for p in again.parts] == [*PART_NAMES, "continuity"]
    part = again.part("continuity")
    assert (part.text("de"), part.text("en")) == (
        "Hat Ihre Initiative schon beraten",
        "Has advised your initiative before",
    )
    assert again.value == pytest.approx(min(1.0, first.value + WEIGHTS.continuity))
    assert "Hat Ihre Initiative schon beraten" in again.explain("de")


def test_continuity_only_for_the_same_initiative_and_only_for_candidates():
    other_initiative = need(initiative_id=200)
    v = volunteer(advised_initiatives={100})
    assert [p.name for p in score(v, other_initiative, WEIGHTS, NOW).parts] == list(PART_NAMES)
    # Knowing none of the next phase still rules the pair out: the bonus is no way around it.
    assert score(v, need(phases=("conflicts",)), WEIGHTS, NOW) is None


def test_the_expert_who_advised_before_ranks_first_when_otherwise_equal():
    earlier = volunteer(id=2, advised_initiatives={100})
    stranger = volunteer(id=1)
    ranked = rank(need(), [stranger, earlier], WEIGHTS, NOW)
    assert [v.id for v, _s in ranked] == [2, 1]
    [proposal] = propose([stranger, earlier], [need()], WEIGHTS, NOW)
    assert proposal.volunteer_id == 2


def test_a_weight_of_zero_switches_continuity_off():
    no_bonus = Weights.from_mapping({"continuity": 0})
    a = score(volunteer(advised_initiatives={100}), need(), no_bonus, NOW)
    b = score(volunteer(), need(), no_bonus, NOW)
    assert a.value == b.value


def test_the_pool_agrees_bit_for_bit_with_factors_and_bonus():
    vols = [
        volunteer(id=1, phase_factors={"planning": 0.3}),
        volunteer(id=2, advised_initiatives={100}),
        volunteer(id=3, phase_factors={"planning": 0.75}, advised_initiatives={100, 7}),
        volunteer(id=4),
    ]
    n = need(phases=("start", "planning"))
    pool = Pool(vols)
    rows = pool.candidates(n, NOW)
    values = pool.values(rows, NeedTable([n], WEIGHTS, NOW), rows * 0, WEIGHTS)
    assert values.tolist() == [score(v, n, WEIGHTS, NOW).value for v in vols]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phase_factors": {"start": 0}}, "factor for start"),
        ({"phase_factors": {"start": 1.5}}, "factor for start"),
        ({"phase_factors": {"start": float("nan")}}, "factor for start"),
        ({"phase_factors": {"start": True}}, "factor for start"),
        ({"phase_factors": {"nowhere": 0.5}}, "phase"),
        ({"phase_factors": [("start", 0.5)]}, "phase_factors"),
        ({"advised_initiatives": {"x"}}, "advised_initiatives"),
    ],
)
def test_bad_factors_and_advised_initiatives(fields, message):
    with pytest.raises(ValueError, match=message):
        volunteer(**fields)


def test_weights_check_the_continuity_bonus():
    with pytest.raises(ValueError, match="continuity"):
        Weights.from_mapping({"continuity": -0.1})
