"""The POST helper every page uses: commit once on success, roll back and explain on refusal."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from werkzeug.exceptions import BadRequest, NotFound

from matching.errors import InvalidInput
from matching.forms import ReasonForm
from matching.models import Initiative
from matching.views import Refused, attempt, get_or_404, perform, require_valid_post


def _count(db) -> int:
    return db.session.query(Initiative).count()


def test_success_commits_once_flashes_and_redirects(app, db):
    with app.test_request_context("/x", method="POST"):
        response = perform(
            lambda: db.session.add(Initiative(name="Treff", district="ost")),
            done="Gespeichert.",
            then="/weiter",
        )
        db.session.rollback()  # a commit happened: the row survives a later rollback
        assert _count(db) == 1
        assert response.status_code == 302
        assert response.location == "/weiter"
        assert get_flashed_messages(with_categories=True) == [("success", "Gespeichert.")]


def test_refusal_rolls_everything_back_and_says_why(app, db):
    def change():
        db.session.add(Initiative(name="Halb", district="ost"))
        db.session.flush()
        raise InvalidInput("Bitte geben Sie einen Grund an.")

    with app.test_request_context("/x", method="POST"):
        response = perform(change, done="nie", then="/weiter", refused_then="/zurueck")
        assert _count(db) == 0
        assert response.location == "/zurueck"
        assert get_flashed_messages(with_categories=True) == [
            ("error", "Bitte geben Sie einen Grund an.")
        ]


def test_refusal_with_a_form_keeps_the_form_on_screen(app, db):
    with app.test_request_context("/x", method="POST", data={}):
        form = ReasonForm(meta={"csrf": False})

        def change():
            raise InvalidInput("Diese Anfrage ist schon beendet.")

        assert perform(change, done="nie", then="/weiter", form=form) is None
        assert form.form_errors == ["Diese Anfrage ist schon beendet."]
        assert get_flashed_messages() == []


def test_other_errors_are_not_swallowed(app, db):
    def change():
        raise RuntimeError("bug")

    with app.test_request_context("/x", method="POST"), pytest.raises(RuntimeError):
        perform(change, done="nie", then="/weiter")


@pytest.mark.parametrize("ident", [0, -1, 2**31, 10**30, True, "1", None, 1.0])
def test_ids_that_cannot_exist_are_404_without_asking_the_database(app, db, ident):
    with app.test_request_context("/x"), pytest.raises(NotFound):
        get_or_404(Initiative, ident)


def test_get_or_404_finds_the_row(app, db):
    row = Initiative(name="Treff", district="ost")
    db.session.add(row)
    db.session.flush()
    with app.test_request_context("/x"):
        assert get_or_404(Initiative, row.id) is row
        with pytest.raises(NotFound):
            get_or_404(Initiative, row.id + 1)


def test_a_post_without_its_csrf_token_is_400(app, db):
    with app.test_request_context("/x", method="POST", data={}), pytest.raises(BadRequest):
        require_valid_post()


def test_what_is_said_and_where_to_go_can_follow_the_result(app, db):
    with app.test_request_context("/x", method="POST"):
        response = perform(
            lambda: 7,
            done=lambda n: [(f"{n} übernommen.", "success"), ("Seither geändert.", "info")],
            then=lambda n: f"/anfragen/{n}",
            refused_then="/zurueck",
        )
        assert response.location == "/anfragen/7"
        assert get_flashed_messages(with_categories=True) == [
            ("success", "7 übernommen."),
            ("info", "Seither geändert."),
        ]


def test_nothing_said_when_the_result_says_nothing(app, db):
    with app.test_request_context("/x", method="POST"):
        response = perform(lambda: None, done=lambda _r: None, then="/weiter")
        assert response.location == "/weiter"
        assert get_flashed_messages() == []


def test_a_result_dependent_way_on_needs_a_way_back(app, db):
    with app.test_request_context("/x", method="POST"), pytest.raises(TypeError):
        perform(lambda: 1, done=None, then=lambda n: f"/{n}")


def test_attempt_commits_and_returns_the_result(app, db):
    with app.test_request_context("/x", method="POST"):
        assert attempt(lambda: db.session.add(Initiative(name="Treff", district="ost")) or 5) == 5
        db.session.rollback()
        assert _count(db) == 1


def test_attempt_hands_a_refusal_back_with_nothing_written(app, db):
    def change():
        db.session.add(Initiative(name="Halb", district="ost"))
        db.session.flush()
        raise InvalidInput("Dieser Link ist schon benutzt.")

    with app.test_request_context("/x", method="POST"):
        assert attempt(change) == Refused("Dieser Link ist schon benutzt.")
        assert _count(db) == 0
