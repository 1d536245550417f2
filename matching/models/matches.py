"""A proposed or agreed pairing of a volunteer with a need."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matching.extensions import db
from matching.models.base import UTCDateTime, check_in, enum_values, utcnow
from matching.models.initiatives import Need
from matching.models.volunteers import VolunteerProfile


class MatchStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    REJECTED = "rejected"  # by a coordinator
    DECLINED = "declined"  # by the volunteer
    CANCELLED = "cancelled"


class MatchOrigin(StrEnum):
    ENGINE = "engine"  # proposed by the matching engine
    OFFER = "offer"  # the volunteer said "Ich kann helfen"
    MANUAL = "manual"  # assigned by a coordinator


# The status groups every feature, job and page uses; defined here and nowhere else.
# Still running: at most one such match per pair (the index below).
ACTIVE_MATCH_STATUSES = (MatchStatus.PROPOSED, MatchStatus.APPROVED, MatchStatus.ACCEPTED)
# Waiting for someone's yes: the coordinators' or the volunteer's.
WAITING_MATCH_STATUSES = (MatchStatus.PROPOSED, MatchStatus.APPROVED)
# Holding a place: they count against a volunteer's capacity and fill a need's places.
ENGAGED_MATCH_STATUSES = (MatchStatus.APPROVED, MatchStatus.ACCEPTED)
# The expert said yes: contacts are visible, and they "haben Ihre Initiative schon beraten".
ADVISED_MATCH_STATUSES = (MatchStatus.ACCEPTED, MatchStatus.COMPLETED)
# The need has (or had) its expert; the match's thread is open from here on.
SERVED_MATCH_STATUSES = (MatchStatus.APPROVED, MatchStatus.ACCEPTED, MatchStatus.COMPLETED)
# Refused by a coordinator or the volunteer: this pair is never proposed again.
NEVER_AGAIN_MATCH_STATUSES = (MatchStatus.REJECTED, MatchStatus.DECLINED)
_ACTIVE_SQL = "status IN ('proposed', 'approved', 'accepted')"


class Match(db.Model):
    __tablename__ = "matches"
    __table_args__ = (
        check_in("status", enum_values(MatchStatus)),
        check_in("origin", enum_values(MatchOrigin)),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 1)", name="score_range"),
        CheckConstraint(
            "feedback_rating IS NULL OR feedback_rating BETWEEN 1 AND 5", name="rating_range"
        ),
        # At most one live match per pair; finished ones stay as history.
        Index(
            "uq_matches_active_pair",
            "need_id",
            "volunteer_id",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_profiles.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=MatchStatus.PROPOSED, index=True)
    origin: Mapped[str] = mapped_column(String(20), default=MatchOrigin.ENGINE)
    score: Mapped[float | None]
    explanation: Mapped[list | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A proposal left undecided: when the coordinators were reminded (once per proposal).
    coordinators_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An approved match the volunteer never answered, given back to matching by the system.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback_rating: Mapped[int | None]
    feedback_comment: Mapped[str] = mapped_column(Text, default="")
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The volunteer's look back: what helped, and whether a next phase is due.
    volunteer_feedback: Mapped[str] = mapped_column(Text, default="")
    volunteer_next_phase: Mapped[str | None] = mapped_column(String(20))
    volunteer_feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A coordinator's reason for rejecting an offer may be passed on to the volunteer.
    reason_shared: Mapped[bool] = mapped_column(default=False)

    need: Mapped[Need] = relationship()
    volunteer: Mapped[VolunteerProfile] = relationship()
