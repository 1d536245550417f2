"""The JSON API under /api/v1: thin views over the same services the pages use.

Each view loads, lets the service check and change, commits once and returns a
response model; refusals from the services become problem+json in problems.py.
The route table (endpoints.py) is also what the OpenAPI document is built from.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from matching import matches, needs, profiles
from matching.api import auth, cursor, limits, openapi, present, problems
from matching.api.endpoints import ANY_TOKEN, PUBLIC, RouteTable, json_response
from matching.api.problems import ApiProblem
from matching.api.schemas import (
    AssignmentIn,
    Candidate,
    CandidateQuery,
    ImpactArea,
    ImpactYear,
    Me,
    NeedIn,
    NeedPage,
    NeedQuery,
    NewNeed,
    OptionalReasonIn,
    OwnNeed,
    Phase,
    Profile,
    ProfileIn,
    PublicNeed,
    QueueItem,
    RankedNeed,
    RankedNeeds,
    RankedQuery,
    ReasonIn,
    ThreadMessage,
)
from matching.api.schemas import District as DistrictOut
from matching.api.schemas import Match as MatchOut
from matching.api.schemas import Meeting as MeetingOut
from matching.extensions import csrf, db, limiter
from matching.matches import meetings as match_meetings_service
from matching.matches import messages as thread_messages
from matching.matches import participants, proposals
from matching.models import (
    Initiative,
    InitiativeMember,
    Match,
    MatchStatus,
    Need,
    NeedStatus,
    ProfileStatus,
    Role,
    User,
    VolunteerProfile,
    utcnow,
)
from matching.needs import queries
from matching.permissions import can_manage_need
from matching.reference import DISTRICTS, PHASES
from matching.reports import impact

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # tokens travel in a header a foreign site cannot set; no cookies are read
limiter.limit(limits.rate_limit, key_func=limits.rate_limit_key)(bp)
problems.register(bp)
table = RouteTable(bp)

VOLUNTEER = (Role.VOLUNTEER,)
INITIATIVE = (Role.INITIATIVE,)
COORDINATOR = (Role.COORDINATOR,)


@bp.before_request
def limit_body_size() -> None:
    request.max_content_length = current_app.config["API_MAX_BODY"]


@bp.after_request
def finish(response):
    auth.record_use()
    limits.add_headers(response, limiter.current_limit)
    response.vary.update(("Accept-Language", "Authorization"))
    if request.headers.get("Authorization") is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


# --- The document and its readable form -------------------------------------------------


@bp.route("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document of this API."""
    return json_response(openapi.document(table))


@bp.route("/docs")
def docs():
    """The API reference as a plain HTML page (no scripts)."""
    document = openapi.document(table)
    # Rendered without the context processors, which would read the session to find the
    # logged-in user and the language: the API never looks at cookies, its docs neither.
    html = current_app.jinja_env.get_template("api/docs.html").render(
        doc=document,
        operations=openapi.operations(document),
        problem_types=problems.PROBLEM_TYPES.values(),
        schemas_json=openapi.pretty_schemas(document),
    )
    return Response(html, mimetype="text/html")


# --- Public: reference data and open needs -----------------------------------------------


@table.endpoint("GET", "/phases", tag="Reference data", access=PUBLIC, response=list[Phase])
def list_phases():
    """The phases of building a network, in order, with labels in German and English."""
    return [present.phase(p) for p in PHASES]


@table.endpoint(
    "GET", "/districts", tag="Reference data", access=PUBLIC, response=list[DistrictOut]
)
def list_districts():
    """Stuttgart's districts with the districts each borders."""
    return [present.district(d) for d in DISTRICTS]


