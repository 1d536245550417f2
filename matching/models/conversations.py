"""After the match: one message thread per match and its first meeting."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matching.extensions import db
from matching.models.base import UTCDateTime, check_in, enum_values, utcnow
from matching.models.matches import Match
from matching.models.users import User


class ThreadRole(StrEnum):
    """Who wrote a message, as the other side reads it: first name and this role only."""

    VOLUNTEER = "volunteer"
    INITIATIVE = "initiative"
    COORDINATOR = "coordinator"


class MessageMail(StrEnum):
    """How a person hears of new messages: each (batched), a daily summary, or not at all."""

    EACH = "each"
    DAILY = "daily"
    OFF = "off"


class MatchMessage(db.Model):
    """One plain-text message in a match's thread."""

    __tablename__ = "match_messages"
    __table_args__ = (
        check_in("author_role", enum_values(ThreadRole)),
        Index("ix_match_messages_thread", "match_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    author_role: Mapped[str] = mapped_column(String(20))
    # The author's first name when written: the thread still reads sensibly after erasure.
    author_name: Mapped[str] = mapped_column(String(80), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the other side was told of it by mail (each message); None: not yet.
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Erasure keeps a placeholder instead of the text.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    match: Mapped[Match] = relationship()
    author: Mapped[User | None] = relationship()


class MessageMailSetting(db.Model):
    """A person's choice of message mail; no row means EACH."""

    __tablename__ = "message_mail_settings"
    __table_args__ = (check_in("frequency", enum_values(MessageMail)),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    frequency: Mapped[str] = mapped_column(String(10), default=MessageMail.EACH)
    # The daily summary covers the messages after this moment.
    summarised_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MeetingStatus(StrEnum):
    PROPOSED = "proposed"  # times offered, the other side picks one
    CONFIRMED = "confirmed"  # a time is chosen; the calendar invitation went out
    CANCELLED = "cancelled"


# A meeting still planned or agreed (not cancelled).
LIVE_MEETING_STATUSES = (MeetingStatus.PROPOSED, MeetingStatus.CONFIRMED)


class MeetingOutcome(StrEnum):
    """The answer to "Hat das Treffen stattgefunden?"."""

    HELD = "held"
    MOVED = "moved"
    NOT_HELD = "not_held"


class PlaceKind(StrEnum):
    PHONE = "phone"
    VIDEO = "video"
    ADDRESS = "address"


class Meeting(db.Model):
    """The first meeting of a match: proposed times, the chosen one, its calendar sequence."""

    __tablename__ = "meetings"
    __table_args__ = (
        check_in("status", enum_values(MeetingStatus)),
        check_in("place_kind", enum_values(PlaceKind)),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('held', 'moved', 'not_held')", name="outcome_valid"
        ),
        CheckConstraint("sequence >= 0", name="sequence_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    # Stable for the calendar: every update and the cancellation carry the same UID.
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default=MeetingStatus.PROPOSED, index=True)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    proposed_by_role: Mapped[str] = mapped_column(String(20))
    place_kind: Mapped[str] = mapped_column(String(10))
    place: Mapped[str] = mapped_column(String(500), default="")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int | None]
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    match: Mapped[Match] = relationship()
    options: Mapped[list[MeetingOption]] = relationship(
        back_populates="meeting",
        cascade="all, delete-orphan",
        order_by="MeetingOption.starts_at",
    )

    @property
    def ends_at(self) -> datetime | None:
        if self.starts_at is None or self.duration_minutes is None:
            return None
        return self.starts_at + timedelta(minutes=self.duration_minutes)


class MeetingOption(db.Model):
    """One of up to three proposed times."""

    __tablename__ = "meeting_options"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 15 AND 480", name="duration_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int]

    meeting: Mapped[Meeting] = relationship(back_populates="options")

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)
