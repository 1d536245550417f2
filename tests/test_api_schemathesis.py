"""Schemathesis against the OpenAPI document, through the WSGI app: every operation, with
valid and with invalid data, anonymous and with a token of each role. No answer may be
a 500, and every answer must match the document (status, content type, headers, schema).

The normal run is bounded (a few derandomised examples per operation); API_FUZZ=1 runs
many more, with fresh randomness.
"""

from __future__ import annotations

import contextvars
import os

import hypothesis
import pytest
import schemathesis
from api_support import token_for
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from matching.models import Match, MatchStatus, NeedStatus, Role

LONG_RUN = os.environ.get("API_FUZZ") == "1"
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", 100)) if LONG_RUN else 12

CONFIG = {
    "cache": {"enabled": False},  # nothing written into the working tree
    "checks": {
        # Valid-looking data may still break a rule the schema cannot say, such as
        # "a date in the future" or "at least one phase with some expertise": 422.
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]
        },
    },
}


def load_schema(app, secret: str | None):
    """The document as schemathesis sees it, sending the token the document declares."""
    config = dict(CONFIG)
    if secret is not None:
        config["auth"] = {"openapi": {"bearerAuth": {"bearer": secret}}}
    return schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", app, config=schemathesis.Config.from_dict(config)
    )


@pytest.fixture()
def generous_limits(app, monkeypatch):
    """Limits far above what a run sends: a 429 would only hide the other answers.

    (Schemathesis' auth probes run without the token, so they share the per-address budget.
    The limits themselves are tested in test_api.py.)
    """
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")
    monkeypatch.setitem(app.config, "API_RATE_LIMIT_ANONYMOUS", "100000 per minute")


@pytest.fixture()
def callers(db, make_volunteer, make_initiative, make_need, make_user):
    """A token per role, and objects for generated requests to find now and then."""
    volunteer = make_volunteer("vera@example.org", districts=("ost",), capacity=5)
    initiative, member = make_initiative("Nachbarschaft Ost")
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    open_need = make_need(initiative)
    make_need(initiative, status=NeedStatus.DRAFT)
    proposed = Match(need_id=open_need.id, volunteer_id=volunteer.id)
    approved = Match(
        need_id=make_need(initiative).id, volunteer_id=volunteer.id, status=MatchStatus.APPROVED
    )
    db.session.add_all([proposed, approved])
    db.session.commit()
    known = {
        "need_id": st.sampled_from([open_need.id, open_need.id - 1, open_need.id + 1]),
        "match_id": st.sampled_from([proposed.id, approved.id]),
    }
    return {
        "anonymous": None,
        "volunteer": token_for(volunteer.user),
        "initiative": token_for(member),
        "coordinator": token_for(coordinator),
    }, known


def _strategy(operation, mode, known):
    random_ids = operation.as_strategy(generation_mode=mode)
    names = [p.name for p in operation.path_parameters]
    if not names:
        return random_ids
    fixed = st.fixed_dictionaries({name: known[name] for name in names})
    real_ids = fixed.flatmap(
        lambda ids: operation.as_strategy(generation_mode=mode, path_parameters=ids)
    )
    return st.one_of(random_ids, real_ids)


def _run(operation, mode, known) -> None:
    @given(case=_strategy(operation, mode, known))
    @settings(
        max_examples=EXAMPLES,
        derandomize=not LONG_RUN,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        # A fresh context per request, as a real server gives it (see support.IsolatedClient).
        contextvars.Context().run(case.call_and_validate)

    check()


@pytest.mark.parametrize("caller", ["anonymous", "volunteer", "initiative", "coordinator"])
def test_every_operation_conforms(app, callers, generous_limits, caller):
    secrets, known = callers
    failures = []
    for result in load_schema(app, secrets[caller]).get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _run(operation, mode, known)
            except hypothesis.errors.Unsatisfiable:
                pass  # nothing to make invalid: an operation without parameters or body
            except BaseException as error:  # schemathesis reports a group of failures
                failures.append(f"{operation.label} [{mode.value}]\n{error}")
    assert not failures, "\n\n".join(failures)
