"""``validate_pdf``: anyone can check every signature and timestamp in a PDF.

Each signature gets the ETSI EN 319 102-1 validation that fits it (AdES-LTA when a document
timestamp follows it, "with time" for B-T/B-LT, basic for B-B; see :mod:`signatures.ades`)
plus pyHanko's modification analysis. A signature is valid only when BOTH hold: the AdES
result is PASSED, and everything added after signing is allowed by the signature's
DocMDP/FieldMDP rules (AdES alone passes text added by an incremental update).

Revocation checking is hard-fail. Offline (the default) pyHanko uses only what the
document embeds (``RevinfoOnlineFetchingRule.LOCAL_ONLY``): a failed fetch would otherwise
hide the embedded data. Timestamps are anchored at ``TrustSettings.tsa_trust_roots`` (the
TSA's own certificate), which is what keeps a B-LTA document valid years later.

Never raises for a signed-but-invalid PDF; raises :class:`UnreadablePdf` for garbage.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from asn1crypto import x509

from ._cms import run_sync
from .ades import (
    basic_validation,
    has_signature_timestamp,
    read_dss_contents,
    timestamp_context,
    validation_spec,
    with_dss_knowledge,
    with_time_validation,
)
from .errors import SignatureError, UnreadablePdf
from .fields import document_identifier, read_pdf
from .malformed import MALFORMED_PDF_ERRORS, describe, where
from .profiles import TrustSettings
from .report import (
    CertificateInfo,
    Coverage,
    DocumentTimestampReport,
    Indication,
    RevocationStatus,
    SignatureReport,
    TimestampInfo,
    ValidationReport,
)
from .validation_levels import CachingDiffPolicy, LevelInspector

if TYPE_CHECKING:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.ades import AdESBasicValidationResult
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
    from pyhanko.sign.validation.policy_decl import PdfSignatureValidationSpec
    from pyhanko.sign.validation.status import PdfSignatureStatus
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

__all__ = ["async_validate_pdf", "common_name", "validate_pdf"]

logger = logging.getLogger(__name__)


def common_name(name: x509.Name) -> str:
    """A name's common name, or the whole name if it has none."""
    try:
        value = name.native.get("common_name")
    except (ValueError, AttributeError):  # pragma: no cover - malformed names
        return "?"
    if isinstance(value, list):
        value = value[-1]
    return str(value) if value else name.human_friendly


