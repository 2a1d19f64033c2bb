"""A CSC credential as a :class:`signatures.keys.KeySource`, and its pyHanko signer.

:class:`CscKey` wraps a credential fetched through :class:`~signatures.csc.client.CscClient`;
its signer is a pyHanko :class:`~pyhanko.sign.signers.csc_signer.CSCSigner` subclass whose
HTTP exchange (``credentials/authorize`` bound to the hash, then ``signatures/signHash``) is
done by the client, with an authorisation manager that holds the PIN/OTP until the key is
closed.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from typing import Self

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from pyhanko.sign.signers import Signer
from pyhanko.sign.signers.csc_signer import (
    CSCAuthorizationInfo,
    CSCAuthorizationManager,
    CSCServiceSessionInfo,
    CSCSigner,
)

from ..errors import KeyAccessError
from ..keys import ClosingKey
from .client import CscClient
from .models import CscAuthorization, CscCredential

__all__ = ["CscKey"]


class _ClientAuthorizationManager(CSCAuthorizationManager):
    """Gets a SAD bound to the hashes about to be signed, through :class:`CscClient`."""

    def __init__(
        self,
        *,
        client: CscClient,
        credential: CscCredential,
        pin: str | None,
        otp: str | None,
    ) -> None:
        super().__init__(
            CSCServiceSessionInfo(
                service_url=client.base_url,
                credential_id=credential.credential_id,
                api_ver=client.api_version,
            ),
            credential.to_pyhanko(),
        )
        self.client = client
        self.credential = credential
        self._pin = pin
        self._otp = otp

    def authorize_sync(self, digests: Sequence[bytes], digest_algorithm: str) -> CscAuthorization:
        return self.client.authorize(
            self.credential.credential_id,
            digests,
            hash_algorithm=digest_algorithm,
            pin=self._pin,
            otp=self._otp,
        )

    def forget(self) -> None:
        self._pin = self._otp = None

    async def authorize_signature(self, hash_b64s: list[str]) -> CSCAuthorizationInfo:
        # pyHanko's batch path; its interface does not say the digest algorithm, and
        # pyHanko signs with SHA-256 unless told otherwise. _CscSigner does not use it.
        digests = [base64.b64decode(h) for h in hash_b64s]
        loop = asyncio.get_running_loop()
        auth = await loop.run_in_executor(None, self.authorize_sync, digests, "sha256")
        return CSCAuthorizationInfo(sad=auth.sad, expires_at=auth.expires_at)


class _CscSigner(CSCSigner):
    """pyHanko's CSC signer with the HTTP exchange done by :class:`CscClient`.

    pyHanko's own ``signHash`` call formats v1 requests only and turns every failure into a
    bare ``SigningError``; delegating the exchange keeps v2 support and our error classes.
    Mechanism selection, certificates and size estimates stay pyHanko's.
    """

    def __init__(self, *, auth_manager: _ClientAuthorizationManager, prefer_pss: bool) -> None:
        super().__init__(
            session=None,  # type: ignore[arg-type]  # unused: CscClient makes the HTTP calls
            auth_manager=auth_manager,
            prefer_pss=prefer_pss,
        )
        self._manager = auth_manager

    def forget(self) -> None:
        self._manager.forget()

    def sign_digest(self, digest: bytes, digest_algorithm: str) -> bytes:
        """Authorise and sign one digest at the provider (blocking)."""
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        params = mechanism["parameters"]
        manager = self._manager
        sad = manager.authorize_sync([digest], digest_algorithm)
        [value] = manager.client.sign_hash(
            manager.credential.credential_id,
            [digest],
            sad=sad,
            sign_algo=str(mechanism["algorithm"].dotted),
            hash_algorithm=digest_algorithm,
            sign_algo_params=params.dump() if params.native is not None else None,
        )
        return value

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:
            return bytes(self.est_raw_signature_size)
        digest_algorithm = digest_algorithm.lower()
        md = hashes.Hash(_HASHES[digest_algorithm]())
        md.update(data)
        digest = md.finalize()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.sign_digest, digest, digest_algorithm)


_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class CscKey(ClosingKey):
    """A credential at a CSC service, as a :class:`signatures.keys.KeySource`.

    Build it with :meth:`open`. Each signature costs two calls to the service
    (``credentials/authorize`` bound to the hash, then ``signatures/signHash``), so the
    PIN/OTP given here is kept in memory until :meth:`close`.
    """

    def __init__(
        self,
        *,
        client: CscClient,
        credential: CscCredential,
        signer: _CscSigner,
        owns_client: bool,
    ) -> None:
        self.client = client
        self.credential = credential
        self._signer: _CscSigner | None = signer
        self._owns_client = owns_client
        self.description = f"CSC credential {credential.credential_id!r} at {client.base_url}"
        """Which credential this is, for messages and logs."""

    @classmethod
    def open(
        cls,
        client: CscClient,
        credential_id: str,
        *,
        pin: str | None = None,
        otp: str | None = None,
        prefer_pss: bool = False,
        owns_client: bool = False,
    ) -> Self:
        """Fetch the credential's certificates and get ready to sign with it.

        :param owns_client: close ``client`` with this key.
        :raises KeyAccessError: the access token is refused, or the key is disabled.
        :raises RemoteSignerError: unknown credential, service unreachable.
        """
        credential = client.credential_info(credential_id)
        if credential.key_status != "enabled":
            raise KeyAccessError(
                f"CSC credential {credential_id!r} is {credential.key_status}, not enabled"
            )
        manager = _ClientAuthorizationManager(
            client=client, credential=credential, pin=pin, otp=otp
        )
        signer = _CscSigner(auth_manager=manager, prefer_pss=prefer_pss)
        return cls(client=client, credential=credential, signer=signer, owns_client=owns_client)

    def signer(self) -> Signer:
        """The pyHanko :class:`CSCSigner`; the same object on each call.

        :raises KeyAccessError: the key was closed.
        """
        if self._signer is None:
            raise KeyAccessError(f"{self.description}: the key source was closed")
        return self._signer

    @property
    def signing_cert(self) -> asn1_x509.Certificate:
        """The signer's certificate, as the service returned it."""
        return self.credential.signing_cert

    def sign_digest(self, digest: bytes, digest_algorithm: str = "sha256") -> bytes:
        """Sign one precomputed digest (authorize + signHash), with the same algorithm the
        in-process signer would use. For the hash-only flow.
        """
        signer = self._signer
        if signer is None:
            raise KeyAccessError(f"{self.description}: the key source was closed")
        return signer.sign_digest(digest, digest_algorithm.lower())

    def close(self) -> None:
        """Forget the PIN/OTP (and close the client if this key owns it). Idempotent."""
        signer, self._signer = self._signer, None
        if signer is not None:
            signer.forget()
        if self._owns_client:
            self.client.close()
