"""From stored objects to the API's response models; one function per model, no queries of its own
beyond the relationships the caller loaded."""

from __future__ import annotations

from flask import current_app, url_for

from matching.api import schemas
from matching.extensions import db
from matching.matches.participants import readable_reason
from matching.models import ApiToken, Match, Need, User, VolunteerProfile
from matching.reference import PHASE_CODES, Choice, District


def site_url(endpoint: str, **values) -> str:
    """An absolute link on the website, based on BASE_URL (also right behind a proxy)."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def phase(choice: Choice) -> schemas.Phase:
    return schemas.Phase(
        code=choice.code,
        label_de=choice.de,
        label_en=choice.en,
        explanation_de=choice.explain_de,
        explanation_en=choice.explain_en,
    )


def district(item: District) -> schemas.District:
    return schemas.District(
        code=item.code, name=item.name, ring=item.ring, neighbours=sorted(item.neighbours)
    )


def _need_fields(need: Need) -> dict:
    return {
        "id": need.id,
        "title": need.title,
        "description": need.description,
        "phases": list(need.phases),
        "district": need.district,
        "language": need.language,
        "formats": sorted(need.formats),
        "urgency": need.urgency,
        "experts_wanted": need.experts_wanted,
        "published_at": need.published_at,
        "updated_at": need.updated_at,
        "expires_on": need.expires_on,
        "initiative": schemas.InitiativeSummary(
            name=need.initiative.name,
            district=need.initiative.district,
            sub_district=need.initiative.sub_district,
        ),
        "url": site_url("needs.detail", need_id=need.id),
    }


def public_need(need: Need) -> schemas.PublicNeed:
    return schemas.PublicNeed(**_need_fields(need))


def own_need(need: Need) -> schemas.OwnNeed:
    return schemas.OwnNeed(
        **_need_fields(need),
        status=need.status,
        status_reason=need.status_reason,
        created_at=need.created_at,
        closed_at=need.closed_at,
    )


def levels(profile: VolunteerProfile) -> dict[str, int]:
    chosen = profile.level_by_phase
    return {code: chosen.get(code, 0) for code in PHASE_CODES}


def profile(item: VolunteerProfile, user: User) -> schemas.Profile:
    return schemas.Profile(
        status=item.status,
        review_reason=item.review_reason,
        levels=schemas.LevelsOut(**levels(item)),
        districts=sorted(item.districts),
        whole_city=item.whole_city,
        languages=sorted(item.languages),
        formats=sorted(item.formats),
        capacity=item.capacity,
        paused_until=item.paused_until,
        bio=item.bio,
        phone=user.phone,
        submitted_at=item.submitted_at,
        reviewed_at=item.reviewed_at,
        updated_at=item.updated_at,
    )


def score_parts(record: list | None) -> list[schemas.ScorePart] | None:
    """Stored or freshly computed explanation records (see services.matching)."""
    if record is None:
        return None
    return [
        schemas.ScorePart(
            name=str(part.get("name", "")),
            contribution=float(part.get("contribution", 0.0)),
            de=str(part.get("de", "")),
            en=str(part.get("en", "")),
        )
        for part in record
    ]


def match(item: Match, reader: User) -> schemas.Match:
    """A match as ``reader`` may see it (the reason only where they may read it)."""
    return schemas.Match(
        id=item.id,
        need_id=item.need_id,
        need_title=item.need.title,
        volunteer_id=item.volunteer_id,
        status=item.status,
        origin=item.origin,
        score=item.score,
        explanation=score_parts(item.explanation),
        reason=readable_reason(db.session, reader, item),
        created_at=item.created_at,
        updated_at=item.updated_at,
        decided_at=item.decided_at,
        accepted_at=item.accepted_at,
        completed_at=item.completed_at,
    )


def volunteer(item: VolunteerProfile) -> schemas.VolunteerSummary:
    return schemas.VolunteerSummary(
        id=item.id,
        first_name=item.user.first_name,
        last_name=item.user.last_name,
        districts=sorted(item.districts),
        whole_city=item.whole_city,
        levels=schemas.LevelsOut(**levels(item)),
    )


def me(user: User, token: ApiToken) -> schemas.Me:
    return schemas.Me(
        id=user.id,
        first_name=user.first_name,
        roles=sorted(user.roles),
        locale=user.locale,
        token=schemas.TokenInfo(
            name=token.name, created_at=token.created_at, expires_at=token.expires_at
        ),
    )


def thread_message(item) -> schemas.ThreadMessage:
    erased = item.erased_at is not None
    return schemas.ThreadMessage(
        id=item.id,
        author_first_name=item.author_name,
        author_role=item.author_role,
        text="" if erased else item.body,
        erased=erased,
        created_at=item.created_at,
    )


def meeting(item) -> schemas.Meeting:
    return schemas.Meeting(
        id=item.id,
        status=item.status,
        sequence=item.sequence,
        proposed_by_role=item.proposed_by_role,
        place_kind=item.place_kind,
        place=item.place,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        options=[
            schemas.MeetingTime(id=o.id, starts_at=o.starts_at, ends_at=o.ends_at)
            for o in item.options
        ],
        outcome=item.outcome,
    )
