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
    rt: Runtime, demo: DemoIds, actor: Actor, pdf: bytes, **overrides: Any
) -> int:
    """Archive ``pdf`` as an imported agreement owned by Rybnik; returns the record id."""
    report = verify_pdf(rt, pdf)
    with transaction(rt.sessions) as session:
        record = add_record(
            session, rt, pdf=pdf, file_name="umowa.pdf", meta=meta(**overrides),
            source="import", document_id=None, actor=actor, validation=report,
            owner_organisation_id=demo.organisations["rybnik"],
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
    info = writer.set_info(generic.DictionaryObject())
    info_dict = info.get_object()
    info_dict[generic.NameObject("/Title")] = generic.TextStringObject(label)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
