"""Use-cases of the administration of people: who has an account, in which organisations,
with which roles. For administrators of an e-Izba office only (``NotPermitted``
otherwise); every change is audited (``registry.*`` records).

A person is never deleted (the audit trail and the documents name them): deactivating
ends their sessions at once and refuses their logins and API tokens from then on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from workflow import audit
from workflow.db import transaction
from workflow.errors import ErrorCode, InvalidInput, NotFound, NotPermitted
from workflow.identity import actors as identity
from workflow.identity import sessions
from workflow.identity.actors import Actor
from workflow.identity.passwords import check_new_password
from workflow.models import Membership, Organisation, User
from workflow.runtime import Runtime
from workflow.states import Role

NAME_LIMIT = 200
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class MembershipRow:
    id: int
    organisation_id: int
    organisation: str
    """The organisation's short name."""
    role: Role


@dataclass(frozen=True)
class PersonRow:
    """A person as the administration page lists them."""

    id: int
    full_name: str
    email: str
    function_title: str | None
    is_active: bool
    memberships: tuple[MembershipRow, ...]


@dataclass(frozen=True)
class OrganisationChoice:
    id: int
    name: str
    short_name: str


def _require_admin(actor: Actor) -> None:
    if not actor.has_chamber_role(Role.ADMIN):
        raise NotPermitted(ErrorCode.PEOPLE_NEED_CHAMBER_ADMIN)


def list_people(rt: Runtime, *, actor: Actor) -> list[PersonRow]:
    """Everyone, active first, by name, with their memberships (two queries)."""
    _require_admin(actor)
    with transaction(rt.read_sessions) as session:
        people = session.execute(
            select(User.id, User.full_name, User.email, User.function_title, User.is_active)
            .order_by(User.is_active.desc(), User.full_name, User.id)
        ).all()  # fmt: skip
        rows = session.execute(
            select(Membership.id, Membership.user_id, Membership.organisation_id,
                   Organisation.short_name, Membership.role)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .order_by(Organisation.short_name, Membership.role)
        ).all()  # fmt: skip
    by_person: dict[int, list[MembershipRow]] = {}
    for m in rows:
        by_person.setdefault(m.user_id, []).append(
            MembershipRow(m.id, m.organisation_id, m.short_name, m.role)
        )
    return [
        PersonRow(p.id, p.full_name, p.email, p.function_title, p.is_active,
                  tuple(by_person.get(p.id, ())))
        for p in people
    ]  # fmt: skip


def organisation_choices(rt: Runtime, *, actor: Actor) -> list[OrganisationChoice]:
    _require_admin(actor)
    with transaction(rt.read_sessions) as session:
        rows = session.execute(
            select(Organisation.id, Organisation.name, Organisation.short_name).order_by(
                Organisation.name
            )
        ).all()
    return [OrganisationChoice(r.id, r.name, r.short_name) for r in rows]


def create_person(
    rt: Runtime,
    *,
    actor: Actor,
    email: str,
    full_name: str,
    function_title: str | None,
    password: str,
) -> int:
    """A new active person with an initial password (the password rules apply; field
    ``new_password``); their id. They have no role until a membership is added."""
    _require_admin(actor)
    email = email.strip().lower()
    full_name = " ".join(full_name.split())
    function_title = " ".join((function_title or "").split()) or None
    if not full_name or len(full_name) > NAME_LIMIT:
        raise InvalidInput("full_name", ErrorCode.PERSON_NAME_REQUIRED, max_length=NAME_LIMIT)
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidInput("email", ErrorCode.EMAIL_INVALID)
    if function_title is not None and len(function_title) > NAME_LIMIT:
        raise InvalidInput(
            "function_title", ErrorCode.VALUE_TOO_LONG, max_length=NAME_LIMIT
        )  # fmt: skip
    check_new_password(password, current="", email=email)
    with transaction(rt.read_sessions) as session:
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            raise InvalidInput("email", ErrorCode.EMAIL_TAKEN, email=email)
    password_hash = identity.hash_password(password)  # outside the write transaction: scrypt
    with transaction(rt.sessions) as session:
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            raise InvalidInput("email", ErrorCode.EMAIL_TAKEN, email=email)
        user = User(
            email=email, full_name=full_name, function_title=function_title,
            password_hash=password_hash, is_active=True,
        )  # fmt: skip
        session.add(user)
        session.flush()
        audit.append(
            session, action="registry.person_created", actor_id=actor.user_id,
            actor=actor.email,
            payload={"user_id": user.id, "email": email, "full_name": full_name},
        )  # fmt: skip
        return user.id


def add_membership(
    rt: Runtime, *, actor: Actor, user_id: int, organisation_id: int, role: Role | str
) -> None:
    """Give the person ``role`` in the organisation (nothing changes if they have it)."""
    _require_admin(actor)
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput("role", ErrorCode.ROLE_NOT_CHOSEN) from None
    with transaction(rt.sessions) as session:
        if session.get(User, user_id) is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, user_id=user_id)
        if session.get(Organisation, organisation_id) is None:
            raise InvalidInput("organisation_id", ErrorCode.ORGANISATION_NOT_CHOSEN)
        existing = session.scalar(
            select(Membership.id).where(
                Membership.user_id == user_id,
                Membership.organisation_id == organisation_id,
                Membership.role == role,
            )
        )
        if existing is not None:
            return
        session.add(Membership(user_id=user_id, organisation_id=organisation_id, role=role))
        audit.append(
            session, action="registry.membership_added", actor_id=actor.user_id,
            actor=actor.email,
            payload={"user_id": user_id, "organisation_id": organisation_id, "role": role.value},
        )  # fmt: skip


def remove_membership(rt: Runtime, *, actor: Actor, membership_id: int) -> None:
    _require_admin(actor)
    with transaction(rt.sessions) as session:
        row = session.get(Membership, membership_id)
        if row is None:
            raise NotFound(ErrorCode.MEMBERSHIP_NOT_FOUND, membership_id=membership_id)
        payload = {
            "user_id": row.user_id, "organisation_id": row.organisation_id,
            "role": row.role.value,
        }  # fmt: skip
        session.delete(row)
        audit.append(
            session, action="registry.membership_removed", actor_id=actor.user_id,
            actor=actor.email, payload=payload,
        )  # fmt: skip


def deactivate_person(rt: Runtime, *, actor: Actor, user_id: int) -> None:
    """No more logins or tokens for the person; their open sessions end now."""
    _require_admin(actor)
    if user_id == actor.user_id:
        raise NotPermitted(ErrorCode.CANNOT_DEACTIVATE_SELF)
    now = datetime.now(UTC)
    with transaction(rt.sessions) as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, user_id=user_id)
        if not user.is_active:
            return
        user.is_active = False
        ended = sessions.revoke_all(session, user_id=user_id, reason="admin", now=now)
        audit.append(
            session, action="registry.person_deactivated", actor_id=actor.user_id,
            actor=actor.email, payload={"user_id": user_id, "sessions_ended": len(ended)},
        )  # fmt: skip
