"""Accept a PDF signed elsewhere: the way Polish officials sign today.

The next signatory downloads the PDF awaiting their signature (``current_pdf_sha256``),
signs it with their qualified signature in any PAdES tool (their card and their provider's
desktop app) and uploads the result. It is accepted only if, in this order:

1. it is a PDF (``%PDF-``) and the awaited bytes are an unchanged prefix of it;
2. the uploader is the next signatory (the ``sign`` guard, as for every signing path);
3. the added revisions hold exactly one new signature, in that signatory's pre-created
   field ``podpis-<position>``, and change nothing else (no page content, annotation or
   other field: the modification analysis of everything after the awaited revision);
4. the new signature's certificate belongs to that person (by name, as the other paths);
5. it has a signature timestamp (B-T or above) when the installation keeps documents at
   B-LT/B-LTA: a B-B signature is validated at the current time only, so the validation
   data and archive timestamp added now would not keep it valid (its revocation data is
   stale within a month);
6. raised to the installation's level where the tool stopped short (a B-T upload gains the
   signer's validation data and, at B-LTA, a document timestamp: one more incremental
   update), every signature in the file validates: AdES PASSED *and* what changed after
   each signature is allowed (``SignatureReport.valid``).

Anything else is refused with a code (``InvalidInput("file", code)``, or the guard's
refusal) and nothing changes. An accepted upload is stored exactly as the other signing
paths store theirs (``service._record``: blob, status, audit, the next signatory's notice
in the outbox).
"""

from __future__ import annotations

from dataclasses import dataclass

from signatures import PadesLevel, SignatureError, SignatureReport, ValidationReport, validate_pdf
from signatures.received import UpdateInspection, inspect_update, raise_level
from workflow.db import transaction
from workflow.documents.access import load_visible
from workflow.errors import ErrorCode, GuardRefused, InvalidInput
from workflow.identity.actors import Actor
from workflow.metrics import observe_signing
from workflow.runtime import Runtime
from workflow.signing.service import _record, _Turn, _turn
from workflow.views import DocumentView

__all__ = ["PDF_MAGIC", "SignedUpload", "accept_signed_pdf"]

PDF_MAGIC = b"%PDF-"
FIELD = "file"


@dataclass(frozen=True)
class SignedUpload:
    """The stored result: the document after the signature, and the validation of the
    file as stored (what the signatory sees on the page)."""

    document: DocumentView
    report: ValidationReport
    extended: bool
    """Whether the server added validation data (and, at B-LTA, a document timestamp) to
    the upload as one more incremental update."""
    level: str | None
    """The PAdES level of the new signature as stored."""


def _refuse(code: ErrorCode, **params: object) -> InvalidInput:
    return InvalidInput(FIELD, code, **params)


def _awaited_sha(rt: Runtime, actor: Actor, document_id: int) -> str:
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        return doc.current_pdf_sha256 or ""


@observe_signing("upload")
def accept_signed_pdf(rt: Runtime, *, actor: Actor, document_id: int, pdf: bytes) -> SignedUpload:
    """Check ``pdf`` (the awaited PDF signed elsewhere by ``actor``) and store it as their
    signature; see the module docstring for what is checked."""
    if len(pdf) > rt.settings.max_upload_bytes:
        raise _refuse(ErrorCode.FILE_TOO_LARGE, limit=rt.settings.max_upload_bytes)
    if not pdf.startswith(PDF_MAGIC):
        raise _refuse(ErrorCode.NOT_A_PDF)
    # The guard first: whose turn it is, on the PDF awaiting signature now.
    turn = _turn(rt, actor, document_id, _awaited_sha(rt, actor, document_id))
    found = _one_new_signature_in_its_field(turn, pdf)
    stored, report, mine, extended = _validated(rt, turn, pdf, found)
    view = _record(rt, actor, turn, stored, checked=mine, method="upload")
    return SignedUpload(
        document=view,
        report=report,
        extended=extended,
        level=mine.pades_level.value if mine.pades_level else None,
    )


