"""Network-facing plumbing: TSA, OCSP/CRL fetching, certificate checks, long-term data.

Everything that talks to trust services goes through one :class:`Network` per operation
(one aiohttp session, so the TSA, OCSP and CRL requests of one signature share
connections). Failures surface as our own errors: :class:`TimestampUnavailable`,
:class:`RevocationUnavailable`, :class:`CertificateProblem`.

Long-term data follows what was measured to survive offline validation years later
(see ``notes/signing.md``): the DSS gets, for every signer, the OCSP response *and* the
CRLs (OCSP alone is not enough once two signers share a DSS), the CA's CRL, and the
timestamp authorities' CRLs, all in the same revision as the archive timestamp.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypeVar

from asn1crypto import cms, crl, ocsp, x509
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from .errors import (
    CertificateProblem,
    CertificateReason,
    RevocationUnavailable,
    SignatureError,
    TimestampUnavailable,
)
from .profiles import ServiceUrls, TrustSettings

if TYPE_CHECKING:
    import aiohttp
    from pyhanko.sign.signers import Signer
    from pyhanko_certvalidator.path import ValidationPath

__all__ = ["Network", "add_long_term_data", "check_signer_certificate", "find_cause"]

logger = logging.getLogger(__name__)

DEFAULT_TOKEN_ALLOWANCE = 6144
"""Bytes (DER) reserved for a timestamp token from a TSA we have not heard from yet."""

_token_sizes: dict[str, int] = {}
"""Largest token seen per TSA URL in this process: sizes the next reservation. Every byte
reserved is written as two hex digits that every validator must parse."""


def token_allowance(tsa_url: str | None) -> int:
    """Bytes (DER) to reserve for a timestamp token from ``tsa_url``."""
    seen = _token_sizes.get(tsa_url or "")
    return seen + 256 if seen else DEFAULT_TOKEN_ALLOWANCE


NON_REPUDIATION = frozenset({"non_repudiation"})

DEFAULT_REVOCATION_TIMEOUT = 10.0
"""Seconds per OCSP/CRL request when no :class:`ServiceUrls` (and so no timeout) is given."""


_E = TypeVar("_E", bound=BaseException)


def find_cause(exc: BaseException, kind: type[_E]) -> _E | None:
    """The first exception of type ``kind`` in ``exc``'s cause/context chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class _GuardedTimeStamper(HTTPTimeStamper):
    """pyHanko's HTTP timestamp client, reporting any failure as TimestampUnavailable."""

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        try:
            token: cms.ContentInfo = await super().async_timestamp(message_digest, md_algorithm)
        except TimestampUnavailable:
            raise
        except Exception as exc:  # any network, HTTP or protocol failure means "no timestamp"
            raise TimestampUnavailable(f"TSA {self.url}: {type(exc).__name__}: {exc}") from exc
        size = len(token.dump())
        if size > _token_sizes.get(self.url, 0):
            _token_sizes[self.url] = size
        return token


class Network:
    """One operation's connection to the trust services (async context manager)."""

    def __init__(self, services: ServiceUrls | None) -> None:
        self.services = services
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def online(self) -> bool:
        return self.services is not None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession()
        return self._session

    def timestamper(self) -> HTTPTimeStamper:
        """A client for the configured TSA.

        :raises TimestampUnavailable: no TSA URL is configured.
        """
        services = self.services
        if services is None or not services.tsa_url:
            raise TimestampUnavailable("no TSA configured (ServiceUrls.tsa_url)")
        auth = None
        if services.tsa_username is not None:
            auth = (services.tsa_username, services.tsa_password or "")
        return _GuardedTimeStamper(
            services.tsa_url, timeout=services.timeout, auth=auth, session=self.session()
        )

    def validation_context(
        self,
        trust: TrustSettings,
        *,
        ee_rule: RevocationCheckingRule = RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
        trust_roots: Iterable[x509.Certificate] | None = None,
        extra_certs: Iterable[x509.Certificate] = (),
    ) -> ValidationContext:
        """A context that checks revocation hard-fail, always fetching OCSP/CRL online.

        The OCSP/CRL URLs come from the certificates, so revocation is checked even
        without services (B-B): then with :data:`DEFAULT_REVOCATION_TIMEOUT` per request.
        """
        from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

        roots = list(trust.trust_roots if trust_roots is None else trust_roots)
        others = [*trust.other_certs, *extra_certs]
        services = self.services
        timeout = services.timeout if services is not None else DEFAULT_REVOCATION_TIMEOUT
        return ValidationContext(
            trust_roots=roots,
            other_certs=others,
            allow_fetching=True,
            revinfo_policy=CertRevTrustPolicy(
                RevocationCheckingPolicy(
                    ee_certificate_rule=ee_rule,
                    intermediate_ca_cert_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
                )
            ),
            fetcher_backend=AIOHttpFetcherBackend(self.session(), per_request_timeout=timeout),
        )


