"""The API's request and response models.

The same classes validate what comes in, shape what goes out and give the OpenAPI
document its JSON Schema (pydantic's, 2020-12, which OpenAPI 3.1 uses as it is).
Input models forbid unknown fields and are strict: "3" is not a number, so a client
learns about its mistake instead of having it guessed away. Business rules stay in
the services; the models only say what a well-formed request looks like.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, create_model
from pydantic_core import PydanticCustomError

from matching import limits
from matching.api.cursor import decode as decode_cursor
from matching.models.initiatives import MAX_EXPERTS_WANTED
from matching.models.volunteers import MAX_CAPACITY
from matching.reference import (
    DISTRICT_CODES,
    FORMAT_CODES,
    LANGUAGE_CODES,
    MAX_LEVEL,
    MIN_LEVEL,
    PHASE_CODES,
    URGENCY_CODES,
)
from matching.text import has_forbidden_characters

# Literal over the reference data: the document lists the codes, the validator checks them.
PhaseCode = Literal[PHASE_CODES]  # type: ignore[valid-type]
DistrictCode = Literal[DISTRICT_CODES]  # type: ignore[valid-type]
LanguageCode = Literal[LANGUAGE_CODES]  # type: ignore[valid-type]
FormatCode = Literal[FORMAT_CODES]  # type: ignore[valid-type]
UrgencyCode = Literal[URGENCY_CODES]  # type: ignore[valid-type]
NeedStatusCode = Literal["draft", "open", "matched", "advised", "closed", "withdrawn", "expired"]
MatchStatusCode = Literal[
    "proposed", "approved", "accepted", "completed", "rejected", "declined", "cancelled"
]
ProfileStatusCode = Literal["draft", "pending", "approved", "returned"]

MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Level = Annotated[int, Field(ge=MIN_LEVEL, le=MAX_LEVEL)]
# At least one character that is not white space.
NonBlank = r"\S"


def _one_line(value: str) -> str:
    if has_forbidden_characters(value, multi_line=False):
        raise PydanticCustomError("text_one_line", "One line without control characters.")
    return value


def _multi_line(value: str) -> str:
    if has_forbidden_characters(value, multi_line=True):
        raise PydanticCustomError("text_control", "No control characters except line breaks.")
    return value


# Text fields: a one-line text keeps no control character, a multi-line one its line breaks.
OneLine = Annotated[str, AfterValidator(_one_line)]
MultiLine = Annotated[str, AfterValidator(_multi_line)]


def _storable_instant(value: datetime) -> datetime:
    """An aware time that exists in UTC too (0001-01-01T00:00+14:00 does not)."""
    try:
        value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise PydanticCustomError("datetime_range", "The time lies outside the range.") from None
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_storable_instant)]


class Input(BaseModel):
    """A request body: unknown fields and loose types are refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query parameters: text by nature, so numbers and dates are parsed from it."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    """A response: every field is always present (null when empty)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


# --- Reference data ---------------------------------------------------------------------


class Phase(Output):
    """A phase of building a network (the toolkit's chapters)."""

    code: PhaseCode
    label_de: str
    label_en: str
    explanation_de: str
    explanation_en: str


class District(Output):
    """A Stadtbezirk and the districts it borders."""

    code: DistrictCode
    name: str
    ring: Literal["inner", "outer"]
    neighbours: list[DistrictCode]


# --- Needs ------------------------------------------------------------------------------


class InitiativeSummary(Output):
    """The public face of an initiative: no people, no contacts."""

    name: str
    district: DistrictCode
    sub_district: str


class ImpactArea(Output):
    """Needs posted in one district or phase in a year; null when fewer than 3."""

    code: str
    needs_posted: int | None


class ImpactYear(Output):
    """A calendar year's figures in aggregate: no names, no free text.

    Every count below 3 is null ("< 3" on the page), so that nobody can be recognised; a median
    or an average is null unless at least 3 needs or ratings stand behind it.
    """

    year: int
    complete: bool = Field(description="false for the running year")
    needs_posted: int | None
    needs_advised: int | None
    initiatives_reached: int | None
    volunteers_active: int | None
    meetings_held: int | None
    initiatives_went_on: int | None = Field(
        description="initiatives that went on to a second (or further) phase"
    )
    median_days_to_acceptance: float | None
    ratings: int | None
    average_rating: float | None
    districts: list[ImpactArea]
    phases: list[ImpactArea]


