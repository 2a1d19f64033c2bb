"""A demo PKI for demo mode and tests: NOT FOR PRODUCTION.

``create_demo_pki(directory, signatories=...)`` generates keys with ``cryptography`` and
describes the PKI in a certomancer configuration (``certomancer.yml``), which then issues
every certificate, CRL, OCSP response and timestamp; ``DemoPki.load(directory)`` reads it
back. certomancer signs deterministically from the configuration, so reloading gives
byte-identical certificates, and ``signatures.services.DemoServices`` can answer for them.

Layout on disk::

    DIRECTORY/
      README.txt            what this is and that it must never be trusted
      certomancer.yml       the PKI definition: entities, certificates, services, URLs
      pki.json              our metadata: base URL, signatories, passphrases, statuses
      keys/NAME.key.pem     private keys (root, intermediate, tsa, ocsp, each signatory)
      certs/NAME.cert.pem   root, intermediate, tsa, ocsp and each signatory's certificate
      certs/chain.pem       intermediate + root, for tools that want one file
      crls/root.crl, crls/intermediate.crl
                            CRLs as of creation (the services issue fresh ones)
      signatories/KEY_ID.p12
                            per signatory: key, certificate and chain, passphrase-protected

Hierarchy: root CA -> intermediate "signing" CA -> signatories and the OCSP responder;
root CA -> TSA. Signatory certificates point at the OCSP responder (AIA) and at the
intermediate's CRL; the intermediate and the TSA at the root's CRL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asn1crypto import pem, x509

from .pki_config import (
    ARCH_LABEL,
    DemoCertStatus,
    DemoSignatory,
    demo_config,
    write_key,
)
from .profiles import ServiceUrls, TrustSettings

if TYPE_CHECKING:
    from certomancer.registry import CertomancerConfig, PKIArchitecture

    from .keys import Pkcs12Key

__all__ = ["DemoCertStatus", "DemoPki", "DemoSignatory", "create_demo_pki"]

_METADATA = "pki.json"
_CONFIG = "certomancer.yml"


@dataclass(frozen=True)
class DemoPki:
    """A demo PKI on disk (see the module docstring for the layout)."""

    directory: Path
    """Where the files are."""

    base_url: str
    """Prefix of every OCSP, CRL and TSA URL, e.g. ``"http://127.0.0.1:8765"``."""

    signatories: tuple[DemoSignatory, ...]
    """Everyone who has a certificate, in creation order."""

    created_at: datetime
    """When the PKI was created (UTC); validity periods count from here."""

    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, directory: str | Path) -> DemoPki:
        """Open a PKI made by :func:`create_demo_pki`."""
        directory = Path(directory)
        meta = json.loads((directory / _METADATA).read_text(encoding="utf-8"))
        return cls(
            directory=directory,
            base_url=meta["base_url"],
            signatories=tuple(
                DemoSignatory(
                    key_id=s["key_id"],
                    full_name=s["full_name"],
                    organisation=s["organisation"],
                    function=s["function"],
                    passphrase=s["passphrase"],
                    status=DemoCertStatus(s["status"]),
                )
                for s in meta["signatories"]
            ),
            created_at=datetime.fromisoformat(meta["created_at"]),
        )

    # -- files -----------------------------------------------------------------------------

    def cert_path(self, name: str) -> Path:
        """PEM certificate: ``root``, ``intermediate``, ``tsa``, ``ocsp`` or a key id."""
        return self.directory / "certs" / f"{name}.cert.pem"

    def key_path(self, name: str) -> Path:
        """Unencrypted PKCS#8 PEM private key (demo only), e.g. for importing into a token."""
        return self.directory / "keys" / f"{name}.key.pem"

    def p12_path(self, key_id: str) -> Path:
        """The signatory's PKCS#12 file."""
        return self.directory / "signatories" / f"{key_id}.p12"

    @property
    def config_path(self) -> Path:
        """The certomancer configuration file."""
        return self.directory / _CONFIG

    # -- certificates ----------------------------------------------------------------------

    def certificate(self, name: str) -> x509.Certificate:
        """A certificate by name (``root``, ``intermediate``, ``tsa``, ``ocsp``, key id)."""
        key = f"cert:{name}"
        if key not in self._cache:
            _, _, der = pem.unarmor(self.cert_path(name).read_bytes())
            self._cache[key] = x509.Certificate.load(der)
        cert: x509.Certificate = self._cache[key]
        return cert

    @property
    def root_cert(self) -> x509.Certificate:
        return self.certificate("root")

    @property
    def intermediate_cert(self) -> x509.Certificate:
        return self.certificate("intermediate")

    @property
    def tsa_cert(self) -> x509.Certificate:
        return self.certificate("tsa")

    @property
    def ocsp_cert(self) -> x509.Certificate:
        return self.certificate("ocsp")

    def chain(self, key_id: str) -> tuple[x509.Certificate, ...]:
        """The signatory's issuers, nearest first: (intermediate, root)."""
        del key_id  # every signatory has the same issuer in the demo PKI
        return (self.intermediate_cert, self.root_cert)

    def signatory(self, key_id: str) -> DemoSignatory:
        for signatory in self.signatories:
            if signatory.key_id == key_id:
                return signatory
        raise KeyError(f"no demo signatory {key_id!r}")

    def key(self, key_id: str) -> Pkcs12Key:
        """Open the signatory's PKCS#12 file with its passphrase."""
        from .keys import Pkcs12Key

        return Pkcs12Key.from_file(self.p12_path(key_id), self.signatory(key_id).passphrase)

    def sign_digest_as_card(self, key_id: str, digest: bytes) -> bytes:
        """What a signatory's smart card does in the external flow: a raw signature over
        a SHA-256 digest it is sent (RSA PKCS#1 v1.5 or ECDSA), with the demo key."""
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
        from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

        key = serialization.load_pem_private_key(self.key_path(key_id).read_bytes(), None)
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        raise TypeError(f"unsupported demo key type {type(key).__name__}")

    # -- settings for signing and validation ------------------------------------------------

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/{ARCH_LABEL}/tsa/tsa"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/{ARCH_LABEL}/ocsp/intermediate"

    def crl_url(self, issuer: str) -> str:
        """CRL distribution point of ``root`` or ``intermediate``."""
        return f"{self.base_url}/{ARCH_LABEL}/crls/{issuer}/latest.crl"

    def service_urls(self) -> ServiceUrls:
        return ServiceUrls(tsa_url=self.tsa_url, timeout=5.0)

    def trust_settings(self) -> TrustSettings:
        """Trust the demo root; trust the demo TSA certificate itself for timestamps."""
        return TrustSettings(
            trust_roots=(self.root_cert,),
            tsa_trust_roots=(self.tsa_cert,),
            other_certs=(self.intermediate_cert,),
        )

    # -- certomancer -----------------------------------------------------------------------

    def certomancer_config(self) -> CertomancerConfig:
        """The certomancer configuration (loaded once, keys decrypted in memory)."""
        if "config" not in self._cache:
            from certomancer.registry import CertomancerConfig

            self._cache["config"] = CertomancerConfig.from_file(
                str(self.config_path), key_search_dir=str(self.directory)
            )
        config: CertomancerConfig = self._cache["config"]
        return config

    def architecture(self) -> PKIArchitecture:
        """certomancer's view of this PKI (for its animator, illusionist, CSC dummy...)."""
        from certomancer.registry import ArchLabel

        return self.certomancer_config().get_pki_arch(ArchLabel(ARCH_LABEL))


