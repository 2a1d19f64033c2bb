"""Use-cases for looking people and organisations up (to name parties and signatories).

e-Izba staff see every organisation and person; people of a local government see the
organisations (public facts: names, TERYT, titles) and the people of their own unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from workflow.db import transaction
from workflow.identity.actors import Actor
from workflow.models import Membership, Organisation, User
from workflow.runtime import Runtime
from workflow.views import OrganisationView


@dataclass(frozen=True)
class PersonView:
    id: int
    full_name: str
    function_title: str | None
    email: str | None
    """Shown to e-Izba staff only."""
    roles: tuple[tuple[int, str], ...]
    """(organisation id, role) of each membership."""


def list_organisations(rt: Runtime, *, actor: Actor) -> list[OrganisationView]:
    with transaction(rt.read_sessions) as session:
        rows = session.scalars(select(Organisation).order_by(Organisation.name))
        return [OrganisationView.of(o) for o in rows]


def list_people(
    rt: Runtime, *, actor: Actor, organisation_id: int | None = None
) -> list[PersonView]:
    with transaction(rt.read_sessions) as session:
        staff = actor.chamber_staff
        query = (
            select(User)
            .where(User.is_active.is_(True))
            .options(selectinload(User.memberships))
            .order_by(User.full_name)
        )
        if organisation_id is not None:
            members = select(Membership.user_id).where(
                Membership.organisation_id == organisation_id
            )
            query = query.where(User.id.in_(members))
        if not staff:
            own = select(Membership.user_id).where(
                Membership.organisation_id.in_(list(actor.member_of))
            )
            query = query.where(User.id.in_(own))
        return [
            PersonView(
                id=u.id,
                full_name=u.full_name,
                function_title=u.function_title,
                email=u.email if staff else None,
                roles=tuple(sorted((m.organisation_id, m.role.value) for m in u.memberships)),
            )
            for u in session.scalars(query)
        ]