class PublicNeed(Output):
    """An open need as anyone may see it: no personal data."""

    id: int
    title: str
    description: str
    phases: list[PhaseCode]
    district: DistrictCode
    language: LanguageCode
    formats: list[FormatCode]
    urgency: UrgencyCode
    experts_wanted: int
    published_at: datetime | None
    updated_at: datetime
    expires_on: date | None
    initiative: InitiativeSummary
    url: str = Field(description="The need's page on the website.")


class NeedPage(Output):
    """One page of open needs; follow ``next`` for the following one."""

    items: list[PublicNeed]
    next: str | None = Field(description="URL of the next page, null on the last page.")


# Decoded while validating, so a damaged cursor is a 422 for that parameter.
Cursor = Annotated[str, Field(max_length=200), AfterValidator(decode_cursor)]


class NeedQuery(Query):
    phase: PhaseCode | None = Field(None, description="Only needs in this phase.")
    district: DistrictCode | None = Field(None, description="Only needs in this district.")
    updated_since: Instant | None = Field(
        None,
        description="Only needs changed at or after this time (RFC 3339 with offset; "
        "write + as %2B in a URL).",
    )
    cursor: Cursor | None = Field(
        None, description="Opaque position from a previous page's `next` link."
    )
    limit: int = Field(20, ge=1, le=100, description="Needs per page.")


class OwnNeed(PublicNeed):
    """A need as its initiative (and the coordinators) see it, in every state."""

    status: NeedStatusCode
    status_reason: str
    created_at: datetime
    closed_at: datetime | None


class NeedIn(Input):
    """The content of a need, as the initiative writes it (every field, also on update)."""

    title: OneLine = Field(min_length=1, max_length=limits.NEED_TITLE_MAX, pattern=NonBlank)
    description: MultiLine = Field("", max_length=limits.NEED_DESCRIPTION_MAX)
    phases: list[PhaseCode] = Field(min_length=1)
    district: DistrictCode
    language: LanguageCode = "de"
    formats: list[FormatCode] = Field(min_length=1)
    urgency: UrgencyCode = "normal"
    experts_wanted: int = Field(1, ge=1, le=MAX_EXPERTS_WANTED)
    expires_on: date | None = Field(None, description="A day in the future, or null.")


class NewNeed(NeedIn):
    publish: bool = Field(False, description="Publish at once instead of saving a draft.")


class ReasonIn(Input):
    reason: MultiLine = Field(min_length=1, max_length=limits.REASON_MAX, pattern=NonBlank)


class OptionalReasonIn(Input):
    reason: MultiLine = Field("", max_length=limits.REASON_MAX)


# --- Volunteers -------------------------------------------------------------------------

# One field per phase, all required: the profile states a level for every phase.
Levels = create_model(
    "Levels",
    __base__=Input,
    __doc__="The volunteer's level per phase: 0 none, 1 basic, 2 practical, 3 expert.",
    **dict.fromkeys(PHASE_CODES, (Level, ...)),
)
LevelsOut = create_model(
    "LevelsOut",
    __base__=Output,
    __doc__="The volunteer's level per phase: 0 none, 1 basic, 2 practical, 3 expert.",
    **dict.fromkeys(PHASE_CODES, (int, ...)),
)


class ProfileIn(Input):
    """What a volunteer states about themselves."""

    levels: Levels  # type: ignore[valid-type]
    districts: list[DistrictCode] = Field(default_factory=list)
    whole_city: bool = False
    languages: list[LanguageCode] = Field(min_length=1)
    formats: list[FormatCode] = Field(min_length=1)
    capacity: int = Field(2, ge=1, le=MAX_CAPACITY)
    paused_until: date | None = Field(
        None, description="A day in the future, at most a year ahead, or null."
    )
    bio: MultiLine = Field("", max_length=limits.BIO_MAX)
    phone: OneLine = Field("", max_length=limits.PHONE_MAX)


