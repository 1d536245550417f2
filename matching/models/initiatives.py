"""Initiatives, the people acting for them, and their advice needs."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matching.extensions import db
from matching.models.base import UTCDateTime, check_in, enum_values, utcnow
from matching.models.users import User
from matching.reference import PHASE_CODES, URGENCY_CODES

MAX_EXPERTS_WANTED = 5


class NeedStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    MATCHED = "matched"
    ADVISED = "advised"  # "Beraten": the advice is done; no longer looking for anyone
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


# Needs still on their way (the initiative hears about them in its digest).
ACTIVE_NEED_STATUSES = (NeedStatus.DRAFT, NeedStatus.OPEN, NeedStatus.MATCHED)
# Needs whose text the initiative may still change.
EDITABLE_NEED_STATUSES = frozenset({NeedStatus.DRAFT, NeedStatus.OPEN})


class Initiative(db.Model):
    __tablename__ = "initiatives"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    district: Mapped[str] = mapped_column(String(40), index=True)
    sub_district: Mapped[str] = mapped_column(String(80), default="")
    description: Mapped[str] = mapped_column(String(1000), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    # An initiative that called by phone: whom to reach, and when they agreed that we
    # store it. Erased when a person takes the initiative over with an account.
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_consent_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    members: Mapped[list[User]] = relationship(
        secondary="initiative_members", back_populates="initiatives", viewonly=True
    )
    member_rows: Mapped[list[InitiativeMember]] = relationship(
        cascade="all, delete-orphan", back_populates="initiative"
    )
    needs: Mapped[list[Need]] = relationship(back_populates="initiative")

    @property
    def recorded_by_phone(self) -> bool:
        """Recorded by a coordinator for people without an account."""
        return self.contact_consent_on is not None


class InitiativeMember(db.Model):
    __tablename__ = "initiative_members"

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    initiative: Mapped[Initiative] = relationship(back_populates="member_rows")
    user: Mapped[User] = relationship()


class Need(db.Model):
    """An initiative's concrete advice need."""

    __tablename__ = "needs"
    __table_args__ = (
        check_in("status", enum_values(NeedStatus)),
        check_in("urgency", URGENCY_CODES),
        CheckConstraint(
            f"experts_wanted BETWEEN 1 AND {MAX_EXPERTS_WANTED}", name="experts_wanted_range"
        ),
        # The open needs newest first (the list, the feeds, the API): read in index order.
        Index("ix_needs_status_published", "status", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(4000), default="")
    district: Mapped[str] = mapped_column(String(40), index=True)
    language: Mapped[str] = mapped_column(String(8), default="de")
    accepts_in_person: Mapped[bool] = mapped_column(default=True)
    accepts_phone: Mapped[bool] = mapped_column(default=True)
    accepts_video: Mapped[bool] = mapped_column(default=False)
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    experts_wanted: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default=NeedStatus.DRAFT, index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    expires_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The need this one continues ("Was steht als Nächstes an?" after a completed match).
    follows_need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id", ondelete="SET NULL"))
    # Watch for needs nobody can take: since when the engine found no candidate, and when
    # the coordinators were told (both cleared once a candidate turns up).
    no_candidate_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    uncovered_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    initiative: Mapped[Initiative] = relationship(back_populates="needs")
    phase_rows: Mapped[list[NeedPhase]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="NeedPhase.phase"
    )

    @property
    def phases(self) -> tuple[str, ...]:
        chosen = {row.phase for row in self.phase_rows}
        return tuple(code for code in PHASE_CODES if code in chosen)

    @property
    def formats(self) -> frozenset[str]:
        accepted = (
            ("in_person", self.accepts_in_person),
            ("phone", self.accepts_phone),
            ("video", self.accepts_video),
        )
        return frozenset(code for code, on in accepted if on)


class NeedPhase(db.Model):
    __tablename__ = "need_phases"
    __table_args__ = (check_in("phase", PHASE_CODES),)

    need_id: Mapped[int] = mapped_column(
        ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True
    )
    phase: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
