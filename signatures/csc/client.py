"""The HTTP client of one CSC service: requests, authentication, decoding, errors.

:class:`CscClient` posts JSON to the API methods of API v2 or v1 (hiding the differences
between the two), logs in with HTTP Basic and keeps the access token (logging in again
once when it expires), decodes the answers into :mod:`signatures.csc.models` values and
turns failures into :class:`~signatures.errors.KeyAccessError` (the credential or token
was refused) or :class:`~signatures.csc.errors.RemoteSignerError` (anything else).
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Self

import httpx
from asn1crypto import x509 as asn1_x509

from ..errors import KeyAccessError
from .errors import RemoteSignerError
from .models import (
    CscAuthorization,
    CscCredential,
    CscServiceInfo,
    _algo_name,
    _digest_oid,
    _sign_algo_oid,
)

__all__ = ["ApiVersion", "CscClient"]

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
