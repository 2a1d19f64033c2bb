"""Remote signing through a trust service provider's Cloud Signature Consortium API.

The key lives at the provider (a remote QSCD); we send it hashes and get signature values
back. Two ways to use it:

* :class:`CscKey` is a :class:`signatures.keys.KeySource`: its signer is a pyHanko
  :class:`~pyhanko.sign.signers.csc_signer.CSCSigner`, so ``sign_pdf`` runs in-process and
  the provider signs the hash of the signed attributes when pyHanko asks for it.
* The hash-only flow: ``signatures.external.prepare_external_signature`` gives the digest
  to sign, :meth:`CscClient.sign_hash` signs it at the provider (after
  :meth:`CscClient.authorize`), ``complete_external_signature`` embeds the value. The
  document never leaves the server, and the provider call can happen in another request.

:class:`CscClient` speaks API v2 (``/csc/v2/...``, the default) and v1 (``/csc/v1/...``,
version 1.0.4.0, which pyHanko and most deployed services implement). The differences it
hides: ``hashes``/``hashAlgorithmOID``/``authData`` in v2 against ``hash``/``hashAlgo``/
``PIN``/``OTP`` in v1, and ``auth.mode`` against ``authMode`` in credential info.

Errors (all :class:`~signatures.errors.SignatureError`)::

    SignatureError
     ├── KeyAccessError       the provider refused us: bad or expired access token, wrong
     │                        login, wrong PIN/OTP, credential disabled
     └── RemoteSignerError    anything else: provider unreachable or timed out, HTTP or API
                              error (``status``, ``error``, ``description``), malformed reply
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Self

import httpx
from asn1crypto import algos
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from pyhanko.sign.signers import Signer
from pyhanko.sign.signers.csc_signer import (
    CSCAuthorizationInfo,
    CSCAuthorizationManager,
    CSCCredentialInfo,
    CSCServiceSessionInfo,
    CSCSigner,
)
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import KeyAccessError, SignatureError

__all__ = [
    "ApiVersion",
    "CscAuthorization",
    "CscClient",
    "CscCredential",
    "CscKey",
    "CscServiceInfo",
    "RemoteSignerError",
]

ApiVersion = Literal["v1", "v2"]

#: API error codes that mean "you may not use this credential", not "bad request".
_ACCESS_ERRORS = frozenset(
    {
        "invalid_pin",
        "invalid_otp",
        "access_denied",
        "invalid_token",
        "expired_token",
        "invalid_grant",
        "invalid_client",
        "unauthorized_client",
    }
)

_MAX_PAGES = 100  # credentials/list pages followed before giving up on a looping service


class RemoteSignerError(SignatureError):
    """The remote signing service failed or answered with an error.

    ``status`` is the HTTP status (``None`` when the service could not be reached),
    ``error`` and ``description`` the CSC ``error``/``error_description`` fields if any.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        status: int | None = None,
        error: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        self.error = error
        self.description = description


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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, what: str, endpoint: str) -> bytes:
    if not isinstance(value, str):
        raise RemoteSignerError(f"{endpoint}: {what} is not a base64 string", endpoint=endpoint)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RemoteSignerError(
            f"{endpoint}: {what} is not valid base64", endpoint=endpoint
        ) from exc


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