@table.endpoint(
    "GET", "/impact", tag="Impact", access=PUBLIC, response=list[ImpactYear], problems=(404,)
)
def list_impact():
    """What the advice achieved, per calendar year (the last five), in aggregate.

    Published only where the association has switched it on (404 otherwise). Counts below 3
    are null, so that nobody can be recognised.
    """
    if not current_app.config["PUBLIC_IMPACT"]:
        raise ApiProblem("not-found")
    today = utcnow().astimezone(impact.BERLIN).date()
    return [
        _impact_year(impact.public_year(db.session, number, today))
        for number in impact.public_years(db.session, today)
    ]


def _impact_year(found: impact.PublicYear) -> ImpactYear:
    return ImpactYear(
        year=found.year,
        complete=found.complete,
        needs_posted=found.posted,
        needs_advised=found.advised,
        initiatives_reached=found.initiatives_reached,
        volunteers_active=found.volunteers_active,
        meetings_held=found.meetings_held,
        initiatives_went_on=found.went_on,
        median_days_to_acceptance=found.median_days_to_acceptance,
        ratings=found.feedback_count,
        average_rating=found.feedback_average,
        districts=[ImpactArea(code=c, needs_posted=n) for c, n in found.districts.items()],
        phases=[ImpactArea(code=c, needs_posted=n) for c, n in found.phases.items()],
    )


@table.endpoint(
    "GET",
    "/needs",
    tag="Open needs",
    access=PUBLIC,
    query=NeedQuery,
    response=NeedPage,
    problems=(422,),
    headers=("Link",),
)
def list_needs(query: NeedQuery):
    """Open needs, newest first, without personal data.

    Filter by phase, district and `updated_since`. Pages are linked by an opaque cursor:
    follow `next` (also sent as a `Link: rel="next"` header) until it is null.
    """
    rows = db.session.scalars(
        queries.open_needs_page(
            query.phase, query.district, query.updated_since, query.cursor, query.limit + 1
        )
    ).all()
    page, more = rows[: query.limit], len(rows) > query.limit
    next_url = None
    if more:
        last = page[-1]
        params = query.model_dump(exclude_none=True, exclude={"cursor"}, mode="json")
        params["cursor"] = cursor.encode(last.published_at or last.created_at, last.id)
        next_url = present.site_url("api.list_needs") + "?" + urlencode(params)
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    return NeedPage(items=[present.public_need(n) for n in page], next=next_url), headers


def _open_need(need_id: int) -> Need:
    need = db.session.get(Need, need_id, options=[selectinload(Need.initiative)])
    if need is None or need.status != NeedStatus.OPEN:
        raise ApiProblem("not-found", _l("Diese Anfrage gibt es nicht oder sie ist nicht offen."))
    return need


@table.endpoint(
    "GET",
    "/needs/{need_id}",
    tag="Open needs",
    access=PUBLIC,
    response=PublicNeed,
    problems=(404,),
)
def get_need(need_id: int):
    """One open need; closed, withdrawn and draft needs are not public (404)."""
    return present.public_need(_open_need(need_id))


# --- Any token ----------------------------------------------------------------------------


@table.endpoint("GET", "/me", tag="Account", access=ANY_TOKEN, response=Me)
def get_me(user: User):
    """The account the token belongs to, its roles and the token's expiry."""
    return present.me(user, auth.caller().token)


def _visible_match(user: User, match_id: int) -> Match:
    """The match if the caller is its volunteer, acts for its initiative or coordinates."""
    match = db.session.get(Match, match_id)
    if match is None or participants.role_in(db.session, user, match) is None:
        raise ApiProblem("not-found", _l("Diese Vermittlung gibt es nicht."))
    return match


@table.endpoint(
    "GET",
    "/matches/{match_id}",
    tag="Matches",
    access=ANY_TOKEN,
    response=MatchOut,
    problems=(404,),
)
def get_match(user: User, match_id: int):
    """A match the caller takes part in (as volunteer or initiative) or coordinates."""
    return present.match(_visible_match(user, match_id), user)


def _match_step(user: User, match_id: int, action: str, reason: str = "") -> MatchOut:
    match = _visible_match(user, match_id)
    matches.change_status(db.session, user, match, action, now=utcnow(), reason=reason)
    db.session.commit()
    return present.match(match, user)


