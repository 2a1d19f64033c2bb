"""How :mod:`signatures.validation` calls pyHanko's validators.

* :func:`validation_spec`: hard-fail revocation for signers and timestamps; signer roots
  and timestamp anchors (the TSA certificates) kept apart; ``LOCAL_ONLY`` offline.
* Which ETSI algorithm fits which signature: AdES-LTA when it has a signature timestamp
  and a document timestamp follows it, "with time" when it only has a signature
  timestamp (B-T, B-LT), basic otherwise (B-B, also when document timestamps follow:
  pyHanko's LTA algorithm refuses signatures without a signature timestamp, and needs
  proofs of existence that B-T documents cannot have).
* The basic and with-time algorithms do not read the DSS themselves:
  :func:`with_dss_knowledge` feeds it to them, from :func:`read_dss_contents`, which
  skips (and reports) entries that do not parse instead of failing on them.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asn1crypto import crl, ocsp, x509

from .profiles import TrustSettings

if TYPE_CHECKING:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.ades import AdESBasicValidationResult
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
    from pyhanko.sign.validation.policy_decl import PdfSignatureValidationSpec
    from pyhanko.sign.validation.status import PdfSignatureStatus
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

    from .validation_levels import CachingDiffPolicy

__all__ = [
    "DssContents",
    "basic_validation",
    "has_signature_timestamp",
    "read_dss_contents",
    "timestamp_context",
    "validation_spec",
    "with_dss_knowledge",
    "with_time_validation",
]

logger = logging.getLogger(__name__)


def hard_fail_policy() -> Any:
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )

    either = RevocationCheckingRule.CRL_OR_OCSP_REQUIRED
    return CertRevTrustPolicy(RevocationCheckingPolicy(either, either))


def validation_spec(
    trust: TrustSettings, *, offline: bool, diff_policy: CachingDiffPolicy
) -> PdfSignatureValidationSpec:
    from pyhanko.sign.validation.policy_decl import (
        LocalKnowledge,
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.registry import SimpleTrustManager

    policy = hard_fail_policy()
    rule = (
        RevinfoOnlineFetchingRule.LOCAL_ONLY
        if offline
        else RevinfoOnlineFetchingRule.NO_HISTORICAL_FETCH
    )
    return PdfSignatureValidationSpec(
        signature_validation_spec=SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=list(trust.trust_roots)),
                revinfo_policy=policy,
            ),
            ts_cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=list(trust.timestamp_roots)),
                revinfo_policy=policy,
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(online_fetching_rule=rule),
            local_knowledge=LocalKnowledge(known_certs=list(trust.other_certs)),
        ),
        diff_policy=diff_policy,
    )


def has_signature_timestamp(emb: EmbeddedPdfSignature) -> bool:
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    return any(True for _ in extract_tst_data_iter(emb.signer_info, signed=False))


async def basic_validation(
    emb: EmbeddedPdfSignature, spec: PdfSignatureValidationSpec, *, timing: ValidationTimingInfo
) -> AdESBasicValidationResult[PdfSignatureStatus]:
    from pyhanko.sign.validation.ades import AdESBasicValidationResult, ades_basic_validation
    from pyhanko.sign.validation.status import PdfSignatureStatus

    emb.compute_integrity_info(diff_policy=spec.diff_policy)
    basic = await ades_basic_validation(
        emb.signed_data,
        spec.signature_validation_spec,
        timing_info=timing,
        raw_digest=emb.compute_digest(),
    )
    status = None
    if basic.api_status is not None:
        # pyHanko 0.38 builds a plain CMS status here whatever ``status_cls`` says; add the
        # PDF-level facts (coverage, modification analysis) ourselves.
        values = {
            f.name: getattr(basic.api_status, f.name)
            for f in dataclasses.fields(basic.api_status)
            if f.init
        }
        status = PdfSignatureStatus(**values, **emb.summarise_integrity_info())
    return AdESBasicValidationResult(
        ades_subindic=basic.ades_subindic,
        api_status=status,
        failure_msg=basic.failure_msg,
        validation_objects=basic.validation_objects,
    )


async def with_time_validation(
    emb: EmbeddedPdfSignature, spec: PdfSignatureValidationSpec, *, timing: ValidationTimingInfo
) -> AdESBasicValidationResult[PdfSignatureStatus]:
    from pyhanko.sign.validation.ades import ades_with_time_validation
    from pyhanko.sign.validation.status import PdfSignatureStatus

    emb.compute_integrity_info(diff_policy=spec.diff_policy)
    result: AdESBasicValidationResult[PdfSignatureStatus] = await ades_with_time_validation(
        emb.signed_data,
        spec.signature_validation_spec,
        timing_info=timing,
        raw_digest=emb.compute_digest(),
        extra_status_kwargs=emb.summarise_integrity_info(),
        status_cls=PdfSignatureStatus,
    )
    return result


@dataclasses.dataclass(frozen=True)
class DssContents:
    """What a document's (latest) DSS holds, each entry parsed; unparseable ones skipped."""

    certs: tuple[x509.Certificate, ...] = ()
    ocsps: tuple[ocsp.OCSPResponse, ...] = ()
    crls: tuple[crl.CertificateList, ...] = ()
    problems: tuple[str, ...] = ()
    """One line per skipped entry, e.g. ``"unreadable DSS entry /OCSPs[0] skipped: ..."``."""


