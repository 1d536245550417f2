"""Reference data: eight phases in order, 23 districts, a sound neighbour relation."""

from collections import deque

from matching import reference as ref


def test_phases_in_design_order_with_labels_and_explanations():
    assert ref.PHASE_CODES == (
        "start",
        "planning",
        "results",
        "cooperation",
        "resources",
        "inclusion",
        "conflicts",
        "exchange",
    )
    for phase in ref.PHASES:
        assert phase.de and phase.en
        assert phase.explain_de.endswith(".") and phase.explain_en.endswith(".")
    assert ref.PHASE_BY_CODE["conflicts"].label("de") == "Stolpersteine / Konflikte"
    assert ref.PHASE_BY_CODE["conflicts"].label("en") == "Stumbling blocks / conflicts"


def test_twenty_three_districts_five_inner():
    assert len(ref.DISTRICTS) == 23
    assert len(set(ref.DISTRICT_CODES)) == 23
    inner = {d.name for d in ref.DISTRICTS if d.ring == "inner"}
    assert inner == {"Mitte", "Nord", "Ost", "Süd", "West"}
    assert {d.ring for d in ref.DISTRICTS} == {"inner", "outer"}


def test_neighbours_name_known_districts():
    for code, neighbours in ref.NEIGHBOURS.items():
        assert neighbours <= set(ref.DISTRICT_CODES), code


def test_neighbour_relation_is_symmetric():
    for a, neighbours in ref.NEIGHBOURS.items():
        for b in neighbours:
            assert a in ref.NEIGHBOURS[b], f"{a} borders {b} but not the other way round"


def test_neighbour_relation_is_irreflexive_and_every_district_has_one():
    for code, neighbours in ref.NEIGHBOURS.items():
        assert code not in neighbours
        assert neighbours, f"{code} has no neighbour"


def test_neighbour_relation_is_connected():
    start = ref.DISTRICT_CODES[0]
    seen, queue = {start}, deque([start])
    while queue:
        for other in ref.NEIGHBOURS[queue.popleft()]:
            if other not in seen:
                seen.add(other)
                queue.append(other)
    assert seen == set(ref.DISTRICT_CODES)


def test_inner_ring_surrounds_mitte():
    assert ref.NEIGHBOURS["mitte"] == {"nord", "ost", "sued", "west"}
