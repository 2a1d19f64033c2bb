"""Use-cases for signatures: freeze the approved PDF, then each designated signatory signs,
in order, on exactly the PDF awaiting their signature.

Signing happens outside any transaction (it calls the TSA and OCSP); only a signature that
is an incremental update of the awaited PDF and validates (intact, trusted, on the right
field) is stored, with its audit record, in one transaction. A failed attempt — wrong PIN,
TSA down, expired or revoked certificate, hash mismatch — changes nothing.

Two ways to sign:
- ``sign_with_key``: a key the server process can use (the demo PKCS#12 files in demo mode,
  a PKCS#11 token at a signing station, a CSC remote key);
- ``begin_external_signature`` / ``complete_external_signature``: the server never holds
  the key; it sends the hash of the signed attributes and embeds the value that comes back.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from signatures import (
    FieldSpec,
    KeySource,
    SignatureReport,
    SignerProfile,
    prepare_for_signing,
    sign_pdf,
    validate_pdf,
)
from signatures import complete_external_signature as complete_signature
from signatures import prepare_external_signature as prepare_signature
from signatures.keys import load_certificates
from workflow import audit, outbox
from workflow.db import transaction
from workflow.documents.access import check_transition, load_visible, move_status
from workflow.documents.rendition import PDF_MEDIA_TYPE
from workflow.errors import ConflictingChange, ErrorCode, GuardRefused, InvalidInput, NotFound
from workflow.identity.actors import Actor
from workflow.metrics import observe_signing
from workflow.models import SigningSession
from workflow.runtime import Runtime
from workflow.signing.stamp_places import stamp_places
from workflow.states import Action, Refusal, effects_of, transition_for
from workflow.storage.blobs import store_file
from workflow.views import DocumentView


def field_name(position: int) -> str:
    return f"podpis-{position}"


def prepare_signing_pdf(rt: Runtime, *, actor: Actor, document_id: int) -> tuple[int, bytes]:
    """(version id, its approved PDF with one signature field per signatory, in order)."""
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        version = doc.versions[-1]
        pdf_sha = version.pdf_sha256
        if pdf_sha is None:
            raise GuardRefused(Refusal.NO_RENDERED_PDF)
        count = len(doc.signatories)
        version_id = version.id
    if count == 0:
        raise GuardRefused(Refusal.NO_SIGNATORIES)
    pdf = rt.blobs.get(pdf_sha)
    specs = [
        FieldSpec(
            name=field_name(n),
            page=place.page if place else None,
            box=place.box if place else None,
        )
        for n, place in enumerate(stamp_places(pdf, count), start=1)
    ]
    return version_id, prepare_for_signing(pdf, specs)


@dataclass(frozen=True)
class _Turn:
    """What one signature needs from the database, read in a short transaction."""

    document_id: int
    reference: str
    lock_version: int
    pdf: bytes
    pdf_sha256: str
    position: int
    field_name: str
    profile: SignerProfile
    is_last: bool


def _turn(rt: Runtime, actor: Actor, document_id: int, presented_pdf_sha256: str) -> _Turn:
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        ctx = check_transition(
            session, actor, doc, transition_for(Action.SIGN),
            presented_pdf_sha256=presented_pdf_sha256,
        )  # fmt: skip
        signatory = doc.signatories[ctx.signed_count]
        assert doc.current_pdf_sha256 is not None  # noqa: S101  # the sha256 guard passed
        return _Turn(
            document_id=doc.id,
            reference=doc.reference or str(doc.id),
            lock_version=doc.lock_version,
            pdf=rt.blobs.get(doc.current_pdf_sha256),
            pdf_sha256=doc.current_pdf_sha256,
            position=signatory.position,
            field_name=field_name(signatory.position),
            profile=SignerProfile(
                full_name=signatory.user.full_name,
                function=signatory.function,
                organisation=signatory.organisation.name,
                reason=f"Podpisanie dokumentu {doc.reference}: {doc.title}",
                location=signatory.organisation.seat,
            ),
            is_last=ctx.signed_count + 1 == len(doc.signatories),
        )


def _check_signed(rt: Runtime, turn: _Turn, signed: bytes) -> SignatureReport:
    """The new signature must extend the awaited PDF and validate on the expected field."""
    if not signed.startswith(turn.pdf):
        raise GuardRefused(ErrorCode.SIGNED_PDF_NOT_INCREMENTAL)
    report = validate_pdf(signed, trust=rt.signing.trust)
    mine = [s for s in report.signatures if s.field_name == turn.field_name]
    if not mine:
        raise GuardRefused(ErrorCode.SIGNATURE_MISSING, field=turn.field_name)
    sig = mine[-1]
    if not (sig.intact and sig.cryptographically_valid and sig.trusted):
        raise GuardRefused(ErrorCode.NEW_SIGNATURE_INVALID, problems=list(sig.problems))
    _check_signer_name(sig.certificate.common_name, turn.profile.full_name)
    return sig


def _check_signer_name(certificate_name: str, designated: str) -> None:
    """The certificate must be issued to the designated signatory. Names are compared as
    qualified certificates carry them; binding each person to their certificate's serial
    number (PESEL-based) belongs with the registry of people."""
    if certificate_name.casefold() != designated.casefold():
        raise GuardRefused(
            ErrorCode.CERTIFICATE_NOT_DESIGNATED,
            certificate_name=certificate_name,
            designated=designated,
        )


def _record(
    rt: Runtime,
    actor: Actor,
    turn: _Turn,
    signed: bytes,
    *,
    session_id: int | None = None,
    checked: SignatureReport | None = None,
    method: str | None = None,
) -> DocumentView:
    """Store ``signed`` as the next signature. ``checked``: the new signature's report when
    the caller has validated ``signed`` itself (stricter than ``_check_signed``);
    ``method``: how it was signed, for the audit record (default: key or external)."""
    sig = checked if checked is not None else _check_signed(rt, turn, signed)
    t = transition_for(Action.SIGN)
    with transaction(rt.sessions) as session:
        doc = load_visible(session, actor, turn.document_id)
        if doc.lock_version != turn.lock_version or doc.current_pdf_sha256 != turn.pdf_sha256:
            raise ConflictingChange(ErrorCode.DOCUMENT_CHANGED, reference=doc.reference)
        sha = store_file(session, rt.blobs, signed, PDF_MEDIA_TYPE)
        signatory = next(s for s in doc.signatories if s.position == turn.position)
        signatory.signed_at = datetime.now(UTC)
        signatory.signed_pdf_sha256 = sha
        doc.current_pdf_sha256 = sha
        target = t.target if turn.is_last else (t.target_until_complete or t.target)
        move_status(session, doc, target=target, seen=turn.lock_version)
        if session_id is not None:
            row = session.get(SigningSession, session_id)
            assert row is not None  # noqa: S101  # read in this request
            row.completed_at = datetime.now(UTC)
        cert = sig.certificate
        audit.append(
            session,
            action="document.sign",
            actor_id=actor.user_id,
            actor=actor.email,
            document_id=doc.id,
            payload={
                "position": turn.position,
                "field": turn.field_name,
                "signer": sig.signer,
                "certificate": {
                    "subject": cert.subject,
                    "issuer": cert.issuer,
                    "serial_number": cert.serial_number,
                    "not_after": cert.not_after.isoformat(),
                },
                "level": sig.pades_level.value if sig.pades_level else None,
                "signing_time": sig.best_signature_time.isoformat()
                if sig.best_signature_time
                else None,
                "pdf_sha256_before": turn.pdf_sha256,
                "pdf_sha256_after": sha,
                "external": session_id is not None or method == "upload",
                "method": method or ("external" if session_id is not None else "key"),
                "to_status": doc.status.value,
            },
        )
        outbox.add(
            session, effects_of(Action.SIGN, doc.status), document_id=doc.id,
            payload={"event": "sign", "position": turn.position, "to_status": doc.status.value},
        )  # fmt: skip
        session.refresh(doc)
        return DocumentView.of(doc)


@observe_signing("key")
def sign_with_key(
    rt: Runtime,
    *,
    actor: Actor,
    document_id: int,
    presented_pdf_sha256: str,
    key: KeySource,
) -> DocumentView:
    """Sign with a key the server process can use; see the module docstring."""
    turn = _turn(rt, actor, document_id, presented_pdf_sha256)
    env = rt.signing
    signed = sign_pdf(
        turn.pdf,
        key=key,
        field_name=turn.field_name,
        profile=turn.profile,
        trust=env.trust,
        level=env.level,
        services=env.services,
        document_id=turn.reference,
    )
    return _record(rt, actor, turn, signed)


def sign_with_demo_key(
    rt: Runtime, *, actor: Actor, document_id: int, presented_pdf_sha256: str
) -> DocumentView:
    """Demo mode: sign with the signatory's key from the demo PKI, held by the server."""
    key = rt.signing.demo_key(actor.email)
    return sign_with_key(
        rt, actor=actor, document_id=document_id, presented_pdf_sha256=presented_pdf_sha256,
        key=key,
    )  # fmt: skip