def _subject(cert: x509.Certificate) -> str:
    try:
        return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except (ValueError, KeyError):  # pragma: no cover - malformed names
        return "unknown subject"


async def check_signer_certificate(
    signer: Signer,
    trust: TrustSettings,
    network: Network,
    *,
    key_usage: frozenset[str] = NON_REPUDIATION,
) -> ValidationPath:
    """Check the signer's certificate before anything is signed.

    Chain to a trusted root, validity, key usage and revocation (hard-fail, fetched from
    the certificates' OCSP/CRL URLs, with or without configured services).

    :raises CertificateProblem: expired, not yet valid, revoked, untrusted or unusable.
    :raises RevocationUnavailable: no OCSP/CRL answer could be obtained.
    """
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator import errors as cv_errors

    cert = signer.signing_cert
    if cert is None:
        raise CertificateProblem(CertificateReason.UNUSABLE, "unknown", "no signer certificate")
    subject = _subject(cert)
    now = datetime.now(UTC)
    if cert.not_valid_after < now:
        raise CertificateProblem(
            CertificateReason.EXPIRED, subject, f"expired {cert.not_valid_after:%Y-%m-%d}"
        )
    if cert.not_valid_before > now:
        raise CertificateProblem(
            CertificateReason.NOT_YET_VALID,
            subject,
            f"valid from {cert.not_valid_before:%Y-%m-%d}",
        )
    context = network.validation_context(trust)
    validator = CertificateValidator(
        cert, intermediate_certs=list(signer.cert_registry), validation_context=context
    )
    try:
        path: ValidationPath = await validator.async_validate_usage(set(key_usage))
    except cv_errors.RevokedError as exc:
        raise CertificateProblem(CertificateReason.REVOKED, subject, str(exc)) from exc
    except cv_errors.ExpiredError as exc:
        raise CertificateProblem(CertificateReason.EXPIRED, subject, str(exc)) from exc
    except cv_errors.NotYetValidError as exc:
        raise CertificateProblem(CertificateReason.NOT_YET_VALID, subject, str(exc)) from exc
    except cv_errors.InsufficientRevinfoError as exc:
        raise RevocationUnavailable(f"revocation status of {subject!r}: {exc}") from exc
    except cv_errors.PathBuildingError as exc:
        raise CertificateProblem(CertificateReason.UNTRUSTED, subject, str(exc)) from exc
    except cv_errors.InvalidCertificateError as exc:
        raise CertificateProblem(CertificateReason.UNUSABLE, subject, str(exc)) from exc
    except cv_errors.PathValidationError as exc:
        raise CertificateProblem(CertificateReason.UNTRUSTED, subject, str(exc)) from exc
    return path


@dataclass
class _Collected:
    paths: list[ValidationPath] = field(default_factory=list)
    ocsps: list[ocsp.OCSPResponse] = field(default_factory=list)
    crls: list[crl.CertificateList] = field(default_factory=list)

    def absorb(self, context: ValidationContext) -> None:
        self.ocsps.extend(context.ocsps)
        self.crls.extend(context.crls)


