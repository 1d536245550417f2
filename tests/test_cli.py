"""Command-line commands: create-admin and demo-data."""

import pytest
from sqlalchemy import func, select

from config import TestingConfig
from matching import create_app
from matching.auth.passwords import verify_password
from matching.models import (
    Initiative,
    Match,
    MatchOrigin,
    MatchStatus,
    Need,
    NeedStatus,
    Role,
    User,
    VolunteerProfile,
)


@pytest.fixture()
def runner(app, db):
    return app.test_cli_runner()


def test_create_admin_reads_password_from_stdin(runner, db):
    result = runner.invoke(
        args=["create-admin", "Chefin@Example.org"], input="ein sehr gutes Passwort\n"
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "chefin@example.org"))
    assert user.has_role(Role.ADMIN) and user.has_role(Role.COORDINATOR)
    assert user.is_confirmed
    assert verify_password(user.password_hash, "ein sehr gutes Passwort")


def test_create_admin_refuses_weak_password_and_bad_address(runner, db):
    result = runner.invoke(args=["create-admin", "a@example.org"], input="kurz\n")
    assert result.exit_code != 0
    assert "mindestens 12 Zeichen" in result.output
    result = runner.invoke(
        args=["create-admin", "keine-adresse"], input="ein sehr gutes Passwort\n"
    )
    assert result.exit_code != 0
    assert "keine gültige E-Mail-Adresse" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_admin_promotes_an_existing_account(runner, db, make_user):
    user = make_user("erika@example.org")
    result = runner.invoke(args=["create-admin", "erika@example.org"])
    assert result.exit_code == 0, result.output
    db.session.refresh(user)
    assert user.roles == {"volunteer", "admin", "coordinator"}


def _counts(db):
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (User, VolunteerProfile, Initiative, Need)
    )


def test_demo_data_is_idempotent_and_prints_log_ins(runner, db):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    assert "koordination@demo.vernetzerboerse.de" in first.output
    counts = _counts(db)
    users, volunteers, initiatives, needs = counts
    assert volunteers == 30 and initiatives == 10 and needs == 20
    assert users == 1 + 30 + 10
    states = set(db.session.scalars(select(Need.status)))
    assert {NeedStatus.OPEN, NeedStatus.DRAFT, NeedStatus.MATCHED, NeedStatus.CLOSED} <= states
    # The coordinator's queue holds the engine's proposals, with their reasons.
    engine_made = db.session.scalars(
        select(Match).where(
            Match.origin == MatchOrigin.ENGINE, Match.status == MatchStatus.PROPOSED
        )
    ).all()
    assert engine_made and all(m.explanation for m in engine_made)
    assert "Vorschläge berechnet: " in first.output
    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0
    assert "nichts (schon geladen)" in second.output
    assert "vorgeschlagen 0" in second.output
    assert _counts(db) == counts


def test_demo_data_refuses_production(monkeypatch, tmp_path):
    monkeypatch.setenv("VERNETZER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "kB7-demo-data-refusal-qZ4mW9xR2vT6yN8")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("BASE_URL", "https://vernetzerboerse.example.org")
    from config import ProductionConfig

    app = create_app(ProductionConfig())
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code != 0
    assert "Produktionsumgebung" in result.output


def test_testing_config_is_not_production():
    assert TestingConfig().ENV_NAME == "testing"


def test_job_summaries_speak_german_throughout():
    """The summary lines mixed "proposals 5, mails 1" with "übersprungen 0"."""
    from jobs.cli import summary_line

    assert summary_line({"released": 1, "skipped": 0}) == "weitergegeben 1, übersprungen 0"
    assert summary_line({"proposals": 5, "mails": 1}) == "Vorschläge 5, E-Mails 1"
    line = summary_line({"needs_open": 3, "alerted": 1, "mails": 1, "cleared": 0})
    assert line == "offene Anfragen 3, gemeldet 1, E-Mails 1, erledigt 0"


def test_match_propose_counts_one_expert_in_the_singular():
    from matching.cli import _counted

    assert _counted(1, "Expert:in", "Expert:innen") == "1 Expert:in"
    assert _counted(0, "Expert:in", "Expert:innen") == "0 Expert:innen"
    assert _counted(2, "offene Anfrage", "offene Anfragen") == "2 offene Anfragen"
