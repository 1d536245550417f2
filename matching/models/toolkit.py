"""The association's toolkit ("Werkzeugkoffer"): materials per phase, links or PDFs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matching.extensions import db
from matching.models.base import UTCDateTime, check_in, enum_values, utcnow
from matching.models.users import User
from matching.reference import PHASE_CODES


class MaterialStatus(StrEnum):
    SUGGESTED = "suggested"  # a volunteer's suggestion, waits for a coordinator
    APPROVED = "approved"  # public
    REJECTED = "rejected"


class Material(db.Model):
    """One material: a link or an uploaded PDF (its bytes live in ``MaterialFile``)."""

    __tablename__ = "toolkit_materials"
    __table_args__ = (
        check_in("phase", PHASE_CODES),
        check_in("status", enum_values(MaterialStatus)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phase: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    language: Mapped[str] = mapped_column(String(8), default="de")
    status: Mapped[str] = mapped_column(String(20), default=MaterialStatus.SUGGESTED, index=True)
    review_reason: Mapped[str] = mapped_column(Text, default="")
    # Name and size of the uploaded PDF, so lists never load its bytes.
    file_name: Mapped[str] = mapped_column(String(200), default="")
    file_size: Mapped[int] = mapped_column(default=0)
    suggested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    suggested_by: Mapped[User | None] = relationship(foreign_keys=[suggested_by_id])

    @property
    def has_file(self) -> bool:
        return bool(self.file_name)


class MaterialFile(db.Model):
    """The bytes of an uploaded PDF, apart from the material so lists stay light."""

    __tablename__ = "toolkit_files"

    material_id: Mapped[int] = mapped_column(
        ForeignKey("toolkit_materials.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