async def _collect_for(
    signed_data: cms.SignedData,
    *,
    trust: TrustSettings,
    network: Network,
    collected: _Collected,
    timestamp: bool,
    required: bool,
) -> None:
    """Validate one signer's (or TSA's) chain online and keep what was fetched."""
    from pyhanko.sign.general import extract_certificate_info
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator import errors as cv_errors

    info = extract_certificate_info(signed_data)
    # Signers: OCSP *and* CRL (both are needed once two signers share a DSS); fall back
    # to either. Timestamp authorities: either.
    rules = (
        [RevocationCheckingRule.CRL_OR_OCSP_REQUIRED]
        if timestamp
        else [
            RevocationCheckingRule.CRL_AND_OCSP_REQUIRED,
            RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
        ]
    )
    # A TSA's path is built to the signers' roots first, so that its CA's CRL/OCSP is
    # collected too; only a TSA outside them stops at its own anchor (tsa_trust_roots).
    root_sets: list[list[x509.Certificate] | None] = [None]
    if timestamp and trust.tsa_trust_roots:
        root_sets.append([*trust.trust_roots, *trust.tsa_trust_roots])
    last_error: Exception | None = None
    for roots in root_sets:
        for rule in rules:
            context = network.validation_context(
                trust, ee_rule=rule, trust_roots=roots, extra_certs=info.other_certs
            )
            validator = CertificateValidator(
                info.signer_cert, intermediate_certs=info.other_certs, validation_context=context
            )
            try:
                usage = {"time_stamping"} if timestamp else None
                path = await validator.async_validate_usage(set(), extended_key_usage=usage)
            except cv_errors.PathBuildingError as exc:
                last_error = exc
                break  # no path to these roots: try the next set
            except cv_errors.PathValidationError as exc:
                last_error = exc
                continue
            collected.paths.append(path)
            collected.absorb(context)
            return
        if not isinstance(last_error, cv_errors.PathBuildingError):
            break  # a path exists but its revocation data is missing: do not fall back
    subject = _subject(info.signer_cert)
    if required:
        if isinstance(last_error, cv_errors.RevokedError):
            raise CertificateProblem(CertificateReason.REVOKED, subject, str(last_error))
        raise RevocationUnavailable(f"validation data for {subject!r}: {last_error}")
    logger.warning("no validation data for %s: %s", subject, last_error)


async def add_long_term_data(
    pdf: bytes,
    *,
    trust: TrustSettings,
    network: Network,
    archive_timestamp: bool,
    md_algorithm: str = "sha256",
    renewal: bool = False,
) -> bytes:
    """Add validation data to the DSS (B-LT) and, optionally, a document timestamp (B-LTA).

    Covers every signature in the document (the newest must succeed, older ones are best
    effort), their signature timestamps and the newest document timestamp. DSS and
    document timestamp go into one incremental update, the timestamp covering the DSS.
    With ``renewal``, signatures are skipped once the document has a document timestamp
    (their data is already protected by it) and nothing is mandatory.

    :raises RevocationUnavailable: no OCSP/CRL for the newest signer.
    :raises TimestampUnavailable: the document timestamp could not be obtained.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers import PdfTimeStamper
    from pyhanko.sign.validation import DocumentSecurityStore
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    from .validation_levels import DssView

    if not network.online:
        raise RevocationUnavailable("B-LT and B-LTA need the trust services (ServiceUrls)")
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    signatures = list(reader.embedded_regular_signatures)
    timestamps = list(reader.embedded_timestamp_signatures)
    collected = _Collected()
    token_size = 0
    if not (renewal and timestamps):
        covered = DssView(reader.root.get("/DSS"))
        for index, signature in enumerate(reversed(signatures)):
            newest = index == 0
            if not newest and covered.covers(signature.signer_cert):
                continue  # an earlier signatory's data is already in the DSS
            await _collect_for(
                signature.signed_data,
                trust=trust,
                network=network,
                collected=collected,
                timestamp=False,
                required=newest and not renewal,
            )
            for tst in extract_tst_data_iter(signature.signer_info, signed=False):
                token_size = max(token_size, len(tst.dump()))
                await _collect_for(
                    tst,
                    trust=trust,
                    network=network,
                    collected=collected,
                    timestamp=True,
                    required=False,
                )
    if timestamps:
        token_size = max(token_size, len(timestamps[-1].signed_data.dump()) + 64)
        await _collect_for(
            timestamps[-1].signed_data,
            trust=trust,
            network=network,
            collected=collected,
            timestamp=True,
            required=renewal,  # renewal protects exactly this timestamp's data
        )

    writer = IncrementalPdfFileWriter.from_reader(reader)
    DocumentSecurityStore.supply_dss_in_writer(
        writer,
        None,
        paths=collected.paths,
        ocsps=collected.ocsps,
        crls=collected.crls,
        embed_roots=True,
    )
    output = io.BytesIO()
    if not archive_timestamp:
        writer.write(output)
        return output.getvalue()
    allowance = max(
        token_size + 256 if token_size else 0,
        token_allowance(network.services.tsa_url if network.services else None),
    )
    try:
        await PdfTimeStamper(network.timestamper()).async_timestamp_pdf(
            writer,
            md_algorithm,
            bytes_reserved=2 * allowance,
            output=output,
        )
    except SignatureError:
        raise
    except Exception as exc:
        found = find_cause(exc, SignatureError)
        if found is not None:
            raise found from exc
        raise
    return output.getvalue()
