"""Digest settings per user and kind, which needs a volunteer was already shown, job runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from matching.extensions import db
from matching.models.base import UTCDateTime, check_in, enum_values, utcnow


class DigestKind(StrEnum):
    VOLUNTEER = "volunteer"
    COORDINATOR = "coordinator"
    INITIATIVE = "initiative"


class DigestSetting(db.Model):
    """A user's choice for one digest kind; no row means the default (weekly)."""

    __tablename__ = "digest_settings"
    __table_args__ = (check_in("kind", enum_values(DigestKind)),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestShown(db.Model):
    """A need that was in a volunteer's digest, so the next digest brings new ones."""

    __tablename__ = "digest_shown"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    need_id: Mapped[int] = mapped_column(
        ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True
    )
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobRun(db.Model):
    """One run of a scheduled job, for `jobs list` and for looking back."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ok: Mapped[bool | None]
    dry_run: Mapped[bool] = mapped_column(default=False)
    summary: Mapped[dict | None] = mapped_column(JSON)