def _parse_entry(kind: str, data: bytes) -> Any:
    if kind == "/Certs":
        cert = x509.Certificate.load(data)
        cert.issuer_serial  # noqa: B018  # forces the parse, as pyHanko's DSS reader does
        cert.not_valid_after  # noqa: B018
        return cert
    if kind == "/OCSPs":
        from pyhanko_certvalidator.revinfo.archival import OCSPContainer

        response = ocsp.OCSPResponse.load(data)
        OCSPContainer.load_multi(response)  # what pyHanko will do with it: must not fail
        return response
    crl_object = crl.CertificateList.load(data)
    _ = (crl_object["tbs_cert_list"]["issuer"], crl_object["signature_algorithm"])
    return crl_object


def read_dss_contents(reader: PdfFileReader) -> DssContents:
    """Read the DSS entry by entry: junk in one stream must not hide the rest (or crash)."""
    dss = reader.root.get("/DSS")
    if dss is None:
        return DssContents()
    found: dict[str, list[Any]] = {"/Certs": [], "/OCSPs": [], "/CRLs": []}
    problems: list[str] = []
    try:
        dss = dss.get_object()
        entries = [(kind, list(dss.get(kind, ()))) for kind in found]
    except Exception as exc:  # a DSS that is not a dictionary of arrays
        return DssContents(problems=(f"unreadable DSS skipped: {exc}",))
    for kind, refs in entries:
        for index, ref in enumerate(refs):
            try:
                found[kind].append(_parse_entry(kind, ref.get_object().data))
            except Exception as exc:
                first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                problems.append(f"unreadable DSS entry {kind}[{index}] skipped: {first_line}")
    for problem in problems:
        logger.info("%s", problem)
    return DssContents(
        certs=tuple(found["/Certs"]),
        ocsps=tuple(found["/OCSPs"]),
        crls=tuple(found["/CRLs"]),
        problems=tuple(problems),
    )


def with_dss_knowledge(
    spec: PdfSignatureValidationSpec, dss: DssContents
) -> PdfSignatureValidationSpec:
    """The spec plus the certificates, OCSP responses and CRLs in the document's DSS.

    (pyHanko's LTA validation reads the DSS itself; the basic and with-time ones do not.)
    """
    from pyhanko.sign.validation.policy_decl import LocalKnowledge
    from pyhanko_certvalidator.revinfo.archival import CRLContainer, OCSPContainer

    if not (dss.certs or dss.ocsps or dss.crls):
        return spec
    ocsps = [c for response in dss.ocsps for c in OCSPContainer.load_multi(response)]
    known = spec.signature_validation_spec.local_knowledge
    knowledge = LocalKnowledge(
        known_ocsps=[*known.known_ocsps, *ocsps],
        known_crls=[*known.known_crls, *(CRLContainer(c) for c in dss.crls)],
        known_certs=[*known.known_certs, *dss.certs],
    )
    return dataclasses.replace(
        spec,
        signature_validation_spec=dataclasses.replace(
            spec.signature_validation_spec, local_knowledge=knowledge
        ),
    )


def timestamp_context(
    trust: TrustSettings,
    dss: DssContents,
    timestamps: list[EmbeddedPdfSignature],
    *,
    offline: bool,
    when: datetime | None,
) -> ValidationContext:
    from pyhanko_certvalidator import ValidationContext

    anchors = {c.dump() for c in trust.timestamp_roots}
    certs: list[x509.Certificate] = []
    ocsps: list[ocsp.OCSPResponse] = []
    crls: list[crl.CertificateList] = []
    if not all(t.signer_cert.dump() in anchors for t in timestamps):
        # Some TSA certificate is not itself an anchor: its path needs the DSS data.
        certs, ocsps, crls = list(dss.certs), list(dss.ocsps), list(dss.crls)
    fetch = not offline and when is None
    return ValidationContext(
        trust_roots=list(trust.timestamp_roots),
        other_certs=[*trust.other_certs, *certs],
        ocsps=ocsps,
        crls=crls,
        allow_fetching=fetch,
        moment=None if fetch else when,
        revinfo_policy=hard_fail_policy(),
    )