def _state_key(rt: Runtime) -> bytes:
    """Authenticates the stored state of an external signature (HMAC), so a changed row in
    signing_sessions cannot make the server embed a signature over other content."""
    secret = rt.settings.effective_secret_key().encode()
    return hashlib.sha256(b"estrategia/external-signing-state\0" + secret).digest()


@dataclass(frozen=True)
class ExternalSigningView:
    """What the signatory's device must sign, and where to send the value back."""

    session_id: int
    field_name: str
    digest_to_sign: str
    """Base64 SHA-256 of the signed attributes (what a card or CSC signHash signs)."""
    data_to_sign: str
    """Base64 DER signed attributes, for devices that hash themselves."""
    signature_mechanism: str
    signature_algorithm_oid: str
    level: str


def begin_external_signature(
    rt: Runtime,
    *,
    actor: Actor,
    document_id: int,
    presented_pdf_sha256: str,
    certificate_chain: bytes,
) -> ExternalSigningView:
    """Step 1: the signatory's certificate (and chain) in, the digest to sign out."""
    try:
        certs = load_certificates(certificate_chain)
    except Exception as exc:  # any parse failure is the caller's bad input
        raise InvalidInput(
            "certificate_chain", ErrorCode.CERTIFICATE_CHAIN_UNREADABLE, detail=str(exc)
        ) from exc
    if not certs:
        raise InvalidInput("certificate_chain", ErrorCode.CERTIFICATE_CHAIN_EMPTY)
    turn = _turn(rt, actor, document_id, presented_pdf_sha256)
    _check_signer_name(certs[0].subject.native.get("common_name", ""), turn.profile.full_name)
    env = rt.signing
    prepared = prepare_signature(
        turn.pdf,
        field_name=turn.field_name,
        signer_cert=certs[0],
        chain=certs[1:],
        profile=turn.profile,
        trust=env.trust,
        level=env.level,
        services=env.services,
        document_id=turn.reference,
        state_key=_state_key(rt),
    )
    with transaction(rt.sessions) as session:
        doc = load_visible(session, actor, document_id)
        if doc.lock_version != turn.lock_version:
            raise ConflictingChange(ErrorCode.DOCUMENT_CHANGED, reference=doc.reference)
        signatory = next(s for s in doc.signatories if s.position == turn.position)
        row = SigningSession(
            document_id=doc.id,
            signatory_id=signatory.id,
            base_pdf_sha256=turn.pdf_sha256,
            state=prepared.state,
        )
        session.add(row)
        session.flush()
        audit.append(
            session,
            action="document.signing_started",
            actor_id=actor.user_id,
            actor=actor.email,
            document_id=doc.id,
            payload={
                "session_id": row.id,
                "field": turn.field_name,
                "certificate_subject": certs[0].subject.human_friendly,
                "digest_to_sign": prepared.digest_to_sign.hex(),
            },
        )
        return ExternalSigningView(
            session_id=row.id,
            field_name=turn.field_name,
            digest_to_sign=base64.b64encode(prepared.digest_to_sign).decode(),
            data_to_sign=base64.b64encode(prepared.data_to_sign).decode(),
            signature_mechanism=prepared.signature_mechanism,
            signature_algorithm_oid=prepared.signature_algorithm_oid,
            level=prepared.level.value,
        )


@observe_signing("external")
def complete_external_signature(
    rt: Runtime, *, actor: Actor, document_id: int, session_id: int, signature_value: bytes
) -> DocumentView:
    """Step 2: the signature value in; timestamp, validation data and storage follow."""
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        row = session.scalars(
            select(SigningSession).where(
                SigningSession.id == session_id, SigningSession.document_id == doc.id
            )
        ).first()
        if row is None or row.completed_at is not None:
            raise NotFound(ErrorCode.SIGNING_SESSION_NOT_FOUND, session_id=session_id)
        state, base_sha = row.state, row.base_pdf_sha256
    turn = _turn(rt, actor, document_id, base_sha)
    env = rt.signing
    signed = complete_signature(
        state, signature_value, trust=env.trust, services=env.services, state_key=_state_key(rt)
    )
    return _record(rt, actor, turn, signed, session_id=session_id)
