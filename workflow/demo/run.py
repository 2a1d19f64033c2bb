"""``estrategia demo --out DIR``: the Rybnik letter of intent through every status.

The author drafts it, the reviewer asks for a change, the author edits (a new version), the
reviewer approves, the document is frozen for signing, the President of e-Izba signs with
a server-held demo key, the Mayor of Rybnik signs through the external (hash-only) steps as
a smart card would, and the archivist archives it (an archive record: ``estrategia archive
verify`` then finds it intact). DIR receives the DOCX, the approved
PDF/A, the signed PDF, its validation report and the document's audit trail.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from signatures import validate_pdf
from workflow import audit
from workflow.archive.archiving import archive_with_view
from workflow.config import Settings
from workflow.db import transaction
from workflow.demo.data import DemoIds, load_demo_data
from workflow.demo.pki import open_demo_signing_environment
from workflow.documents.drafting import PartyInput, SignatoryInput, create_document, edit_document
from workflow.documents.rendition import get_file
from workflow.identity.actors import Actor, load_actor
from workflow.jobs.dispatch import dispatch_pending
from workflow.jobs.queue import queue_of
from workflow.migrate import upgrade
from workflow.rendering.engine import SYSTEM_VARIABLES
from workflow.review.transitions import transition
from workflow.runtime import Runtime, build_runtime
from workflow.signing.service import (
    begin_external_signature,
    complete_external_signature,
    sign_with_demo_key,
)

EXAMPLE = "examples/list_intencyjny.rybnik.json"


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def run_demo(settings: Settings, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    upgrade(settings)
    rt = build_runtime(settings, signing_factory=open_demo_signing_environment)
    try:
        return _run(rt, load_demo_data(rt), out)
    finally:
        rt.close()


def _run(rt: Runtime, demo: DemoIds, out: Path) -> dict[str, Any]:
    with rt.sessions() as session:
        who: dict[str, Actor] = {k: load_actor(session, v) for k, v in demo.people.items()}
    example = json.loads((rt.settings.templates_dir / EXAMPLE).read_text("utf-8"))
    values = {k: v for k, v in example.items() if k not in SYSTEM_VARIABLES}
    org, people = demo.organisations, demo.people

    doc = create_document(
        rt,
        actor=who["autor"],
        template_name="list_intencyjny",
        title="List intencyjny w sprawie wdrożenia e-strategii Miasta Rybnika",
        values=values,
        parties=[PartyInput(org["eizba"]), PartyInput(org["rybnik"])],
        signatories=[SignatoryInput(people["prezes"]), SignatoryInput(people["prezydent"])],
    )
    steps = [doc.status.value]
    doc = transition(rt, actor=who["autor"], document_id=doc.id, action="submit")
    steps.append(doc.status.value)
    doc = transition(
        rt, actor=who["recenzent"], document_id=doc.id, action="request_changes",
        reason="Proszę dodać cel dotyczący cyberbezpieczeństwa.",
    )  # fmt: skip
    steps.append(doc.status.value)
    goals = [*values["goals"], "wzmocnienie cyberbezpieczeństwa systemów Urzędu Miasta"]
    doc = edit_document(
        rt, actor=who["autor"], document_id=doc.id, values={"goals": goals},
        note="dodany cel: cyberbezpieczeństwo",
    )  # fmt: skip
    steps.append(doc.status.value)
    for actor, action in (("autor", "submit"), ("recenzent", "approve")):
        doc = transition(rt, actor=who[actor], document_id=doc.id, action=action)
        steps.append(doc.status.value)
    docx, docx_name, _ = get_file(
        rt, actor=who["autor"], document_id=doc.id, version=None, fmt="docx"
    )
    pdf, pdf_name, _ = get_file(rt, actor=who["autor"], document_id=doc.id, version=None, fmt="pdf")
    doc = transition(rt, actor=who["autor"], document_id=doc.id, action="request_signatures")
    steps.append(doc.status.value)

    doc = sign_with_demo_key(
        rt, actor=who["prezes"], document_id=doc.id,
        presented_pdf_sha256=doc.current_pdf_sha256 or "",
    )  # fmt: skip
    steps.append(doc.status.value)
    pki = rt.signing.demo_pki
    assert pki is not None  # noqa: S101  # demo mode
    chain = b"".join(pki.cert_path(n).read_bytes() for n in ("prezydent", "intermediate", "root"))
    step = begin_external_signature(
        rt, actor=who["prezydent"], document_id=doc.id,
        presented_pdf_sha256=doc.current_pdf_sha256 or "", certificate_chain=chain,
    )  # fmt: skip
    doc = complete_external_signature(
        rt, actor=who["prezydent"], document_id=doc.id, session_id=step.session_id,
        # The Mayor's smart card, played by the demo PKI: only the digest goes out.
        signature_value=pki.sign_digest_as_card("prezydent", base64.b64decode(step.digest_to_sign)),
    )  # fmt: skip
    steps.append(doc.status.value)
    signed, signed_name, _ = get_file(
        rt, actor=who["prezydent"], document_id=doc.id, version=None, fmt="signed"
    )
    # The archivist archives it: the record (write-once PDF, parties with TERYT, signatures,
    # e-Izba's retention scheme) with the archive transition, in one transaction.
    archived = archive_with_view(rt, actor=who["archiwista"], document_id=doc.id)
    doc = archived.document
    steps.append(doc.status.value)

    # The effects the lifecycle wrote to the outbox (renders, notifications), through the
    # queue as a server's dispatcher and worker would carry them out.
    dispatch_pending(rt)
    asyncio.run(queue_of(rt).run_worker_async(wait=False, concurrency=1))

    report = validate_pdf(signed, trust=rt.signing.trust)
    with transaction(rt.sessions) as session:
        trail = audit.export(session, document_id=doc.id)
        chain_report = audit.verify(session)
    files = {
        "docx": _write(out / docx_name, docx),
        "pdf": _write(out / pdf_name, pdf),
        "signed_pdf": _write(out / signed_name, signed),
        "root_certificate": _write(out / "demo-root.pem", pki.cert_path("root").read_bytes()),
    }
    (out / "validation.json").write_text(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str), "utf-8"
    )
    (out / "audit.json").write_text(
        json.dumps({"chain": asdict(chain_report), "records": trail}, ensure_ascii=False, indent=2),
        "utf-8",
    )
    files["validation"] = str(out / "validation.json")
    files["audit"] = str(out / "audit.json")
    return {
        "document": doc.reference,
        "statuses": steps,
        "signed_valid": report.valid,
        "pades_level": report.pades_level.value if report.pades_level else None,
        "signers": [s.signer for s in report.signatures],
        "audit_chain_intact": chain_report.ok,
        "archive_record": archived.record_id,
        # Events notified (one per notifying step) and the mails they made (one per person).
        "notifications": len(
            {r["payload"]["outbox_id"] for r in trail if r["action"] == "notification.sent"}
        ),
        "mails": sum(r["action"] == "notification.sent" for r in trail),
        "files": files,
    }
