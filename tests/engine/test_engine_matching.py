"""Hard filters, score parts with their sentences, ranking and the global proposal."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.engine import (
    EXCLUSIONS,
    MIN_SCORE,
    PART_NAMES,
    Need,
    Pool,
    Volunteer,
    Weights,
    assign,
    exclusion,
    explain,
    plan,
    propose,
    rank,
    score,
)
from matching.engine.pool import NeedTable
from matching.reference import FORMAT_CODES, PHASE_CODES, REMOTE_FORMATS

NOW = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)
WEIGHTS = Weights()
HYPOTHESIS = settings(max_examples=120, derandomize=True, deadline=None)


def volunteer(**fields) -> Volunteer:
    """An available volunteer in Mitte with practical experience in cooperation."""
    base = {
        "id": 1,
        "confirmed": True,
        "approved": True,
        "districts": {"mitte"},
        "levels": {"cooperation": 2},
        "first_name": "Anna",
    }
    return Volunteer(**{**base, **fields})


def need(**fields) -> Need:
    """An open need in Mitte about cooperation, opened today."""
    base = {
        "id": 10,
        "initiative_id": 100,
        "phases": ("cooperation",),
        "district": "mitte",
        "opened_at": NOW,
    }
    return Need(**{**base, **fields})


# -- hard filters -----------------------------------------------------------------------------

TODAY = NOW.date()


@pytest.mark.parametrize(
    ("volunteer_fields", "need_fields", "reason"),
    [
        ({}, {}, None),
        ({"confirmed": False}, {}, "unconfirmed"),
        ({"approved": False}, {}, "unapproved"),
        ({"paused_until": TODAY + timedelta(days=1)}, {}, "paused"),
        ({"paused_until": TODAY}, {}, None),  # available again from that day
        ({"paused_until": TODAY - timedelta(days=1)}, {}, None),
        ({"capacity": 2, "active": 2}, {}, "full"),
        ({"capacity": 0}, {}, "full"),
        ({"capacity": 3, "active": 2}, {}, None),
        ({}, {"language": "tr"}, "language"),
        ({"languages": {"de", "tr"}}, {"language": "tr"}, None),
        ({}, {"district": "wangen"}, "district"),
        ({}, {"district": "ost"}, "district"),  # a neighbour alone is not enough
        ({"whole_city": True}, {"district": "wangen"}, None),
        ({"formats": {"video"}}, {"district": "wangen", "formats": {"video"}}, None),
        (
            {"formats": {"phone"}},
            {"district": "wangen", "formats": {"in_person", "video"}},
            "district",
        ),
        ({"excluded_needs": {10}}, {}, "declined"),
        ({"initiatives": {100}}, {}, "member"),
        ({"initiatives": {101}, "excluded_needs": {11}}, {}, None),
        ({"levels": {"cooperation": 0, "start": 3}}, {}, "phase"),
        ({"levels": {}}, {}, "phase"),
        ({"levels": {"start": 1}}, {"phases": ("cooperation", "start")}, None),
    ],
)
def test_hard_filters(volunteer_fields, need_fields, reason):
    v, n = volunteer(**volunteer_fields), need(**need_fields)
    assert exclusion(v, n, NOW) == reason
    result = score(v, n, WEIGHTS, NOW)
    assert (result is None) == (reason is not None)
    assert (v in [w for w, _ in rank(n, [v], WEIGHTS, NOW)]) == (reason is None)
    assert reason is None or reason in EXCLUSIONS


# -- score parts and their sentences ----------------------------------------------------------


def test_phase_part_and_sentence():
    s = score(volunteer(levels={"cooperation": 2}), need(), WEIGHTS, NOW)
    part = s.part("phase")
    assert part.value == pytest.approx(2 / 3)
    assert part.de == "Hat Praxiserfahrung in Kooperation"
    assert part.en == "Has practical experience in Cooperation"
    mixed = volunteer(levels={"cooperation": 3, "start": 1})
    part = score(mixed, need(phases=("start", "cooperation", "planning")), WEIGHTS, NOW).part(
        "phase"
    )
    assert part.value == pytest.approx((3 * 3 + 4) / 18)  # mean of best and average level, /3
    assert part.de == (
        "Hat Grundkenntnisse in Start / Akquise und viel Erfahrung in Kooperation, "
        "aber keine Kenntnisse in Konzeption / Planung"
    )
    assert part.en == (
        "Has basic knowledge of Start / acquisition and a lot of experience in Cooperation, "
        "but no knowledge of Conception / planning"
    )


@pytest.mark.parametrize(
    ("volunteer_fields", "need_fields", "value", "de", "en"),
    [
        ({}, {}, 1.0, "Berät im Stadtbezirk Mitte", "Is active in the district of Mitte"),
        (
            {"districts": {"ost"}, "formats": {"in_person", "phone"}},
            {"formats": {"in_person", "phone"}},
            0.7,
            "Berät im benachbarten Stadtbezirk Ost",
            "Is active in Ost, next to the request's district",
        ),
        # Someone who serves the whole city keeps the nearness in the value, but is never
        # told (nor described as) "from the neighbouring district".
        (
            {"districts": {"ost"}, "whole_city": True},
            {"formats": {"in_person", "phone"}},
            0.7,
            "Berät in ganz Stuttgart",
            "Advises across Stuttgart",
        ),
        (
            {"districts": {"wangen"}, "whole_city": True},
            {},
            0.4,
            "Berät in ganz Stuttgart",
            "Advises across Stuttgart",
        ),
        (
            {"districts": {"wangen"}, "formats": {"phone", "video"}},
            {"formats": {"in_person", "video"}},
            0.2,
            # The need's district (the default need is in Mitte) and the way to reach it.
            "Berät nicht vor Ort in Mitte, aber per Video",
            "Not on site in Mitte, but by video",
        ),
        (
            {"districts": set(), "formats": {"phone", "video"}},
            {"formats": {"phone", "video"}},
            0.2,
            "Berät nicht vor Ort in Mitte, aber per Telefon oder Video",
            "Not on site in Mitte, but by phone or video",
        ),
    ],
)
def test_place_part_and_sentence(volunteer_fields, need_fields, value, de, en):
    part = score(volunteer(**volunteer_fields), need(**need_fields), WEIGHTS, NOW).part("place")
    assert (part.value, part.de, part.en) == (value, de, en)


def test_place_order_same_over_neighbour_over_city_over_remote():
    common = {"whole_city": True, "formats": {"in_person", "video"}}
    places = [{"mitte"}, {"ost"}, {"wangen"}]
    values = [score(volunteer(districts=d, **common), need(), WEIGHTS, NOW).value for d in places]
    remote = volunteer(districts={"wangen"}, formats={"video"})
    values.append(score(remote, need(formats={"in_person", "video"}), WEIGHTS, NOW).value)
    assert values == sorted(values, reverse=True) and len(set(values)) == 4


def test_format_part_and_sentence():
    v = volunteer(formats={"in_person", "phone"})
    part = score(v, need(formats={"in_person"}), WEIGHTS, NOW).part("format")
    assert (part.value, part.de) == (1.0, "Bietet jede gewünschte Art der Beratung an: Vor Ort")
    part = score(v, need(formats=set(FORMAT_CODES)), WEIGHTS, NOW).part("format")
    assert part.value == pytest.approx(2 / 3)
    assert part.de == "Bietet 2 von 3 gewünschten Arten der Beratung an: Vor Ort, Telefon"
    assert part.en == "Offers 2 of 3 preferred formats: In person, Phone"
    part = score(volunteer(formats={"video"}), need(), WEIGHTS, NOW).part("format")
    assert (part.value, part.en) == (0.0, "Offers none of the preferred formats")


@pytest.mark.parametrize(
    ("active", "value", "de", "en"),
    [
        # Live matches, not advice: a waiting proposal holds a place too.
        (0, 1.0, "Hat zurzeit keine andere Vermittlung", "Currently has no other match"),
        (1, 0.5, "Hat zurzeit eine andere Vermittlung", "Currently has one other match"),
        (2, 1 / 3, "Hat zurzeit 2 andere Vermittlungen", "Currently has 2 other matches"),
    ],
)
def test_load_part_and_sentence(active, value, de, en):
    part = score(volunteer(capacity=3, active=active), need(), WEIGHTS, NOW).part("load")
    assert (part.value, part.de, part.en) == (pytest.approx(value), de, en)


@pytest.mark.parametrize(
    ("urgency", "days", "value", "de", "en"),
    [
        (
            "normal",
            0,
            0.0,
            "Die Anfrage ist nicht eilig und ist seit heute offen",
            "The request is not pressing and was opened today",
        ),
        (
            "soon",
            1,
            (0.5 + 1 / 28) / 2,
            "Die Anfrage soll bald beginnen und wartet seit 1 Tag",
            "The request should start soon and has been waiting for 1 day",
        ),
        (
            "urgent",
            14,
            0.75,
            "Die Anfrage ist dringend und wartet seit 14 Tagen",
            "The request is urgent and has been waiting for 14 days",
        ),
        (
            "normal",
            90,
            0.5,
            "Die Anfrage ist nicht eilig und wartet seit 90 Tagen",
            "The request is not pressing and has been waiting for 90 days",
        ),
    ],
)
def test_urgency_part_and_sentence(urgency, days, value, de, en):
    n = need(urgency=urgency, opened_at=NOW - timedelta(days=days))
    part = score(volunteer(), n, WEIGHTS, NOW).part("urgency")
    assert (part.value, part.de, part.en) == (pytest.approx(value), de, en)


def test_naive_and_aware_datetimes_mix():
    opened = (NOW - timedelta(days=7)).replace(tzinfo=None)
    assert score(volunteer(), need(opened_at=opened), WEIGHTS, NOW).part("urgency").value == 0.125
    assert score(volunteer(), need(opened_at=None), WEIGHTS, NOW).part("urgency").value == 0.0


def test_value_is_the_sum_of_contributions_and_explains_in_both_locales():
    s = score(volunteer(levels={"cooperation": 1}, active=1), need(urgency="soon"), WEIGHTS, NOW)
    assert [p.name for p in s.parts] == list(PART_NAMES)
    assert sum(p.weight for p in s.parts) == pytest.approx(1.0)
    assert s.value == pytest.approx(sum(p.contribution for p in s.parts))
    order = sorted(s.parts, key=lambda p: -p.contribution)
    assert explain(s, "de") == s.explain() == [p.de for p in order]
    assert explain(s, "en") == [p.en for p in order]
    assert s.part("phase").text("en") == "Has basic knowledge of Cooperation"


def test_weights_from_config_change_the_value_and_the_floor_keeps_it_positive():
    only_phase = Weights.from_mapping({"place": 0, "format": 0, "load": 0, "urgency": 0})
    assert score(volunteer(), need(), only_phase, NOW).value == pytest.approx(2 / 3)
    only_format = Weights.from_mapping(
        {"phase": 0, "place": 0, "format": 1, "load": 0, "urgency": 0}
    )
    assert score(volunteer(formats={"video"}), need(), only_format, NOW).value == MIN_SCORE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("v", need(), WEIGHTS, NOW), "Volunteer"),
        ((volunteer(), "n", WEIGHTS, NOW), "Need"),
        ((volunteer(), need(), {"phase": 1}, NOW), "Weights"),
        ((volunteer(), need(), WEIGHTS, TODAY), "datetime"),
    ],
)
def test_score_rejects_wrong_types(args, message):
    with pytest.raises(ValueError, match=message):
        score(*args)


# -- properties over generated records ----------------------------------------------------------

SOME_DISTRICTS = ("mitte", "ost", "wangen", "birkach", "sued")
LANGUAGES = ("de", "en", "tr")


@st.composite
def volunteers(draw):
    return Volunteer(
        id=draw(st.integers(1, 10**6)),
        confirmed=draw(st.sampled_from([True, True, True, False])),
        approved=draw(st.sampled_from([True, True, True, False])),
        paused_until=draw(
            st.none() | st.dates(TODAY - timedelta(days=3), TODAY + timedelta(days=3))
        ),
        capacity=draw(st.integers(0, 3)),
        active=draw(st.integers(0, 2)),
        languages=draw(st.frozensets(st.sampled_from(LANGUAGES), max_size=2)),
        districts=draw(st.frozensets(st.sampled_from(SOME_DISTRICTS), max_size=2)),
        whole_city=draw(st.booleans()),
        formats=draw(st.frozensets(st.sampled_from(FORMAT_CODES))),
        levels=draw(st.dictionaries(st.sampled_from(PHASE_CODES), st.integers(0, 3))),
        excluded_needs=draw(st.frozensets(st.integers(1, 6), max_size=2)),
        initiatives=draw(st.frozensets(st.integers(1, 3), max_size=1)),
        phase_factors=draw(
            st.dictionaries(st.sampled_from(PHASE_CODES), st.floats(0.05, 1.0), max_size=3)
        ),
        advised_initiatives=draw(st.frozensets(st.integers(1, 3), max_size=2)),
    )


@st.composite
def needs(draw):
    return Need(
        id=draw(st.integers(1, 6)),
        initiative_id=draw(st.integers(1, 3)),
        phases=draw(st.lists(st.sampled_from(PHASE_CODES), min_size=1, max_size=3)),
        district=draw(st.sampled_from(SOME_DISTRICTS)),
        language=draw(st.sampled_from(LANGUAGES)),
        formats=draw(st.frozensets(st.sampled_from(FORMAT_CODES), min_size=1)),
        urgency=draw(st.sampled_from(["normal", "soon", "urgent"])),
        wanted=draw(st.integers(0, 2)),
        opened_at=draw(st.none() | st.integers(0, 90).map(lambda d: NOW - timedelta(days=d))),
    )


def excluded_by_hand(v: Volunteer, n: Need) -> bool:
    """DESIGN §5's hard filters, written out once more independently of the engine."""
    reaches = (
        n.district in v.districts or v.whole_city or bool(n.formats & v.formats & REMOTE_FORMATS)
    )
    return not (
        v.confirmed
        and v.approved
        and (v.paused_until is None or v.paused_until <= TODAY)
        and v.capacity > v.active
        and n.language in v.languages
        and reaches
        and n.id not in v.excluded_needs
        and n.initiative_id not in v.initiatives
        and max(v.levels.get(p, 0) for p in n.phases) >= 1
    )