def _one_new_signature_in_its_field(turn: _Turn, pdf: bytes) -> UpdateInspection:
    """The structure: the awaited bytes unchanged, then exactly one new signature, in the
    signatory's own field, and no other change."""
    if not pdf.startswith(turn.pdf):
        raise _refuse(ErrorCode.SIGNED_UPLOAD_NOT_AN_UPDATE)
    try:
        found = inspect_update(turn.pdf, pdf)
    except SignatureError as exc:  # UnreadablePdf
        raise _refuse(ErrorCode.PDF_UNREADABLE, detail=str(exc)) from exc
    if not found.new_signatures:
        raise _refuse(ErrorCode.SIGNED_UPLOAD_NO_SIGNATURE, expected=turn.field_name)
    if len(found.new_signatures) > 1:
        raise _refuse(
            ErrorCode.SIGNED_UPLOAD_SEVERAL_SIGNATURES,
            count=len(found.new_signatures),
            expected=turn.field_name,
        )
    new = found.new_signatures[0]
    if new.field_name != turn.field_name:
        raise _refuse(
            ErrorCode.SIGNED_UPLOAD_WRONG_FIELD,
            signed_field=new.field_name,
            expected=turn.field_name,
        )
    if not found.changes_only(turn.field_name):
        raise _refuse(
            ErrorCode.SIGNED_UPLOAD_CONTENT_CHANGED,
            level=found.modification_level or "OTHER",
            fields=", ".join(f for f in found.changed_fields if f != turn.field_name) or "—",
        )
    return found


def _validated(
    rt: Runtime, turn: _Turn, pdf: bytes, found: UpdateInspection
) -> tuple[bytes, ValidationReport, SignatureReport, bool]:
    """The signature validated and bound to the signatory, raised to the installation's
    level when it is below it; returns the bytes to store, their report, the new
    signature's status and whether the level was raised."""
    env = rt.signing
    stored, extended = pdf, False
    report = validate_pdf(pdf, trust=env.trust, offline=env.services is None)
    mine = next(s for s in report.signatures if s.field_name == turn.field_name)
    # Not an unknown signer or a broken signature first: raising the level would fetch
    # validation data for any certificate.
    if not (mine.intact and mine.cryptographically_valid):
        raise _refuse(ErrorCode.SIGNED_UPLOAD_INVALID, detail="; ".join(mine.problems))
    _check_name(mine.certificate.common_name, turn.profile.full_name)
    level = mine.pades_level
    if level is PadesLevel.B_B and env.level.long_term:
        # Validation data and an archive timestamp added now do not keep a B-B signature
        # valid: it is validated at the current time only, and its revocation data is
        # stale within a month (measured: valid today, invalid at +30 days).
        raise _refuse(ErrorCode.SIGNED_UPLOAD_NEEDS_TIMESTAMP, level=env.level.value)
    if (
        env.services is not None
        and env.level.long_term
        and (level is None or level.rank < env.level.rank)
        and not found.new_timestamps
    ):
        stored = raise_level(pdf, level=env.level, trust=env.trust, services=env.services)
        extended = True
        report = validate_pdf(stored, trust=env.trust)
        mine = next(s for s in report.signatures if s.field_name == turn.field_name)
    invalid = [s for s in report.signatures if not s.valid]
    invalid_ts = [t for t in report.document_timestamps if not t.valid]
    if invalid or invalid_ts:
        problems = [f"{s.field_name}: {'; '.join(s.problems)}" for s in invalid]
        problems += [f"{t.field_name}: {'; '.join(t.problems)}" for t in invalid_ts]
        raise _refuse(ErrorCode.SIGNED_UPLOAD_INVALID, detail=" | ".join(problems))
    return stored, report, mine, extended


def _check_name(certificate_name: str, designated: str) -> None:
    """The binding of ``service._check_signer_name`` (the certificate's common name is the
    designated person's name), as a refusal of the uploaded file."""
    from workflow.signing.service import _check_signer_name

    try:
        _check_signer_name(certificate_name, designated)
    except GuardRefused as exc:
        raise _refuse(
            ErrorCode.SIGNED_UPLOAD_WRONG_SIGNER, signer=certificate_name, expected=designated
        ) from exc
