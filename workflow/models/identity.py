"""Organisations, people, their memberships (roles), API tokens, login sessions and the
login throttle (see ``workflow.identity.sessions`` and ``workflow.identity.throttle``)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.db import Base
from workflow.models.base import UTCDateTime, _enum, utcnow
from workflow.states import Role


class OrganisationKind(enum.StrEnum):
    CHAMBER = "chamber"
    """e-Izba head office."""
    CHAMBER_BRANCH = "chamber_branch"
    GMINA_MIEJSKA = "gmina_miejska"
    GMINA_WIEJSKA = "gmina_wiejska"
    GMINA_MIEJSKO_WIEJSKA = "gmina_miejsko_wiejska"
    MIASTO_NA_PRAWACH_POWIATU = "miasto_na_prawach_powiatu"
    POWIAT = "powiat"
    WOJEWODZTWO = "wojewodztwo"

    @property
    def is_chamber(self) -> bool:
        """e-Izba's head office or one of its branches."""
        return self in (OrganisationKind.CHAMBER, OrganisationKind.CHAMBER_BRANCH)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[OrganisationKind] = mapped_column(_enum(OrganisationKind, "organisation_kind"))
    teryt: Mapped[str | None] = mapped_column(String(7), unique=True)
    head_title: Mapped[str | None] = mapped_column(String(200))
    """Title of the head of the unit, as used in documents, e.g. "Prezydent Miasta Rybnika".
    Stored: it cannot always be derived from the type."""
    seat: Mapped[str | None] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    function_title: Mapped[str | None] = mapped_column(String(200))
    """How the person signs, e.g. "Prezes Zarządu e-Izby"."""
    password_hash: Mapped[str] = mapped_column(String(300))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    """Only the hash is kept: a leaked database does not leak usable tokens."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginSession(Base):
    """A login session: the browser holds a random id, the server only its SHA-256, so
    a logout, a password change or an administrator ends it for every app server."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    """Names the session in the admin view; never a credential."""
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the cookie's value: a leaked database does not leak usable sessions."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    """Moved forward at most once a minute; the idle expiry counts from it."""
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    """The absolute end, however active the session is."""
    client: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    """logout, password_changed, admin, replaced (a new login in the same browser)."""


class LoginThrottle(Base):
    """Failed logins counted per key (an account, a client address) in a window; when a
    key reaches its limit it is locked until ``locked_until``. Shared by every process."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    """``account:<sha256 of the login name>`` or ``client:<sha256 of the address>``."""
    failures: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