_STEP = {"tag": "Matches", "response": MatchOut, "problems": (403, 404, 409)}


@table.endpoint("POST", "/matches/{match_id}/accept", access=VOLUNTEER, **_STEP)
def accept_match(user: User, match_id: int):
    """The volunteer accepts an approved match; both sides then get each other's contact."""
    return _match_step(user, match_id, "accept")


@table.endpoint(
    "POST",
    "/matches/{match_id}/decline",
    access=VOLUNTEER,
    body=OptionalReasonIn,
    body_required=False,
    **{**_STEP, "problems": (403, 404, 409, 422)},
)
def decline_match(user: User, match_id: int, body: OptionalReasonIn):
    """The volunteer declines an approved match, or takes back their own offer while it waits
    for the coordinators, optionally saying why. Either is final for this need."""
    return _match_step(user, match_id, "decline", body.reason)


@table.endpoint(
    "POST", "/matches/{match_id}/complete", access=VOLUNTEER + INITIATIVE + COORDINATOR, **_STEP
)
def complete_match(user: User, match_id: int):
    """Mark an accepted match as done (its volunteer, its initiative or a coordinator)."""
    return _match_step(user, match_id, "complete")


@table.endpoint("POST", "/matches/{match_id}/approve", access=COORDINATOR, **_STEP)
def approve_match(user: User, match_id: int):
    """A coordinator approves a proposal; the volunteer is asked to accept."""
    return _match_step(user, match_id, "approve")


@table.endpoint(
    "POST",
    "/matches/{match_id}/reject",
    access=COORDINATOR,
    body=ReasonIn,
    **{**_STEP, "problems": (403, 404, 409, 422)},
)
def reject_match(user: User, match_id: int, body: ReasonIn):
    """A coordinator rejects a proposal with a reason; the pair is not proposed again."""
    return _match_step(user, match_id, "reject", body.reason)


# --- Volunteers ---------------------------------------------------------------------------

_NO_PROFILE = _l("Bitte legen Sie zuerst Ihr Profil an.")


def _own_profile(user: User) -> VolunteerProfile:
    if user.volunteer_profile is None:
        raise ApiProblem("not-found", _NO_PROFILE)
    return user.volunteer_profile


@table.endpoint(
    "GET",
    "/volunteer/profile",
    tag="Volunteers",
    access=VOLUNTEER,
    response=Profile,
    problems=(403, 404),
    headers=("ETag",),
)
def get_profile(user: User):
    """The caller's own volunteer profile and its review state.

    The `ETag` header is the profile's version: send it as `If-Match` with `PUT` so that the
    change is refused (412) if the profile was changed in between.
    """
    profile = _own_profile(user)
    return present.profile(profile, user), _etag(profiles.profile_version(profile))


def _etag(version: str) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def _expected_version(current: str | None) -> str | None:
    """The version an `If-Match` header asks the service to find under its row lock: None
    without the header, or with "*" and an existing object (RFC 9110, 13.1.1)."""
    if "If-Match" not in request.headers:
        return None
    wanted = request.if_match
    if current is None:
        raise ApiProblem("precondition-failed")
    if wanted.star_tag:
        return None
    if wanted.contains(current):
        return current
    return next(iter(wanted), "")  # an older version, or only weak tags: refused


