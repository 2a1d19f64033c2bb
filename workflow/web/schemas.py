"""The JSON the API reads and writes: Pydantic models, at this edge only.

Requests forbid unknown keys (a typo is a 422 naming the field, not a silently ignored
value). Responses are built from the use-cases' frozen views (``Model.of(view)``); the
hot reads answer ``Model.response(view)`` / ``Model.list_response(views)``, the JSON made
in one pass (a returned model is dumped, validated again and dumped once more by FastAPI:
a third of the document list's time), with ``response_model=`` still giving the OpenAPI
schema.
Timestamps are ISO 8601 with their UTC offset, e.g. ``2026-11-25T12:34:56.789012+00:00``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from fastapi import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, TypeAdapter

from workflow.identity.actors import Actor
from workflow.states import Action, Status
from workflow.web.types import Count, DbId, Line, Text


def _isoformat(value: datetime) -> str:
    return value.isoformat()


Timestamp = Annotated[AwareDatetime, PlainSerializer(_isoformat, return_type=str)]


class Incoming(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Outgoing(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, view: object) -> Self:
        return cls.model_validate(view, from_attributes=True)

    @classmethod
    def response(cls, view: object) -> Response:
        """``view`` as this model's JSON, ready to send."""
        return _json(cls.of(view).model_dump_json())

    @classmethod
    def list_response(cls, views: Sequence[object]) -> Response:
        """``views`` as a JSON list of this model, ready to send."""
        adapter = _list_adapter(cls)
        return _json(adapter.dump_json(adapter.validate_python(views, from_attributes=True)))


