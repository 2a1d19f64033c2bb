"""Who is asking: people, passwords, API tokens, and what their memberships let them see.

Roles belong to a membership in one organisation. Staff of an e-Izba office act on the
documents of that office and of the offices under it (the head office oversees its
branches). People of a local government see only documents their organisation is a party to;
to anyone else a document does not exist (NotFound, never NotPermitted, so its existence
does not leak).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from workflow.errors import ErrorCode, NotFound
from workflow.models import (
    ApiToken,
    Document,
    DocumentParty,
    Membership,
    Organisation,
    OrganisationKind,
    User,
)
from workflow.states import Role

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


@dataclass(frozen=True)
class Actor:
    """The person behind a request, with the organisations their roles apply to."""

    user_id: int
    email: str
    full_name: str
    roles_by_org: tuple[tuple[int, Role], ...]
    """(organisation id, role), each organisation expanded to the offices it oversees."""
    member_of: frozenset[int]
    """Every organisation the person belongs to, expanded likewise."""
    chamber_offices: frozenset[int] = frozenset()
    """The e-Izba offices (head office, branches) among ``member_of``."""

    def roles_in(self, organisation_id: int) -> frozenset[Role]:
        return frozenset(r for org, r in self.roles_by_org if org == organisation_id)

    def has_role(self, role: Role) -> bool:
        return any(r == role for _, r in self.roles_by_org)

    @property
    def chamber_staff(self) -> bool:
        return bool(self.chamber_offices)

    def has_chamber_role(self, role: Role) -> bool:
        """The role held in an e-Izba office (not merely in a local government)."""
        return any(r == role and org in self.chamber_offices for org, r in self.roles_by_org)


def chamber_offices(session: Session) -> dict[int, int | None]:
    """Every e-Izba office and its parent office."""
    query = select(Organisation.id, Organisation.parent_id).where(
        Organisation.kind.in_([k for k in OrganisationKind if k.is_chamber])
    )
    return {row.id: row.parent_id for row in session.execute(query)}


def _chamber_offices_below(
    chamber: dict[int, int | None], root_ids: set[int]
) -> dict[int, set[int]]:
    """For each e-Izba office among the roots, that office and the offices under it; any
    other organisation stands for itself alone (a powiat does not see its gminas')."""
    children: dict[int, list[int]] = {}
    for org_id, parent_id in chamber.items():
        if parent_id is not None:
            children.setdefault(parent_id, []).append(org_id)
    result: dict[int, set[int]] = {}
    for root in root_ids:
        seen, stack = {root}, [root]
        while root in chamber and stack:
            for child in children.get(stack.pop(), []):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        result[root] = seen
    return result


def load_actor(session: Session, user_id: int) -> Actor:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound(ErrorCode.USER_NOT_FOUND, user_id=user_id)
    memberships = session.scalars(select(Membership).where(Membership.user_id == user_id)).all()
    return actor_from_rows(
        user_id=user.id,
        email=user.email,
        full_name=user.full_name,
        memberships=[(m.organisation_id, m.role) for m in memberships],
        offices=chamber_offices(session),
    )


def actor_from_rows(
    *,
    user_id: int,
    email: str,
    full_name: str,
    memberships: Sequence[tuple[int, Role]],
    offices: dict[int, int | None],
) -> Actor:
    """The actor of a person with these (organisation, role) memberships, given every
    e-Izba office and its parent (``chamber_offices``)."""
    below = _chamber_offices_below(offices, {org for org, _ in memberships})
    roles = sorted({(org, role) for m_org, role in memberships for org in below[m_org]})
    return Actor(
        user_id=user_id,
        email=email,
        full_name=full_name,
        roles_by_org=tuple(roles),
        member_of=frozenset(org for orgs in below.values() for org in orgs),
        chamber_offices=frozenset(org for orgs in below.values() for org in orgs if org in offices),
    )


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the account does not exist, so that an unknown email costs the
    same scrypt time as a wrong password and accounts cannot be found by timing."""
    return hash_password("no such account")


def authenticate_password(session: Session, email: str, password: str) -> Actor | None:
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.is_active:
        check_password(password, _dummy_hash())
        return None
    if not check_password(password, user.password_hash):
        return None
    return load_actor(session, user.id)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, *, user_id: int, name: str) -> tuple[int, str]:
    """Make a token: (its id, the plain value). The value is shown once; only its hash is
    kept."""
    token = "est_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user_id, name=name, token_sha256=_token_hash(token))
    session.add(row)
    session.flush()
    return row.id, token


def authenticate_token(session: Session, token: str) -> Actor | None:
    row = session.scalars(
        select(ApiToken).where(
            ApiToken.token_sha256 == _token_hash(token), ApiToken.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    try:
        return load_actor(session, row.user_id)
    except NotFound:
        return None


def revoke_api_token(session: Session, *, user_id: int, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFound(ErrorCode.API_TOKEN_NOT_FOUND)
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)


def visible_documents_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: documents owned by the actor's offices or with their org as a party."""
    orgs = list(actor.member_of)
    party_docs = select(DocumentParty.document_id).where(DocumentParty.organisation_id.in_(orgs))
    return or_(Document.owner_organisation_id.in_(orgs), Document.id.in_(party_docs))


def document_roles(actor: Actor, document: Document) -> frozenset[Role]:
    """The roles the actor holds for this document.

    Authoring, reviewing and archiving belong to the owning office (or one above it);
    signing belongs to the designated signatories alone.
    """
    roles = set(actor.roles_in(document.owner_organisation_id)) - {Role.SIGNATORY}
    if any(s.user_id == actor.user_id for s in document.signatories):
        roles.add(Role.SIGNATORY)
    return frozenset(roles)


def can_see(actor: Actor, document: Document) -> bool:
    if document.owner_organisation_id in actor.member_of:
        return True
    return any(p.organisation_id in actor.member_of for p in document.parties)