@table.endpoint(
    "PUT",
    "/volunteer/profile",
    tag="Volunteers",
    access=VOLUNTEER,
    body=ProfileIn,
    response=Profile,
    problems=(403, 412, 422),
    headers=("ETag",),
)
def put_profile(user: User, body: ProfileIn):
    """Create or replace the caller's profile.

    A new profile, or a change to expertise, districts, languages or bio, goes to the
    coordinators for approval again (`status` becomes `pending`). With `If-Match` (the `ETag`
    of `GET`), the profile is replaced only if it is still that version; else 412.
    """
    current = user.volunteer_profile
    expected = _expected_version(profiles.profile_version(current) if current else None)
    data = profiles.ProfileInput(
        levels=body.levels.model_dump(),
        districts=list(body.districts),
        whole_city=body.whole_city,
        languages=list(body.languages),
        formats=list(body.formats),
        capacity=body.capacity,
        paused_until=body.paused_until,
        bio=body.bio,
        phone=body.phone,
    )
    saved, _waiting = profiles.save_profile(
        db.session, user, data, now=utcnow(), expected_version=expected
    )
    db.session.commit()
    return present.profile(saved, user), _etag(profiles.profile_version(saved))


@table.endpoint(
    "GET",
    "/volunteer/needs",
    tag="Volunteers",
    access=VOLUNTEER,
    query=RankedQuery,
    response=RankedNeeds,
    problems=(403, 409, 422),
)
def ranked_needs(user: User, query: RankedQuery):
    """Open needs ranked by fit for the caller, each with its score and the reasons.

    Empty until the profile is approved.
    """
    profile = user.volunteer_profile
    if profile is None:
        raise ApiProblem("conflict", _NO_PROFILE)
    ranked = []
    if profile.status == ProfileStatus.APPROVED:
        ranked = proposals.ranked_needs_for(db.session, profile, utcnow(), k=query.limit)
    return RankedNeeds(
        profile_status=profile.status,
        items=[
            RankedNeed(
                need=present.public_need(need),
                score=score.value,
                explanation=present.score_parts(proposals.explanation_record(score)),
            )
            for need, score in ranked
        ],
    )


@table.endpoint(
    "GET",
    "/volunteer/matches",
    tag="Volunteers",
    access=VOLUNTEER,
    response=list[MatchOut],
    problems=(403,),
)
def my_matches(user: User):
    """The caller's matches as a volunteer, most recently changed first."""
    profile = user.volunteer_profile
    if profile is None:
        return []
    rows = db.session.scalars(
        select(Match)
        .options(selectinload(Match.need))
        .where(Match.volunteer_id == profile.id)
        .order_by(Match.updated_at.desc(), Match.id.desc())
    ).all()
    return [present.match(m, user) for m in rows]


@table.endpoint(
    "POST",
    "/needs/{need_id}/offer",
    tag="Volunteers",
    access=VOLUNTEER,
    response=MatchOut,
    status=201,
    problems=(403, 404, 409),
)
def offer_help(user: User, need_id: int):
    """Offer to advise on an open need ("Ich kann helfen").

    The offer goes to the coordinators' queue as a proposal.
    """
    need = _open_need(need_id)
    profile = user.volunteer_profile
    if profile is None:
        raise ApiProblem("conflict", _NO_PROFILE)
    match = proposals.offer_help(db.session, user, need, profile, utcnow())
    db.session.commit()
    return present.match(match, user)


# --- Initiatives --------------------------------------------------------------------------


def _first_initiative(user: User) -> Initiative:
    initiative = db.session.scalar(
        select(Initiative)
        .join(InitiativeMember)
        .where(InitiativeMember.user_id == user.id)
        .order_by(Initiative.id)
        .limit(1)
    )
    if initiative is None:
        raise ApiProblem("conflict", _l("Bitte erzählen Sie uns zuerst kurz von Ihrer Initiative."))
    return initiative


def _managed_need(user: User, need_id: int) -> Need:
    """The need if the caller manages it; 404 otherwise (no hint that it exists)."""
    need = db.session.get(Need, need_id, options=[selectinload(Need.initiative)])
    if need is None or not can_manage_need(db.session, user, need):
        raise ApiProblem("not-found", _l("Diese Anfrage gibt es nicht."))
    return need


