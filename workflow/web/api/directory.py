"""Organisations and people, to name the parties and signatories of a document."""

from __future__ import annotations

from fastapi import APIRouter

from workflow.registry.directory import list_organisations, list_people
from workflow.web.deps import CurrentActor, RuntimeDep
from workflow.web.schemas import OrganisationOut, PersonOut
from workflow.web.types import DbId

router = APIRouter(tags=["directory"])


@router.get("/organisations", response_model=list[OrganisationOut])
def organisations(actor: CurrentActor, rt: RuntimeDep) -> list[OrganisationOut]:
    return [OrganisationOut.of(o) for o in list_organisations(rt, actor=actor)]


@router.get("/people", response_model=list[PersonOut])
def people(
    actor: CurrentActor, rt: RuntimeDep, organisation_id: DbId | None = None
) -> list[PersonOut]:
    views = list_people(rt, actor=actor, organisation_id=organisation_id)
    return [PersonOut.of(p) for p in views]
