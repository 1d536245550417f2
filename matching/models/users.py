"""Accounts, roles and recorded consent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matching.extensions import db
from matching.models.base import UTCDateTime, check_in, enum_values, utcnow

if TYPE_CHECKING:
    from matching.models.initiatives import Initiative
    from matching.models.volunteers import VolunteerProfile


class Role(StrEnum):
    VOLUNTEER = "volunteer"
    INITIATIVE = "initiative"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class User(UserMixin, db.Model):
    """A person with a log-in; may hold several roles."""

    __tablename__ = "users"
    __table_args__ = (
        check_in("locale", ("de", "en")),
        # Log-in and sign-up look the address up case-blind (accounts.find_by_email).
        Index("ix_users_email_lower", func.lower("email")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    locale: Mapped[str] = mapped_column(String(5), default="de")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    privacy_version: Mapped[str | None] = mapped_column(String(20))
    # Bumped when the password changes, so every other session ends.
    session_version: Mapped[int] = mapped_column(default=1)
    # The newest request to change the address: only its link may change it.
    email_change_key: Mapped[str | None] = mapped_column(String(64))

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    volunteer_profile: Mapped[VolunteerProfile | None] = relationship(
        back_populates="user", uselist=False, foreign_keys="VolunteerProfile.user_id"
    )
    initiatives: Mapped[list[Initiative]] = relationship(
        secondary="initiative_members", back_populates="members", viewonly=True
    )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.roles

    def add_role(self, role: Role | str) -> None:
        if not self.has_role(role):
            self.role_rows.append(UserRole(role=str(role)))

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled accounts cannot log in
        return self.disabled_at is None

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def display_name(self) -> str:
        """First and last name; an erased account's stored name in the reader's language."""
        from matching.sentences import shown  # (the models stay free of the web layer)

        return shown(f"{self.first_name} {self.last_name}".strip())


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (check_in("role", enum_values(Role)),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_rows")


class ConsentRecord(db.Model):
    """Which version of a text (e.g. the privacy statement) a user agreed to, and when."""

    __tablename__ = "consent_records"
    __table_args__ = (
        check_in("kind", ("privacy",)),
        UniqueConstraint("user_id", "kind", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="privacy")
    version: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserSession(db.Model):
    """One log-in in one browser: the session cookie names it, log-out deletes it.

    Only the SHA-256 of the key in the cookie is kept. A replayed cookie of a session that
    was logged out (or ended with "Überall abmelden") finds no row and is a visitor.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
