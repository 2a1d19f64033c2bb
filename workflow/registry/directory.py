"""Use-cases for looking people and organisations up (to name parties and signatories).

e-Izba staff see every organisation and person; people of a local government see the
organisations (public facts: names, TERYT, titles) and the people of their own unit.
Wherever a person is shown (the directory, the audit trail of a document), they are shown
as ``person_view`` shows them to the caller: e-mail addresses to e-Izba staff only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

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


def person_view(user: User, *, viewer: Actor) -> PersonView:
    """``user`` as the directory shows them to ``viewer``."""
    return PersonView(
        id=user.id,
        full_name=user.full_name,
        function_title=user.function_title,
        email=user.email if viewer.chamber_staff else None,
        roles=tuple(sorted((m.organisation_id, m.role.value) for m in user.memberships)),
    )


def people_by_id(
    session: Session, *, viewer: Actor, user_ids: Iterable[int]
) -> dict[int, PersonView]:
    """The people behind ``user_ids`` (deactivated ones too), as ``viewer`` may see them:
    for those who acted on a document the viewer sees, e.g. in its audit trail."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    query = select(User).where(User.id.in_(ids)).options(selectinload(User.memberships))
    return {u.id: person_view(u, viewer=viewer) for u in session.scalars(query)}


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
        return [person_view(u, viewer=actor) for u in session.scalars(query)]
