"""Why a need has nobody, the spread of work, first-come against the optimum, and the reasons
written for each reader (coordinator, volunteer, initiative) in German and English."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from matching.engine import Pool, insight, propose, score
from tests.engine.test_engine_matching import NOW, WEIGHTS, need, volunteer

# -- why nobody: one test per reason class ------------------------------------------------------


def test_nobody_with_the_phase_in_the_district_or_its_neighbours():
    far = volunteer(districts={"stammheim"}, levels={"cooperation": 3})
    other_phase = volunteer(id=2, levels={"start": 3})
    nobody = insight.why_nobody(need(district="mitte"), [far, other_phase], NOW)
    assert nobody.reason == insight.PHASE
    de, en = insight.nobody_text(nobody, need(district="mitte"))
    assert de == (
        "Zurzeit berät niemand mit Kenntnissen in Kooperation in Mitte oder den "
        "Nachbarbezirken, auch nicht per Telefon oder Video."
    )
    assert en.startswith("At present nobody with knowledge of Cooperation advises in Mitte")


def test_nobody_with_the_language():
    persian = need(district="stammheim", language="fa")
    nearby = volunteer(districts={"stammheim"}, languages={"de", "tr"})
    nobody = insight.why_nobody(persian, [nearby], NOW)
    assert nobody.reason == insight.LANGUAGE
    assert insight.nobody_text(nobody, persian) == (
        "Von den Expert:innen, die in Frage kommen, spricht niemand Persisch.",
        "None of the experts who would fit speaks Persian.",
    )


def test_nobody_for_the_format():
    # In a neighbouring district, or far away by phone: the need wants to meet in person.
    in_person = need(district="mitte", formats={"in_person"})
    neighbour = volunteer(districts={"ost"})
    by_phone = volunteer(id=2, districts={"stammheim"}, formats={"phone"})
    nobody = insight.why_nobody(in_person, [neighbour, by_phone], NOW)
    assert nobody.reason == insight.FORMAT
    de, en = insight.nobody_text(nobody, in_person)
    assert de == "Niemand, der passt, kann in der gewünschten Art (Vor Ort) in Mitte beraten."
    assert en == "Nobody who fits can advise in the requested way (in person) in Mitte."


def test_everyone_fitting_is_busy_or_paused_and_the_first_pause_end_is_named():
    full = volunteer(capacity=1, active=1)
    paused = volunteer(id=2, paused_until=date(2025, 3, 20))
    later = volunteer(id=3, paused_until=date(2025, 4, 1))
    nobody = insight.why_nobody(need(), [full, paused, later], NOW)
    assert nobody == insight.Nobody(10, insight.BUSY, date(2025, 3, 20))
    de, en = insight.nobody_text(nobody, need())
    assert de.endswith("Die erste Pause endet am 20.03.2025.")
    assert en.endswith("The first break ends on 20 March 2025.")
    only_full = insight.why_nobody(need(), [full], NOW)
    assert only_full.pause_ends is None
    assert "Pause endet" not in insight.nobody_text(only_full, need())[0]


def test_everyone_fitting_declined():
    said_no = volunteer(excluded_needs={10})
    assert insight.why_nobody(need(), [said_no], NOW).reason == insight.DECLINED


def test_someone_fits_no_reason():
    assert insight.why_nobody(need(), [volunteer()], NOW) is None


def test_members_and_unapproved_people_do_not_count_as_fitting():
    member = volunteer(initiatives={100})
    pending = volunteer(id=2, approved=False)
    assert insight.why_nobody(need(), [member, pending], NOW).reason == insight.PHASE


# -- spread and first-come --------------------------------------------------------------------


def test_spread_counts_zero_one_two_and_three_or_more():
    assert insight.spread([0, 0, 1, 2, 3, 5]) == (2, 1, 1, 2)
    assert insight.spread([]) == (0, 0, 0, 0)


def test_the_optimum_covers_more_than_first_come():
    # Anna fits both needs; Ben only the older one. First come gives the older need Anna,
    # and the younger one gets nobody; the optimum gives Ben the older one.
    anna = volunteer(id=1, capacity=1, levels={"cooperation": 3, "start": 3})
    ben = volunteer(id=2, capacity=1, levels={"cooperation": 1}, excluded_needs={11})
    older = need(id=10, opened_at=NOW - timedelta(days=10))
    younger = need(id=11, phases=("cooperation", "start"), opened_at=NOW)
    pool = Pool([anna, ben])

    best = propose(pool, [older, younger], WEIGHTS, NOW)
    first = insight.first_come(pool, [older, younger], WEIGHTS, NOW)

    assert {(p.need_id, p.volunteer_id) for p in first} == {(10, 1)}
    assert {(p.need_id, p.volunteer_id) for p in best} == {(10, 2), (11, 1)}
    comparison = insight.compare(best, first)
    assert (comparison.covered, comparison.covered_first_come) == (2, 1)
    assert comparison.more_covered == 1
    # The older need fits less well with Ben, so that the younger one gets anyone at all.
    assert (comparison.better_fit, comparison.worse_fit) == (0, 1)


def test_first_come_respects_capacity_and_wanted():
    anna = volunteer(id=1, capacity=1)
    two = need(id=10, wanted=2)
    assert [
        (p.need_id, p.volunteer_id) for p in insight.first_come(Pool([anna]), [two], WEIGHTS, NOW)
    ] == [(10, 1)]


# -- reasons for three readers ----------------------------------------------------------------


def _texts(v, n, reader, locale):
    return score(v, n, WEIGHTS, NOW).explain(locale, reader)


def test_the_volunteer_reads_about_themselves_in_german_and_english():
    v = volunteer(
        districts={"degerloch"}, formats={"in_person", "phone"}, levels={"cooperation": 3}
    )
    n = need(district="sillenbuch", formats={"in_person", "phone"})
    de = _texts(v, n, "volunteer", "de")
    en = _texts(v, n, "volunteer", "en")
    assert "Sie haben viel Erfahrung in Kooperation" in de
    assert "You have a lot of experience in Cooperation" in en
    assert "Die Initiative ist im Nachbarbezirk Sillenbuch" in de
    assert "The initiative is in Sillenbuch, a district next to yours" in en
    assert "Sie haben zurzeit keine andere Vermittlung" in de
    assert "You currently have no other match" in en
    assert any(s.startswith("Sie bieten jede gewünschte Art") for s in de)


def test_the_coordinator_reads_the_third_person():
    v = volunteer(levels={"cooperation": 3})
    de = _texts(v, need(), "coordinator", "de")
    assert "Hat viel Erfahrung in Kooperation" in de
    assert "Berät im Stadtbezirk Mitte" in de
    assert "Has a lot of experience in Cooperation" in _texts(v, need(), "coordinator", "en")


def test_the_initiative_reads_about_its_expert_and_its_request():
    v = volunteer(levels={"cooperation": 3, "start": 0})
    n = need(phases=("cooperation", "start"), urgency="urgent")
    de = _texts(v, n, "initiative", "de")
    en = _texts(v, n, "initiative", "en")
    assert "Hat viel Erfahrung in Kooperation" in de  # nothing about what they do not know
    assert "Has a lot of experience in Cooperation" in en
    assert "Berät in Ihrem Stadtbezirk Mitte" in de
    assert any(s.startswith("Ihre Anfrage ist dringend") for s in de)
    assert any(s.startswith("Your request is urgent") for s in en)


def test_a_whole_city_volunteer_never_reads_a_neighbour_district_reason():
    v = volunteer(districts={"degerloch"}, whole_city=True, formats={"in_person", "phone"})
    n = need(district="sillenbuch", formats={"in_person", "phone"})
    for reader in ("volunteer", "coordinator", "initiative"):
        for locale in ("de", "en"):
            text = " ".join(_texts(v, n, reader, locale))
            assert "Nachbar" not in text and "neighbour" not in text
    assert "Die Initiative ist in Sillenbuch, und Sie beraten in ganz Stuttgart" in _texts(
        v, n, "volunteer", "de"
    )


def test_an_unknown_reader_is_refused():
    with pytest.raises(ValueError, match="reader"):
        score(volunteer(), need(), WEIGHTS, NOW).explain("de", "admin")


def test_the_neighbouring_district_is_the_one_named():
    """ "The initiative is in the neighbouring district of Nord" read as "not in Nord": the
    English names the district and says it lies next to the reader's (or the request's)."""
    from matching.engine.explanation import place_text

    de, en = place_text("neighbour", "ost", (), need_district="nord", reader="volunteer")
    assert de == "Die Initiative ist im Nachbarbezirk Nord"
    assert en == "The initiative is in Nord, a district next to yours"
    de, en = place_text("neighbour", "ost", (), need_district="nord", reader="initiative")
    assert de == "Berät im benachbarten Stadtbezirk Ost"
    assert en == "Is active in Ost, next to yours"
    _de, en = place_text("neighbour", "ost", (), need_district="nord", reader="coordinator")
    assert en == "Is active in Ost, next to the request's district"
