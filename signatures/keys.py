"""Where signing keys live, behind one interface.

A :class:`KeySource` hands out a ready pyHanko :class:`~pyhanko.sign.signers.Signer` whose
``signing_cert`` and ``cert_registry`` (the chain to embed) are set. The key stays loaded
for the life of the source: loading a PKCS#12 file or logging into a token costs tens of
milliseconds, signing with a loaded key well under one. Call :meth:`KeySource.close` when
done (sources are also context managers where it makes sense).

Implementations: :class:`Pkcs12Key` here (files of the demo PKI, software keys),
``signatures.pkcs11`` (smart cards, HSMs; SoftHSM2 in tests) and ``signatures.csc`` (remote
signing over the Cloud Signature Consortium API). When the server must never touch the key
at all, use ``signatures.external`` instead: it hands out a digest and takes back a value.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign import attributes
from pyhanko.sign.signers import Signer, SimpleSigner
from pyhanko.sign.signers.pdf_cms import SignedAttributeProviderSpec
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import KeyAccessError

__all__ = ["KeySource", "PadesSignedAttributes", "Pkcs12Key", "load_certificates"]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@runtime_checkable
class KeySource(Protocol):
    """A signing key with its certificate, kept ready for repeated use."""

    def signer(self) -> Signer:
        """The pyHanko signer for this key; the same loaded object on every call.

        ``signing_cert`` is the signer's certificate and ``cert_registry`` holds the chain
        up to (and including) the root, so that it can be embedded in the signature.

        :raises KeyAccessError: the key is no longer usable (token removed, source closed).
        """
        ...

    def close(self) -> None:
        """Forget the key material / log out of the token. Idempotent."""
        ...


class ClosingKey:
    """``with key: ...`` closes the key at the end; for the KeySource implementations."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _SigningCertificateV2(attributes.CMSAttributeProvider):
    attribute_type = "signing_certificate_v2"

    def __init__(self, value: tsp.SigningCertificateV2) -> None:
        self.value = value

    async def build_attr_value(self, dry_run: bool = False) -> tsp.SigningCertificateV2:
        return self.value


class PadesSignedAttributes(SignedAttributeProviderSpec):
    """PAdES signed attributes with the signing-certificate-v2 value built once.

    pyHanko rebuilds that value for every signature, and asn1crypto re-encodes the nested
    issuer name dozens of times while doing so: ~30 ms of a B-B signature. Loading it
    once from DER gives the same bytes with nothing left to re-encode (~1.5 ms in all).
    Assign an instance to ``signer.signed_attr_prov_spec`` (PAdES only: no signing-time
    attribute, which PAdES forbids).
    """

    def __init__(self, signing_cert: asn1_x509.Certificate) -> None:
        from pyhanko.sign.general import as_signing_certificate_v2

        built = as_signing_certificate_v2(signing_cert)
        self._value = tsp.SigningCertificateV2.load(built.dump())

    def signed_attr_providers(
        self, data_digest: bytes, digest_algorithm: str
    ) -> Iterator[attributes.CMSAttributeProvider]:
        del data_digest, digest_algorithm  # the value depends on the certificate only
        yield _SigningCertificateV2(self._value)


class _LoadedKeySigner(SimpleSigner):
    """A :class:`SimpleSigner` that keeps the parsed ``cryptography`` key.

    ``SimpleSigner.sign_raw`` re-parses the DER key on every signature (an RSA consistency
    check costs milliseconds); this one signs with the key object it was given.
    """

    def __init__(
        self,
        *,
        private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        signing_cert: asn1_x509.Certificate,
        cert_registry: SimpleCertificateStore,
    ) -> None:
        der = private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        super().__init__(
            signing_cert=signing_cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=cert_registry,
        )
        self._private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = private_key
        self.signed_attr_prov_spec = PadesSignedAttributes(signing_cert)

    def forget(self) -> None:
        self._private_key = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        key = self._private_key
        if key is None:
            raise KeyAccessError("the key source was closed")
        hash_cls = _HASHES.get(digest_algorithm.lower())
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if hash_cls is not None:
            if isinstance(key, rsa.RSAPrivateKey) and mechanism == "rsassa_pkcs1v15":
                return key.sign(data, padding.PKCS1v15(), hash_cls())
            if isinstance(key, ec.EllipticCurvePrivateKey) and mechanism == "ecdsa":
                return key.sign(data, ec.ECDSA(hash_cls()))
        return super().sign_raw(data, digest_algorithm)  # PSS and rarer mechanisms


def load_certificates(data: bytes) -> list[asn1_x509.Certificate]:
    """Parse one or more certificates from PEM or DER bytes."""
    from pyhanko.keys import load_certs_from_pemder_data

    return list(load_certs_from_pemder_data(data))


class Pkcs12Key(ClosingKey):
    """A software key from a PKCS#12 (.p12/.pfx) file, decrypted once and kept in memory."""

    def __init__(self, signer: _LoadedKeySigner, *, description: str) -> None:
        self._signer: _LoadedKeySigner | None = signer
        self.description = description
        """Where the key came from (file name), for messages and logs."""

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        passphrase: str | bytes | None,
        *,
        extra_certs: tuple[asn1_x509.Certificate, ...] = (),
    ) -> Self:
        """Load a PKCS#12 file.

        :param extra_certs: chain certificates to embed that the file itself lacks.
        :raises KeyAccessError: missing file, wrong passphrase, no key or certificate inside.
        """
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KeyAccessError(f"cannot read key file {path.name}: {exc.strerror}") from exc
        return cls.from_bytes(data, passphrase, extra_certs=extra_certs, description=path.name)

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        passphrase: str | bytes | None,
        *,
        extra_certs: tuple[asn1_x509.Certificate, ...] = (),
        description: str = "PKCS#12 data",
    ) -> Self:
        """Load PKCS#12 bytes (see :meth:`from_file`)."""
        if isinstance(passphrase, str):
            passphrase = passphrase.encode("utf-8")
        try:
            key, cert, others = pkcs12.load_key_and_certificates(data, passphrase)
        except ValueError as exc:
            # cryptography says "Invalid password or PKCS12 data" for both causes.
            raise KeyAccessError(f"{description}: wrong passphrase or not a PKCS#12 file") from exc
        if key is None or cert is None:
            raise KeyAccessError(f"{description}: no private key and certificate inside")
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyAccessError(f"{description}: unsupported key type {type(key).__name__}")
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        der = serialization.Encoding.DER
        if key.public_key().public_bytes(der, spki) != cert.public_key().public_bytes(der, spki):
            raise KeyAccessError(f"{description}: the key does not match the certificate")
        signing_cert = asn1_x509.Certificate.load(cert.public_bytes(der))
        chain = [asn1_x509.Certificate.load(c.public_bytes(der)) for c in others]
        registry = SimpleCertificateStore.from_certs([signing_cert, *chain, *extra_certs])
        signer = _LoadedKeySigner(
            private_key=key, signing_cert=signing_cert, cert_registry=registry
        )
        return cls(signer, description=description)

    def signer(self) -> Signer:
        if self._signer is None:
            raise KeyAccessError(f"{self.description}: the key source was closed")
        return self._signer

    @property
    def signing_cert(self) -> asn1_x509.Certificate:
        """The signer's certificate."""
        cert = self.signer().signing_cert
        if cert is None:  # pragma: no cover - from_bytes always sets it
            raise KeyAccessError(f"{self.description}: no certificate")
        return cert

    def close(self) -> None:
        if self._signer is not None:
            self._signer.forget()
            self._signer = None
