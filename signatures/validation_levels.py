"""Helpers for validation: which PAdES level a signature reached, and a diff-result cache.

pyHanko's AdES-LTA validation re-runs the modification analysis of *every* signature in
the document each time it validates *one* of them (to build the proof-of-existence index
from the timestamps). :class:`CachingDiffPolicy` wraps the default policy so that each
(revision, lock) pair is analysed once per ``validate_pdf`` call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asn1crypto import crl, ocsp, x509
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffPolicy

from .profiles import PadesLevel

if TYPE_CHECKING:
    from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
    from pyhanko.sign.diff_analysis import DiffResult, SuspiciousModification
    from pyhanko.sign.fields import FieldMDPSpec, MDPPerm
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

__all__ = ["CachingDiffPolicy", "DssView", "LevelInspector"]

_PADES_SUBFILTER = "/ETSI.CAdES.detached"


class CachingDiffPolicy(DiffPolicy):
    """pyHanko's default diff policy, remembering results for one reader."""

    def __init__(self, inner: DiffPolicy = DEFAULT_DIFF_POLICY) -> None:
        self.inner = inner
        self._results: dict[tuple[Any, ...], DiffResult | SuspiciousModification] = {}

    def apply(
        self,
        old: HistoricalResolver,
        new: HistoricalResolver,
        field_mdp_spec: FieldMDPSpec | None = None,
        doc_mdp: MDPPerm | None = None,
    ) -> DiffResult:
        result: DiffResult = self.inner.apply(old, new, field_mdp_spec, doc_mdp)
        return result

    def review_file(
        self,
        reader: PdfFileReader,
        base_revision: int | HistoricalResolver,
        field_mdp_spec: FieldMDPSpec | None = None,
        doc_mdp: MDPPerm | None = None,
    ) -> DiffResult | SuspiciousModification:
        if not isinstance(base_revision, int):
            return self.inner.review_file(reader, base_revision, field_mdp_spec, doc_mdp)
        key = (id(reader), base_revision, repr(field_mdp_spec), repr(doc_mdp))
        if key not in self._results:
            self._results[key] = self.inner.review_file(
                reader, base_revision, field_mdp_spec, doc_mdp
            )
        return self._results[key]


def _stream_data(ref: Any) -> bytes:
    data: bytes = ref.get_object().data
    return data


class DssView:
    """What a DSS holds, reduced to: which certificates have revocation data."""

    def __init__(self, dss: Any) -> None:
        from pyhanko.pdf_utils.generic import ArrayObject, DictionaryObject

        if dss is not None:
            dss = dss.get_object()
        self.ocsp_serials: set[int] = set()
        self.crl_issuers: set[bytes] = set()
        if not isinstance(dss, DictionaryObject):  # absent, null, or junk: no DSS
            return

        def entries(key: str) -> Any:
            value = dss.get(key)
            return value if isinstance(value, ArrayObject) else ()

        for ref in entries("/OCSPs"):
            try:
                response = ocsp.OCSPResponse.load(_stream_data(ref))
                basic = response["response_bytes"]["response"].parsed
                for single in basic["tbs_response_data"]["responses"]:
                    self.ocsp_serials.add(single["cert_id"]["serial_number"].native)
            except (ValueError, KeyError, TypeError, AttributeError):  # not a stream
                continue
        for ref in entries("/CRLs"):
            try:
                self.crl_issuers.add(crl.CertificateList.load(_stream_data(ref)).issuer.dump())
            except (ValueError, KeyError, TypeError, AttributeError):  # not a stream
                continue

    def covers(self, cert: x509.Certificate) -> bool:
        # DER comparison: asn1crypto's Name equality runs LDAP string preparation
        return cert.serial_number in self.ocsp_serials or cert.issuer.dump() in self.crl_issuers


class LevelInspector:
    """Reads certification, locks and PAdES level facts from one document."""

    def __init__(self, reader: PdfFileReader, timestamps: list[EmbeddedPdfSignature]) -> None:
        from pyhanko.sign.validation import read_certification_data

        self.reader = reader
        self.timestamps = timestamps
        self._dss: dict[int | None, DssView] = {}
        certification = read_certification_data(reader)
        self._certification: tuple[bytes, str] | None = None
        if certification is not None:
            contents = certification.author_sig.raw_get("/Contents")
            self._certification = (
                bytes(contents.original_bytes),
                certification.permission.name,
            )

    def _dss_at(self, revision: int | None) -> DssView:
        if revision not in self._dss:
            from pyhanko.pdf_utils.reader import HistoricalResolver

            handler: Any = self.reader
            if revision is not None:
                handler = HistoricalResolver(self.reader, revision)
            dss = handler.root.get("/DSS")
            self._dss[revision] = DssView(dss.get_object() if dss is not None else None)
        return self._dss[revision]

    def certification(self, emb: EmbeddedPdfSignature) -> str | None:
        if self._certification is None:
            return None
        contents, permission = self._certification
        return permission if emb.pkcs7_content == contents else None

    def locks_document(self, emb: EmbeddedPdfSignature) -> bool:
        if self.certification(emb) == "NO_CHANGES":
            return True
        lock = emb.sig_field.get("/Lock")
        if lock is None:
            return False
        return int(lock.get_object().get("/P", 0)) == 1

    def has_document_timestamp_after(self, emb: EmbeddedPdfSignature) -> bool:
        """Whether a document timestamp (valid or not) follows the signature."""
        return any(t.signed_revision > emb.signed_revision for t in self.timestamps)

    def level(self, emb: EmbeddedPdfSignature, *, signature_timestamp: bool) -> PadesLevel | None:
        """The highest PAdES baseline level the signature's *structure* reaches.

        Structure only, whatever the validation outcome (that is the separate verdict):
        a signature timestamp makes B-T; the signer's revocation data in the DSS, B-LT;
        that data covered by a later document timestamp, B-LTA. A signature without a
        signature timestamp stays B-B even when document timestamps follow it: it is
        validated at the current time only (see :mod:`signatures.ades`).
        """
        if str(emb.sig_object.get("/SubFilter", "")) != _PADES_SUBFILTER:
            return None
        if not signature_timestamp:
            return PadesLevel.B_B
        cert = emb.signer_cert
        if not self._dss_at(None).covers(cert):
            return PadesLevel.B_T
        later = [
            t.signed_revision for t in self.timestamps if t.signed_revision > emb.signed_revision
        ]
        if any(self._dss_at(revision).covers(cert) for revision in later):
            return PadesLevel.B_LTA
        return PadesLevel.B_LT
