"""Creating and editing documents: versions, validation naming the field, visibility."""

from __future__ import annotations

import subprocess

import pytest

from tests.jobs.outbox_helpers import render_pending
from tests.letters import letter_values, rybnik_letter
from workflow import audit
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.documents.comments import add_comment, list_comments
from workflow.documents.drafting import PartyInput, SignatoryInput, edit_document
from workflow.documents.reading import get_document, history, list_documents
from workflow.documents.rendition import get_file
from workflow.errors import ConflictingChange, InvalidInput, NotFound, NotPermitted
from workflow.identity.actors import Actor
from workflow.runtime import Runtime
from workflow.states import Status


def test_create_renders_the_first_version(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    assert doc.status == Status.DRAFT
    assert doc.reference.startswith("LI/") and doc.current_version.number == 1
    assert [s.full_name for s in doc.signatories] == ["Patrycja Sass-Staniszewska", "Piotr Kuczera"]
    assert doc.signatories[1].function == "Prezydent Miasta Rybnika"
    docx, name, media = get_file(
        rt, actor=actors["autor"], document_id=doc.id, version=1, fmt="docx"
    )
    assert name.endswith("-v1.docx") and media.endswith("wordprocessingml.document")
    assert rt.blobs.get(doc.current_version.docx_sha256) == docx


def test_unknown_wrong_type_and_missing_fields_name_the_field(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    values = letter_values()
    with pytest.raises(InvalidInput) as unknown:
        rybnik_letter(rt, actors, demo, values={**values, "kolor": "zielony"})
    assert unknown.value.field == "kolor"
    with pytest.raises(InvalidInput) as wrong:
        rybnik_letter(rt, actors, demo, values={**values, "valid_until": 2028})
    assert wrong.value.field == "valid_until"
    missing = dict(values)
    del missing["preamble"]
    with pytest.raises(InvalidInput) as absent:
        rybnik_letter(rt, actors, demo, values=missing)
    assert absent.value.field == "preamble"
    with pytest.raises(InvalidInput) as item:
        rybnik_letter(rt, actors, demo, values={**values, "goals": ["cel", 7]})
    assert item.value.field == "goals[1]"
    assert list_documents(rt, actor=actors["autor"]) == []  # nothing half-stored


def test_signatories_must_sign_for_a_party(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    with pytest.raises(InvalidInput) as exc:
        rybnik_letter(rt, actors, demo, signatories=[SignatoryInput(demo.people["wojt"])])
    assert exc.value.field == "signatories[0].organisation_id"
    with pytest.raises(InvalidInput) as dup:
        rybnik_letter(
            rt, actors, demo,
            parties=[PartyInput(demo.organisations["rybnik"])] * 2,
        )  # fmt: skip
    assert dup.value.field == "parties[1].organisation_id"


def test_only_authors_create(rt: Runtime, actors: dict[str, Actor], demo: DemoIds) -> None:
    with pytest.raises(NotPermitted):
        rybnik_letter(rt, actors, demo, actor=actors["recenzent"])


def test_edit_makes_a_new_version_and_keeps_the_old(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    edited = edit_document(
        rt, actor=actors["autor"], document_id=doc.id,
        values={"goals": ["jeden wspólny cel: e-usługi dla mieszkańców Rybnika"]},
        seen_lock_version=doc.lock_version, note="krótsza lista celów",
    )  # fmt: skip
    assert edited.current_version.number == 2
    assert edited.current_version.field_values["preamble"] == letter_values()["preamble"]
    versions = history(rt, actor=actors["autor"], document_id=doc.id)
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].field_values["goals"] == letter_values()["goals"]
    assert versions[0].docx_sha256 != versions[1].docx_sha256
    with pytest.raises(ConflictingChange):  # a stale editor loses nothing but their request
        edit_document(
            rt, actor=actors["autor"], document_id=doc.id, values={"goals": ["inny"]},
            seen_lock_version=doc.lock_version,
        )  # fmt: skip
    assert get_document(rt, actor=actors["autor"], document_id=doc.id).current_version.number == 2


def test_municipality_sees_only_its_documents(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    assert get_document(rt, actor=actors["prezydent"], document_id=doc.id).id == doc.id
    with pytest.raises(NotFound):
        get_document(rt, actor=actors["wojt"], document_id=doc.id)
    assert list_documents(rt, actor=actors["wojt"]) == []
    assert [d.id for d in list_documents(rt, actor=actors["prezydent"])] == [doc.id]
    # The head office oversees its Silesian branch's documents.
    assert [d.id for d in list_documents(rt, actor=actors["recenzent"])] == [doc.id]
    with pytest.raises(NotFound):
        add_comment(rt, actor=actors["wojt"], document_id=doc.id, body="?")


def test_comments_are_kept_with_their_version(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    add_comment(rt, actor=actors["recenzent"], document_id=doc.id, body="Proszę dodać cel 5.")
    add_comment(rt, actor=actors["prezydent"], document_id=doc.id, body="Zgoda Miasta.")
    comments = list_comments(rt, actor=actors["autor"], document_id=doc.id)
    assert [(c.author_name, c.version_number) for c in comments] == [
        ("Marek Wiśniewski", 1),
        ("Piotr Kuczera", 1),
    ]
    with pytest.raises(InvalidInput) as exc:
        add_comment(rt, actor=actors["recenzent"], document_id=doc.id, body="   ")
    assert exc.value.field == "body"


def test_pdf_of_a_version_reads_back_in_polish(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, tmp_path: object
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    render_pending(rt)  # the render job the creation queued
    pdf, _name, media = get_file(
        rt, actor=actors["autor"], document_id=doc.id, version=1, fmt="pdf"
    )
    assert media == "application/pdf" and pdf.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Prezydent Miasta Rybnika" in text and "Piotr Kuczera" in text
    assert "kompetencji cyfrowych mieszkańców" in text
    # Rendered once: a second download returns the same stored file.
    again, _, _ = get_file(rt, actor=actors["autor"], document_id=doc.id, version=1, fmt="pdf")
    assert again == pdf
    with transaction(rt.sessions) as s:
        renders = [
            r for r in audit.export(s, document_id=doc.id) if r["action"] == "document.rendered"
        ]
    assert len(renders) == 1
