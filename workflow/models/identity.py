"""Organisations, people, their memberships (roles) and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
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