@functools.cache
def _list_adapter(model: type[Outgoing]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _json(body: str | bytes) -> Response:
    return Response(body, media_type="application/json")


# -- auth -------------------------------------------------------------------------------


class LoginIn(Incoming):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class RoleOut(BaseModel):
    organisation_id: int
    role: str


class UserOut(BaseModel):
    id: int
    email: str
    full_name: str
    organisations: list[int]
    """Every organisation the person belongs to, with the offices it oversees."""
    roles: list[RoleOut]

    @classmethod
    def of(cls, actor: Actor) -> UserOut:
        return cls(
            id=actor.user_id,
            email=actor.email,
            full_name=actor.full_name,
            organisations=sorted(actor.member_of),
            roles=[RoleOut(organisation_id=o, role=r.value) for o, r in actor.roles_by_org],
        )


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str | None
    """Send it as X-CSRF-Token with every unsafe request of this session."""
    authenticated_by: Literal["session", "token"]


class TokenIn(Incoming):
    name: Line = Field(min_length=1, max_length=120)


class TokenOut(Outgoing):
    id: int
    name: str
    token: str
    """The plain value, shown this once: keep it; only its hash is stored."""


# -- templates --------------------------------------------------------------------------


class TemplateOut(Outgoing):
    name: str
    kind: str
    title: str
    version: int
    docx_sha256: str
    field_schema: dict[str, Any]
    created_at: Timestamp


# -- documents --------------------------------------------------------------------------


class PartyIn(Incoming):
    organisation_id: DbId
    representative_id: DbId | None = None


class SignatoryIn(Incoming):
    user_id: DbId
    organisation_id: DbId | None = None
    function: Line | None = Field(default=None, max_length=200)


class DocumentCreateIn(Incoming):
    template: Line = Field(min_length=1, max_length=80)
    title: Line = Field(min_length=1, max_length=300)
    values: dict[str, Any]
    """Field values, checked against the template's schema."""
    parties: list[PartyIn] = Field(min_length=1, max_length=50)
    signatories: list[SignatoryIn] = Field(default_factory=list, max_length=50)
    owner_organisation_id: DbId | None = None


class DocumentEditIn(Incoming):
    values: dict[str, Any]
    """Changed field values; the others keep their value from the current version."""
    seen_lock_version: Count | None = None
    """The lock_version the client saw: a 409 if someone changed the document since."""
    note: Line | None = Field(default=None, max_length=500)


class ActionIn(Incoming):
    reason: Text | None = Field(default=None, max_length=10_000)
    seen_lock_version: Count | None = None


class CommentIn(Incoming):
    body: Text = Field(min_length=1, max_length=10_000)
    version: DbId | None = None
    """Which version the comment is about; the current one if absent."""
    parent_id: DbId | None = None
    """The comment this one answers (then it is about that comment's version)."""


class OrganisationOut(Outgoing):
    id: int
    name: str
    short_name: str
    kind: str
    teryt: str | None
    head_title: str | None
    seat: str | None
    parent_id: int | None


class PartyOut(Outgoing):
    organisation: OrganisationOut
    position: int
    representative_id: int | None
    representative_name: str | None


class SignatoryOut(Outgoing):
    position: int
    user_id: int
    full_name: str
    function: str
    organisation_id: int
    organisation_name: str
    signed_at: Timestamp | None


class VersionListedOut(Outgoing):
    """A version as a list shows it: without its values."""

    number: int
    docx_sha256: str
    pdf_sha256: str | None
    note: str | None
    created_by_id: int
    created_at: Timestamp


class VersionOut(VersionListedOut):
    field_values: dict[str, Any]


class DocumentListedOut(Outgoing):
    """A document in a list: everything but its values (an e-strategy's run to pages; a
    list of 20 with them was 58 KB). ``GET /documents/{id}`` or ``values=true`` give them."""

    id: int
    reference: str
    kind: str
    title: str
    status: Status
    lock_version: int
    """Send it back as seen_lock_version to change the document safely."""
    owner_organisation: OrganisationOut
    template: str
    template_version: int
    parties: list[PartyOut]
    signatories: list[SignatoryOut]
    current_version: VersionListedOut
    frozen_pdf_sha256: str | None
    current_pdf_sha256: str | None
    created_at: Timestamp
    updated_at: Timestamp


class DocumentOut(DocumentListedOut):
    current_version: VersionOut


class ActionOut(Outgoing):
    action: Action
    label_pl: str
    label_en: str
    needs_reason: bool


class CommentOut(Outgoing):
    id: int
    version_number: int | None
    author_id: int
    author_name: str
    body: str
    created_at: Timestamp
    parent_id: int | None = None
    """The comment this one answers; null: it starts a thread."""
    author_function: str | None = None


class AuditRecordOut(BaseModel):
    seq: int
    recorded_at: Timestamp
    actor_id: int | None
    actor: str
    """The person's name as the directory shows it to the caller."""
    actor_function: str | None = None
    actor_email: str | None = None
    """Only where the directory shows it to the caller (e-Izba staff)."""
    document_id: int | None
    action: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class FieldErrorOut(BaseModel):
    field: str
    code: str
    detail: str
    params: dict[str, Any] = {}
    type: str | None = None
    """pydantic's own error type."""


class ErrorOut(BaseModel):
    """Every error answer; the optional fields appear where they apply."""

    detail: str
    """The message in the language negotiated from Accept-Language (Polish by default)."""
    code: str
    """Stable and machine-readable: ``reviewer_wrote_version``, ``value_required``, ...
    (``workflow.errors.ErrorCode``, ``workflow.states.Refusal``)."""
    kind: str
    """The code's group, one per meaning: not_found, not_permitted, transition_not_allowed,
    guard_refused, conflicting_change, invalid_input, rendering_failed, signature_problem,
    trust_service_unavailable, bad_request, internal_error, ..."""
    params: dict[str, Any] = {}
    """The values the message quotes, by name (as the catalogue's placeholders)."""
    field: str | None = None
    """invalid_input: the path of the wrong value, e.g. ``goals[1]``, ``parties[0].user_id``."""
    reason: str | None = None
    """Transitional: the free-text (English) reason of an error not yet given a code."""
    status: Status | None = None
    """transition_not_allowed: the document's current status."""
    action: str | None = None
    allowed_actions: list[str] | None = None
    """transition_not_allowed: what the caller may do instead."""
    errors: list[FieldErrorOut] | None = None
    """Request validation: every wrong field, not only the first."""


# -- directory ----------------------------------------------------------------------------


class PersonRoleOut(BaseModel):
    organisation_id: int
    role: str


class PersonOut(Outgoing):
    id: int
    full_name: str
    function_title: str | None
    email: str | None
    """Shown to e-Izba staff only."""
    roles: list[PersonRoleOut]

    @classmethod
    def of(cls, view: object) -> Self:
        from workflow.registry.directory import PersonView

        assert isinstance(view, PersonView)  # noqa: S101  # typed by the route
        return cls(
            id=view.id,
            full_name=view.full_name,
            function_title=view.function_title,
            email=view.email,
            roles=[PersonRoleOut(organisation_id=o, role=r) for o, r in view.roles],
        )


# -- signing ------------------------------------------------------------------------------

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class SignIn(Incoming):
    pdf_sha256: Sha256
    """The sha256 of the PDF the signatory has seen (``current_pdf_sha256``)."""


class ExternalSignIn(SignIn):
    certificate_chain_pem: str = Field(min_length=100, max_length=200_000)
    """The signatory's certificate first, then its issuers (PEM)."""


class ExternalSigningOut(Outgoing):
    session_id: int
    field_name: str
    digest_to_sign: str
    """Base64 SHA-256 of the signed attributes: what the card or CSC ``signHash`` signs."""
    data_to_sign: str
    signature_mechanism: str
    signature_algorithm_oid: str
    level: str


class SignatureValueIn(Incoming):
    signature_value: str = Field(min_length=16, max_length=20_000)
    """Base64 signature value over ``digest_to_sign``."""
