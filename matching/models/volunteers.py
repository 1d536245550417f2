"""A volunteer's profile: expertise per phase, districts, languages, formats, capacity."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matching.extensions import db
from matching.models.base import UTCDateTime, check_in, enum_values, utcnow
from matching.models.users import User
from matching.reference import PHASE_CODES

MAX_CAPACITY = 10


class ProfileStatus(StrEnum):
    DRAFT = "draft"  # not yet submitted
    PENDING = "pending"  # waits for a coordinator
    APPROVED = "approved"
    RETURNED = "returned"  # sent back with a reason


class VolunteerProfile(db.Model):
    __tablename__ = "volunteer_profiles"
    __table_args__ = (
        check_in("status", enum_values(ProfileStatus)),
        CheckConstraint(f"capacity BETWEEN 1 AND {MAX_CAPACITY}", name="capacity_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=ProfileStatus.DRAFT, index=True)
    review_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    whole_city: Mapped[bool] = mapped_column(default=False)
    capacity: Mapped[int] = mapped_column(default=2)
    paused_until: Mapped[date | None] = mapped_column(Date)
    bio: Mapped[str] = mapped_column(String(1000), default="")
    offers_in_person: Mapped[bool] = mapped_column(default=True)
    offers_phone: Mapped[bool] = mapped_column(default=True)
    offers_video: Mapped[bool] = mapped_column(default=False)
    # "passt fachlich nicht" said before this moment no longer lowers a phase's weight.
    field_feedback_reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="volunteer_profile", foreign_keys=[user_id])
    levels: Mapped[list[VolunteerPhaseLevel]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    district_rows: Mapped[list[VolunteerDistrict]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    language_rows: Mapped[list[VolunteerLanguage]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def level_by_phase(self) -> dict[str, int]:
        return {row.phase: row.level for row in self.levels}

    @property
    def districts(self) -> frozenset[str]:
        return frozenset(row.district for row in self.district_rows)

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(row.language for row in self.language_rows)

    @property
    def formats(self) -> frozenset[str]:
        offered = (
            ("in_person", self.offers_in_person),
            ("phone", self.offers_phone),
            ("video", self.offers_video),
        )
        return frozenset(code for code, on in offered if on)


class VolunteerPhaseLevel(db.Model):
    __tablename__ = "volunteer_phase_levels"
    __table_args__ = (
        check_in("phase", PHASE_CODES),
        CheckConstraint("level BETWEEN 0 AND 3", name="level_range"),
    )

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    phase: Mapped[str] = mapped_column(String(20), primary_key=True)
    level: Mapped[int] = mapped_column(default=0)


class VolunteerDistrict(db.Model):
    __tablename__ = "volunteer_districts"

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    # District codes come from the city's data file, so they are checked in code, not here.
    district: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class VolunteerLanguage(db.Model):
    __tablename__ = "volunteer_languages"

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
