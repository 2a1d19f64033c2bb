"""What a CSC service tells us, as frozen values, and the algorithm names it speaks.

:class:`CscServiceInfo` (``info``), :class:`CscCredential` (``credentials/info``: the
certificate chain and what the key can do) and :class:`CscAuthorization` (the SAD from
``credentials/authorize``) carry the decoded answers; the helpers translate between
asn1crypto algorithm names and the dotted OIDs the API uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import algos
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.signers.csc_signer import CSCCredentialInfo
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import RemoteSignerError

__all__ = ["CscAuthorization", "CscCredential", "CscServiceInfo"]


@dataclass(frozen=True)
class CscServiceInfo:
    """What ``info`` says about the service."""

    specs: str
    """The CSC API version the service implements, e.g. ``"2.0.0.2"``."""
    name: str
    description: str
    region: str
    auth_types: tuple[str, ...]
    """``"basic"``, ``"oauth2code"``, ``"external"``... as listed by the service."""
    methods: tuple[str, ...]
    """The API methods the service implements, e.g. ``"signatures/signHash"``."""
    raw: Mapping[str, Any] = field(repr=False)
    """The whole answer."""


@dataclass(frozen=True)
class CscCredential:
    """A signing credential: the key's certificate chain and what the key can do."""

    credential_id: str
    signing_cert: asn1_x509.Certificate = field(repr=False)
    """The signer's certificate (the first one the service returns)."""
    chain: tuple[asn1_x509.Certificate, ...] = field(repr=False)
    """The rest of the chain as returned (issuing CAs, possibly the root)."""
    key_algorithms: frozenset[str]
    """Signature algorithms the key supports, as asn1crypto names (``"sha256_rsa"``,
    ``"rsassa_pkcs1v15"``, ``"sha256_ecdsa"``...); unknown OIDs stay dotted."""
    key_status: str
    """``"enabled"`` or ``"disabled"``."""
    key_length: int | None
    auth_mode: str
    """``"implicit"``, ``"explicit"`` (PIN/OTP in ``authorize``) or ``"oauth2code"``."""
    scal: int
    """Sole Control Assurance Level: 2 means every SAD is bound to the hashes it signs."""
    multisign: int
    """How many hashes one authorisation may cover."""
    description: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def hash_pinning_required(self) -> bool:
        """Whether ``authorize`` must be given the exact hashes (SCAL 2)."""
        return self.scal >= 2

    @property
    def key_type(self) -> str:
        """The public key algorithm: ``"rsa"``, ``"ec"``, ``"rsassa_pss"``..."""
        return str(self.signing_cert.public_key.algorithm)

    def cert_store(self) -> SimpleCertificateStore:
        """The signer's certificate and the chain, to embed in a signature."""
        return SimpleCertificateStore.from_certs([self.signing_cert, *self.chain])

    def default_sign_algo(self, digest_algorithm: str = "sha256") -> str:
        """The signature algorithm to ask for with ``digest_algorithm``, as an asn1crypto
        name: ``<hash>_rsa`` (PKCS#1 v1.5) for RSA keys, ``<hash>_ecdsa`` for EC keys.

        :raises RemoteSignerError: the key supports neither.
        """
        digest_algorithm = digest_algorithm.lower()
        candidates = {
            "rsa": (f"{digest_algorithm}_rsa", "rsassa_pkcs1v15"),
            "ec": (f"{digest_algorithm}_ecdsa",),
            "rsassa_pss": ("rsassa_pss",),
        }.get(self.key_type, ())
        for candidate in candidates:
            if candidate in self.key_algorithms:
                return candidate
        raise RemoteSignerError(
            f"credential {self.credential_id!r} offers no {digest_algorithm} signature for "
            f"its {self.key_type} key (offers: {', '.join(sorted(self.key_algorithms))})"
        )

    def to_pyhanko(self) -> CSCCredentialInfo:
        """The same facts as pyHanko's :class:`CSCCredentialInfo`."""
        return CSCCredentialInfo(
            signing_cert=self.signing_cert,
            chain=list(self.chain),
            supported_mechanisms=self.key_algorithms,
            max_batch_size=self.multisign,
            hash_pinning_required=self.hash_pinning_required,
            response_data=dict(self.raw),
        )


@dataclass(frozen=True)
class CscAuthorization:
    """Signature activation data (SAD) from ``credentials/authorize``."""

    sad: str = field(repr=False)
    """Opaque; passed back in ``signatures/signHash``."""
    expires_at: datetime | None = None


def _algo_name(oid: str) -> str:
    try:
        return str(algos.SignedDigestAlgorithmId(oid).native)
    except ValueError:
        return oid


def _sign_algo_oid(sign_algo: str) -> str:
    try:
        return str(algos.SignedDigestAlgorithmId(sign_algo).dotted)
    except ValueError as exc:
        raise ValueError(f"unknown signature algorithm {sign_algo!r}") from exc


def _digest_oid(digest_algorithm: str) -> str:
    try:
        return str(algos.DigestAlgorithmId(digest_algorithm.lower()).dotted)
    except ValueError as exc:
        raise ValueError(f"unknown digest algorithm {digest_algorithm!r}") from exc