def _need_input(body: NeedIn) -> needs.NeedInput:
    return needs.NeedInput(
        title=body.title,
        description=body.description,
        phases=list(body.phases),
        district=body.district,
        language=body.language,
        formats=list(body.formats),
        urgency=body.urgency,
        experts_wanted=body.experts_wanted,
        expires_on=body.expires_on,
    )


@table.endpoint(
    "GET",
    "/initiative/needs",
    tag="Initiatives",
    access=INITIATIVE,
    response=list[OwnNeed],
    problems=(403,),
)
def my_needs(user: User):
    """Every need of the caller's initiatives, in every state, newest first."""
    rows = db.session.scalars(
        select(Need)
        .join(InitiativeMember, InitiativeMember.initiative_id == Need.initiative_id)
        .options(selectinload(Need.initiative))
        .where(InitiativeMember.user_id == user.id)
        .order_by(Need.created_at.desc(), Need.id.desc())
    ).all()
    return [present.own_need(n) for n in rows]


@table.endpoint(
    "POST",
    "/initiative/needs",
    tag="Initiatives",
    access=INITIATIVE,
    body=NewNeed,
    response=OwnNeed,
    status=201,
    problems=(403, 409, 422),
)
def create_need(user: User, body: NewNeed):
    """Post a need for the caller's initiative, as a draft or published at once."""
    initiative = _first_initiative(user)
    need = needs.create_need(
        db.session, user, initiative, _need_input(body), now=utcnow(), publish=body.publish
    )
    db.session.commit()
    return present.own_need(need)


@table.endpoint(
    "GET",
    "/initiative/needs/{need_id}",
    tag="Initiatives",
    access=INITIATIVE,
    response=OwnNeed,
    problems=(403, 404),
    headers=("ETag",),
)
def get_own_need(user: User, need_id: int):
    """One need of the caller's initiative, in any state.

    The `ETag` header is the need's version: send it as `If-Match` with `PUT` so that the
    change is refused (412) if someone changed the need in between.
    """
    need = _managed_need(user, need_id)
    return present.own_need(need), _etag(needs.need_version(need))


@table.endpoint(
    "PUT",
    "/initiative/needs/{need_id}",
    tag="Initiatives",
    access=INITIATIVE,
    body=NeedIn,
    response=OwnNeed,
    problems=(403, 404, 409, 412, 422),
    headers=("ETag",),
)
def update_need(user: User, need_id: int, body: NeedIn):
    """Replace the content of a draft or open need. With `If-Match` (the `ETag` of `GET`),
    only if the need is still that version; else 412 and nothing changes."""
    need = _managed_need(user, need_id)
    expected = _expected_version(needs.need_version(need))
    needs.update_need(
        db.session, user, need, _need_input(body), now=utcnow(), expected_version=expected
    )
    db.session.commit()
    return present.own_need(need), _etag(needs.need_version(need))


def _need_step(user: User, need_id: int, action: str, reason: str = "") -> OwnNeed:
    need = _managed_need(user, need_id)
    needs.change_status(db.session, user, need, action, now=utcnow(), reason=reason)
    db.session.commit()
    return present.own_need(need)


_NEED_STEP = {"tag": "Initiatives", "access": INITIATIVE, "response": OwnNeed}


@table.endpoint(
    "POST", "/initiative/needs/{need_id}/publish", problems=(403, 404, 409), **_NEED_STEP
)
def publish_need(user: User, need_id: int):
    """Publish a draft: it becomes open and visible to everyone."""
    return _need_step(user, need_id, "publish")


@table.endpoint(
    "POST",
    "/initiative/needs/{need_id}/withdraw",
    body=ReasonIn,
    problems=(403, 404, 409, 422),
    **_NEED_STEP,
)
def withdraw_need(user: User, need_id: int, body: ReasonIn):
    """Withdraw a need, with a reason."""
    return _need_step(user, need_id, "withdraw", body.reason)


@table.endpoint("POST", "/initiative/needs/{need_id}/close", problems=(403, 404, 409), **_NEED_STEP)
def close_need(user: User, need_id: int):
    """Close an open or matched need: the advice took place or is no longer needed."""
    return _need_step(user, need_id, "close")


