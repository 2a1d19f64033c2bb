"""What ``sign_pdf`` (signing.py) and the two-step external signing (external.py) share.

Private to the package: the PAdES signature metadata, the reservation for the CMS
container, the level check for documents with several signatories, the check of a
signature value against a certificate, and the bridge from the sync API to the async one.
Both modules import from here; neither imports the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import ExternalSignatureProblem, FieldProblem
from .fields import list_signature_fields
from .ltv import token_allowance
from .profiles import PadesLevel, SignerProfile

if TYPE_CHECKING:
    from asn1crypto import algos, x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers import PdfSignatureMetadata, Signer

MD_ALGORITHM = "sha256"
_T = TypeVar("_T")


def run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine from synchronous code (the sync API's entry point)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise RuntimeError("called from a running event loop: use the async_* variant")


def signature_metadata(
    reader: PdfFileReader, *, field_name: str, profile: SignerProfile
) -> PdfSignatureMetadata:
    """pyHanko metadata for a PAdES signature; the first signature certifies the document."""
    from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
    from pyhanko.sign.signers import PdfSignatureMetadata

    fields = list_signature_fields(reader)
    first = not any(f.signed for f in fields)
    target = next(f for f in fields if f.name == field_name)
    final = target.locks_document or (target.position is None and first)
    return PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=MD_ALGORITHM,
        subfilter=SigSeedSubFilter.PADES,
        certify=first,
        docmdp_permissions=MDPPerm.NO_CHANGES if final else MDPPerm.FILL_FORMS,
        name=profile.full_name,
        reason=profile.reason,
        location=profile.location,
    )


def check_level_for_signatories(reader: PdfFileReader, field_name: str, level: PadesLevel) -> None:
    """Refuse B-B in a document with several signature fields.

    A later signatory's document timestamp (B-LTA) or DSS would leave a B-B signature
    without the validation data of its own time, and so unverifiable.

    :raises FieldProblem: ``level`` is B-B and the document has several signatories.
    """
    if level is PadesLevel.B_B and len(list_signature_fields(reader)) > 1:
        raise FieldProblem(
            field_name,
            "every signature in a document with several signatories must be at least B-T",
        )


def reserved_size(signer: Signer, *, tsa_url: str | None) -> int:
    """Hex characters to reserve for the CMS container, without pyHanko's dry run."""
    certs = sum(len(c.dump()) for c in signer.cert_registry)
    cert = signer.signing_cert
    if cert is not None and all(c.dump() != cert.dump() for c in signer.cert_registry):
        certs += len(cert.dump())
    key_bytes = 512
    if cert is not None and cert.public_key.algorithm == "rsa":
        key_bytes = cert.public_key.bit_size // 8 + 16
    der = certs + key_bytes + 2048  # signed attributes and CMS structure
    if tsa_url is not None:
        der += token_allowance(tsa_url)
    return 2 * der


def check_signature_value(
    cert: x509.Certificate,
    data: bytes,
    value: bytes,
    *,
    algorithm: algos.SignedDigestAlgorithm | None = None,
    digest: str = MD_ALGORITHM,
) -> bytes:
    """Verify the returned value; return it (ECDSA raw r||s converted to DER).

    ``algorithm`` (a CMS signature algorithm) selects RSASSA-PSS when it says so; RSA
    defaults to PKCS#1 v1.5. ``digest`` is the hash over ``data``.
    """
    from cryptography import x509 as pyca_x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

    try:
        hash_algorithm: hashes.HashAlgorithm = getattr(hashes, digest.upper())()
    except (AttributeError, TypeError) as exc:
        raise ExternalSignatureProblem(f"unsupported digest algorithm {digest}") from exc
    public_key = pyca_x509.load_der_x509_certificate(cert.dump()).public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            if algorithm is not None and algorithm["algorithm"].native == "rsassa_pss":
                params = algorithm["parameters"]
                pss_hash = getattr(hashes, params["hash_algorithm"]["algorithm"].native.upper())
                pss = padding.PSS(
                    mgf=padding.MGF1(pss_hash()), salt_length=params["salt_length"].native
                )
                public_key.verify(value, data, pss, pss_hash())
            else:
                public_key.verify(value, data, padding.PKCS1v15(), hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            size = (public_key.curve.key_size + 7) // 8
            if len(value) == 2 * size and value[0] != 0x30:  # raw r||s, as PKCS#11 gives
                value = utils.encode_dss_signature(
                    int.from_bytes(value[:size], "big"), int.from_bytes(value[size:], "big")
                )
            public_key.verify(value, data, ec.ECDSA(hash_algorithm))
        else:  # pragma: no cover - only RSA and EC certificates get this far
            raise ExternalSignatureProblem("unsupported key type")
    except InvalidSignature as exc:
        raise ExternalSignatureProblem(
            "the signature value does not match the certificate and the signed data"
        ) from exc
    return value