class Profile(Output):
    """The volunteer's own profile and its review state."""

    status: ProfileStatusCode
    review_reason: str
    levels: LevelsOut  # type: ignore[valid-type]
    districts: list[DistrictCode]
    whole_city: bool
    languages: list[LanguageCode]
    formats: list[FormatCode]
    capacity: int
    paused_until: date | None
    bio: str
    phone: str
    submitted_at: datetime | None
    reviewed_at: datetime | None
    updated_at: datetime


class ScorePart(Output):
    """One part of a fit score, with a sentence in German and in English."""

    name: str
    contribution: float
    de: str
    en: str


class RankedNeed(Output):
    need: PublicNeed
    score: float = Field(ge=0, le=1)
    explanation: list[ScorePart]


class RankedNeeds(Output):
    """Open needs by fit for the volunteer; empty until the profile is approved."""

    profile_status: ProfileStatusCode
    items: list[RankedNeed]


class RankedQuery(Query):
    limit: int = Field(10, ge=1, le=50, description="How many needs.")


# --- Matches ----------------------------------------------------------------------------


class Match(Output):
    """A pairing of a volunteer with a need and where it stands."""

    id: int
    need_id: int
    need_title: str
    volunteer_id: int
    status: MatchStatusCode
    origin: Literal["engine", "offer", "manual"]
    score: float | None
    explanation: list[ScorePart] | None
    reason: str
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    accepted_at: datetime | None
    completed_at: datetime | None


class VolunteerSummary(Output):
    """What a coordinator sees of a volunteer when deciding."""

    id: int = Field(description="The volunteer's profile id.")
    first_name: str
    last_name: str
    districts: list[DistrictCode]
    whole_city: bool
    levels: LevelsOut  # type: ignore[valid-type]


class QueueItem(Output):
    """A proposal waiting for a coordinator."""

    match: Match
    need: OwnNeed
    volunteer: VolunteerSummary


class Candidate(Output):
    volunteer: VolunteerSummary
    score: float = Field(ge=0, le=1)
    explanation: list[ScorePart]


class CandidateQuery(Query):
    limit: int = Field(10, ge=1, le=50, description="How many candidates.")


class AssignmentIn(Input):
    volunteer_id: Id = Field(description="The profile id of an approved volunteer.")


# --- The caller -------------------------------------------------------------------------


class TokenInfo(Output):
    name: str
    created_at: datetime
    expires_at: datetime | None


class Me(Output):
    """Whose token this is and what it may do."""

    id: int
    first_name: str
    roles: list[Literal["volunteer", "initiative", "coordinator", "admin"]]
    locale: Literal["de", "en"]
    token: TokenInfo


# --- Problems (RFC 9457) ------------------------------------------------------------------


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. `levels.start`.")
    pointer: str | None = Field(
        None, description="JSON Pointer (RFC 6901) into the body, as a fragment; body fields only."
    )
    code: str = Field(description="A stable code for the kind of mistake.")
    message: str


class Problem(BaseModel):
    """An error as application/problem+json; `title` follows Accept-Language.

    Members without a value are left out, as RFC 9457 expects.
    """

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = Field(
        None, description="For invalid input: each field and what is wrong with it."
    )


class ThreadMessage(Output):
    """One message of a match's thread; its author by first name and role only."""

    id: int
    author_first_name: str = Field(description="Empty once the author's account is erased.")
    author_role: Literal["volunteer", "initiative", "coordinator"]
    text: str = Field(description="Plain text; empty for an erased message.")
    erased: bool
    created_at: datetime


class MeetingTime(Output):
    """One proposed time of a meeting."""

    id: int
    starts_at: datetime
    ends_at: datetime


class Meeting(Output):
    """A meeting of a match: proposed times, the chosen one, its calendar sequence."""

    id: int
    status: Literal["proposed", "confirmed", "cancelled"]
    sequence: int = Field(description="Raised with every move and the cancellation.")
    proposed_by_role: Literal["volunteer", "initiative"]
    place_kind: Literal["phone", "video", "address"]
    place: str
    starts_at: datetime | None
    ends_at: datetime | None
    options: list[MeetingTime]
    outcome: Literal["held", "moved", "not_held"] | None
