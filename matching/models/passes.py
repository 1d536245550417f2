"""A volunteer's "Diesmal nicht" for one open need, with an optional reason."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from matching.extensions import db
from matching.models.base import UTCDateTime, check_in, enum_values, utcnow


class PassReason(StrEnum):
    NO_TIME = "no_time"  # "keine Zeit"
    NOT_MY_FIELD = "not_my_field"  # "passt fachlich nicht": lowers the phases' weight
    TOO_FAR = "too_far"  # "zu weit weg"


class NeedPass(db.Model):
    """The engine never offers this need to this volunteer again."""

    __tablename__ = "need_passes"
    __table_args__ = (check_in("reason", ["", *enum_values(PassReason)]),)

    need_id: Mapped[int] = mapped_column(
        ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True
    )
    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_profiles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reason: Mapped[str] = mapped_column(String(20), default="")
    # The need's phases when the volunteer passed: an edit of the need later does not
    # move the lowered weight to other phases.
    phases: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
