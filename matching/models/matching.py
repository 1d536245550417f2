"""A wish for a proposal run: left by whatever changes the matching picture, served by the run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from matching.extensions import db
from matching.models.base import UTCDateTime, utcnow


class MatchingRequest(db.Model):
    """ "Bitte bald neu vermitteln": a need published, a profile approved, a match declined, …

    Written in the same transaction as the change, so it exists exactly when the change does;
    the next proposal run deletes the rows it has seen (an insert, never an update: no two
    requests wait for each other).
    """

    __tablename__ = "matching_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(40))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProposalFingerprint(db.Model):
    """What the last complete proposal run read, as one digest (``matching.matches.unchanged``).

    A run that finds the same digest soon after proposes nothing new and stops early. One row,
    replaced by every complete run that writes; a dry run never writes one.
    """

    __tablename__ = "proposal_fingerprints"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    needs_open: Mapped[int] = mapped_column(default=0)
    needs_without_candidate: Mapped[list | None] = mapped_column(JSON)