@HYPOTHESIS
@given(volunteers(), needs())
def test_score_is_in_range_and_none_exactly_when_filtered(v, n):
    s = score(v, n, WEIGHTS, NOW)
    assert (s is None) == excluded_by_hand(v, n)
    if s is not None:
        assert 0 < s.value <= 1
        assert all(0 <= p.value <= 1 and p.de and p.en for p in s.parts)


@HYPOTHESIS
@given(volunteers(), needs(), st.data())
def test_score_does_not_fall_when_a_level_in_the_need_rises(v, n, data):
    phase = data.draw(st.sampled_from(n.phases))
    level = v.levels.get(phase, 0)
    if level == 3:
        return
    better = dataclasses.replace(v, levels={**v.levels, phase: level + 1})
    before, after = score(v, n, WEIGHTS, NOW), score(better, n, WEIGHTS, NOW)
    if before is not None:
        assert after is not None and after.value >= before.value
        assert after.part("phase").value >= before.part("phase").value


def _distinct(records):
    return list({r.id: r for r in records}.values())


@HYPOTHESIS
@given(st.lists(volunteers(), max_size=12).map(_distinct), needs())
def test_pool_finds_the_same_candidates_and_values_as_score(vols, n):
    pool = Pool(vols)
    rows = pool.candidates(n, NOW)
    expected = {v.id: s.value for v in vols if (s := score(v, n, WEIGHTS, NOW)) is not None}
    assert pool.ids[rows].tolist() == sorted(expected)
    values = pool.values(rows, NeedTable([n], WEIGHTS, NOW), rows * 0, WEIGHTS)
    assert values.tolist() == [expected[i] for i in sorted(expected)]  # bit for bit
    by_list, by_pool = rank(n, vols, WEIGHTS, NOW, k=5), rank(n, pool, WEIGHTS, NOW, k=5)
    assert by_list == by_pool
    assert [v.id for v, _ in by_list] == sorted(expected, key=lambda i: (-expected[i], i))[:5]


