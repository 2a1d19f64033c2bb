"""Who may see and do what: e-Izba offices oversee their branches, local governments only
themselves, and only e-Izba admins may change the templates every document uses."""

from __future__ import annotations

import pytest

from tests.letters import rybnik_letter
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.documents.drafting import PartyInput
from workflow.documents.reading import get_document, list_documents
from workflow.errors import ErrorCode, InvalidInput, NotFound, NotPermitted
from workflow.identity.actors import Actor, load_actor
from workflow.models import Membership, Organisation
from workflow.runtime import Runtime
from workflow.states import Role
from workflow.template_library.store import register_version


def _reload(rt: Runtime, user_id: int) -> Actor:
    with rt.sessions() as s:
        return load_actor(s, user_id)


def test_only_an_e_izba_admin_may_replace_a_template(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    with transaction(rt.sessions) as s:
        s.add(
            Membership(
                user_id=demo.people["prezydent"], organisation_id=demo.organisations["rybnik"],
                role=Role.ADMIN,
            )
        )  # fmt: skip
    city_admin = _reload(rt, demo.people["prezydent"])
    folder = rt.settings.templates_dir
    upload = {
        "name": "list_intencyjny",
        "kind": "letter_of_intent",
        "title": "przejęty",
        "docx": (folder / "list_intencyjny.docx").read_bytes(),
        "filename": "list_intencyjny.docx",
        "schema": (folder / "list_intencyjny.schema.json").read_bytes(),
    }
    with pytest.raises(NotPermitted) as refused:
        register_version(rt, actor=city_admin, **upload)  # type: ignore[arg-type]
    assert refused.value.code == ErrorCode.TEMPLATE_UPLOAD_NEEDS_ADMIN
    new = register_version(rt, actor=actors["prezes"], **upload)  # type: ignore[arg-type]
    assert new.version == 2


def test_a_unit_above_a_municipality_does_not_see_its_documents(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    with transaction(rt.sessions) as s:
        # Were local governments ever linked in a hierarchy, it must not widen access.
        rybnik = s.get(Organisation, demo.organisations["rybnik"])
        assert rybnik is not None
        rybnik.parent_id = demo.organisations["gaszowice"]
    wojt = _reload(rt, demo.people["wojt"])
    assert list_documents(rt, actor=wojt) == []
    with pytest.raises(NotFound):
        get_document(rt, actor=wojt, document_id=doc.id)
    # e-Izba's head office still oversees its Silesian branch, which owns the letter.
    assert [d.id for d in list_documents(rt, actor=actors["recenzent"])] == [doc.id]


def test_a_representative_must_belong_to_the_party(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    org, people = demo.organisations, demo.people
    with pytest.raises(InvalidInput) as exc:
        rybnik_letter(
            rt, actors, demo,
            parties=[PartyInput(org["eizba"]), PartyInput(org["rybnik"], people["wojt"])],
        )  # fmt: skip
    assert exc.value.field == "parties[1].representative_id"
    doc = rybnik_letter(
        rt, actors, demo,
        parties=[PartyInput(org["eizba"]), PartyInput(org["rybnik"], people["prezydent"])],
    )  # fmt: skip
    assert doc.parties[1].representative_name == "Piotr Kuczera"
