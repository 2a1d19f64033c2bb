"""Building blocks for archive tests: a record stored directly through ``store.add_record``."""

from __future__ import annotations

from datetime import date
from typing import Any

from workflow.archive.metadata import ArchiveMetadata, PartyMeta
from workflow.archive.store import add_record
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.identity.actors import Actor
from workflow.runtime import Runtime
from workflow.signing.verification import verify_pdf

RYBNIK = PartyMeta(name="Miasto Rybnik", teryt="2473011")


def meta(**overrides: Any) -> ArchiveMetadata:
    values: dict[str, Any] = {
        "kind": "letter_of_intent",
        "title": "List intencyjny z Miastem Rybnik",
        "jrwa_symbol": "0170",
        "category": "B",
        "retention_years": 10,
        "case_closed_on": date(2026, 5, 1),
        "parties": (RYBNIK,),
    }
    values.update(overrides)
    return ArchiveMetadata(**values)


def archive_pdf(
    rt: Runtime, demo: DemoIds, actor: Actor, pdf: bytes, owner: str = "eizba", **overrides: Any
) -> int:
    """Archive ``pdf`` as an imported agreement owned by ``owner`` (a demo organisation's
    key); returns the record id."""
    report = verify_pdf(rt, pdf)
    with transaction(rt.sessions) as session:
        record = add_record(
            session, rt, pdf=pdf, file_name="umowa.pdf", meta=meta(**overrides),
            source="import", document_id=None, actor=actor, validation=report,
            owner_organisation_id=demo.organisations[owner],
        )  # fmt: skip
        return record.id


def plain_pdf(label: str) -> bytes:
    """A one-page PDF without any signature; ``label`` goes into its title."""
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.writer import PdfFileWriter

    writer = PdfFileWriter()
    box = generic.ArrayObject([generic.NumberObject(x) for x in (0, 0, 595, 842)])
    page = generic.DictionaryObject(
        {generic.NameObject("/Type"): generic.NameObject("/Page"),
         generic.NameObject("/MediaBox"): box}
    )  # fmt: skip
    writer.insert_page(page)
    title = generic.TextStringObject(label)
    writer.set_info(generic.DictionaryObject({generic.NameObject("/Title"): title}))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def signed_letter(rt: Runtime, actors: dict[str, Actor], demo: DemoIds) -> int:
    """The Rybnik letter carried to ``signed`` (both officials, demo keys); its id."""
    from tests.letters import rybnik_letter
    from workflow.review.transitions import transition
    from workflow.signing.service import sign_with_demo_key

    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    transition(rt, actor=actors["recenzent"], document_id=doc.id, action="approve")
    view = transition(rt, actor=actors["autor"], document_id=doc.id, action="request_signatures")
    for who in ("prezes", "prezydent"):
        view = sign_with_demo_key(
            rt, actor=actors[who], document_id=doc.id,
            presented_pdf_sha256=view.current_pdf_sha256 or "",
        )  # fmt: skip
    return doc.id


def add_archivist(rt: Runtime, demo: DemoIds, email: str = "archiwista2@e-izba.demo") -> Actor:
    """Another archivist of e-Izba's head office: a disposal needs two people."""
    from workflow.identity.actors import load_actor
    from workflow.models import Membership, User
    from workflow.states import Role

    with transaction(rt.sessions) as s:
        user = User(email=email, full_name="Ewa Nowak", password_hash="x")
        s.add(user)
        s.flush()
        org = demo.organisations["eizba"]
        s.add(Membership(user_id=user.id, organisation_id=org, role=Role.ARCHIVIST))
        s.flush()
        return load_actor(s, user.id)