@pytest.mark.parametrize(
    ("volunteer_id", "initiative_id"), [(7, 100), (2**40, 100), (7, 2**40), (7, 2**70)]
)
def test_the_continuity_bonus_in_bulk_for_ids_of_any_size(volunteer_id, initiative_id):
    """Ids that fit 31 bits are looked up packed; larger ones one pair at a time."""
    advised = volunteer(id=volunteer_id, advised_initiatives={initiative_id})
    other = volunteer(id=volunteer_id + 1, advised_initiatives={initiative_id + 1})
    needs_ = [need(id=10, initiative_id=initiative_id), need(id=11, initiative_id=5)]
    pool = Pool([advised, other])
    rows = np.array([0, 1, 0, 1])
    need_rows = np.array([0, 0, 1, 1])
    values = pool.values(rows, NeedTable(needs_, WEIGHTS, NOW), need_rows, WEIGHTS)
    expected = [
        score(pool.volunteers[r], needs_[n], WEIGHTS, NOW).value
        for r, n in zip(rows.tolist(), need_rows.tolist(), strict=True)
    ]
    assert values.tolist() == expected
    assert values[0] > values[1]  # only the first pair earns the bonus


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    st.lists(volunteers(), max_size=10).map(_distinct),
    st.lists(needs(), max_size=6).map(_distinct),
    st.randoms(use_true_random=False),
)
def test_propose_is_the_assignment_of_the_scored_pairs(vols, all_needs, rnd):
    proposals = propose(vols, all_needs, WEIGHTS, NOW)
    edges = [
        (v.id, n.id, s.value)
        for v in vols
        for n in all_needs
        if (s := score(v, n, WEIGHTS, NOW)) is not None
    ]
    capacity = {v.id: v.capacity - v.active for v in vols if v.capacity > v.active}
    wanted = {n.id: n.wanted for n in all_needs}
    expected = assign(edges, capacity, wanted, WEIGHTS.load_penalty)
    assert sorted((p.volunteer_id, p.need_id) for p in proposals) == expected
    assert proposals == sorted(proposals, key=lambda p: (p.need_id, p.volunteer_id))
    by_id = {v.id: v for v in vols}
    for p in proposals:
        need_ = next(n for n in all_needs if n.id == p.need_id)
        assert p.score == score(by_id[p.volunteer_id], need_, WEIGHTS, NOW)
    rnd.shuffle(vols)
    rnd.shuffle(all_needs)
    assert propose(vols, all_needs, WEIGHTS, NOW) == proposals
    # The needs without candidate come from the same pairs: every hard filter counts.
    found = plan(vols, all_needs, WEIGHTS, NOW)
    assert found.proposals == proposals
    assert found.without_candidate == sorted(
        n.id for n in all_needs if all(score(v, n, WEIGHTS, NOW) is None for v in vols)
    )


