"""RFC 3161 timestamps over a bare digest (not a PDF): getting one and checking one.

Used to anchor data kept elsewhere (the audit chain's head) in time, outside the place
that holds it: ``timestamp_digest(sha256_bytes, services=...)`` returns the TSA's token
(DER); ``check_timestamp_token(token, sha256_bytes, trust=...)`` says whether the token
is intact, was made by a trusted TSA, and names exactly that digest.

The token is checked at its own time (the TSA's certificate must have been valid and
chain to :attr:`TrustSettings.timestamp_roots` when it stamped), with no network. No
revocation data is kept with a token, so the TSA certificate's revocation is checked only
softly (a revocation that cannot be looked up does not fail it): best put the TSA's own
certificate in ``tsa_trust_roots`` (the EU trusted-list model, as for archive timestamps).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from asn1crypto import cms, tsp, x509

from ._cms import run_sync
from .ltv import Network
from .profiles import ServiceUrls, TrustSettings
from .validation import common_name

if TYPE_CHECKING:
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy

__all__ = [
    "TokenCheck",
    "async_timestamp_digest",
    "check_timestamp_token",
    "timestamp_digest",
    "token_certificates",
]


@dataclass(frozen=True)
class TokenCheck:
    """What a timestamp token proves about one digest."""

    valid: bool
    """The bottom line: intact, trusted and naming the expected digest."""

    time: datetime | None
    """The time the TSA asserts (``genTime``); None if the token is unreadable."""

    tsa: str
    """Common name of the TSA's certificate ("" if unknown)."""

    imprint_matches: bool
    """The token's message imprint is the expected digest (SHA-256)."""

    intact: bool
    """The TSA's signature over the token is cryptographically sound."""

    trusted: bool
    """The TSA's certificate chains to a timestamp anchor and was valid at ``time``."""

    problems: tuple[str, ...] = ()
    """Why it is not valid, in English (one line each)."""


async def async_timestamp_digest(digest: bytes, *, services: ServiceUrls | None) -> bytes:
    """A token (DER ``ContentInfo``) from the configured TSA over the SHA-256 ``digest``.

    :raises TimestampUnavailable: no TSA is configured, or it did not answer.
    """
    if len(digest) != 32:
        raise ValueError("a SHA-256 digest has 32 bytes")
    async with Network(services) as network:
        token = await network.timestamper().async_timestamp(digest, "sha256")
    return bytes(token.dump())


def timestamp_digest(digest: bytes, *, services: ServiceUrls | None) -> bytes:
    """Synchronous :func:`async_timestamp_digest`."""
    return run_sync(async_timestamp_digest(digest, services=services))


def _soft_policy() -> CertRevTrustPolicy:
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )

    soft = RevocationCheckingRule.CHECK_IF_DECLARED_SOFT
    return CertRevTrustPolicy(RevocationCheckingPolicy(soft, soft))


def _signed_data(token: bytes) -> tuple[cms.SignedData, tsp.TSTInfo]:
    info = cms.ContentInfo.load(token)
    if info["content_type"].native != "signed_data":
        raise ValueError("not a CMS SignedData")
    signed: cms.SignedData = info["content"]
    tst = signed["encap_content_info"]["content"].parsed
    if not isinstance(tst, tsp.TSTInfo):
        raise ValueError("the SignedData does not hold a TSTInfo")
    return signed, tst


def token_certificates(token: bytes) -> tuple[x509.Certificate, ...]:
    """The certificates a token carries (the TSA's, perhaps its chain)."""
    signed, _ = _signed_data(token)
    return tuple(c.chosen for c in signed["certificates"] or () if c.name == "certificate")


async def _check(token: bytes, digest: bytes, trust: TrustSettings) -> TokenCheck:
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko.sign.validation.status import TimestampSignatureStatus
    from pyhanko_certvalidator import ValidationContext

    try:
        signed, tst = _signed_data(token)
        carried = [c.chosen for c in signed["certificates"] or () if c.name == "certificate"]
    except (ValueError, TypeError, KeyError) as exc:
        return TokenCheck(False, None, "", False, False, False, (f"unreadable token: {exc}",))
    when: datetime = tst["gen_time"].native
    imprint = tst["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    matches = algorithm == "sha256" and imprint["hashed_message"].native == digest
    context = ValidationContext(
        trust_roots=list(trust.timestamp_roots),
        other_certs=[*trust.other_certs, *carried],
        crls=[],
        ocsps=[],
        allow_fetching=False,
        moment=when,
        revinfo_policy=_soft_policy(),
    )
    try:
        # The token's own imprint: pyHanko then judges the signature and the certificate
        # alone; whether the imprint is the expected one is checked above, separately.
        own = imprint["hashed_message"].native
        kwargs = await validate_tst_signed_data(signed, context, expected_tst_imprint=lambda _: own)
        status = TimestampSignatureStatus(**kwargs)
    except Exception as exc:  # a token that pyHanko cannot even process proves nothing
        return TokenCheck(False, when, "", matches, False, False, (f"token rejected: {exc}",))
    problems = []
    if not matches:
        problems.append("the token names another digest than the one expected")
    sound = bool(status.valid and status.intact)
    if not sound:
        problems.append("the TSA's signature over the token is broken")
    if not status.trusted:
        problems.append("the TSA's certificate is not trusted for timestamps at the token's time")
    return TokenCheck(
        valid=not problems,
        time=when,
        tsa=common_name(status.signing_cert.subject) if status.signing_cert else "",
        imprint_matches=matches,
        intact=sound,
        trusted=bool(status.trusted),
        problems=tuple(problems),
    )


def check_timestamp_token(token: bytes, digest: bytes, *, trust: TrustSettings) -> TokenCheck:
    """Whether ``token`` is a trusted TSA's timestamp over the SHA-256 ``digest``.

    Never raises for a bad token: a token that cannot be read or processed is reported
    as not valid, with the reason.
    """
    return run_sync(_check(token, digest, trust))