# --- Coordination -------------------------------------------------------------------------


@table.endpoint(
    "GET",
    "/coordination/queue",
    tag="Coordination",
    access=COORDINATOR,
    response=list[QueueItem],
    problems=(403,),
)
def proposal_queue(user: User):
    """Proposals waiting for a decision, oldest first (engine, offers and manual)."""
    waiting = db.session.scalars(
        select(Match)
        .options(
            selectinload(Match.need).selectinload(Need.initiative),
            selectinload(Match.volunteer).selectinload(VolunteerProfile.user),
        )
        .where(Match.status == MatchStatus.PROPOSED)
        .order_by(Match.created_at, Match.id)
    ).all()
    return [
        QueueItem(
            match=present.match(m, user),
            need=present.own_need(m.need),
            volunteer=present.volunteer(m.volunteer),
        )
        for m in waiting
    ]


def _any_need(need_id: int) -> Need:
    need = db.session.get(Need, need_id, options=[selectinload(Need.initiative)])
    if need is None:
        raise ApiProblem("not-found", _l("Diese Anfrage gibt es nicht."))
    return need


@table.endpoint(
    "GET",
    "/coordination/needs/{need_id}/candidates",
    tag="Coordination",
    access=COORDINATOR,
    query=CandidateQuery,
    response=list[Candidate],
    problems=(403, 404, 422),
)
def candidates(user: User, need_id: int, query: CandidateQuery):
    """The best-fitting approved volunteers for a need, with scores; empty unless it is open."""
    need = _any_need(need_id)
    if need.status != NeedStatus.OPEN:
        return []
    ranked = proposals.candidates_for(db.session, need, utcnow(), k=query.limit)
    return [
        Candidate(
            volunteer=present.volunteer(profile),
            score=score.value,
            explanation=present.score_parts(proposals.explanation_record(score)),
        )
        for profile, score in ranked
    ]


@table.endpoint(
    "POST",
    "/coordination/needs/{need_id}/assignments",
    tag="Coordination",
    access=COORDINATOR,
    body=AssignmentIn,
    response=MatchOut,
    status=201,
    problems=(403, 404, 409, 422),
)
def assign(user: User, need_id: int, body: AssignmentIn):
    """Assign a volunteer by hand: the match is approved at once and the volunteer asked."""
    need = _any_need(need_id)
    profile = db.session.get(VolunteerProfile, body.volunteer_id)
    if profile is None:
        raise ApiProblem(
            "invalid-input",
            errors=[
                {
                    "field": "volunteer_id",
                    "pointer": "#/volunteer_id",
                    "code": "unknown_volunteer",
                    "message": _l("Diese Person gibt es nicht. Bitte wählen Sie aus der Liste."),
                }
            ],
        )
    match = proposals.assign_by_hand(db.session, user, need, profile, utcnow())
    db.session.commit()
    return present.match(match, user)


# --- After the match: the thread and the meetings, read-only ------------------------------


@table.endpoint(
    "GET",
    "/matches/{match_id}/messages",
    tag="Matches",
    access=ANY_TOKEN,
    response=list[ThreadMessage],
    problems=(404,),
)
def match_messages(user: User, match_id: int):
    """The match's thread, oldest first, for the people in it and coordinators."""
    match = _visible_match(user, match_id)
    return [present.thread_message(m) for m in thread_messages.thread(db.session, match)]


@table.endpoint(
    "GET",
    "/matches/{match_id}/meetings",
    tag="Matches",
    access=ANY_TOKEN,
    response=list[MeetingOut],
    problems=(404,),
)
def match_meetings(user: User, match_id: int):
    """The match's meetings, newest first, with their proposed times."""
    match = _visible_match(user, match_id)
    return [present.meeting(m) for m in match_meetings_service.for_match(db.session, match)]