# -- creation -------------------------------------------------------------------------------


_README = """\
estrategia DEMO PKI — NOT FOR PRODUCTION

Every private key in this directory is stored unencrypted or under a published passphrase.
Certificates issued here prove nothing about anyone. Never add the root certificate
(certs/root.cert.pem) to a real trust store.

Created: {created}
Services expected at: {base_url}
"""


def create_demo_pki(
    directory: str | Path,
    *,
    signatories: Sequence[DemoSignatory],
    base_url: str = "http://127.0.0.1:8765",
    signer_validity: timedelta = timedelta(days=730),
    tsa_validity: timedelta = timedelta(days=365 * 20),
    ca_validity: timedelta = timedelta(days=365 * 30),
    now: datetime | None = None,
) -> DemoPki:
    """Create a demo PKI in ``directory`` (created if missing; existing files overwritten).

    :param signatories: who gets a certificate and a PKCS#12 file; use
        :class:`DemoCertStatus` to make expired, revoked or not-yet-valid ones for tests.
    :param base_url: where :class:`~signatures.services.DemoServices` will listen; it is
        written into every certificate's AIA and CRL distribution point extensions.
    :param tsa_validity: the TSA certificate's lifetime: archive timestamps must be renewed
        before it ends (see :func:`~signatures.validation.archive_timestamp_expiry`).
    :param now: creation time (UTC); default: the current time.
    """
    from asn1crypto import pem as asn1_pem

    directory = Path(directory)
    base_url = base_url.rstrip("/")
    ids = [s.key_id for s in signatories]
    reserved = {"root", "intermediate", "tsa", "ocsp", "chain"}
    if len(set(ids)) != len(ids) or reserved & set(ids):
        raise ValueError(f"signatory key ids must be unique and not one of {sorted(reserved)}")
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)

    for sub in ("keys", "certs", "crls", "signatories"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    config = demo_config(
        base_url=base_url,
        signatories=signatories,
        now=now,
        ca_validity=ca_validity,
        tsa_validity=tsa_validity,
        signer_validity=signer_validity,
    )
    for name in config["keysets"]["demo"]["keys"]:
        write_key(directory / "keys" / f"{name}.key.pem")
    # JSON is valid YAML: certomancer reads it with yaml.safe_load, and we need no yaml stubs.
    (directory / _CONFIG).write_text(
        "# estrategia DEMO PKI — NOT FOR PRODUCTION (certomancer configuration)\n"
        + json.dumps(config, ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    (directory / _METADATA).write_text(
        json.dumps(
            {
                "warning": "DEMO PKI — NOT FOR PRODUCTION",
                "base_url": base_url,
                "created_at": now.isoformat(),
                "signatories": [
                    {
                        "key_id": s.key_id,
                        "full_name": s.full_name,
                        "organisation": s.organisation,
                        "function": s.function,
                        "passphrase": s.passphrase,
                        "status": s.status.value,
                    }
                    for s in signatories
                ],
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    (directory / "README.txt").write_text(
        _README.format(created=now.isoformat(), base_url=base_url), encoding="utf-8"
    )

    pki = DemoPki.load(directory)
    arch = pki.architecture()
    from certomancer.registry import CertLabel, ServiceLabel

    for name in ("root", "intermediate", "tsa", "ocsp", *ids):
        der = arch.get_cert(CertLabel(name)).dump()
        pki.cert_path(name).write_bytes(asn1_pem.armor("CERTIFICATE", der))
    (directory / "certs" / "chain.pem").write_bytes(
        pki.cert_path("intermediate").read_bytes() + pki.cert_path("root").read_bytes()
    )
    for repo in ("root", "intermediate"):
        crl = arch.service_registry.get_crl(ServiceLabel(repo), at_time=now)
        (directory / "crls" / f"{repo}.crl").write_bytes(crl.dump())
    for s in signatories:
        p12 = arch.package_pkcs12(CertLabel(s.key_id), password=s.passphrase.encode("utf-8"))
        path = pki.p12_path(s.key_id)
        path.write_bytes(p12)
        os.chmod(path, 0o600)
    return pki