# -- rank and propose ---------------------------------------------------------------------------


def test_rank_orders_best_first_with_ties_by_id_and_honours_k():
    vols = [
        volunteer(id=5, levels={"cooperation": 1}),
        volunteer(id=3, levels={"cooperation": 3}),
        volunteer(id=4, levels={"cooperation": 3}),
        volunteer(id=9, levels={"cooperation": 0}),
    ]
    assert [v.id for v, _ in rank(need(), vols, WEIGHTS, NOW)] == [3, 4, 5]
    assert [v.id for v, _ in rank(need(), Pool(vols), WEIGHTS, NOW, k=2)] == [3, 4]
    assert [v.id for v, _ in rank(need(), vols, WEIGHTS, NOW, k=None)] == [3, 4, 5]
    assert rank(need(), vols, WEIGHTS, NOW, k=0) == []
    with pytest.raises(ValueError, match="k must be"):
        rank(need(), vols, WEIGHTS, NOW, k=-1)


def test_propose_fills_wanted_and_capacity():
    vols = [volunteer(id=1, capacity=1), volunteer(id=2, capacity=3, initiatives={7})]
    needs_ = [
        need(id=10, wanted=2),
        need(id=11, initiative_id=7, urgency="urgent"),
        need(id=12, wanted=0),
    ]
    pairs = [(p.need_id, p.volunteer_id) for p in propose(vols, needs_, WEIGHTS, NOW)]
    # Only volunteer 1 may help the urgent need 11, so need 10 gets one of the two it wants.
    assert pairs == [(10, 2), (11, 1)]


@pytest.mark.parametrize(
    ("vols", "needs_", "message"),
    [
        ([volunteer(id=1), volunteer(id=1)], [need()], "volunteer id 1"),
        ([volunteer()], [need(id=3), need(id=3)], "need id 3"),
        (["anna"], [need()], "Volunteer"),
        ([volunteer()], [{"id": 1}], "Need"),
    ],
)
def test_propose_rejects_inconsistent_data(vols, needs_, message):
    with pytest.raises(ValueError, match=message):
        propose(vols, needs_, WEIGHTS, NOW)


def test_propose_rejects_wrong_weights_or_time():
    with pytest.raises(ValueError, match="Weights"):
        propose([volunteer()], [need()], {"phase": 1}, NOW)
    with pytest.raises(ValueError, match="datetime"):
        propose([volunteer()], [need()], WEIGHTS, "now")


def test_propose_with_nobody_or_nothing():
    assert propose([], [need()], WEIGHTS, NOW) == []
    assert propose([volunteer()], [], WEIGHTS, NOW) == []
    assert propose(Pool([volunteer(confirmed=False)]), [need()], WEIGHTS, NOW) == []
