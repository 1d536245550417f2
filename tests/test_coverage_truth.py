"""Coverage that tells the truth: a need is covered only when someone available passes every
hard filter; each box links to the needs and experts behind it; language and format gaps."""

from __future__ import annotations

import pytest

from matching.models import Match, MatchStatus, Role, utcnow
from matching.reports import boxes


def _cell(picture, district, phase):
    (cell,) = [c for c in picture.report.cells if (c.district, c.phase) == (district, phase)]
    return cell


@pytest.fixture()
def coordinator(make_user, auth):
    user = make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Kora")
    auth.login(user.email)
    return user


def test_a_persian_need_with_enough_german_experts_is_a_gap(
    db, make_volunteer, make_initiative, make_need
):
    for _ in range(3):
        make_volunteer(districts=("stammheim",), levels={"start": 3})
    stammheim, _m = make_initiative("Stammheim hilft", district="stammheim")
    make_need(stammheim, title="Auf Persisch", language="fa")
    make_need(stammheim, title="Auf Deutsch")

    picture = boxes.coverage(db.session, utcnow())

    cell = _cell(picture, "stammheim", "start")
    assert (cell.needs, cell.volunteers, cell.uncovered) == (2, 3, 1)
    assert cell.level == "gap"  # the numbers alone said "enough"
    assert picture.uncovered == 1
    [gap] = picture.gaps
    assert (gap.reason, gap.district, gap.language, gap.needs) == ("language", "stammheim", "fa", 1)


def test_a_format_gap_is_named_and_a_proposed_need_counts_as_covered(
    db, make_volunteer, make_initiative, make_need
):
    near = make_volunteer(districts=("ost",), levels={"start": 3})  # next door, by phone too
    near.offers_phone = True
    mitte, _m = make_initiative("Mitte", district="mitte")
    in_person = make_need(mitte, title="Nur vor Ort")
    in_person.accepts_phone = in_person.accepts_video = False
    proposed = make_need(mitte, title="Schon jemand vorgeschlagen", phases=("exchange",))
    someone = make_volunteer(districts=("nord",), levels={"exchange": 1})
    db.session.add(Match(need=proposed, volunteer=someone, status=MatchStatus.PROPOSED))
    db.session.commit()

    picture = boxes.coverage(db.session, utcnow())

    assert _cell(picture, "mitte", "start").uncovered == 1
    assert _cell(picture, "mitte", "exchange").uncovered == 0
    [gap] = picture.gaps
    assert (gap.reason, gap.district, gap.formats) == ("format", "mitte", ("in_person",))


def test_the_page_links_each_box_and_lists_the_gaps(
    client, db, coordinator, make_volunteer, make_initiative, make_need
):
    vera = make_volunteer(districts=("stammheim",), levels={"start": 3}, first_name="Vera")
    stammheim, _m = make_initiative("Stammheim hilft", district="stammheim")
    need = make_need(stammheim, title="Auf Persisch", language="fa")

    html = client.get("/koordination/abdeckung").get_data(as_text=True)

    assert "überall" not in html and "Zurzeit kann jede offene Anfrage" not in html
    assert "Persisch in Stammheim: 1 Anfrage, niemand Passendes spricht die Sprache." in html
    assert 'href="/koordination/abdeckung/stammheim/start"' in html

    box = client.get("/koordination/abdeckung/stammheim/start").get_data(as_text=True)
    assert "Auf Persisch" in box and f"/anfragen/{need.id}" in box
    assert "niemand Verfügbares kann sie übernehmen" in box
    assert "Vera Muster" in box and f"/koordination/profile/{vera.id}" in box


@pytest.mark.parametrize(
    "path", ["/koordination/abdeckung/atlantis/start", "/koordination/abdeckung/ost/x"]
)
def test_an_unknown_box_is_a_clear_404(client, db, coordinator, path):
    response = client.get(path)
    assert response.status_code == 404


def test_needs_alike_count_together_and_exclusions_count_for_their_need_alone(
    db, make_volunteer, make_initiative, make_need
):
    vera = make_volunteer(districts=("stammheim",), levels={"start": 3}, capacity=3)
    stammheim, _m = make_initiative("Stammheim hilft", district="stammheim")
    alike = [make_need(stammheim, title=f"Gleich {i}") for i in range(3)]
    declined = make_need(stammheim, title="Abgelehnt")
    db.session.add(Match(need=declined, volunteer=vera, status=MatchStatus.DECLINED))
    # Vera belongs to this initiative: she cannot advise it.
    own, _m = make_initiative("Veras eigene", district="stammheim", member=vera.user)
    make_need(own, title="Eigene")
    persian = [make_need(stammheim, title=f"Persisch {i}", language="fa") for i in range(2)]
    db.session.commit()

    picture = boxes.coverage(db.session, utcnow())

    cell = _cell(picture, "stammheim", "start")
    assert (cell.needs, cell.volunteers) == (len(alike) + 2 + len(persian), 1)
    assert cell.uncovered == 2 + len(persian)  # the declined, her own, the Persian ones
    [gap] = picture.gaps
    assert (gap.reason, gap.language, gap.needs) == ("language", "fa", len(persian))