def _certificate_info(cert: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(
        common_name=common_name(cert.subject),
        subject=cert.subject.human_friendly,
        issuer=cert.issuer.human_friendly,
        serial_number=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before,
        not_after=cert.not_valid_after,
    )


_REVOKED = {"REVOKED", "REVOKED_NO_POE", "REVOKED_CA_NO_POE"}


def _revocation(
    status: PdfSignatureStatus | None, sub: str | None, passed: bool
) -> RevocationStatus:
    if status is not None and status.revocation_details is not None:
        return RevocationStatus.REVOKED
    if sub in _REVOKED:
        return RevocationStatus.REVOKED
    if passed or (status is not None and status.trusted):
        return RevocationStatus.GOOD
    return RevocationStatus.UNKNOWN


def _coverage(status: Any) -> Coverage:
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    level = getattr(status, "coverage", None)
    if level == SignatureCoverageLevel.ENTIRE_FILE:
        return Coverage.ENTIRE_FILE
    if level == SignatureCoverageLevel.ENTIRE_REVISION:
        return Coverage.ENTIRE_REVISION
    return Coverage.PARTIAL


def _signature_problems(
    status: PdfSignatureStatus | None,
    indication: Indication,
    sub: str | None,
    msg: str | None,
    revocation: RevocationStatus,
) -> list[str]:
    problems: list[str] = []
    if revocation is RevocationStatus.REVOKED:
        problems.append("the signer's certificate is revoked")
    if status is not None:
        if not status.intact:
            problems.append("the signed content was changed (digest mismatch)")
        elif not status.valid:
            problems.append("the signature value does not verify")
        if status.coverage is not None and _coverage(status) is Coverage.PARTIAL:
            problems.append("the signature does not cover a whole revision")
        if status.docmdp_ok is False:
            level = status.modification_level
            problems.append(
                "changes after signing are not permitted by this signature "
                f"(modification level {level.name if level else 'unknown'})"
            )
        elif status.docmdp_ok is None:
            problems.append("could not determine what changed after signing")
    if indication is not Indication.PASSED:
        sound = status is not None and status.intact and status.valid
        if sound and revocation is RevocationStatus.UNKNOWN:
            problems.append(
                "no usable revocation data (none embedded: validate online, or sign at B-LT "
                "or above)"
            )
        problems.append(
            f"AdES {indication.value}" + (f"/{sub}" if sub else "") + (f": {msg}" if msg else "")
        )
    return problems


async def _validate_signature(
    emb: EmbeddedPdfSignature,
    *,
    spec: PdfSignatureValidationSpec,
    local_spec: PdfSignatureValidationSpec,
    timing: ValidationTimingInfo,
    levels: LevelInspector,
) -> SignatureReport:
    from pyhanko.sign.ades.report import AdESStatus
    from pyhanko.sign.validation.ades import ades_lta_validation

    cert = emb.signer_cert
    status: PdfSignatureStatus | None = None
    result: AdESBasicValidationResult[PdfSignatureStatus] | None = None
    timestamped = has_signature_timestamp(emb)
    try:
        if timestamped and levels.has_document_timestamp_after(emb):
            # B-LTA (or B-T/B-LT followed by an archive timestamp): ETSI LTA validation,
            # proofs of existence from the document timestamp chain.
            result = await ades_lta_validation(emb, spec, timing_info=timing)
        elif timestamped:
            # B-T / B-LT: validation with time, revocation data from the DSS or fetched.
            result = await with_time_validation(emb, local_spec, timing=timing)
        else:
            # B-B, even with document timestamps after it (pyHanko's LTA algorithm needs a
            # signature timestamp): at the current time only, hard-fail revocation.
            result = await basic_validation(emb, local_spec, timing=timing)
        status = result.api_status
        indication = Indication(result.ades_subindic.status.name)
        sub = (
            None
            if result.ades_subindic.status is AdESStatus.PASSED
            else str(result.ades_subindic.standard_name)
        )
        message = result.failure_msg
    except Exception as exc:  # a broken signature is a finding, never a crash
        logger.info(
            "validation of %s failed: %s at %s: %s",
            emb.field_name,
            type(exc).__name__,
            where(exc),
            describe(exc),
        )
        indication, sub, message = Indication.FAILED, "FORMAT_FAILURE", describe(exc)

    passed = indication is Indication.PASSED
    docmdp_ok = status.docmdp_ok if status is not None else None
    valid = bool(passed and status is not None and status.bottom_line and docmdp_ok is True)
    ts_status = status.timestamp_validity if status is not None else None
    timestamp = None
    if ts_status is not None:
        timestamp = TimestampInfo(
            time=ts_status.timestamp,
            tsa=common_name(ts_status.signing_cert.subject),
            valid=bool(ts_status.intact and ts_status.valid and ts_status.trusted),
        )
    path = status.validation_path if status is not None else None
    chain = tuple(common_name(c.subject) for c in path) if path is not None else ()
    mod_level = status.modification_level if status is not None else None
    intact = bool(status.intact) if status is not None else False
    revocation = _revocation(status, sub, passed)
    return SignatureReport(
        field_name=emb.field_name,
        signer=common_name(cert.subject),
        certificate=_certificate_info(cert),
        chain=chain,
        trusted=bool(status is not None and (status.trusted or passed)),
        intact=intact,
        cryptographically_valid=bool(status is not None and status.valid),
        revision=emb.signed_revision,
        coverage=_coverage(status),
        covers_whole_document=_coverage(status) is Coverage.ENTIRE_FILE,
        modification_level=mod_level.name if mod_level is not None else None,
        modifications_permitted=docmdp_ok,
        certification=levels.certification(emb),
        locks_document=levels.locks_document(emb),
        claimed_signing_time=emb.self_reported_timestamp,
        timestamp=timestamp,
        best_signature_time=getattr(result, "best_signature_time", None),
        revocation=revocation,
        pades_level=levels.level(emb, signature_timestamp=timestamped) if intact else None,
        indication=indication,
        sub_indication=sub,
        valid=valid,
        problems=()
        if valid
        else tuple(_signature_problems(status, indication, sub, message, revocation)),
    )


async def _validate_document_timestamp(
    emb: EmbeddedPdfSignature, *, context: ValidationContext, diff_policy: CachingDiffPolicy
) -> DocumentTimestampReport:
    from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_timestamp

    cert = emb.signer_cert
    try:
        status = await async_validate_pdf_timestamp(
            emb, validation_context=context, diff_policy=diff_policy
        )
    except Exception as exc:  # a broken timestamp is a finding, never a crash
        return DocumentTimestampReport(
            field_name=emb.field_name,
            revision=emb.signed_revision,
            time=None,
            tsa=common_name(cert.subject),
            tsa_certificate_expires=cert.not_valid_after,
            intact=False,
            trusted=False,
            modifications_permitted=None,
            valid=False,
            problems=(f"unreadable document timestamp: {describe(exc)}",),
        )
    trusted = bool(status.intact and status.valid and status.trusted)
    from pyhanko.sign.diff_analysis import ModificationLevel

    level = status.modification_level
    permitted = None if level is None else level is not ModificationLevel.OTHER
    problems = []
    if not status.intact:
        problems.append("the timestamped content was changed (digest mismatch)")
    elif not trusted:
        problems.append("the timestamp is not by a trusted TSA")
    if permitted is False:
        problems.append("content was changed after the timestamp")
    valid = trusted and permitted is not False
    return DocumentTimestampReport(
        field_name=emb.field_name,
        revision=emb.signed_revision,
        time=status.timestamp,
        tsa=common_name(cert.subject),
        tsa_certificate_expires=cert.not_valid_after,
        intact=bool(status.intact),
        trusted=trusted,
        modifications_permitted=permitted,
        valid=valid,
        problems=tuple(problems),
    )


def _check_archive_expiry(
    reports: list[DocumentTimestampReport], moment: datetime
) -> list[DocumentTimestampReport]:
    """The newest document timestamp proves nothing once its TSA certificate has expired.

    pyHanko trusts the TSA certificate as a bare anchor, whatever its validity; older
    timestamps are covered by newer ones, so only the newest one counts.
    """
    if not reports:
        return reports
    newest = max(range(len(reports)), key=lambda i: reports[i].revision)
    report = reports[newest]
    expires = report.tsa_certificate_expires
    if expires is None or expires >= moment:
        return reports
    problem = (
        f"archive timestamp expired on {expires.isoformat()}; "
        "renew before the TSA certificate expires"
    )
    reports[newest] = dataclasses.replace(report, valid=False, problems=(*report.problems, problem))
    return reports


async def async_validate_pdf(
    pdf: bytes,
    *,
    trust: TrustSettings,
    when: datetime | None = None,
    offline: bool = True,
) -> ValidationReport:
    """Asynchronous :func:`validate_pdf`."""
    # The bytes may come from anyone: reading them and walking their structures is where
    # pyHanko meets malformed input, so its failures end here as UnreadablePdf (see
    # signatures.malformed). A broken signature inside a readable document is a finding
    # of its report instead (_validate_signature, _validate_document_timestamp).
    try:
        reader = read_pdf(pdf)
        return await _validate_readable(pdf, reader, trust=trust, when=when, offline=offline)
    except SignatureError:
        raise
    except MALFORMED_PDF_ERRORS as exc:
        raise UnreadablePdf(f"the signatures cannot be read: {describe(exc)}") from exc
    except Exception as exc:
        # Not one of the ways pyHanko is known to fail on malformed input: still a refusal
        # (anyone can send these bytes, they must not crash the caller), but logged as a
        # possible bug, in one line that says where.
        logger.warning(
            "validation refused a PDF on an unexpected %s at %s: %s",
            type(exc).__name__,
            where(exc),
            describe(exc),
        )
        raise UnreadablePdf(f"the signatures cannot be read: {describe(exc)}") from exc


async def _validate_readable(
    pdf: bytes,
    reader: PdfFileReader,
    *,
    trust: TrustSettings,
    when: datetime | None,
    offline: bool,
) -> ValidationReport:
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

    try:
        signatures = list(reader.embedded_regular_signatures)
        timestamps = list(reader.embedded_timestamp_signatures)
    except MALFORMED_PDF_ERRORS as exc:  # unparseable signature dictionaries or CMS
        raise UnreadablePdf(f"cannot read the signatures: {describe(exc)}") from exc
    if when is not None:
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        timing = ValidationTimingInfo(when, when, False)
    else:
        timing = ValidationTimingInfo.now(tz=UTC)
    diff_policy = CachingDiffPolicy()
    spec = validation_spec(trust, offline=offline, diff_policy=diff_policy)
    levels = LevelInspector(reader, timestamps)
    dss = read_dss_contents(reader)
    local_spec = (
        with_dss_knowledge(spec, dss)
        if any(
            not (has_signature_timestamp(emb) and levels.has_document_timestamp_after(emb))
            for emb in signatures
        )
        else spec
    )
    # Signatures first: their AdES-LTA runs do the modification analysis of every
    # revision once (cached), which the document timestamps then reuse.
    signature_reports = [
        await _validate_signature(
            emb, spec=spec, local_spec=local_spec, timing=timing, levels=levels
        )
        for emb in signatures
    ]
    ts_context = timestamp_context(trust, dss, timestamps, offline=offline, when=when)
    ts_reports = _check_archive_expiry(
        [
            await _validate_document_timestamp(emb, context=ts_context, diff_policy=diff_policy)
            for emb in timestamps
        ],
        timing.validation_time,
    )
    return ValidationReport(
        document_id=document_identifier(reader),
        sha256=hashlib.sha256(pdf).hexdigest(),
        revisions=reader.xrefs.total_revisions,
        validated_at=timing.validation_time,
        offline=offline,
        signatures=tuple(signature_reports),
        document_timestamps=tuple(ts_reports),
        warnings=dss.problems,
    )


def validate_pdf(
    pdf: bytes,
    *,
    trust: TrustSettings,
    when: datetime | None = None,
    offline: bool = True,
) -> ValidationReport:
    """Validate every signature and document timestamp in ``pdf``.

    :param trust: trust anchors for signers and for timestamps.
    :param when: validate as of this time (and pass it to pyHanko as the validation
        time); default: now.
    :param offline: use only data embedded in the document (and ``trust``); ``False``
        lets pyHanko fetch OCSP/CRL for signatures without embedded validation data.
    :return: a report; check :attr:`ValidationReport.valid` for the bottom line.
    :raises UnreadablePdf: the bytes are not a readable PDF.
    """
    return run_sync(async_validate_pdf(pdf, trust=trust, when=when, offline=offline))
