"""Keys on PKCS#11 tokens: smart cards, USB tokens, HSMs (SoftHSM2 in tests).

:class:`Pkcs11Key` opens one session to the token, logs in with the user PIN once and keeps
the session for its whole life; :meth:`Pkcs11Key.signer` hands out the same pyHanko
:class:`~pyhanko.sign.pkcs11.PKCS11Signer` each time, with the signer's certificate and
the chain (certificates found on the token plus any given ones) already loaded.
:meth:`Pkcs11Key.close` logs out and closes the session.

The private key never leaves the token: pyHanko passes the data to be signed to the token
and embeds what it returns. A session runs one operation at a time, so signatures through
one key are serialised (sign_pdf calls from several threads wait for each other); open
one key per worker for parallel signing where the token allows several sessions.

Failures to reach the key raise :class:`~signatures.errors.KeyAccessError` with a message
naming what is wrong (the module, the token, the key or certificate, or the PIN).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeAlias

import pkcs11
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as crypto_x509
from cryptography.hazmat.primitives import serialization
from pkcs11 import Attribute, Mechanism, Session, Token
from pyhanko.sign.pkcs11 import PKCS11Signer
from pyhanko.sign.signers import Signer

from .errors import KeyAccessError
from .keys import ClosingKey

if TYPE_CHECKING:
    from pkcs11._pkcs11 import lib as Pkcs11Lib

__all__ = ["Pkcs11Key"]

Certificate: TypeAlias = asn1_x509.Certificate | crypto_x509.Certificate


def _as_asn1(cert: Certificate) -> asn1_x509.Certificate:
    if isinstance(cert, crypto_x509.Certificate):
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    return cert


def _needs_raw_ecdsa(token: Token) -> bool:
    """Whether the token signs ECDSA only over a digest computed by the caller.

    Many tokens (SoftHSM2 among them) implement CKM_ECDSA but not the hash-and-sign
    CKM_ECDSA_SHA256/384/512 mechanisms; pyHanko then hashes in software and asks the
    token for the raw signature.
    """
    mechanisms = token.slot.get_mechanisms()
    hash_and_sign = {Mechanism.ECDSA_SHA256, Mechanism.ECDSA_SHA384, Mechanism.ECDSA_SHA512}
    return Mechanism.ECDSA in mechanisms and not hash_and_sign <= mechanisms


def _describe_key(
    key_label: str | None, key_id: bytes | None, cert_label: str | None, cert_id: bytes | None
) -> str:
    parts = []
    if key_label is not None:
        parts.append(f"key label {key_label!r}")
    if key_id is not None:
        parts.append(f"key id {key_id.hex()}")
    if cert_label is not None:
        parts.append(f"certificate label {cert_label!r}")
    if cert_id is not None:
        parts.append(f"certificate id {cert_id.hex()}")
    return ", ".join(parts)


class _SerialPkcs11Signer(PKCS11Signer):
    """pyHanko's PKCS#11 signer, one token operation at a time, refusing once closed."""

    def __init__(self, session: Session, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self.operation_lock = threading.Lock()
        self.closed = False

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:
            return await super().async_sign_raw(data, digest_algorithm, dry_run=True)
        # Take the lock, sign and release it in one worker thread: if the awaiting task
        # is cancelled (an HTTP timeout), the thread still finishes and releases the
        # lock; a lock taken in one thread for a coroutine to release could be stranded.
        return await asyncio.get_running_loop().run_in_executor(
            None, self._sign_serially, data, digest_algorithm
        )

    def _sign_serially(self, data: bytes, digest_algorithm: str) -> bytes:
        with self.operation_lock:
            if self.closed:
                raise KeyAccessError("the PKCS#11 key source was closed")
            # pyHanko's token call, on a private event loop in this thread.
            return asyncio.run(PKCS11Signer.async_sign_raw(self, data, digest_algorithm))


def _check_key_matches_certificate(signer: PKCS11Signer, cert: asn1_x509.Certificate) -> None:
    """For RSA, compare the private key's public modulus with the certificate's.

    A key and a certificate picked by different labels or ids can belong to different
    key pairs; the token would then sign happily and every signature would be invalid.
    (EC private key objects do not carry the public point, so EC keys are not checked.)
    """
    if cert.public_key.algorithm != "rsa":
        return
    try:
        [key] = signer.pkcs11_session.get_objects(signer.signing_key_fetch_params())
        modulus = int.from_bytes(key[Attribute.MODULUS], "big")
    except (pkcs11.PKCS11Error, ValueError):  # pragma: no cover - a token hiding it
        return
    if modulus != cert.public_key["public_key"].parsed["modulus"].native:
        raise KeyAccessError("the private key does not match the certificate")


class Pkcs11Key(ClosingKey):
    """A private key on a PKCS#11 token with an open, logged-in session.

    Build it with :meth:`open`; it implements :class:`signatures.keys.KeySource` and is a
    context manager.
    """

    def __init__(self, *, session: Session, signer: _SerialPkcs11Signer, description: str) -> None:
        self._session: Session | None = session
        self._signer: _SerialPkcs11Signer | None = signer
        self._lock = threading.Lock()
        self.description = description
        """Which token and key this is, for messages and logs (never contains the PIN)."""

    @classmethod
    def open(
        cls,
        *,
        module_path: str | Path,
        token_label: str,
        pin: str | None,
        key_label: str | None = None,
        key_id: bytes | None = None,
        cert_label: str | None = None,
        cert_id: bytes | None = None,
        chain: Iterable[Certificate] = (),
        pull_token_certs: bool = True,
        prefer_pss: bool = False,
    ) -> Self:
        """Open a session on the token labelled ``token_label`` and log in.

        :param module_path: the PKCS#11 module (``.so``), e.g.
            ``/usr/lib/softhsm/libsofthsm2.so`` or the card vendor's library.
        :param token_label: the token's label, as ``pkcs11-tool -L`` shows it.
        :param pin: the user PIN; ``None`` for tokens that need no login, or that ask
            for the PIN on their own PIN pad (protected authentication path).
        :param key_label: label of the private key. At least one of ``key_label``,
            ``key_id``, ``cert_label``, ``cert_id`` is required; a missing key or
            certificate selector defaults to the other one (same label / same id).
        :param key_id: CKA_ID of the private key.
        :param cert_label: label of the signer's certificate on the token.
        :param cert_id: CKA_ID of the signer's certificate on the token.
        :param chain: CA certificates to embed that the token does not hold.
        :param pull_token_certs: also embed every other certificate found on the token
            (typically the issuing CA); turn off for tokens holding unrelated certificates.
        :param prefer_pss: sign RSA keys with RSASSA-PSS instead of PKCS#1 v1.5.
        :raises KeyAccessError: the module cannot be loaded, no token has that label, the
            PIN is wrong or locked, the key or certificate is not on the token.
        """
        if key_label is None and key_id is None and cert_label is None and cert_id is None:
            raise ValueError("one of key_label, key_id, cert_label or cert_id is required")
        module = Path(module_path)
        try:
            lib = pkcs11.lib(str(module))
        except (RuntimeError, OSError) as exc:
            raise KeyAccessError(f"cannot load PKCS#11 module {module}: {exc}") from exc
        token = cls._find_token(lib, token_label, module)
        session = cls._login(token, token_label, pin)
        wanted = _describe_key(key_label, key_id, cert_label, cert_id)
        description = f"token {token_label!r}, {wanted}"
        try:
            signer = _SerialPkcs11Signer(
                session,
                cert_label=cert_label,
                cert_id=cert_id,
                key_label=key_label,
                key_id=key_id,
                ca_chain=[_as_asn1(c) for c in chain],
                other_certs_to_pull=None if pull_token_certs else (),
                prefer_pss=prefer_pss,
            )
            # Load the key handle, the certificate and the chain now, so that a missing
            # object is reported here and not in the middle of a signing run.
            cert = signer.signing_cert
            _check_key_matches_certificate(signer, cert)
            if cert.public_key.algorithm == "ec":
                signer.use_raw_mechanism = _needs_raw_ecdsa(token)
        except KeyAccessError as exc:
            session.close()
            raise KeyAccessError(f"token {token_label!r}: {exc} ({wanted})") from exc
        except pkcs11.PKCS11Error as exc:
            session.close()
            raise KeyAccessError(f"token {token_label!r}: {exc}") from exc
        except BaseException:
            session.close()
            raise
        return cls(session=session, signer=signer, description=description)

    @staticmethod
    def _find_token(lib: Pkcs11Lib, token_label: str, module: Path) -> Token:
        labels = []
        for slot in lib.get_slots(token_present=True):
            try:
                token = slot.get_token()
            except pkcs11.PKCS11Error:
                continue  # a slot whose token cannot be read is skipped, as pkcs11-tool does
            if token.label == token_label:
                return token
            if token.label:  # free slots show an empty label
                labels.append(token.label)
        present = ", ".join(repr(label) for label in labels) or "none"
        raise KeyAccessError(
            f"no PKCS#11 token labelled {token_label!r} in {module.name} (tokens present: "
            f"{present})"
        )

    @staticmethod
    def _login(token: Token, token_label: str, pin: str | None) -> Session:
        # python-pkcs11 opens the session before C_Login and does not close it when the
        # login fails: one session handle per failed attempt stays open until the module
        # is finalised.
        try:
            session = token.open() if pin is None else token.open(user_pin=pin)
        except pkcs11.PinIncorrect as exc:
            raise KeyAccessError(f"wrong PIN for token {token_label!r}") from exc
        except pkcs11.PinLocked as exc:
            raise KeyAccessError(f"the PIN of token {token_label!r} is locked") from exc
        except pkcs11.PinExpired as exc:
            raise KeyAccessError(f"the PIN of token {token_label!r} has expired") from exc
        except (pkcs11.PinLenRange, pkcs11.PinInvalid) as exc:
            raise KeyAccessError(f"malformed PIN for token {token_label!r}") from exc
        except pkcs11.UserPinNotInitialized as exc:
            raise KeyAccessError(f"token {token_label!r} has no user PIN set") from exc
        except (pkcs11.TokenNotPresent, pkcs11.DeviceRemoved) as exc:
            raise KeyAccessError(f"token {token_label!r} was removed") from exc
        except pkcs11.PKCS11Error as exc:
            name = type(exc).__name__
            raise KeyAccessError(f"cannot log in to token {token_label!r}: {name}") from exc
        return session

    def signer(self) -> Signer:
        """The pyHanko signer; the same object, with the session logged in, on each call.

        :raises KeyAccessError: the key was closed.
        """
        signer = self._signer
        if signer is None:
            raise KeyAccessError(f"{self.description}: the key source was closed")
        return signer

    @property
    def signing_cert(self) -> asn1_x509.Certificate:
        """The signer's certificate (as read from the token or given)."""
        cert = self.signer().signing_cert
        if cert is None:  # pragma: no cover - open() loads it or fails
            raise KeyAccessError(f"{self.description}: no certificate")
        return cert

    def close(self) -> None:
        """Log out and close the session (after a signature in progress). Idempotent."""
        with self._lock:
            session, signer = self._session, self._signer
            self._session = self._signer = None
        if session is None or signer is None:
            return
        with signer.operation_lock:
            signer.closed = True
            # The token may already be gone (card pulled): there is nothing left to log
            # out of, and close() must not fail in cleanup paths.
            with contextlib.suppress(pkcs11.PKCS11Error):
                session.close()

    def __repr__(self) -> str:
        state = "closed" if self._signer is None else "open"
        return f"<Pkcs11Key {self.description} ({state})>"