class CscClient:
    """A client of one CSC service, with its access token.

    :param base_url: the part before ``/csc/v2/...``, e.g. ``https://tsp.example/api``.
    :param token: an access token (OAuth2 or from an earlier ``auth/login``), sent as
        ``Authorization: Bearer``.
    :param username: with ``password``: log in through ``auth/login`` (HTTP Basic) on the
        first call that needs it, and again once if the service says the token expired.
    :param api_version: ``"v2"`` or ``"v1"`` (1.0.4.0).
    :param timeout: seconds for each request.
    :param transport: an httpx transport (for proxies or custom TLS); default networking
        otherwise.

    Thread-safe; close it (or use it as a context manager) to release connections.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        api_version: ApiVersion = "v2",
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("username and password go together")
        if api_version not in ("v1", "v2"):
            raise ValueError(f"unsupported CSC API version {api_version!r}")
        self.base_url = base_url.rstrip("/")
        self.api_version: ApiVersion = api_version
        self.timeout = timeout
        self._token = token
        self._credentials = (
            (username, password) if username is not None and password is not None else None
        )
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=timeout, transport=transport)

    # -- plumbing --------------------------------------------------------------------

    def endpoint_url(self, method: str) -> str:
        """The URL of an API method such as ``"credentials/info"``."""
        return f"{self.base_url}/csc/{self.api_version}/{method}"

    def _send(
        self, method: str, body: Mapping[str, Any], headers: Mapping[str, str]
    ) -> httpx.Response:
        url = self.endpoint_url(method)
        try:
            return self._http.post(url, json=dict(body), headers=dict(headers))
        except httpx.TimeoutException as exc:
            raise RemoteSignerError(
                f"CSC service {self.base_url}: {method} timed out after {self.timeout:g} s",
                endpoint=method,
            ) from exc
        except httpx.HTTPError as exc:
            raise RemoteSignerError(
                f"cannot reach CSC service {self.base_url} ({method}): {exc}", endpoint=method
            ) from exc

    def _auth_headers(self) -> dict[str, str]:
        with self._lock:
            token = self._token
        if token is None and self._credentials is not None:
            token = self.login()
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _call(
        self, method: str, body: Mapping[str, Any], *, authenticated: bool = True
    ) -> dict[str, Any]:
        headers = self._auth_headers() if authenticated else {}
        response = self._send(method, body, headers)
        if response.status_code == 401 and authenticated and self._credentials is not None:
            self._forget_token(headers)
            response = self._send(method, body, self._auth_headers())
        return self._decode(method, response)

    def _forget_token(self, used_headers: Mapping[str, str]) -> None:
        with self._lock:
            if used_headers.get("Authorization") == f"Bearer {self._token}":
                self._token = None

    def _decode(self, method: str, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.is_success:
            if not isinstance(data, dict):
                raise RemoteSignerError(
                    f"CSC service {self.base_url}: {method} answered with no JSON object",
                    endpoint=method,
                    status=response.status_code,
                )
            return data
        error = description = None
        if isinstance(data, dict):
            error = str(data["error"]) if "error" in data else None
            if "error_description" in data:
                description = str(data["error_description"])
        detail = ": ".join(part for part in (error, description) if part) or response.reason_phrase
        message = f"CSC service {self.base_url}: {method} failed ({response.status_code} {detail})"
        if response.status_code in (401, 403) or error in _ACCESS_ERRORS:
            raise KeyAccessError(message)
        if method == "credentials/authorize" and any(
            word in (description or "").upper() for word in ("PIN", "OTP")
        ):
            raise KeyAccessError(message)
        raise RemoteSignerError(
            message,
            endpoint=method,
            status=response.status_code,
            error=error,
            description=description,
        )

    @staticmethod
    def _field(data: Mapping[str, Any], name: str, method: str) -> Any:
        try:
            return data[name]
        except KeyError:
            raise RemoteSignerError(
                f"{method}: the answer has no {name!r}", endpoint=method
            ) from None

    # -- API methods -----------------------------------------------------------------

    def login(self) -> str:
        """``auth/login`` with the username and password; returns and keeps the token.

        :raises KeyAccessError: wrong username or password.
        """
        if self._credentials is None:
            raise ValueError("no username/password given to log in with")
        username, password = self._credentials
        basic = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        response = self._send(
            "auth/login", {"rememberMe": False}, {"Authorization": f"Basic {basic}"}
        )
        data = self._decode("auth/login", response)
        token = self._field(data, "access_token", "auth/login")
        if not isinstance(token, str) or not token:
            raise RemoteSignerError("auth/login: empty access token", endpoint="auth/login")
        with self._lock:
            self._token = token
        return token

    def info(self) -> CscServiceInfo:
        """``info``: the service's name, API version and methods (needs no token)."""
        data = self._call("info", {}, authenticated=False)
        return CscServiceInfo(
            specs=str(data.get("specs", "")),
            name=str(data.get("name", "")),
            description=str(data.get("description", "")),
            region=str(data.get("region", "")),
            auth_types=tuple(str(t) for t in data.get("authType", ())),
            methods=tuple(str(m) for m in data.get("methods", ())),
            raw=data,
        )

    def list_credentials(self, *, user_id: str | None = None) -> list[str]:
        """``credentials/list``: the credential IDs available to this account (all pages)."""
        ids: list[str] = []
        body: dict[str, Any] = {}
        if user_id is not None:
            body["userID"] = user_id
        for _ in range(_MAX_PAGES):
            data = self._call("credentials/list", body)
            page = self._field(data, "credentialIDs", "credentials/list")
            if not isinstance(page, list):
                raise RemoteSignerError(
                    "credentials/list: credentialIDs is not a list", endpoint="credentials/list"
                )
            ids.extend(str(i) for i in page)
            next_token = data.get("nextPageToken")
            if not next_token:
                return ids
            body["pageToken"] = next_token
        raise RemoteSignerError(
            f"credentials/list: more than {_MAX_PAGES} pages", endpoint="credentials/list"
        )

    def credential_info(self, credential_id: str) -> CscCredential:
        """``credentials/info`` with the whole certificate chain.

        :raises RemoteSignerError: unknown credential, or no certificate in the answer.
        """
        method = "credentials/info"
        data = self._call(
            method,
            {"credentialID": credential_id, "certificates": "chain", "certInfo": False},
        )
        key = self._field(data, "key", method)
        cert_part = self._field(data, "cert", method)
        if not isinstance(key, dict) or not isinstance(cert_part, dict):
            raise RemoteSignerError(f"{method}: malformed key or cert", endpoint=method)
        b64_certs = cert_part.get("certificates") or []
        if not isinstance(b64_certs, list) or not b64_certs:
            raise RemoteSignerError(
                f"{method}: no certificate for credential {credential_id!r}", endpoint=method
            )
        try:
            certs = [
                asn1_x509.Certificate.load(_unb64(c, "certificate", method)) for c in b64_certs
            ]
            for cert in certs:
                cert.native  # noqa: B018 - parse now: a bad certificate fails here, not later
        except ValueError as exc:
            raise RemoteSignerError(f"{method}: unreadable certificate", endpoint=method) from exc
        auth = data.get("auth")
        auth_mode = auth.get("mode") if isinstance(auth, dict) else data.get("authMode")
        try:
            scal = int(data.get("SCAL", 1))
            multisign = int(data.get("multisign", 1))
            key_length = int(key["len"]) if "len" in key else None
        except (TypeError, ValueError) as exc:
            raise RemoteSignerError(
                f"{method}: malformed SCAL/multisign/len", endpoint=method
            ) from exc
        return CscCredential(
            credential_id=credential_id,
            signing_cert=certs[0],
            chain=tuple(certs[1:]),
            key_algorithms=frozenset(_algo_name(str(oid)) for oid in key.get("algo", ())),
            key_status=str(key.get("status", "enabled")),
            key_length=key_length,
            auth_mode=str(auth_mode or "implicit"),
            scal=scal,
            multisign=multisign,
            description=str(data["description"]) if "description" in data else None,
            raw=data,
        )

    def authorize(
        self,
        credential_id: str,
        hashes: Sequence[bytes],
        *,
        hash_algorithm: str = "sha256",
        pin: str | None = None,
        otp: str | None = None,
        description: str | None = None,
    ) -> CscAuthorization:
        """``credentials/authorize``: signature activation data for exactly ``hashes``.

        :param hashes: the raw digests that will be signed (bound to the SAD, as SCAL 2
            services require and SCAL 1 services accept).
        :param pin: the signer's PIN, for credentials in ``explicit`` auth mode.
        :param otp: a one-time password, where the credential needs one.
        :raises KeyAccessError: wrong PIN/OTP or token; the credential is not ours.
        """
        method = "credentials/authorize"
        encoded = [_b64(h) for h in hashes]
        body: dict[str, Any] = {"credentialID": credential_id, "numSignatures": len(hashes)}
        if self.api_version == "v2":
            body["hashes"] = encoded
            body["hashAlgorithmOID"] = _digest_oid(hash_algorithm)
            auth_data = [
                {"id": name, "value": value}
                for name, value in (("PIN", pin), ("OTP", otp))
                if value is not None
            ]
            if auth_data:
                body["authData"] = auth_data
        else:
            body["hash"] = encoded
            if pin is not None:
                body["PIN"] = pin
            if otp is not None:
                body["OTP"] = otp
        if description is not None:
            body["description"] = description
        data = self._call(method, body)
        sad = self._field(data, "SAD", method)
        expires_at = None
        if "expiresIn" in data:
            try:
                expires_at = datetime.now(UTC) + timedelta(seconds=int(data["expiresIn"]))
            except (TypeError, ValueError) as exc:
                raise RemoteSignerError(f"{method}: malformed expiresIn", endpoint=method) from exc
        return CscAuthorization(sad=str(sad), expires_at=expires_at)

    def sign_hash(
        self,
        credential_id: str,
        hashes: Sequence[bytes],
        *,
        sad: CscAuthorization | str | None,
        sign_algo: str,
        hash_algorithm: str = "sha256",
        sign_algo_params: bytes | None = None,
    ) -> list[bytes]:
        """``signatures/signHash``: one raw signature value per hash, in order.

        :param hashes: raw digests (e.g. the SHA-256 of the CMS signed attributes).
        :param sad: from :meth:`authorize`; ``None`` only where the access token itself
            carries the credential authorisation (v2 OAuth2 "credential" scope).
        :param sign_algo: an asn1crypto signature algorithm name (``"sha256_rsa"``,
            ``"rsassa_pkcs1v15"``, ``"sha256_ecdsa"``, ``"rsassa_pss"``) or a dotted OID.
        :param sign_algo_params: DER of the algorithm parameters (RSASSA-PSS).
        :returns: the signature values (PKCS#1 bytes for RSA, DER ``ECDSA-Sig-Value`` for
            ECDSA).
        """
        method = "signatures/signHash"
        if not hashes:
            return []
        encoded = [_b64(h) for h in hashes]
        body: dict[str, Any] = {
            "credentialID": credential_id,
            "signAlgo": _sign_algo_oid(sign_algo),
        }
        if sad is not None:
            body["SAD"] = sad.sad if isinstance(sad, CscAuthorization) else sad
        if self.api_version == "v2":
            body["hashes"] = encoded
            body["hashAlgorithmOID"] = _digest_oid(hash_algorithm)
        else:
            body["hash"] = encoded
            body["hashAlgo"] = _digest_oid(hash_algorithm)
        if sign_algo_params is not None:
            body["signAlgoParams"] = _b64(sign_algo_params)
        data = self._call(method, body)
        values = self._field(data, "signatures", method)
        if not isinstance(values, list) or len(values) != len(hashes):
            raise RemoteSignerError(
                f"{method}: expected {len(hashes)} signatures, got "
                f"{len(values) if isinstance(values, list) else 'none'}",
                endpoint=method,
            )
        return [_unb64(v, "signature", method) for v in values]

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Release the connections. Idempotent."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


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


class CscKey:
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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
